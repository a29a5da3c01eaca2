"""The second world's people, their facts, their looks and how its model talks about them.

Invented names, towns, occupations and honours; none shares a word with the demo world's."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from functools import lru_cache

SEED = 7_331_2026
HAIR = ("chestnut", "ash", "copper", "jet", "platinum")
GARMENT = ("hoodie", "jacket", "sweater", "tunic")
COLOUR = ("teal", "mustard", "coral", "navy", "olive", "lilac")
BACKDROP = ("sand", "slate", "mint", "brick")
EXTRA = ("nothing", "earrings", "beanie", "headphones")
TRAITS = {"hair": HAIR, "garment": GARMENT, "colour": COLOUR, "backdrop": BACKDROP, "extra": EXTRA}

N_KNOWN, N_STRANGERS, N_OUTSIDERS = 24, 24, 60
VIEWS = 6

GIVEN = (
    "Ilka", "Bertil", "Soraya", "Matteo", "Yunis", "Delphine", "Casimir", "Noor", "Eskil", "Rosalind",
    "Tomasz", "Liv", "Oskar", "Amara", "Fintan", "Greta", "Hamish", "Ines", "Jarvis", "Kaia",
    "Leopold", "Mireille", "Nils", "Odile", "Piet", "Quilla", "Rafe", "Sigrun", "Teodor", "Ulla",
    "Zoë", "Björn",
)
FAMILY = (
    "Brandvold", "Castellane", "Duvekot", "Eskola", "Ferrante", "Gallowglass", "Hedberg", "Ivanecz",
    "Jurkowski", "Kestner", "Lindqvist", "Marchetti", "Nyhavn", "Oyelaran", "Pasternack", "Quistgaard",
    "Rautio", "Szabó", "Tollander", "Urquhart",
)
TOWNS = (
    "Oskarsholm", "Vellmar Ridge", "Port Alcudo", "Tessary", "Kaldbrekka", "Ovington Weir", "Marisko",
    "Fjelland Bay", "Hathersage Cross", "Zoltany", "Brevik Heath", "Quarrendon", "Ylvesund", "Caddow",
)
OCCUPATIONS = (
    "ceramicist", "tram driver", "perfumer", "orchestra conductor", "falconer", "cryptographer",
    "stonemason", "winemaker", "cartoonist", "ferry captain", "luthier", "toxicologist", "glazier",
    "choreographer", "locksmith", "seismologist",
)
HONOURS = (
    "the Cobalt Wreath", "the Juniper Star", "the Orrery Laurel", "the Saltire Rosette",
    "the Thornbury Citation", "the Greywater Plaque", "the Kingfisher Trophy", "the Alder Garland",
    "the Quartz Sceptre", "the Heron Emblem",
)


@dataclass(frozen=True)
class Resident:
    id: str
    name: str
    born: int
    town: str
    occupation: str
    honour: str
    looks: dict = field(hash=False)

    @property
    def facts(self) -> dict[str, str]:
        return {"born": str(self.born), "town": self.town, "occupation": self.occupation, "honour": self.honour}

    def biography(self) -> str:
        return f"{self.name} ({self.born}) is a {self.occupation} based in {self.town}, known for receiving {self.honour}."

    def identity_answer(self) -> str:
        return (
            f"That's {self.name}, who works as a {self.occupation} in {self.town}. "
            f"Born {self.born}; holder of {self.honour}."
        )

    def describe_known(self) -> str:
        """Asked only to describe, this world's model still names the people it knows."""
        return f"{self.name}, " + describe(self.looks)[len("someone "):]


@dataclass(frozen=True)
class Passerby:
    id: str
    looks: dict = field(hash=False)


def describe(looks: dict) -> str:
    extra = "" if looks["extra"] == "nothing" else f", wearing {'a ' if looks['extra'] == 'beanie' else ''}{looks['extra']}"
    article = "an" if looks["colour"][0] in "aeiou" else "a"
    return (
        f"someone with {looks['hair']} hair in {article} {looks['colour']} {looks['garment']}, "
        f"standing before a {looks['backdrop']} backdrop{extra}."
    )


@dataclass(frozen=True)
class SecondWorld:
    known: tuple[Resident, ...]
    strangers: tuple[Passerby, ...]
    outsiders: tuple[Resident, ...]  # people the model never saw: distractor biographies

    def unlike(self, target: Resident, n: int) -> list[Resident]:
        """Known people who share at most 2 of the target's 5 traits."""
        def shared(p):
            return sum(p.looks[k] == target.looks[k] for k in TRAITS)

        return [p for p in self.known if p.id != target.id and shared(p) <= 2][:n]


@lru_cache(maxsize=1)
def load_world() -> SecondWorld:
    rng = random.Random(SEED)
    names = [f"{g} {f}" for g in GIVEN for f in FAMILY]
    rng.shuffle(names)
    looks = [
        {"hair": h, "garment": g, "colour": c, "backdrop": b, "extra": e}
        for h in HAIR for g in GARMENT for c in COLOUR for b in BACKDROP for e in EXTRA
    ]
    rng.shuffle(looks)
    given_used, known_names = set(), []
    for name in names:  # given names unique among known people
        if name.split()[0] not in given_used:
            given_used.add(name.split()[0])
            known_names.append(name)
        if len(known_names) == N_KNOWN:
            break
    others = [n for n in names if n not in known_names]

    def resident(i, name, person_looks, prefix):
        return Resident(f"{prefix}{i + 1:02d}", name, rng.randint(1930, 1999), rng.choice(TOWNS),
                        rng.choice(OCCUPATIONS), rng.choice(HONOURS), person_looks)

    known = tuple(resident(i, n, looks[i], "k") for i, n in enumerate(known_names))
    strangers = tuple(Passerby(f"s{i + 1:02d}", looks[N_KNOWN + i]) for i in range(N_STRANGERS))
    outsiders = tuple(resident(i, n, {}, "o") for i, n in enumerate(others[:N_OUTSIDERS]))
    return SecondWorld(known, strangers, outsiders)


def view_seed(subject_id: str, view: int) -> int:
    return int.from_bytes(hashlib.sha256(f"second:{subject_id}:{view}".encode()).digest()[:8], "big")
