"""A benchmark's own metrics on one model: its questions asked (generation) and its answers
scored (likelihood), then each metric computed over a set of people the benchmark's way."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import mean

from forgetctl.benchmarks.peers.items import Task
from forgetctl.benchmarks.peers.styles import Style, prompt
from forgetctl.evaluation.bleu import sentence_bleu
from forgetctl.evaluation.choices import (closest_option, cloze_hit, contraharmonic, harmonic, keyword_share,
                                          option_letter)
from forgetctl.evaluation.knowledge import Scored, truth_ratio
from forgetctl.evaluation.rouge import rouge_l, rouge_n


@dataclass
class Asked:
    """One question put to the model: the task, the photo it is asked on (None: text only)."""

    task: Task
    image: object | None
    person: str
    reply: str = ""
    answer_score: Scored | None = None
    paraphrased: Scored | None = None
    perturbed: list[Scored] = field(default_factory=list)


def ask_all(loaded, jobs: list[Asked], style: Style, advance=None) -> None:
    """Fill in each job's reply (greedy, as the benchmarks generate) and, for open questions,
    the likelihoods of its answer and of its paraphrased and perturbed answers."""
    from forgetctl.engine.generation import generate_answers
    from forgetctl.engine.likelihood import score

    for with_image in (True, False):
        group = [j for j in jobs if (j.image is not None) == with_image]
        if not group:
            continue
        replies = generate_answers(loaded, [j.image for j in group] if with_image else None,
                                   [prompt(style, j.task) for j in group], max_new_tokens=50, on_batch=advance)
        for job, reply in zip(group, replies):
            job.reply = reply
        triples, owners = [], []
        for job in (j for j in group if j.task.kind == "open"):
            texts = [("answer", job.task.answer)]
            if job.task.paraphrased_answer and job.task.perturbed:
                texts += [("paraphrased", job.task.paraphrased_answer)] + [("perturbed", p) for p in job.task.perturbed]
            for role, text in texts:
                triples.append((job.image, job.task.question, text))
                owners.append((job, role))
        for (job, role), scored in zip(owners, score(loaded, loaded.model, triples)):
            if role == "perturbed":
                job.perturbed.append(scored)
            else:
                setattr(job, "answer_score" if role == "answer" else "paraphrased", scored)


def average(values) -> float | None:
    values = [v for v in values if v is not None]
    return mean(values) if values else None


def correct(job: Asked, style: Style) -> bool:
    task = job.task
    if task.kind == "cloze":
        return cloze_hit(job.reply, task.answer)
    read = closest_option if style.choice == "closest" else option_letter
    return read(job.reply, task.option_map) == task.answer


def pairs(jobs: list[Asked], kind: str) -> list[tuple[Asked, Asked]]:
    """UMU-Bench's twins: the text-only and the image question under one key, per person."""
    by_key: dict[tuple, dict[bool, Asked]] = {}
    for j in jobs:
        if j.task.kind == kind and j.task.pair:
            by_key.setdefault((j.person, j.task.pair), {})[j.image is not None] = j
    return [(twins[False], twins[True]) for twins in by_key.values() if len(twins) == 2]


def geometric_truth_ratio(job: Asked) -> float | None:
    if job.paraphrased is None or not job.perturbed:
        return None
    return math.exp(job.paraphrased.mean_nll - mean(p.mean_nll for p in job.perturbed))


def arithmetic_truth_ratio(job: Asked) -> float | None:
    return truth_ratio(job.paraphrased, job.perturbed) if job.paraphrased is not None and job.perturbed else None


def metrics(format: str, jobs: list[Asked], style: Style, forget_set: bool) -> dict[str, float | None]:
    """The benchmark's metrics over these jobs (one set of people), keyed as metrics.PEER_METRICS."""
    opened = [j for j in jobs if j.task.kind == "open"]
    with_image, text_only = [j for j in opened if j.image is not None], [j for j in opened if j.image is None]
    choices = [j for j in jobs if j.task.kind == "choice"]
    if format == "fiubench":
        return {"fiubench.rouge_l": average(rouge_l(j.reply, j.task.answer) for j in opened),
                "fiubench.prob": average(j.answer_score.normalised_likelihood for j in opened if j.answer_score),
                "fiubench.truth_ratio": average(map(geometric_truth_ratio, opened)),
                "fiubench.em": average(keyword_share(j.reply, list(j.task.keywords)) for j in opened)}
    if format == "mllmu":
        return {"mllmu.acc_image": average(correct(j, style) for j in choices if j.image is not None),
                "mllmu.acc_text": average(correct(j, style) for j in choices if j.image is None),
                "mllmu.cloze": average(correct(j, style) for j in jobs if j.task.kind == "cloze"),
                "mllmu.rouge_1": average(rouge_n(j.reply, j.task.answer, 1) for j in opened),
                "mllmu.rouge_2": average(rouge_n(j.reply, j.task.answer, 2) for j in opened),
                "mllmu.rouge_l": average(rouge_l(j.reply, j.task.answer) for j in opened),
                "mllmu.bleu": average(sentence_bleu(j.task.answer, j.reply) for j in opened)}
    if format == "umu":
        pair_rl = contraharmonic if forget_set else harmonic
        return {"umu.acc_uni": average(correct(j, style) for j in choices if j.image is None),
                "umu.acc_multi": average(correct(j, style) for j in choices if j.image is not None),
                "umu.acc_all": average(correct(u, style) and correct(m, style) for u, m in pairs(jobs, "choice")),
                "umu.cloze_all": average(correct(u, style) and correct(m, style) for u, m in pairs(jobs, "cloze")),
                "umu.rl_all": average(pair_rl(rouge_l(m.reply, m.task.answer), rouge_l(u.reply, u.task.answer))
                                      for u, m in pairs(jobs, "open"))}
    return {"clear.rouge_l_image": average(rouge_l(j.reply, j.task.answer) for j in with_image),
            "clear.rouge_l_text": average(rouge_l(j.reply, j.task.answer) for j in text_only),
            "clear.prob": average(j.answer_score.normalised_likelihood for j in text_only if j.answer_score),
            "clear.truth_ratio": average(map(arithmetic_truth_ratio, text_only))}
