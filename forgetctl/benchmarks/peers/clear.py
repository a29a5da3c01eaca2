"""CLEAR (Dontsov et al. 2024) as its Hugging Face snapshot holds it: a folder per split
(forget01/05/10, retain99/95/90) of parquet rows, either `{image, caption, name}` (a photo of a
person with its caption) or `{question, answer}` (a question about a person, TOFU-style, with
`paraphrased_answer` and `perturbed_answer` where the split has them). A question belongs to the
person it names (CLEAR_process.py). Photos per person: several, so held-out views are real."""

from __future__ import annotations

from pathlib import Path

from forgetctl.benchmarks.peers.items import Benchmark, PeerPerson, Task, ensure_folder
from forgetctl.benchmarks.peers.parquet import image_bytes, paired, read_rows, split_files
from forgetctl.errors import InputError

FORMAT = "clear"
# CLEAR's VQA rows pair a photo with its caption; the model is asked for it this way.
CAPTION_QUESTION = "Describe the person in this image."


def owner(row: dict, names: list[str]) -> str | None:
    if isinstance(row.get("name"), str) and row["name"] in names:
        return row["name"]
    text = f"{row.get('question', '')} {row.get('answer', '')}".casefold()
    found = [n for n in names if n.casefold() in text]
    return max(found, key=len) if found else None


def as_tuple(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(v for v in value or () if isinstance(v, str))


def read(data: Path) -> Benchmark:
    splits = split_files(ensure_folder(FORMAT, data), "CLEAR")
    rows_by_split = {name: read_rows(files, FORMAT) for name, files in sorted(splits.items())}
    photos: dict[str, list[bytes]] = {}
    tasks: dict[str, list[Task]] = {}
    members: dict[str, list[str]] = {}
    for split, rows in rows_by_split.items():
        for row in rows:
            image = image_bytes(row.get("image"))
            if image is not None and isinstance(row.get("name"), str):
                name = row["name"].strip()
                photos.setdefault(name, []).append(image)
                tasks.setdefault(name, []).append(Task("open", CAPTION_QUESTION, str(row.get("caption") or ""),
                                                       photo=len(photos[name]) - 1))
                members.setdefault(split, []).append(name)
    names = sorted(photos)
    if not names:
        raise InputError(f"{data} is not CLEAR: no row with an image and a name")
    for split, rows in rows_by_split.items():
        for row in rows:
            if image_bytes(row.get("image")) is None and isinstance(row.get("question"), str):
                who = owner(row, names)
                if who is None:
                    continue  # a question about nobody with photos (CLEAR's TOFU-only authors) has nothing to unlearn here
                paraphrased = as_tuple(row.get("paraphrased_answer"))
                tasks[who].append(Task("open", row["question"], str(row.get("answer", "")), with_image=False,
                                       paraphrased_answer=paraphrased[0] if paraphrased else None,
                                       perturbed=as_tuple(row.get("perturbed_answer"))))
                members.setdefault(split, []).append(who)
    people = {n: PeerPerson(n, n, tuple(photos[n]), tuple(tasks[n]),
                            biography=" ".join(t.answer for t in tasks[n])) for n in names}
    return Benchmark(FORMAT, data, people, paired({s: tuple(dict.fromkeys(ids)) for s, ids in members.items()}))
