"""FIUBench (Ma et al. 2024) as distributed: `dataset/full.json`, a list of people
`{unique_id, image_path, caption, qa_list: [{question, answer, paraphrased_question,
paraphrased_answer, perturbed_answer, keywords}]}`, and `dataset/split.json`
`{forget1: [...], forget5: [...], forget10: [...]}`; the retain set is everyone in no forget
split (its data_module.py). One face photo per person."""

from __future__ import annotations

import json
from pathlib import Path

from forgetctl.benchmarks.peers.items import Benchmark, PeerPerson, Task, ensure_folder, person_name
from forgetctl.errors import InputError

FORMAT = "fiubench"


def dataset_folder(data: Path) -> Path:
    for folder in (data, data / "dataset"):
        if (folder / "full.json").is_file() and (folder / "split.json").is_file():
            return folder
    raise InputError(f"{data} is not FIUBench: no full.json and split.json in it or in {data.name}/dataset")


def load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None


def photo(folder: Path, relative: str) -> bytes:
    """An image_path is relative to the repository root, the folder above dataset/, or to dataset/."""
    for root in (folder.parent, folder):
        path = (root / relative).resolve()
        if path.is_file() and path.is_relative_to(root.resolve()):
            return path.read_bytes()
    raise InputError(f"FIUBench image {relative!r} is not under {folder.parent}")


def as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]


def tasks_of(qa_list: list[dict]) -> list[Task]:
    tasks = []
    for qa in qa_list:
        if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or not isinstance(qa.get("answer"), str):
            raise InputError("FIUBench qa_list entries need a question and an answer")
        paraphrased = as_list(qa.get("paraphrased_answer"))
        tasks.append(Task("open", qa["question"], qa["answer"], paraphrased_answer=paraphrased[0] if paraphrased else None,
                          perturbed=tuple(as_list(qa.get("perturbed_answer"))), keywords=tuple(as_list(qa.get("keywords")))))
    return tasks


def read(data: Path) -> Benchmark:
    folder = dataset_folder(ensure_folder(FORMAT, data))
    rows, split = load_json(folder / "full.json"), load_json(folder / "split.json")
    if not isinstance(rows, list) or not isinstance(split, dict):
        raise InputError(f"{folder}: full.json must be a list of people and split.json an object of splits")
    people = {}
    for row in rows:
        if not isinstance(row, dict) or not {"unique_id", "image_path", "qa_list"} <= set(row):
            raise InputError(f"{folder / 'full.json'}: every person needs unique_id, image_path and qa_list")
        tasks = tasks_of(row["qa_list"])
        pid = str(row["unique_id"])
        caption = row.get("caption") if isinstance(row.get("caption"), str) else ""
        biography = " ".join([caption] + [t.answer for t in tasks]).strip()
        people[pid] = PeerPerson(pid, person_name(FORMAT, pid, row, tasks, biography), (photo(folder, row["image_path"]),),
                                 tuple(tasks), biography=biography)
    forgotten = {str(i) for ids in split.values() for i in ids}
    retain = tuple(p for p in people if p not in forgotten)
    splits = {name: (tuple(str(i) for i in ids), retain) for name, ids in split.items()}
    return Benchmark(FORMAT, data, people, splits)
