"""Detectors for the unlearning aftermaths the PUBG paper names that need no knowledge of the
person: degenerate output and refusal. Leaks and other people's identities are read against
what the run knows (forgetctl.evaluation.grounding)."""

from __future__ import annotations

import re
from collections import Counter

from forgetctl.evaluation.text import terms

REFUSAL_PATTERNS = re.compile(
    r"\b(i'?m sorry|sorry|i cannot|i can'?t|i am unable|unable to|i'?d rather not|cannot help|won'?t)\b",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    return bool(REFUSAL_PATTERNS.search(text))


def is_degenerate(text: str, min_words: int = 3, max_repeat_share: float = 0.5) -> bool:
    """Empty, too short, dominated by one repeated word or bigram ("known known known"), or a
    phrase loop: a phrase said three times or more that makes up half the answer, even when every
    phrase on its own is a correct description."""
    words = terms(text)
    if len(words) < min_words:
        return True
    top_word = Counter(words).most_common(1)[0][1] / len(words)
    bigrams = list(zip(words, words[1:]))
    top_bigram = Counter(bigrams).most_common(1)[0][1] / len(bigrams) if bigrams else 0.0
    if top_word > max_repeat_share or (len(bigrams) >= 4 and top_bigram > max_repeat_share / 1.5):
        return True
    return phrase_loop_share(words) >= max_repeat_share


def phrase_loop_share(words: list[str], shortest: int = 3, longest: int = 12, times: int = 3) -> float:
    """The largest share of the words covered by one phrase of `shortest`-`longest` words that
    occurs at least `times` times (0 when none does)."""
    best = 0.0
    for n in range(shortest, min(longest, len(words) // times) + 1):
        phrase, count = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1)).most_common(1)[0]
        if count >= times:
            best = max(best, count * n / len(words))
    return best
