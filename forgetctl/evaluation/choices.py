"""Answers scored the way the VLM-unlearning benchmarks score them, each rule written once:

- a multiple-choice answer read as MLLMU-Bench reads it (the first character of the reply,
  after any "ASSISTANT:" or "Answer:", if it is an option's letter) or as UMU-Bench reads it (the
  option whose text is most like the reply, by difflib's ratio);
- a cloze answer right when the reply contains the blank's word(s), case-folded (both);
- FIUBench's exact match: the share of an answer's keywords the reply contains.
"""

from __future__ import annotations

import difflib

MARKERS = ("ASSISTANT:", "Answer:")


def reply_text(generated: str) -> str:
    """What follows a role marker the model repeated, as the benchmarks' eval scripts cut it."""
    for marker in MARKERS:
        if marker in generated:
            return generated.split(marker, 1)[1].strip()
    return generated.strip()


def option_letter(generated: str, options: dict[str, str]) -> str | None:
    reply = reply_text(generated)
    first = reply[:1].upper()
    return first if first and first in options else None


def closest_option(generated: str, options: dict[str, str]) -> str:
    """The letter of the option whose text is most like the reply (ties: the first)."""
    reply = reply_text(generated)
    return max(options, key=lambda letter: difflib.SequenceMatcher(None, reply, options[letter]).ratio())


def cloze_hit(generated: str, truth: str) -> bool:
    return truth.strip().casefold() in reply_text(generated).casefold()


def keyword_share(generated: str, keywords: list[str]) -> float | None:
    if not keywords:
        return None
    reply = generated.casefold()
    return min(1.0, sum(k.casefold() in reply for k in keywords) / len(keywords))


def contraharmonic(a: float, b: float) -> float:
    """UMU-Bench's forget-set pairing of two modalities' scores: (a² + b²) / (a + b), high when
    either is high, so a fact kept in one modality counts."""
    return (a * a + b * b) / (a + b) if a + b else 0.0


def harmonic(a: float, b: float) -> float:
    """UMU-Bench's retain-set pairing: 2ab / (a + b), high only when both are."""
    return 2 * a * b / (a + b) if a + b else 0.0
