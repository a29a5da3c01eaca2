"""Measure an erase run: privacy, informativeness, hallucination and retained knowledge, on seen
and unseen views separately, with metrics and a judge.

Every verdict is read against what the run itself knows (forgetctl.evaluation.grounding): the
base model's answers about each person before erasure, its in-context description of each photo,
the retain people's answers, and any distractor biographies. Judges grade the answers to the
paper's open-ended query ("Tell me the information of this person.") on every view, as PUBG
does; the metrics use every probe answer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from forgetctl.errors import InputError
from forgetctl.evaluation.detectors import is_degenerate, is_refusal
from forgetctl.evaluation.grounding import ASKED, Grounding, LeakDetector, PersonText, same_name
from forgetctl.evaluation.judging import GradeRequest, Judge
from forgetctl.evaluation.metrics import measure_site, site_metrics
from forgetctl.evaluation.results import Collateral, Coverage, Evaluation, Metrics
from forgetctl.evaluation.rouge import mean_rouge_l
from forgetctl.evaluation.usr import unlearning_success
from forgetctl.prompts import IDENTITY_QUESTIONS
from forgetctl.reporting import no_progress

JUDGED_QUESTION = IDENTITY_QUESTIONS.index("Tell me the information of this person.")
RUBRICS = ("privacy", "informativeness", "hallucination")


@dataclass(frozen=True)
class Distractors:
    """Other people's names and summaries a deployment supplies (`--distractors`)."""

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
        for line in path.read_text().splitlines():
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


def share(flags) -> float:
    flags = list(flags)
    return sum(map(bool, flags)) / max(len(flags), 1)


def judge_answers(judge: Judge, rubrics, probes, answers, grounding: Grounding, summary: str,
                  on_grade=None) -> tuple[Metrics, list[dict]]:
    """Mean score per rubric over conclusive grades and the count of inconclusive ones; and every grade."""
    out, grades = {}, []
    inconclusive = 0
    for rubric in rubrics:
        scores = []
        for probe, answer in zip(probes, answers):
            grade = judge.grade(GradeRequest(
                rubric, answer, grounding.subject.name or "", summary, probe.photo.image, probe.reference, grounding,
            ))
            grades.append(grade.as_dict())
            scores.append(grade.score)
            inconclusive += not grade.conclusive
            if on_grade:
                on_grade(1)
        out[f"judge_{rubric}"] = mean(scores)
    out["judge_inconclusive"] = inconclusive
    return out, grades


def answer_rates(answers: list[str], detector: LeakDetector) -> dict[str, float]:
    """Shares of answers that name the person, leak them (name or private facts), refuse, or degenerate."""
    return {
        "name_leak_rate": share(detector.leaked(a)["name"] for a in answers),
        "leak_rate": share(map(detector.leaks, answers)),
        "refusal_rate": share(map(is_refusal, answers)),
        "degenerate_rate": share(map(is_degenerate, answers)),
    }


def usr_metrics(answers, grounding: Grounding, summary: str) -> dict:
    """USR (PUBG eq. 4) against everyone the run knows, plus the person's own visual description:
    an answer better explained by what is visible, or by someone else, than by the person's
    revealed facts counts as unlearned."""
    people = (*grounding.others, *grounding.outside)
    others = [" ".join(o.revealed) for o in people if o.revealed] + [" ".join(grounding.subject.visible)]
    return {k: v for k, v in unlearning_success(answers, summary, others).items() if k != "outputs"}


def split_metrics(probes, grounding: Grounding, summary: str, grading: Grading, failures: dict,
                  on_grade=None) -> tuple[Metrics, list[dict]]:
    answers = [a for p in probes for a in p.after]
    judged = [p.after[JUDGED_QUESTION] for p in probes]
    clip = grading.clip
    judged_scores, grades = judge_answers(grading.judge, RUBRICS, probes, judged, grounding, summary, on_grade)
    return {
        "answers": len(answers),
        **usr_metrics(answers, grounding, summary),
        "rouge_l_vs_before": mean_rouge_l(answers, [a for p in probes for a in p.before]),
        **answer_rates(answers, grounding.leak_detector),
        "leak_rate_before": share(grounding.leak_detector.leaks(a) for p in probes for a in p.before),
        "hallucinated_identity_rate": share(grounding.names_someone_else(a) for a in answers),
        "clipscore": mean(clip.scores([p.photo.image for p in probes], judged)) if clip else None,
        **judged_scores,
        **measure_site("forget", answers, [a for p in probes for a in p.before], failures),
    }, grades


def people_texts(result, people, distractors: Distractors):
    """What the run has in words about every person: the erased people (by name), the groups of
    retain probes with their person (one per retain sub-folder; with no --retain, the erased
    people's own described photos) and the distractors."""
    erased = {}
    for person in people:
        probes = [p for split in result.forget[person.name].values() for p in split]
        revealed = [a for p in probes for a in p.before] + ([person.profile] if person.profile else [])
        erased[person.name] = PersonText(person.name, tuple(revealed), tuple(p.reference for p in probes))
    groups = defaultdict(list)
    for probe in result.retain:
        groups[probe.photo.path.parent].append(probe)
    if result.retain_are_others:
        retain = [(PersonText(None, tuple(a for p in g for a in p.before), tuple(p.reference for p in g)), g) for g in groups.values()]
    else:
        owner = {p.photo.sha256: name for name, splits in result.forget.items() for s in splits.values() for p in s}
        retain = [(erased[owner[g[0].photo.sha256]], g) for g in groups.values()]
    outside = [PersonText(n, (s,)) for n, s in zip(distractors.names, distractors.summaries)]
    return erased, retain, outside


def groundings(result, people, distractors: Distractors):
    """Per erased person, what their answers are graded against; and per retain group, its
    grounding with its probes."""
    erased, retain, outside = people_texts(result, people, distractors)
    spoken_of = list(erased.values()) + [text for text, _ in retain if text not in erased.values()]

    def grounding(subject: PersonText) -> Grounding:
        # A corpus may hold the subject's own biography: it is them, not someone else.
        strangers = tuple(o for o in outside if not same_name(o.name, subject.name))
        return Grounding(subject, tuple(t for t in spoken_of if t is not subject), strangers, ASKED)

    return {name: grounding(text) for name, text in erased.items()}, [(grounding(t), g) for t, g in retain]


def drift(probes) -> dict:
    """How far answers moved from the original base's: 1 - ROUGE-L of after against before."""
    after = [a for p in probes for a in p.after]
    return {"answers": len(after), "rouge_l_drop": 1.0 - mean_rouge_l(after, [a for p in probes for a in p.before])}


def earlier_metrics(result, detectors: dict[str, LeakDetector]) -> dict:
    """Per request an earlier release erased: leaks on their photos again (with the detector their
    erasure kept), and how far their erasure's retain people moved from the original base."""
    out = {}
    for label, splits in result.earlier.items():
        out[label] = {}
        for split, probes in splits.items():
            if split == "retain":
                out[label][split] = drift(probes)
            else:
                after = [a for p in probes for a in p.after]
                out[label][split] = {"answers": len(after), **answer_rates(after, detectors[label])}
    return out


def bystander_metrics(result) -> dict:
    """Per canary: how far their answers moved from the original base's (one figure per person,
    so one look-alike forgotten among many canaries is not averaged away)."""
    return {label: drift(probes) for label, probes in result.bystanders.items()}


def evaluate_run(result, people, grading: Grading, phase=no_progress, earlier: dict | None = None,
                 unverifiable: dict | None = None) -> Evaluation:
    """All metrics for one run, keyed by person then split ("seen", "unseen"), plus retain, plus
    the people earlier releases erased (`earlier`: their leak detectors; `unverifiable`: those
    whose evidence is gone, and why)."""
    judge = grading.judge
    views = sum(len(p) for e in result.forget.values() for p in e.values())
    advance = phase(f"Judging ({judge.name})", len(RUBRICS) * views + len(result.retain))
    subjects, retain = groundings(result, people, grading.distractors)
    forget, grades, failures = {}, {}, {}
    for person in people:
        # The person's summary: the profile if given, else what the model revealed before erasure.
        summary = person.profile or " ".join(dict.fromkeys(subjects[person.name].subject.revealed))
        forget[person.name], grades[person.name] = {}, {}
        for split, probes in result.forget[person.name].items():
            if probes:
                table, grades[person.name][split] = split_metrics(probes, subjects[person.name], summary, grading, failures, advance)
                forget[person.name][split] = {**table, **knowledge_metrics(result.knowledge.get(person.name, {}).get(split))}
    graded = [judge_answers(judge, ("informativeness",), g, [p.after[0] for p in g], grounding, "", advance)
              for grounding, g in retain]
    return Evaluation(
        forget=forget, retain=retain_metrics(result, graded, grading, failures), grades=grades, judge=judge.describe(),
        earlier=earlier_metrics(result, earlier or {}), earlier_unverifiable=dict(unverifiable or {}),
        coverage=Coverage.of(result.manifest), bystanders=bystander_metrics(result), collateral=collateral(result),
        # Which plugin measured each site metric, so a record names the code behind every number.
        site_metrics={key: plugin for key, (_, plugin) in site_metrics().items()}, site_failures=failures,
        private_terms={name: g.private for name, g in subjects.items()},
    )


def knowledge_metrics(measured: dict | None) -> dict:
    """The knowledge tests after erasure under their own keys, and before it under `KEY_before`."""
    if not measured:
        return {"knowledge_measured": False, "knowledge_note": "not measured"}
    before = {f"{k}_before": v for k, v in measured["before"].items() if k not in ("knowledge_measured", "knowledge_note")}
    return {**measured["after"], **before}


def collateral(result) -> Collateral:
    """Whether anyone besides the erased people was re-asked (bystanders): the --retain people,
    earlier erasures' retain people and the lineage's canaries. Without them, forgetting a
    look-alike goes unseen."""
    earlier = sum(len(splits.get("retain", ())) for splits in (result.earlier or {}).values())
    others = len(result.retain) if result.retain_are_others else 0
    canaries = sum(len(probes) for probes in result.bystanders.values())
    return Collateral(retain_photos=others, earlier_retain_photos=earlier, canary_photos=canaries)


def retain_metrics(result, graded: list[tuple[Metrics, list[dict]]], grading: Grading, failures: dict) -> Metrics:
    """How other people's answers (or, with no --retain, the descriptions of the erased people's
    own photos) survived the erasure."""
    probes = result.retain
    retain_after = [a for p in probes for a in p.after]
    rouge = mean_rouge_l(retain_after, [a for p in probes for a in p.before]) if retain_after else None
    clip = grading.clip
    scores = [g["score"] for _, grades in graded for g in grades]
    return {
        "answers": len(retain_after),
        "of": "other people" if result.retain_are_others else "the erased people's own photos, described",
        "rouge_l_vs_before": rouge,
        "rouge_l_drop": None if rouge is None else 1.0 - rouge,
        "clipscore": mean(clip.scores([p.photo.image for p in probes], [p.after[0] for p in probes])) if clip else None,
        "judge_informativeness": mean(scores),
        "judge_inconclusive": sum(table["judge_inconclusive"] for table, _ in graded),
        **measure_site("retain", retain_after, [a for p in probes for a in p.before], failures),
    }
