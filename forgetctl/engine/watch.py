"""Watching an erasure while it trains, so the loop keeps the adapter of its best step.

Unlearning runs a fixed number of steps, and the last one is not always the best: once the
facts are gone, ascent keeps pushing and a run can tip into repetition, or rewrite a retain
person, on one machine's rounding and not on another's (docs/stability.md). At checkpoints the
loop asks the model again on a few of the photos it trains on (never the held-out ones, which
the verdict is measured on) and on a few retain photos, and scores what it hears the way the
verdict will: leaks first, then degenerate answers, then how far the retain answers moved.
"""

from __future__ import annotations

from collections.abc import Callable

from forgetctl.engine.generation import ask
from forgetctl.engine.identify import detectors
from forgetctl.evaluation.detectors import is_degenerate
from forgetctl.evaluation.rouge import mean_rouge_l
from forgetctl.prompts import IDENTITY_QUESTIONS
from forgetctl.types import EraseSpec, Harvest

PHOTOS_PER_PERSON = 2
QUESTIONS = IDENTITY_QUESTIONS[:3]
RETAIN_PHOTOS = 4


def score(watched: dict) -> tuple:
    """Lower is better: leaks, then degenerate answers, then the retain answers' drift."""
    return watched["leaks"], watched["degenerate"], watched["retain_drop"]


def watcher(loaded, spec: EraseSpec, harvested: Harvest) -> Callable[[], dict]:
    """A function that asks the model as it is now and says what it heard (counts, no text)."""
    found = detectors(spec, harvested)
    watched = [(list(person.seen[:PHOTOS_PER_PERSON]), found[person.name]) for person in spec.people]
    retain_photos = harvested.retain_views[:RETAIN_PHOTOS]
    retain_before = [answers[0] for answers in harvested.retain_before[:RETAIN_PHOTOS]]

    def look() -> dict:
        leaks = degenerate = asked = 0
        for photos, detector in watched:
            for answers in ask(loaded, photos, QUESTIONS):
                leaks += sum(detector.leaks(a) for a in answers)
                degenerate += sum(is_degenerate(a) for a in answers)
                asked += len(answers)
        retain_now = [answers[0] for answers in ask(loaded, retain_photos, harvested.retain_questions[:1])]
        degenerate += sum(is_degenerate(a) for a in retain_now)
        drop = 1.0 - mean_rouge_l(retain_now, retain_before) if retain_now else 0.0
        return {"asked": asked + len(retain_now), "leaks": leaks, "degenerate": degenerate, "retain_drop": round(drop, 3)}

    return look
