"""Loss pieces shared by unlearning methods. Every function takes a batch from
`forgetctl.engine.chat.encode_examples` (labels = answer tokens, -100 elsewhere)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from forgetctl.engine.chat import IGNORE_INDEX


def answer_logits(model, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits predicting each next token, the shifted labels, and the mask of answer positions."""
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    logits = model(**inputs).logits[:, :-1].float()
    labels = batch["labels"][:, 1:]
    return logits, labels, labels != IGNORE_INDEX


def sequence_nll(model, batch: dict) -> torch.Tensor:
    """Summed negative log-likelihood of each sample's answer, shape [batch]."""
    logits, labels, mask = answer_logits(model, batch)
    token_nll = F.cross_entropy(
        logits.transpose(1, 2), labels.clamp(min=0), reduction="none"
    )
    return (token_nll * mask).sum(-1)


def mean_token_nll(model, batch: dict, ceiling: float | None = None) -> torch.Tensor:
    """Mean NLL over all answer tokens in the batch: the usual language-modelling loss.

    With a `ceiling`, tokens whose NLL is above it count as the ceiling and get no gradient:
    gradient ascent then stops pushing tokens that are already forgotten instead of running away.
    """
    logits, labels, mask = answer_logits(model, batch)
    token_nll = F.cross_entropy(logits[mask], labels[mask], reduction="none")
    if ceiling is not None:
        token_nll = token_nll.clamp(max=ceiling)
    return token_nll.mean()


def answer_token_nll(model, batch: dict) -> list[torch.Tensor]:
    """Per sample, the NLL of each of its answer tokens, in order."""
    logits, labels, mask = answer_logits(model, batch)
    token_nll = F.cross_entropy(logits.transpose(1, 2), labels.clamp(min=0), reduction="none")
    return [row[m] for row, m in zip(token_nll, mask)]


def kl_to_teacher(student_logits, teacher_logits, mask: torch.Tensor) -> torch.Tensor:
    """KL(teacher || student) per position, averaged over the positions in `mask`."""
    teacher = F.log_softmax(teacher_logits.float(), -1)
    student = F.log_softmax(student_logits.float(), -1)
    kl = (teacher.exp() * (teacher - student)).sum(-1)
    return kl[mask].mean()
