"""UMU-Bench (2025) as distributed: a folder per split (forget_5/10/15, retain_95/90/85) of
parquet rows `ID, image, Biography, MM_QA, UM_QA, Classify, Cloze, Generation`, the last five
Python-literal strings. Classify, Cloze and Generation hold `{"unimodal": {key: {question,
options?, answer}}, "muitimodal": {...}}` (the benchmark's spelling), the same key pairing a
text-only question with its image twin; a choice's answer reads "B. ..." (its eval.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from forgetctl.benchmarks.peers.items import Benchmark, PeerPerson, Task, ensure_folder, person_name
from forgetctl.benchmarks.peers.parquet import people_by_split, split_files
from forgetctl.errors import InputError

FORMAT = "umu"
MODALITIES = (("unimodal", False), ("muitimodal", True), ("multimodal", True))


def literal(row: dict, column: str) -> dict:
    value = row.get(column)
    if isinstance(value, dict):
        return value
    try:
        parsed = ast.literal_eval(value) if isinstance(value, str) else None
    except (ValueError, SyntaxError):
        parsed = None
    if not isinstance(parsed, dict):
        raise InputError(f"UMU-Bench row {row.get('ID')}: column {column} is not a Python literal of questions")
    return parsed


def tasks_of(row: dict) -> list[Task]:
    tasks = []
    for column, kind in (("Classify", "choice"), ("Cloze", "cloze"), ("Generation", "open")):
        block = literal(row, column)
        for modality, with_image in MODALITIES:
            for key, q in (block.get(modality) or {}).items():
                answer = str(q["answer"])
                options = tuple((k, str(v)) for k, v in sorted((q.get("options") or {}).items()))
                if kind == "choice":
                    answer = answer.split(".")[0].strip().upper()
                elif kind == "cloze":
                    answer = answer.split(".")[0].strip()
                tasks.append(Task(kind, q["question"], answer, with_image, options, pair=f"{column}:{key}"))
    return tasks


def read(data: Path) -> Benchmark:
    files = split_files(ensure_folder(FORMAT, data), "UMU-Bench")
    def make_person(pid, image, row):
        tasks, biography = tasks_of(row), str(row.get("Biography") or "")
        return PeerPerson(pid, person_name(FORMAT, pid, row, tasks, biography), (image,), tuple(tasks), biography=biography)

    people, splits = people_by_split(files, FORMAT, "UMU-Bench", make_person)
    return Benchmark(FORMAT, data, people, splits)
