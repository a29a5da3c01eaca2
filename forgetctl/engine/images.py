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
MAX_PIXELS = 64_000_000  # one photo: far above any camera's; below what a decompression bomb expands to
MIN_SIDE = 32  # below this no model can see a person (the smallest test world draws 48 pixels)
# One request (everyone's photos and the retain folder together), checked from the files' headers
# before any photo is decoded: a few huge images or thousands of small ones are refused up front.
MAX_PHOTOS = 500
MAX_TOTAL_PIXELS = 400_000_000
MAX_FILE_BYTES = 50 * 2**20
# Held in memory at most this long a side: a vision tower sees a few hundred pixels anyway, and
# the evidence keeps the file's own bytes.
KEEP_SIDE = 2048
LIMITS = (f"at most {MAX_PHOTOS} photos per request, {MAX_FILE_BYTES // 2**20} MiB and {MAX_PIXELS // 10**6} "
          f"megapixels per photo, {MAX_TOTAL_PIXELS // 10**6:,} megapixels in all")


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
    if max(image.size) > KEEP_SIDE:
        image.thumbnail((KEEP_SIDE, KEEP_SIDE), Image.Resampling.LANCZOS)
    return Photo(path, hashlib.sha256(data).hexdigest(), image, data)


def photo_files(folder: Path) -> list[Path]:
    """The photo files of a folder, sorted by name; a symbolic link is refused (it could point at
    any file on the machine, and the evidence would keep a copy of it)."""
    if not folder.is_dir():
        raise InputError(f"image folder {folder} does not exist")
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    links = [p.name for p in entries if p.is_symlink()]
    if links:
        raise InputError(f"{folder} holds symbolic links ({', '.join(links[:3])}); copy the photos themselves into it")
    files = [p for p in entries if p.is_file()]
    if not files:
        raise InputError(f"image folder {folder} is empty; put the person's photos there")
    return files


def retain_folders(retain_dir: Path | None) -> list[Path]:
    """Other people's photo folders (--retain, canaries), one per person."""
    if retain_dir is None:
        return []
    if not retain_dir.is_dir():
        raise InputError(f"retain folder {retain_dir} does not exist")
    folders = sorted(sub for sub in retain_dir.iterdir() if sub.is_dir() and not sub.is_symlink())
    if not folders:
        raise InputError(f"retain folder {retain_dir} has no sub-folders; put each person's photos in their own")
    return folders


def survey(folders: list[Path]) -> None:
    """Every photo of a request against the request's limits, from file sizes and image headers
    only: refused before any photo is decoded."""
    files = [f for folder in folders for f in photo_files(folder)]
    if len(files) > MAX_PHOTOS:
        raise InputError(f"{len(files):,} photos in this request; the limit is {MAX_PHOTOS} (split it into several requests)")
    pixels = 0
    for path in files:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{path.name}: {size / 2**20:,.0f} MiB; a photo may be at most {MAX_FILE_BYTES // 2**20} MiB")
        try:
            with Image.open(path) as img:  # reads the header only
                pixels += img.size[0] * img.size[1]
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            continue  # named with its reason when the photos are read
    if pixels > MAX_TOTAL_PIXELS:
        raise InputError(f"the photos of this request hold {pixels / 10**6:,.0f} megapixels; the limit is "
                         f"{MAX_TOTAL_PIXELS // 10**6:,} (use fewer or smaller photos)")


def read_photos(folder: Path) -> list[Photo]:
    """Every photo in `folder`, sorted by name. Unreadable files are all named in one error."""
    files = photo_files(folder)
    photos, problems = [], []
    for path in files:
        try:
            photos.append(read_photo(path))
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError(f"{len(problems)} unusable file(s) in {folder}: " + "; ".join(problems))
    return photos


def held_out_count(n: int) -> int:
    """How many of n photos are held out: a third, at least one, none of fewer than 2."""
    return 0 if n < 2 else max(1, round(n / 3))


def split_views(photos: list[Photo]) -> tuple[list[Photo], list[Photo]]:
    """Deterministic seen/unseen split: the last third by file name is held out (none if < 2 photos)."""
    n_unseen = held_out_count(len(photos))
    return (list(photos[:-n_unseen]), list(photos[-n_unseen:])) if n_unseen else (list(photos), [])
