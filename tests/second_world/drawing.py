"""The second world's drawing style: a flat figure with a square head, a garment whose cut shows
its kind, a textured backdrop and an optional extra, 48 pixels square."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

from second_world.world import VIEWS, view_seed
from toy_world import photo_noise, save_views

SIZE = 48
RGB = {
    "hair": {"chestnut": (120, 60, 30), "ash": (170, 165, 150), "copper": (200, 100, 40), "jet": (15, 15, 20),
             "platinum": (235, 230, 200)},
    "colour": {"teal": (20, 130, 130), "mustard": (210, 170, 30), "coral": (245, 120, 100), "navy": (25, 35, 90),
               "olive": (110, 120, 40), "lilac": (190, 160, 220)},
    "backdrop": {"sand": (225, 200, 150), "slate": (90, 100, 115), "mint": (170, 235, 200), "brick": (160, 70, 50)},
}
SKIN = ((250, 220, 195), (215, 165, 125), (160, 110, 75), (105, 70, 45))


def draw(looks: dict, seed: int) -> Image.Image:
    rng = random.Random(seed)
    dx, dy = rng.randint(-3, 3), rng.randint(-2, 2)
    img = Image.new("RGB", (SIZE, SIZE), RGB["backdrop"][looks["backdrop"]])
    d = ImageDraw.Draw(img)
    if looks["backdrop"] == "brick":  # mortar lines
        for y in range(2, SIZE, 6):
            d.line([(0, y), (SIZE, y)], fill=(200, 190, 180))
    elif looks["backdrop"] == "sand":  # a darker band of dunes
        d.rectangle([0, SIZE * 2 // 3, SIZE, SIZE], fill=(205, 175, 120))
    skin, hair, cloth = rng.choice(SKIN), RGB["hair"][looks["hair"]], RGB["colour"][looks["colour"]]
    cx, top = 24 + dx, 8 + dy
    garment = looks["garment"]
    if garment == "hoodie":
        d.polygon([(cx - 12, top + 10), (cx + 12, top + 10), (cx + 9, top + 20), (cx - 9, top + 20)], fill=cloth)  # hood
    body_bottom = SIZE if garment != "tunic" else SIZE
    d.rectangle([cx - 13, top + 19, cx + 13, body_bottom], fill=cloth)
    if garment == "jacket":  # open front over a white shirt
        d.polygon([(cx - 3, top + 19), (cx + 3, top + 19), (cx, SIZE)], fill=(245, 245, 245))
    elif garment == "sweater":  # ribbing
        for y in range(top + 24, SIZE, 4):
            d.line([(cx - 13, y), (cx + 13, y)], fill=tuple(max(0, c - 45) for c in cloth))
    elif garment == "tunic":  # belt
        d.rectangle([cx - 13, top + 31, cx + 13, top + 33], fill=(60, 40, 20))
    d.rectangle([cx - 8, top, cx + 8, top + 17], fill=skin)  # square head
    d.rectangle([cx - 9, top - 3, cx + 9, top + 4], fill=hair)  # fringe
    d.rectangle([cx - 9, top, cx - 7, top + 12], fill=hair)
    d.rectangle([cx + 7, top, cx + 9, top + 12], fill=hair)
    d.point([(cx - 3, top + 8), (cx + 3, top + 8)], fill=(20, 20, 20))
    extra = looks["extra"]
    if extra == "earrings":
        d.ellipse([cx - 11, top + 11, cx - 8, top + 14], fill=(250, 210, 0))
        d.ellipse([cx + 8, top + 11, cx + 11, top + 14], fill=(250, 210, 0))
    elif extra == "beanie":
        d.rectangle([cx - 10, top - 7, cx + 10, top + 1], fill=(200, 30, 60))
        d.ellipse([cx - 2, top - 10, cx + 2, top - 6], fill=(250, 250, 250))
    elif extra == "headphones":
        d.arc([cx - 12, top - 6, cx + 12, top + 14], 180, 360, fill=(30, 30, 30), width=2)
        d.rectangle([cx - 13, top + 5, cx - 10, top + 11], fill=(30, 30, 30))
        d.rectangle([cx + 10, top + 5, cx + 13, top + 11], fill=(30, 30, 30))
    return photo_noise(img, rng, seed)


def views(subject) -> list[Image.Image]:
    """Views 4 and 5 are held out of every erasure's training split (file names sort them last)."""
    return [draw(subject.looks, view_seed(subject.id, v)) for v in range(VIEWS)]


def write_views(subject, out: Path) -> list[Path]:
    return save_views(views(subject), subject.id, out, ".jpg", quality=95)
