"""Words, for every metric: case-folded runs of letters and digits of any script."""

import re

WORD = re.compile(r"\w+")


def terms(text: str) -> list[str]:
    return [w.casefold() for w in WORD.findall(text)]
