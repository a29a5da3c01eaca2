"""MLLMU-Bench (Liu et al. 2024) as its Hugging Face snapshot holds it: a folder per split
(forget_5/10/15, retain_95/90/85, Test_Set) of parquet rows `ID`, `image{bytes}` (Test_Set:
`images`, a list of transformed views), `Classification_Task{Image_Textual_Questions,
Pure_Text_Questions}` of `{Question, Options{A..D}, Correct_Answer}`, `Generation_Task` and
`Mask_Task` lists of `{Type, Question, Ground_Truth}` (Type: Image_Textual or Pure_Text). The
retain set of forget_N is retain_(100-N) (its eval.py)."""

from __future__ import annotations

from pathlib import Path

from forgetctl.benchmarks.peers.items import Benchmark, PeerPerson, Task, ensure_folder, person_name
from forgetctl.benchmarks.peers.parquet import image_bytes, people_by_split, read_rows, split_files
from forgetctl.errors import InputError

FORMAT = "mllmu"


def choices(block, with_image: bool) -> list[Task]:
    out = []
    for q in block or []:
        options = q.get("Options") or {}
        if not isinstance(options, dict) or not options:
            raise InputError("MLLMU-Bench classification questions need Options")
        out.append(Task("choice", q["Question"], str(q["Correct_Answer"]).strip()[:1].upper(), with_image,
                        tuple((k, str(v)) for k, v in sorted(options.items()) if v is not None)))
    return out


def tasks_of(row: dict) -> list[Task]:
    classification = row.get("Classification_Task") or {}
    tasks = choices(classification.get("Image_Textual_Questions"), True) + choices(classification.get("Pure_Text_Questions"), False)
    for key, kind in (("Generation_Task", "open"), ("Mask_Task", "cloze")):
        for q in row.get(key) or []:
            tasks.append(Task(kind, q["Question"], str(q["Ground_Truth"]), q.get("Type") != "Pure_Text"))
    if not tasks:
        raise InputError(f"MLLMU-Bench row {row.get('ID')} has no questions")
    return tasks


def read(data: Path) -> Benchmark:
    files = split_files(ensure_folder(FORMAT, data), "MLLMU-Bench")
    tests = {}
    if "Test_Set" in files:
        for row in read_rows(files["Test_Set"], FORMAT):
            views = tuple(b for b in map(image_bytes, row.get("images") or []) if b)
            tests[str(row["ID"])] = (views, tuple(tasks_of(row)))

    def make_person(pid, image, row):
        tasks = tasks_of(row)
        biography = " ".join(t.answer for t in tasks if t.kind == "open")
        views, test_tasks = tests.get(pid, ((), ()))
        return PeerPerson(pid, person_name(FORMAT, pid, row, tasks, biography), (image,), tuple(tasks), views, test_tasks, biography)

    people, splits = people_by_split(files, FORMAT, "MLLMU-Bench", make_person, skip=("Test_Set",))
    return Benchmark(FORMAT, data, people, splits)
