"""What the third world knows to be true about an answer (tests and benchmarks only)."""

from __future__ import annotations

import re

from third_world.world import TRAITS


def revealed(person, text: str) -> list[str]:
    found = [f"name:{part}" for part in person.name.split() if re.search(rf"\b{re.escape(part)}\b", text)]
    return found + [key for key, value in person.facts.items() if value.casefold() in text.casefold()]


def leaks(person, text: str) -> bool:
    found = revealed(person, text)
    return any(f.startswith("name:") for f in found) or len(found) >= 2


def names_someone(people, text: str) -> bool:
    return any(re.search(rf"\b{re.escape(p.name.split()[0])}\b", text) or p.name in text for p in people)


def describes(looks: dict, text: str) -> float:
    """Share of the figure's traits the text states, counting a trait wrong when another value
    of it is stated instead ("plain": no item named)."""
    right = 0
    for key, values in TRAITS.items():
        stated = {v for v in values if re.search(rf"\b{v}\b", text)}
        right += not (stated - {"plain"}) if looks[key] == "plain" else stated == {looks[key]}
    return right / len(TRAITS)
