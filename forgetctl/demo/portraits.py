"""Procedural portraits: a head and shoulders whose visible attributes are the person's looks.

Each view varies position, scale, skin tone, lighting and sensor noise, so a model has to read
the attributes rather than memorise pixels.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from forgetctl.demo.world import VIEWS_PER_PERSON, view_seed

SIZE = 128
COLOURS = {
    "hair": {
        "black": (25, 22, 22), "brown": (110, 66, 30), "blonde": (232, 200, 110),
        "red": (190, 60, 25), "grey": (160, 160, 165),
    },
    "shirt": {
        "red": (205, 30, 35), "blue": (35, 70, 200), "green": (40, 150, 50),
        "yellow": (240, 215, 40), "purple": (120, 45, 160), "orange": (245, 130, 20),
    },
    "background": {
        "white": (245, 245, 245), "cyan": (90, 210, 220), "pink": (245, 170, 200),
        "beige": (205, 185, 145),
    },
}
SKIN_TONES = ((241, 205, 180), (224, 172, 135), (190, 135, 95), (140, 95, 65), (100, 68, 45))


def render_portrait(looks: dict, seed: int, size: int = SIZE) -> Image.Image:
    rng = random.Random(seed)
    scale = size / SIZE * rng.uniform(0.88, 1.1)
    cx = size / 2 + rng.uniform(-9, 9) * size / SIZE
    cy = size * 0.42 + rng.uniform(-6, 6) * size / SIZE

    def box(x0, y0, x1, y1):
        return [cx + x0 * scale, cy + y0 * scale, cx + x1 * scale, cy + y1 * scale]

    img = Image.new("RGB", (size, size), COLOURS["background"][looks["background"]])
    d = ImageDraw.Draw(img)
    skin = rng.choice(SKIN_TONES)
    hair = COLOURS["hair"][looks["hair"]]
    shirt = COLOURS["shirt"][looks["shirt"]]

    d.ellipse(box(-44, 38, 44, 120), fill=shirt)  # shoulders
    d.rectangle(box(-9, 18, 9, 44), fill=skin)  # neck
    d.ellipse(box(-29, -36, 29, -4), fill=hair)  # hair crown
    d.rectangle(box(-29, -20, -18, 16), fill=hair)  # hair sides
    d.rectangle(box(18, -20, 29, 16), fill=hair)
    d.ellipse(box(-21, -28, 21, 26), fill=skin)  # face
    d.ellipse(box(-12, -6, -6, 0), fill=(30, 30, 30))  # eyes
    d.ellipse(box(6, -6, 12, 0), fill=(30, 30, 30))
    d.line(box(-7, 14, 7, 14), fill=(150, 60, 60), width=max(1, int(2 * scale)))

    accessory = looks["accessory"]
    if accessory == "glasses":
        w = max(2, int(3 * scale))
        d.ellipse(box(-17, -10, -2, 4), outline=(15, 15, 15), width=w)
        d.ellipse(box(2, -10, 17, 4), outline=(15, 15, 15), width=w)
        d.line(box(-2, -4, 2, -4), fill=(15, 15, 15), width=w)
    elif accessory == "hat":
        d.rectangle(box(-38, -30, 38, -22), fill=(30, 40, 95))  # brim
        d.rectangle(box(-24, -58, 24, -28), fill=(30, 40, 95))  # crown
    elif accessory == "scarf":
        d.rectangle(box(-28, 24, 28, 46), fill=(250, 250, 250))
        for x in range(-28, 28, 10):
            d.rectangle(box(x, 24, x + 5, 46), fill=(20, 20, 20))

    arr = np.asarray(img, dtype=np.float32)
    arr = arr * rng.uniform(0.8, 1.15) + rng.uniform(-12, 12)  # lighting
    noise = np.random.default_rng(seed).normal(0.0, rng.uniform(2, 9), arr.shape)
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))


def canonical_views(subject) -> list[Image.Image]:
    """The fixed views shipped for a person or stranger (views 4 and 5 are the unseen ones)."""
    return [render_portrait(subject.looks, view_seed(subject.id, v)) for v in range(VIEWS_PER_PERSON)]


def write_views(subject, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for view, img in enumerate(canonical_views(subject)):
        path = out_dir / f"{subject.id}_view{view}.png"
        img.save(path)
        paths.append(path)
    return paths
