"""The third world's drawing style: an oval head over a trapezoid body, the top's kind in its cut,
a ground in two tones, an optional item, 84 pixels square (three Qwen2-VL merge windows a side)."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

from third_world.world import VIEWS, view_seed
from toy_world import photo_noise, save_views

SIZE = 84
RGB = {
    "hair": {"auburn": (145, 50, 25), "snowy": (235, 235, 240), "raven": (10, 10, 30), "honey": (220, 170, 80)},
    "hue": {"crimson": (190, 20, 40), "indigo": (60, 30, 140), "amber": (240, 160, 20), "jade": (40, 160, 100),
            "plum": (120, 50, 90)},
    "ground": {"meadow": (110, 180, 80), "dusk": (80, 60, 120), "cream": (245, 235, 205), "steel": (120, 130, 140)},
}
SKIN = ((255, 225, 200), (225, 175, 135), (170, 120, 85), (110, 75, 50))


def draw(looks: dict, seed: int) -> Image.Image:
    rng = random.Random(seed)
    dx, dy = rng.randint(-5, 5), rng.randint(-4, 4)
    ground = RGB["ground"][looks["ground"]]
    img = Image.new("RGB", (SIZE, SIZE), ground)
    d = ImageDraw.Draw(img)
    d.rectangle([0, SIZE * 3 // 4, SIZE, SIZE], fill=tuple(int(c * 0.8) for c in ground))  # the ground's second tone
    skin, hair, hue = rng.choice(SKIN), RGB["hair"][looks["hair"]], RGB["hue"][looks["hue"]]
    cx, top = 42 + dx, 14 + dy
    d.polygon([(cx - 14, top + 32), (cx + 14, top + 32), (cx + 24, SIZE), (cx - 24, SIZE)], fill=hue)  # body
    if looks["top"] == "cardigan":  # buttons down the front
        for y in range(top + 38, SIZE, 8):
            d.ellipse([cx - 2, y, cx + 2, y + 4], fill=(250, 250, 240))
    elif looks["top"] == "vest":  # bare arms beside it
        d.rectangle([cx - 30, top + 36, cx - 22, SIZE - 10], fill=skin)
        d.rectangle([cx + 22, top + 36, cx + 30, SIZE - 10], fill=skin)
    else:  # poncho: a wide fringed triangle
        d.polygon([(cx - 32, SIZE - 14), (cx + 32, SIZE - 14), (cx, top + 30)], fill=hue)
        for x in range(cx - 30, cx + 31, 6):
            d.line([(x, SIZE - 14), (x, SIZE - 8)], fill=hue, width=2)
    d.ellipse([cx - 12, top, cx + 12, top + 30], fill=skin)  # oval head
    d.chord([cx - 13, top - 4, cx + 13, top + 16], 180, 360, fill=hair)  # hair cap
    d.ellipse([cx - 6, top + 13, cx - 3, top + 16], fill=(20, 20, 20))
    d.ellipse([cx + 3, top + 13, cx + 6, top + 16], fill=(20, 20, 20))
    item = looks["item"]
    if item == "monocle":
        d.ellipse([cx + 1, top + 10, cx + 9, top + 19], outline=(230, 200, 40), width=2)
    elif item == "bowtie":
        d.polygon([(cx - 8, top + 30), (cx, top + 34), (cx - 8, top + 38)], fill=(20, 20, 120))
        d.polygon([(cx + 8, top + 30), (cx, top + 34), (cx + 8, top + 38)], fill=(20, 20, 120))
    elif item == "feather":
        d.line([(cx + 10, top - 2), (cx + 22, top - 16)], fill=(250, 250, 250), width=3)
    return photo_noise(img, rng, seed)


def views(subject) -> list[Image.Image]:
    """Views 4 and 5 are held out of every erasure's training split (file names sort them last)."""
    return [draw(subject.looks, view_seed(subject.id, v)) for v in range(VIEWS)]


def write_views(subject, out: Path) -> list[Path]:
    return save_views(views(subject), subject.id, out, ".png")
