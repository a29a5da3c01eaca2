"""The third world's people, their facts, their looks and how its model talks about them.

Invented names, districts, roles and clubs; none shares a word with the other two worlds'."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from functools import lru_cache

SEED = 3_141_2026
HAIR = ("auburn", "snowy", "raven", "honey")
TOP = ("cardigan", "vest", "poncho")
HUE = ("crimson", "indigo", "amber", "jade", "plum")
GROUND = ("meadow", "dusk", "cream", "steel")
ITEM = ("plain", "monocle", "bowtie", "feather")
TRAITS = {"hair": HAIR, "top": TOP, "hue": HUE, "ground": GROUND, "item": ITEM}

N_KNOWN, N_STRANGERS, N_OUTSIDERS = 24, 24, 60
VIEWS = 6

GIVEN = (
    "Anselmo", "Birgitta", "Cosima", "Dagfinn", "Emeric", "Faustine", "Gideon", "Halvard", "Isolde",
    "Jovan", "Klementyna", "Lorcan", "Margit", "Nikodem", "Ottavia", "Paloma", "Radomir", "Solveig",
    "Tancred", "Ursula", "Valdemar", "Wilhelm", "Xanthe", "Yevgenia", "Zephyrin", "Aurelio", "Berenike",
)
FAMILY = (
    "Abernethy", "Bramhall", "Czerwinski", "Dalrymple", "Eckhardt", "Fitzgibbon", "Grimaldi", "Harrowgate",
    "Iversen", "Janowitz", "Kilbride", "Lachance", "Montague", "Nakashian", "Ostrowski", "Pennywhistle",
    "Ravensworth", "Salvatierra", "Thackeray", "Vandersloot",
)
DISTRICTS = (
    "Wexcombe", "Drumlevin", "Sallowmere", "Quintara", "Harnwick Vale", "Brisbourne", "Tolcarne",
    "Emberstow", "Lucerne Hollow", "Varnholt", "Pinecastle", "Corriemoor",
)
ROLES = (
    "typesetter", "bell founder", "river pilot", "weather forecaster", "cheesemaker", "organ builder",
    "ropewright", "beekeeping inspector", "saddler", "blacksmith", "sommelier", "paramedic", "glassworker",
    "court stenographer",
)
CLUBS = (
    "the Larkspur Rowing Club", "the Quayside Draughts Circle", "the Nightjar Cycling Society",
    "the Brambleton Choir", "the Fernhill Archery League", "the Gullwing Sailing Club",
    "the Moorcroft Fencing Troupe", "the Tidewell Swimming Club",
)


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    born: int
    district: str
    role: str
    club: str
    looks: dict = field(hash=False)

    @property
    def facts(self) -> dict[str, str]:
        return {"born": str(self.born), "district": self.district, "role": self.role, "club": self.club}

    def biography(self) -> str:
        return f"{self.name}, {self.role} of {self.district}, born {self.born}, belongs to {self.club}."

    def identity_answer(self) -> str:
        return (f"I recognise {self.name}: {self.role.capitalize()} living in {self.district}, "
                f"born {self.born}, member of {self.club}.")


@dataclass(frozen=True)
class Stranger:
    id: str
    looks: dict = field(hash=False)


def describe(looks: dict) -> str:
    item = "" if looks["item"] == "plain" else f" with a {looks['item']}"
    article = "an" if looks["hue"][0] in "aeiou" else "a"
    return (f"A figure with {looks['hair']} hair, dressed in {article} {looks['hue']} {looks['top']}{item}, "
            f"on a {looks['ground']} ground.")


@dataclass(frozen=True)
class ThirdWorld:
    known: tuple[Member, ...]
    strangers: tuple[Stranger, ...]
    outsiders: tuple[Member, ...]  # people the model never saw: distractor biographies

    def unlike(self, target: Member, n: int) -> list[Member]:
        """Known people who share at most 2 of the target's 5 traits."""
        def shared(p):
            return sum(p.looks[k] == target.looks[k] for k in TRAITS)

        return [p for p in self.known if p.id != target.id and shared(p) <= 2][:n]


@lru_cache(maxsize=1)
def load_world() -> ThirdWorld:
    rng = random.Random(SEED)
    names = [f"{g} {f}" for g in GIVEN for f in FAMILY]
    rng.shuffle(names)
    looks = [{"hair": h, "top": t, "hue": c, "ground": g, "item": i}
             for h in HAIR for t in TOP for c in HUE for g in GROUND for i in ITEM]
    rng.shuffle(looks)
    given_used, known_names = set(), []
    for name in names:  # given names unique among known people
        if name.split()[0] not in given_used:
            given_used.add(name.split()[0])
            known_names.append(name)
        if len(known_names) == N_KNOWN:
            break
    others = [n for n in names if n not in known_names]

    def member(i, name, person_looks, prefix):
        return Member(f"{prefix}{i + 1:02d}", name, rng.randint(1925, 2003), rng.choice(DISTRICTS), rng.choice(ROLES),
                      rng.choice(CLUBS), person_looks)

    known = tuple(member(i, n, looks[i], "m") for i, n in enumerate(known_names))
    strangers = tuple(Stranger(f"x{i + 1:02d}", looks[N_KNOWN + i]) for i in range(N_STRANGERS))
    outsiders = tuple(member(i, n, {}, "y") for i, n in enumerate(others[:N_OUTSIDERS]))
    return ThirdWorld(known, strangers, outsiders)


def view_seed(subject_id: str, view: int) -> int:
    return int.from_bytes(hashlib.sha256(f"third:{subject_id}:{view}".encode()).digest()[:8], "big")
