"""Evaluation, judging and attack code hold no test world's words: every verdict must come from
what the run itself measured, so it holds on a model whose people and phrasing we never saw."""

import re
import sys
from pathlib import Path

import forgetctl.demo.world as demo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import second_world.world as second  # noqa: E402
import third_world.world as third  # noqa: E402

# Code that decides what leaked, what is informative, what an attack got back, what passed.
CHECKED = [
    *sorted((ROOT / "forgetctl" / "evaluation").glob("*.py")),
    ROOT / "forgetctl" / "attacks.py",
    *sorted((ROOT / "forgetctl" / "report").rglob("*.py")), *sorted((ROOT / "forgetctl" / "report").rglob("*.j2")),
    ROOT / "forgetctl" / "engine" / "identify.py",
    ROOT / "forgetctl" / "engine" / "watch.py",
    ROOT / "forgetctl" / "engine" / "likelihood.py",
    ROOT / "forgetctl" / "prompts.py",
    ROOT / "forgetctl" / "policy.py",
    ROOT / "audit" / "report_statements.py", ROOT / "audit" / "standalone_verify.py",  # what a report states
    ROOT / "forgetctl" / "cli" / "erasing.py", ROOT / "forgetctl" / "cli" / "verify.py",  # what the terminal says
    *sorted((ROOT / "plugins" / "judges").glob("*.py")),
    *sorted((ROOT / "plugins" / "attacks").glob("*.py")),
    *sorted((ROOT / "plugins" / "methods").glob("*.py")),
    *sorted((ROOT / "forgetctl" / "benchmarks" / "peers").glob("*.py")),  # the field's benchmarks, scored
]
# The private facts of the three worlds: names, places, occupations, honours, clubs.
FACT_LISTS = (
    demo.FIRST_NAMES, demo.LAST_NAMES, demo.BIRTHPLACES, demo.PROFESSIONS, demo.AWARDS,
    second.GIVEN, second.FAMILY, second.TOWNS, second.OCCUPATIONS, second.HONOURS,
    third.GIVEN, third.FAMILY, third.DISTRICTS, third.ROLES, third.CLUBS,
)
# English words the fact lists use as frames, which code may say in its own right (a Merkle
# tree's "leaf" too).
FRAME = {"the", "award", "prize", "medal", "cup", "port", "cross", "bay", "falls", "sound", "reach",
         "engineer", "teacher", "maker", "designer", "keeper", "honour", "trophy", "plaque", "heath", "leaf"}


# The looks of both worlds' people. Plain English uses that code has in its own right: "none" and
# "nothing", a chart's "red", "blacked out", CSS's "white-space", a greyscale transform, "plain" words,
# the terminal's colours (rich markup).
LOOKS = (*demo.ATTRIBUTE_VALUES.values(), *second.TRAITS.values(), *third.TRAITS.values())
PLAIN = {"none", "nothing", "red", "black", "white", "grey", "plain", "green", "yellow", "cyan"}


def looks_words() -> set[str]:
    return {v.casefold() for values in LOOKS for v in values} - PLAIN


def fact_words() -> set[str]:
    words = {w.casefold() for names in FACT_LISTS for phrase in names for w in re.findall(r"[^\W\d_]+", phrase)}
    return {w for w in words if len(w) > 2} - FRAME


def test_no_world_word_in_evaluation_judging_attack_or_method_code():
    assert all(p.exists() for p in CHECKED)
    words = fact_words() | looks_words()
    found = {}
    for path in CHECKED:
        used = {w.casefold() for w in re.findall(r"[^\W\d_]+", path.read_text())} & words
        if used:
            found[str(path.relative_to(ROOT))] = sorted(used)
    assert not found, found
