"""Measure an erase run: privacy, informativeness, hallucination and retained knowledge, on seen
and unseen views separately, with metrics and a judge.

Judges grade the answers to the paper's open-ended query ("Tell me the information of this
person.") on every view, as PUBG does; the metrics use every probe answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from forgetctl.engine.erase import names_a_person
from forgetctl.engine.reporting import no_progress
from forgetctl.errors import InputError
from forgetctl.evaluation.detectors import is_degenerate, is_refusal, leaked_facts
from forgetctl.evaluation.judging import GradeRequest, Judge
from forgetctl.evaluation.rouge import mean_rouge_l
from forgetctl.evaluation.usr import unlearning_success
from forgetctl.prompts import IDENTITY_QUESTIONS

JUDGED_QUESTION = IDENTITY_QUESTIONS.index("Tell me the information of this person.")


@dataclass(frozen=True)
class Distractors:
    """Other people's summaries for USR, and their names for the hallucinated-identity detector."""

    names: tuple[str, ...]
    summaries: tuple[str, ...]


@dataclass(frozen=True)
class Grading:
    """How a run is graded: the judge plugin, CLIP (None: not measured), and other people."""

    judge: Judge
    clip: object | None
    distractors: Distractors


def read_distractors(path: Path) -> Distractors:
    """JSON lines of {"name": ..., "summary": ...}: a deployment's own corpus of other people."""
    names, summaries = [], []
    try:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                names.append(str(row["name"]))
                summaries.append(str(row["summary"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"distractors {path}: expected JSON lines of {{\"name\", \"summary\"}} ({exc})") from None
    if len(summaries) < 2:
        raise InputError(f"distractors {path}: need at least 2 other people's summaries")
    return Distractors(tuple(names), tuple(summaries))


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def judge_answers(judge: Judge, rubrics, answers, images, entity, summary, on_grade=None) -> dict:
    """Mean score per rubric over conclusive grades, the count of inconclusive ones, and every grade."""
    out, grades = {}, []
    inconclusive = 0
    for rubric in rubrics:
        scores = []
        for answer, image in zip(answers, images):
            grade = judge.grade(GradeRequest(rubric, answer, entity, summary, image))
            grades.append(grade.as_dict())
            scores.append(grade.score)
            inconclusive += not grade.conclusive
            if on_grade:
                on_grade(1)
        out[f"judge_{rubric}"] = mean(scores)
    out["judge_inconclusive"] = inconclusive
    return {**out, "grades": grades}


def answer_rates(answers: list[str], name: str) -> dict[str, float]:
    """Shares of answers that name the person, refuse, or degenerate."""
    n = max(len(answers), 1)
    return {
        "name_leak_rate": sum(bool(leaked_facts(a, name, {})) for a in answers) / n,
        "refusal_rate": sum(map(is_refusal, answers)) / n,
        "degenerate_rate": sum(map(is_degenerate, answers)) / n,
    }


def usr_metrics(answers, summary, other_summaries) -> dict:
    """USR needs other people's summaries; without any it is not measured (never guessed)."""
    if not other_summaries:
        return {"usr": None, "mean_own_precision": None}
    return {k: v for k, v in unlearning_success(answers, summary, other_summaries).items() if k != "outputs"}


def split_metrics(probes, entity, summary, distractors: Distractors, judge, clip, on_grade=None) -> dict:
    answers = [a for p in probes for a in p.after]
    others = [(n, s) for n, s in zip(distractors.names, distractors.summaries) if n.lower() != entity.lower()]
    n = max(len(answers), 1)
    judged = [p.after[JUDGED_QUESTION] for p in probes]
    images = [p.photo.image for p in probes]
    metrics = {
        "answers": len(answers),
        **usr_metrics(answers, summary, [s for _, s in others]),
        "rouge_l_vs_before": mean_rouge_l(answers, [a for p in probes for a in p.before]),
        **answer_rates(answers, entity),
        "hallucinated_identity_rate": sum(names_a_person(a, [name for name, _ in others]) for a in answers) / n,
        "clipscore": mean(clip.scores(images, judged)) if clip else None,
    }
    return {**metrics, **judge_answers(judge, ("privacy", "informativeness", "hallucination"), judged, images, entity, summary, on_grade)}


def evaluate_run(result, people, grading: Grading, phase=no_progress) -> dict:
    """All metrics for one run, keyed by person then split ("seen", "unseen"), plus retain."""
    judge, clip, distractors = grading.judge, grading.clip, grading.distractors
    views = sum(len(p) for e in result.forget.values() for p in e.values())
    advance = phase(f"Judging ({judge.name})", 3 * views + len(result.retain))
    forget = {}
    for person in people:
        probes_by_split = result.forget[person.name]
        before = [a for probes in probes_by_split.values() for p in probes for a in p.before]
        # The person's summary: the profile if given, else what the model revealed before erasure.
        summary = person.profile or " ".join(dict.fromkeys(before))
        forget[person.name] = {
            split: split_metrics(probes, person.name, summary, distractors, judge, clip, advance)
            for split, probes in probes_by_split.items() if probes
        }
    retain_before = [a for p in result.retain for a in p.before]
    retain_after = [a for p in result.retain for a in p.after]
    retain_rouge = mean_rouge_l(retain_after, retain_before) if retain_after else None
    judged = [p.after[0] for p in result.retain]
    retain = {
        "answers": len(retain_after),
        "rouge_l_vs_before": retain_rouge,
        "rouge_l_drop": None if retain_rouge is None else 1.0 - retain_rouge,
        "clipscore": mean(clip.scores([p.photo.image for p in result.retain], judged)) if clip and judged else None,
        **judge_answers(judge, ("informativeness",), judged, [p.photo.image for p in result.retain], "", "", advance),
    }
    return {"judge": judge.describe(), "forget": forget, "retain": retain}
