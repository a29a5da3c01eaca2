"""Rows of the benchmarks distributed as parquet (MLLMU-Bench, UMU-Bench, CLEAR), read through
pyarrow, the optional extra `forgetctl[bench]`."""

from __future__ import annotations

import re
from pathlib import Path

from forgetctl.errors import InputError


def read_rows(files: list[Path], format: str) -> list[dict]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"{format} is distributed as parquet, read with pyarrow: pip install 'forgetctl[bench]'") from None
    rows = []
    for path in files:
        try:
            rows.extend(pq.read_table(path).to_pylist())
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise InputError(f"{path}: not a readable parquet file ({type(exc).__name__})") from None
    return rows


def parquet_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.parquet") if p.is_file() and not p.is_symlink())


def image_bytes(value) -> bytes | None:
    """A parquet image cell as the Hugging Face `Image` feature stores it ({"bytes", "path"}), or raw bytes."""
    if isinstance(value, dict):
        value = value.get("bytes")
    return value if isinstance(value, (bytes, bytearray)) and value else None


FORGET = re.compile(r"forget_?(\d+)$")


def split_files(data: Path, label: str) -> dict[str, list[Path]]:
    """Each split's parquet files, as a snapshot holds them: a folder per split (`forget_5/*.parquet`)
    or files named by split (`forget_5-00000-of-00001.parquet`), in the folder or in its `data/`."""
    splits: dict[str, list[Path]] = {}
    for folder in (data, data / "data"):
        if not folder.is_dir():
            continue
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink() and p != data / "data"):
            if parquet_files(sub):
                splits.setdefault(sub.name, []).extend(parquet_files(sub))
        for path in parquet_files(folder):
            splits.setdefault(re.sub(r"-\d+-of-\d+$", "", path.stem), []).append(path)
    if not any(FORGET.match(name) for name in splits):
        raise InputError(f"{data} is not {label}: no forget split of parquet files in it")
    return splits


def paired(splits: dict[str, tuple[str, ...]]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each forget split with its retain split, the rest of the people: forget_5 with retain_95,
    forget01 with retain99."""
    out = {}
    for name, ids in splits.items():
        match = FORGET.match(name)
        if match:
            retain = name[: match.start(1)].replace("forget", "retain") + str(100 - int(match.group(1)))
            out[name] = (ids, splits.get(retain, ()))
    return out


def people_by_split(splits: dict[str, list[Path]], format: str, label: str, make_person, skip=()) -> tuple[dict, dict]:
    """One person per ID (rows `ID`, `image`, ...), the first row seen making them, and each
    forget split paired with its retain split."""
    people, members = {}, {}
    for name, files in sorted(splits.items()):
        if name in skip:
            continue
        ids = []
        for row in read_rows(files, format):
            pid, image = str(row.get("ID")), image_bytes(row.get("image"))
            if image is None:
                raise InputError(f"{label} {name} row {pid} has no image bytes")
            ids.append(pid)
            if pid not in people:
                try:
                    people[pid] = make_person(pid, image, row)
                except (KeyError, TypeError, AttributeError) as exc:
                    raise InputError(f"{label} {name} row {pid}: a question lacks a field ({exc})") from None
        members[name] = tuple(ids)
    return people, paired(members)
