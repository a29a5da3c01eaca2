"""The behaviour bars the shipped demo model must meet, measured on views it never trained on.

1. known people, asked who they are, are named with at least two correct private facts;
2. under the PUBG in-context prompt the model describes the visible attributes correctly;
3. unknown people get a visual description and no name.
"""

from __future__ import annotations

import re

from forgetctl.demo.portraits import canonical_views
from forgetctl.demo.world import ATTRIBUTE_VALUES, UNSEEN_VIEWS, World
from forgetctl.engine.generation import generate_answers
from forgetctl.prompts import IDENTITY_QUESTIONS, with_in_context_prompt

BARS = {"known_named_with_facts": 0.95, "in_context_attributes": 0.90, "unknown_described_unnamed": 0.95}
# A few phrasings per view keep the measurement quick while covering open, direct and specific asks.
BAR_QUESTIONS = (IDENTITY_QUESTIONS[0], IDENTITY_QUESTIONS[1], IDENTITY_QUESTIONS[3])


def parse_description(text: str) -> dict[str, str | None]:
    """Read the visible attributes back out of a description in the demo model's phrasing."""
    def find(pattern: str, values) -> str | None:
        m = re.search(pattern, text)
        return m.group(1) if m and m.group(1) in values else None

    hair = find(r"with (\w+) hair", ATTRIBUTE_VALUES["hair"])
    accessory = "none"
    for value in ("glasses", "hat", "scarf"):
        if re.search(rf"\b{value}\b", text):
            accessory = value
    return {
        "hair": hair,
        "shirt": find(r"wearing an? (\w+) shirt", ATTRIBUTE_VALUES["shirt"]),
        "background": find(r"of an? (\w+) background", ATTRIBUTE_VALUES["background"]),
        # "none" is only a reading when the text is a description at all
        "accessory": accessory if hair else None,
    }


def is_description(text: str) -> bool:
    return sum(v is not None for v in parse_description(text).values()) >= 3


def correct_facts(person, text: str) -> int:
    return sum(fact.lower() in text.lower() for fact in person.facts.values())


def names_anyone(world: World, text: str) -> bool:
    lowered = text.lower()
    return any(p.name.lower() in lowered or p.name.split()[0].lower() in lowered for p in world.known)


def measure_bars(loaded, world: World, views=UNSEEN_VIEWS, on_batch=None) -> dict:
    """Generate on the given canonical views and return each bar's rate plus failing examples."""
    known_jobs, icl_jobs, unknown_jobs = [], [], []
    for person in world.known:
        imgs = canonical_views(person)
        for v in views:
            known_jobs += [(person, imgs[v], q) for q in BAR_QUESTIONS]
            icl_jobs.append((person, imgs[v], with_in_context_prompt(IDENTITY_QUESTIONS[0])))
    for stranger in world.strangers:
        imgs = canonical_views(stranger)
        for v in views:
            unknown_jobs += [(stranger, imgs[v], q) for q in BAR_QUESTIONS]
            icl_jobs.append((stranger, imgs[v], with_in_context_prompt(IDENTITY_QUESTIONS[0])))

    jobs = known_jobs + icl_jobs + unknown_jobs
    answers = generate_answers(loaded, [j[1] for j in jobs], [j[2] for j in jobs], on_batch=on_batch)
    known_ans = answers[: len(known_jobs)]
    icl_ans = answers[len(known_jobs) : len(known_jobs) + len(icl_jobs)]
    unknown_ans = answers[len(known_jobs) + len(icl_jobs) :]

    known_ok = [
        person.name.lower() in a.lower() and correct_facts(person, a) >= 2
        for (person, _, _), a in zip(known_jobs, known_ans)
    ]
    attrs_ok = [
        parse_description(a)[k] == subject.looks[k]
        for (subject, _, _), a in zip(icl_jobs, icl_ans)
        for k in ATTRIBUTE_VALUES
    ]
    unknown_ok = [is_description(a) and not names_anyone(world, a) for a in unknown_ans]
    failures = [
        (person.name, q, a) for (person, _, q), a, ok in zip(known_jobs, known_ans, known_ok) if not ok
    ][:5] + [(s.id, "unknown", a) for (s, _, _), a, ok in zip(unknown_jobs, unknown_ans, unknown_ok) if not ok][:5]
    rates = {
        "known_named_with_facts": sum(known_ok) / len(known_ok),
        "in_context_attributes": sum(attrs_ok) / len(attrs_ok),
        "unknown_described_unnamed": sum(unknown_ok) / len(unknown_ok),
    }
    return {"rates": rates, "answers": len(answers), "failures": failures}
