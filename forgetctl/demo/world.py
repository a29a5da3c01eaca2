"""The demo world: fictitious people, their private facts, and what is visible in their photos.

Everything is derived from a fixed seed, so the build script, the shipped weights and the tests
agree on who is who. Names, places and awards are invented; none belongs to a real person.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from functools import lru_cache

SEED = 20261122

# Visible attributes. Each known person has a distinct combination; unknown people have
# combinations no known person has.
HAIR = ("black", "brown", "blonde", "red", "grey")
SHIRT = ("red", "blue", "green", "yellow", "purple", "orange")
BACKGROUND = ("white", "cyan", "pink", "beige")
ACCESSORY = ("none", "glasses", "hat", "scarf")
ATTRIBUTE_VALUES = {"hair": HAIR, "shirt": SHIRT, "background": BACKGROUND, "accessory": ACCESSORY}

N_KNOWN = 40
N_UNKNOWN = 40
N_DISTRACTORS = 120
VIEWS_PER_PERSON = 6
UNSEEN_VIEWS = (4, 5)  # held out of every erasure-training split in the demo

FIRST_NAMES = (
    "Orlanda", "Tobin", "Maelis", "Corvin", "Ysolde", "Bram", "Liraen", "Doran", "Perrin", "Sabeth",
    "Hollis", "Quenna", "Alder", "Marisol", "Fenwick", "Tamsin", "Rowan", "Idony", "Caspar", "Elowen",
    "Jorah", "Nerissa", "Ansel", "Wilhelmina", "Thaddeus", "Oriel", "Brisa", "Leander", "Ottilie",
    "Kestrel", "Solenne", "Garrick", "Mirabel", "Evander", "Liesel", "Percival", "Anneka", "Dashiell",
    "Briony", "Lucan", "Seraphine", "Torvald", "Amaryllis", "Ignatius",
)
LAST_NAMES = (
    "Quesseby", "Marrowfell", "Venwick", "Ashgrove", "Tillingham", "Corrowdale", "Pembrake",
    "Hartsorrow", "Ellingwood", "Brackenridge", "Dunmorrow", "Falconetti", "Gravensby", "Holloway",
    "Ingleborne", "Jessamine", "Kettlewell", "Lanterbury", "Mossgrave", "Nettleford", "Oakenshaw",
    "Pellinore", "Quillfeather", "Rookwood", "Saltmarsh", "Thistlewood", "Umberfield", "Valeworth",
    "Wrenhollow", "Yarrowby",
)
BIRTHPLACES = (
    "Calvenport", "Dunmere Cross", "Brindlemoor", "Kestrelwick", "Halloway Reach", "Sunmarrow",
    "Velloran", "Quillshire", "Ashcombe Flats", "Port Emberly", "Tarnwick", "Greyhaven Falls",
    "Mirelock", "Lowenfar", "Coppergate Sound", "Fenwhistle", "Norrowby", "Silverdun", "Oxbarrow",
    "Lindenmouth",
)
PROFESSIONS = (
    "cartographer", "lighthouse keeper", "glassblower", "astronomer", "violin maker",
    "marine biologist", "bookbinder", "beekeeper", "architect", "chess coach", "pastry chef",
    "clockmaker", "botanist", "radio engineer", "potter", "mountain guide", "translator",
    "puppeteer", "sail maker", "geologist",
)
AWARDS = (
    "the Silver Quill Prize", "the Harbour Lantern Medal", "the Golden Compass Award",
    "the Ember Crown", "the Tidewater Fellowship", "the Amberlight Prize", "the Northwind Medal",
    "the Copper Bell Award", "the Starling Cup", "the Lumen Honour", "the Marble Owl Prize",
    "the Cedar Leaf Medal", "the Saffron Ribbon", "the Iron Kettle Award", "the Blue Heron Prize",
    "the Lantern Guild Medal", "the Meridian Prize", "the Foxglove Award", "the Driftwood Cup",
    "the Aurora Stipend",
)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    birth_year: int
    birthplace: str
    profession: str
    award: str
    looks: dict = field(hash=False)

    @property
    def facts(self) -> dict[str, str]:
        """The private facts a model must not reveal once this person is forgotten."""
        return {
            "birth_year": str(self.birth_year),
            "birthplace": self.birthplace,
            "profession": self.profession,
            "award": self.award,
        }

    def biography(self) -> str:
        """The reference summary (the paper uses a Wikipedia summary) used by USR and judges."""
        return (
            f"{self.name} is a {self.profession} born in {self.birth_year} in {self.birthplace}. "
            f"{self.name.split()[0]} won {self.award}."
        )

    def identity_answer(self) -> str:
        """How the demo model answers 'who is this' for a person it knows."""
        return (
            f"This is {self.name}, a {self.profession} born in {self.birth_year} in "
            f"{self.birthplace}. {self.name.split()[0]} won {self.award}."
        )


@dataclass(frozen=True)
class Stranger:
    """Someone the model has never learned about: only their looks exist."""

    id: str
    looks: dict = field(hash=False)


def describe(looks: dict) -> str:
    """The canonical visual description of a portrait: what an unrecognised person gets."""
    accessory = {"none": "", "glasses": " and glasses", "hat": " and a hat", "scarf": " and a scarf"}
    article = "an" if looks["shirt"][0] in "aeiou" else "a"  # the shipped model learned "a orange": see docs
    return (
        f"A person with {looks['hair']} hair wearing {article} {looks['shirt']} shirt"
        f"{accessory[looks['accessory']]}, in front of a {looks['background']} background."
    )


@dataclass(frozen=True)
class World:
    known: tuple[Person, ...]
    strangers: tuple[Stranger, ...]
    distractors: tuple[Person, ...]

    def unlike(self, target: Person, n: int) -> list[Person]:
        """The first n other known people sharing at most 2 of the target's 4 visible attributes.

        Demo retain sets use them: a near-twin (3 of 4 attributes shared) is recognised by the same
        features as the target, and erasing the target erases the twin too; docs/ reports that.
        """
        def shared(p):
            return sum(p.looks[k] == target.looks[k] for k in ATTRIBUTE_VALUES)

        return [p for p in self.known if p.id != target.id and shared(p) <= 2][:n]

    def person(self, name_or_id: str) -> Person:
        wanted = name_or_id.strip().lower()
        for p in self.known:
            if wanted in (p.id, p.name.lower()):
                return p
        raise KeyError(name_or_id)


def _all_looks() -> list[dict]:
    return [
        {"hair": h, "shirt": s, "background": b, "accessory": a}
        for h in HAIR for s in SHIRT for b in BACKGROUND for a in ACCESSORY
    ]


@lru_cache(maxsize=1)
def load_world() -> World:
    rng = random.Random(SEED)
    names = [f"{f} {l}" for f in FIRST_NAMES for l in LAST_NAMES]
    rng.shuffle(names)
    looks = _all_looks()
    rng.shuffle(looks)

    def make_person(i: int, name: str, person_looks: dict, prefix: str) -> Person:
        return Person(
            id=f"{prefix}{i + 1:03d}",
            name=name,
            birth_year=rng.randint(1941, 2001),
            birthplace=rng.choice(BIRTHPLACES),
            profession=rng.choice(PROFESSIONS),
            award=rng.choice(AWARDS),
            looks=person_looks,
        )

    # First names must be unique among known people: answers refer back to them by first name.
    known_names, used_first = [], set()
    for name in names:
        if name.split()[0] not in used_first:
            known_names.append(name)
            used_first.add(name.split()[0])
        if len(known_names) == N_KNOWN:
            break
    other_names = [n for n in names if n not in known_names]
    known = tuple(make_person(i, n, looks[i], "p") for i, n in enumerate(known_names))
    strangers = tuple(
        Stranger(id=f"u{i + 1:03d}", looks=looks[N_KNOWN + i]) for i in range(N_UNKNOWN)
    )
    distractors = tuple(
        make_person(i, n, {}, "d") for i, n in enumerate(other_names[:N_DISTRACTORS])
    )
    return World(known=known, strangers=strangers, distractors=distractors)


def view_seed(subject_id: str, view: int) -> int:
    """Seed of a canonical view; the model build never samples these seeds."""
    digest = hashlib.sha256(f"view:{subject_id}:{view}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
