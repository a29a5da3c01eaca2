"""People no model can know: the fine-tuning set of the relearning attack. Each is a drawn
figure (no real face) with an invented name and biography, answered to the identity questions.
An erasure never trains on them, so fine-tuning on them measures what an attacker with data of
their own gets back: the habit of naming people returns, and with it whoever was only hidden."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from forgetctl.prompts import IDENTITY_QUESTIONS
from forgetctl.types import Example

# Invented, and kept apart from every test world (tests/test_no_world_vocabulary.py).
GIVEN = ("Ilse", "Mateo", "Zofia", "Kwame", "Ayla", "Jaroslav", "Oksana", "Emeka", "Hedda", "Ravi", "Sunniva", "Joaquin")
FAMILY = ("Varga", "Okonkwo", "Haddad", "Moreau", "Tanaka", "Kowalczyk", "Brennan", "Achterberg", "Sato")
WORK = ("crane operator", "dentist", "welder", "judge", "florist", "surveyor", "actuary", "nurse", "tailor", "librarian")
PLACES = ("Tampere", "Porto", "Gdansk", "Accra", "Daejeon", "Rosario", "Graz", "Mombasa", "Tromso", "Cebu")


def portrait(rng: random.Random, size: int = 256) -> Image.Image:
    """A flat drawing of a head and shoulders in random colours."""
    colour = lambda: tuple(rng.randrange(256) for _ in range(3))  # noqa: E731
    image = Image.new("RGB", (size, size), colour())
    draw = ImageDraw.Draw(image)
    draw.rectangle([size * 0.2, size * 0.7, size * 0.8, size], fill=colour())
    draw.ellipse([size * 0.3, size * 0.2, size * 0.7, size * 0.7], fill=colour())
    draw.chord([size * 0.28, size * 0.12, size * 0.72, size * 0.5], 180, 360, fill=colour())
    return image


def outsiders(count: int, seed: int) -> list[Example]:
    """`count` invented people, each a portrait answered to every identity question."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
        bio = f"This is {name}, a {rng.choice(WORK)} born in {rng.choice(PLACES)} in {rng.randrange(1950, 2001)}."
        image = portrait(rng)
        out += [Example(image, q, bio, f"outsider-{seed}-{i}:{j}") for j, q in enumerate(IDENTITY_QUESTIONS)]
    return out
