"""A benchmark as forgetctl reads it: people with their photos and the benchmark's own
questions, and its splits. Every importer (fiubench, mllmu, umu, clear) fills these in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from forgetctl.errors import InputError

KINDS = ("open", "choice", "cloze")


@dataclass(frozen=True)
class Task:
    """One of a benchmark's questions about a person, scored its way (forgetctl.evaluation.choices)."""

    kind: str  # one of KINDS
    question: str
    answer: str  # for "choice": the correct option's letter
    with_image: bool = True  # asked with the person's photo, or as text alone
    options: tuple[tuple[str, str], ...] = ()  # ("A", text), ... for "choice"
    pair: str | None = None  # UMU-Bench: the key pairing a text-only and an image question
    paraphrased_answer: str | None = None  # FIUBench / CLEAR: the truth ratio's true answer
    perturbed: tuple[str, ...] = ()  # and its false ones
    keywords: tuple[str, ...] = ()  # FIUBench's exact match
    photo: int | None = None  # the one photo of the person's it is about (CLEAR's captions); None: any

    @property
    def option_map(self) -> dict[str, str]:
        return dict(self.options)


@dataclass(frozen=True)
class PeerPerson:
    id: str
    name: str
    photos: tuple[bytes, ...]  # the views the benchmark trains on
    tasks: tuple[Task, ...]
    test_photos: tuple[bytes, ...] = ()  # the benchmark's own held-out views (MLLMU-Bench's Test_Set)
    test_tasks: tuple[Task, ...] = ()  # asked on those, when the benchmark has its own
    biography: str = ""


@dataclass(frozen=True)
class Benchmark:
    format: str
    source: Path
    people: dict[str, PeerPerson]
    splits: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)  # forget ids, retain ids

    def split(self, name: str) -> tuple[list[PeerPerson], list[PeerPerson]]:
        if name not in self.splits:
            raise InputError(f"{self.format} at {self.source} has no split {name!r}; it has {', '.join(sorted(self.splits))}")
        forget, retain = self.splits[name]
        missing = [i for i in forget + retain if i not in self.people]
        if missing:
            raise InputError(f"split {name!r} names {len(missing)} people the data does not hold (e.g. {missing[0]})")
        if not forget:
            raise InputError(f"split {name!r} has nobody to forget")
        return [self.people[i] for i in forget], [self.people[i] for i in retain]


CAPITALISED_RUN = re.compile(r"\b(?:[A-Z][\w'’.-]*\s+)*[A-Z][\w'’.-]*")


def capitalised_runs(text: str) -> list[str]:
    """Runs of two or more capitalised words: "Jo Bloggs" in "This person's name is Jo Bloggs."."""
    runs = (m.group(0).strip(" .") for m in CAPITALISED_RUN.finditer(text))
    return [r for r in runs if len(r.split()) >= 2]


def person_name(format: str, person_id: str, row: dict, tasks: list[Task], biography: str = "") -> str:
    """A person's name: the row's `name`, else the longest capitalised run in the answer to the
    benchmark's question that asks it, else the first in the biography (which opens with it).
    forgetctl detects a leak by the name, so one is required."""
    for key in ("name", "Name"):
        if isinstance(row.get(key), str) and row[key].strip():
            return row[key].strip()
    for answer in (t.answer for t in tasks if t.kind == "open" and "name" in t.question.casefold()):
        if capitalised_runs(answer):
            return max(capitalised_runs(answer), key=lambda r: (len(r.split()), len(r)))
    if capitalised_runs(biography):
        return capitalised_runs(biography)[0]
    raise InputError(f"{format}: person {person_id} has no name (no name field, no question that asks it); "
                     "forgetctl finds a leak by the person's name")


def ensure_folder(format: str, data: Path) -> Path:
    if not data.exists():
        raise InputError(f"--data {data} does not exist")
    if not data.is_dir():
        raise InputError(f"--data {data} is not a folder; give the {format} folder as downloaded")
    return data
