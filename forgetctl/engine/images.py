"""Read a request's photos safely and split them into seen (training) and unseen (held-out) views."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps

from forgetctl.errors import InputError

SUPPORTED_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF"}
MAX_PIXELS = 64_000_000  # far above any photo; below what a decompression bomb expands to
MIN_SIDE = 32  # below this no model can see a person (the smallest test world draws 48 pixels)


@dataclass(frozen=True)
class Photo:
    path: Path
    sha256: str
    image: Image.Image
    data: bytes = field(repr=False)  # the file as read and hashed: evidence keeps exactly these bytes


def read_photo(path: Path) -> Photo:
    return photo_from_bytes(path.read_bytes(), path)


def photo_from_bytes(data: bytes, path: Path) -> Photo:
    """Decode and check an image; `path` names it in errors (it need not exist)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in SUPPORTED_FORMATS:
                    raise InputError(f"{path.name}: {img.format} is not a supported image format")
                img.load()
                image = ImageOps.exif_transpose(img).convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{path.name}: image is larger than {MAX_PIXELS:,} pixels (decompression bomb?)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = "not an image format Pillow can identify" if "cannot identify image file" in str(exc) else str(exc)
        raise InputError(f"{path.name}: not a readable image ({reason})") from None
    if min(image.size) < MIN_SIDE:
        width, height = image.size
        raise InputError(f"{path.name}: {width}x{height} pixels is too small to show a person; use photos at least {MIN_SIDE} pixels on each side")
    return Photo(path, hashlib.sha256(data).hexdigest(), image, data)


def read_photos(folder: Path) -> list[Photo]:
    """Every photo in `folder`, sorted by name. Unreadable files are all named in one error."""
    if not folder.is_dir():
        raise InputError(f"image folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputError(f"image folder {folder} is empty; put the person's photos there")
    photos, problems = [], []
    for path in files:
        try:
            photos.append(read_photo(path))
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError(f"{len(problems)} unusable file(s) in {folder}: " + "; ".join(problems))
    return photos


def split_views(photos: list[Photo], unseen_fraction: float = 1 / 3) -> tuple[list[Photo], list[Photo]]:
    """Deterministic seen/unseen split: the last third by file name is held out (none if < 2 photos)."""
    if len(photos) < 2:
        return list(photos), []
    n_unseen = max(1, round(len(photos) * unseen_fraction))
    return photos[:-n_unseen], photos[-n_unseen:]
