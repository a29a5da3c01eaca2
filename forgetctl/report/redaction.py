"""What a report may show of an answer: the words of the base model's own descriptions of the
person's photos and of the tool's refusals, less the person's name and private words; every
other word, in any script, is blacked out. No list of any world's words: the run decides.
"""

from __future__ import annotations

import re

from forgetctl.evaluation.grounding import name_parts
from forgetctl.prompts import REFUSALS


REDACTED = "█████"
WORD_OR_NUMBER = re.compile(r"\w[\w'’-]*")


def visible_words(probes: dict, private: dict | None, subject: str | None) -> set[str]:
    """The words a report may show for a request: those of the base model's own descriptions of
    the person's photos (what anyone sees in them, in the model's words) and of the tool's own
    refusals; never a part of the person's name or one of their private words. No list of any
    world's words: the run's descriptions decide, as they do for grading."""
    words = {w.casefold() for w in WORD_OR_NUMBER.findall(" ".join(
        [item.get("reference", "") for items in probes.values() for item in items] + list(REFUSALS)))}
    return words - {w.casefold() for w in (private or {})} - name_parts(subject)


def redact(text: str, allowed: set[str]) -> str:
    """Black out every word not in `allowed` (any word with a letter outside it, in any script),
    and every capitalised allowed word that does not start a sentence (a title, "the Red ... Cup"):
    what remains cannot identify anyone."""
    def keep(match):
        word, start = match.group(0), match.start()
        sentence_start = not text[:start].strip() or text[:start].rstrip()[-1] in ".!?"
        shown = word.casefold() in allowed and (word.islower() or sentence_start or word == "I")
        return word if shown else REDACTED

    return WORD_OR_NUMBER.sub(keep, text)
