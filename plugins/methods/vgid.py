"""VGID (visual-noise guided in-context distillation): KL(teacher || student) on the forget
samples, where the teacher is the frozen base model shown a noised image (and, as in the paper
but not its released code, an in-context unlearning prompt)."""

import torch

from forgetctl.engine.losses import answer_logits, kl_to_teacher
from forgetctl.engine.unlearning import UnlearningMethod
from forgetctl.errors import InputError
from forgetctl.host.hookspecs import hookimpl
from forgetctl.prompts import with_in_context_prompt

NOISE_KINDS = ("uniform", "gaussian")


class VisualNoiseDistillation(UnlearningMethod):
    name = "vgid"
    learning_rates = {"default": 1e-4, "forgetctl-demo": 5e-4}

    def __init__(
        self, noise: str = "uniform", noise_std: float = 1.0, in_context: bool = True, answer_only: bool = True
    ):
        if noise not in NOISE_KINDS:
            raise InputError(f"VGID noise must be one of {', '.join(NOISE_KINDS)}, not {noise!r}")
        if in_context and not answer_only:
            # With an in-context prompt the teacher's prompt is longer: only answer positions align.
            raise InputError("VGID answer_only=False needs in_context=False (prompts differ in length)")
        self.noise = noise
        self.noise_std = noise_std
        self.in_context = in_context
        self.answer_only = answer_only

    def _noised(self, pixel_values):
        if self.noise == "uniform":  # what the public code does: replace the image by noise
            return torch.rand_like(pixel_values)
        return pixel_values + self.noise_std * torch.randn_like(pixel_values)

    def loss(self, ctx, forget):
        student_batch = ctx.encode_examples(forget)
        questions = [with_in_context_prompt(e.question) if self.in_context else e.question for e in forget]
        teacher_batch = ctx.encode([e.image for e in forget], questions, [e.answer for e in forget])
        teacher_batch["pixel_values"] = self._noised(teacher_batch["pixel_values"])
        with ctx.reference() as base:
            teacher_logits, _, teacher_mask = answer_logits(base, teacher_batch)
        student_logits, _, student_mask = answer_logits(ctx.model, student_batch)
        if self.answer_only:
            return kl_to_teacher(student_logits[student_mask], teacher_logits[teacher_mask], slice(None))
        positions = student_batch["attention_mask"][:, 1:].bool()
        return kl_to_teacher(student_logits, teacher_logits, positions)


@hookimpl
def register_methods(register):
    register(VisualNoiseDistillation)
