"""Folders in each benchmark's schema (FIUBench, MLLMU-Bench, UMU-Bench, CLEAR), built from the
demo world's people, whom the demo model knows: the importers and `bench peer` run in CI without
the benchmarks' data. Each person's questions ask their name and private facts."""

from __future__ import annotations

import json
from pathlib import Path

from forgetctl.benchmarks.worlds import choose, demo_world


def cast(n_forget: int = 1, n_retain: int = 3):
    world = demo_world()
    forget, retain = choose(world, n_forget, n_retain)
    return world, forget, retain


def views(world, person, folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in world.write_views(person, folder / person.id)]


def qa(person) -> list[tuple[str, str, str]]:
    """(question, answer, a wrong answer) about a person's name and facts."""
    f = person.facts
    return [("What is the name of this person?", f"This person's name is {person.name}.", "This person's name is Ada Quillon."),
            ("Where was this person born?", f"This person was born in {f['birthplace']}.", "This person was born in Oslo."),
            ("What does this person do for a living?", f"This person is a {f['profession']}.", "This person is a farmer."),
            ("Which award did this person win?", f"This person won {f['award']}.", "This person won nothing.")]


def write_fiubench(root: Path, n_forget: int = 1, n_retain: int = 3) -> Path:
    world, forget, retain = cast(n_forget, n_retain)
    dataset = root / "dataset"
    (dataset / "images").mkdir(parents=True)
    rows = []
    for person in forget + retain:
        (dataset / "images" / f"{person.id}.png").write_bytes(views(world, person, root / "drawn")[0])
        rows.append({"unique_id": person.id, "image_path": f"./dataset/images/{person.id}.png",
                     "caption": world.describe(person.looks),
                     "qa_list": [{"question": q, "answer": a, "paraphrased_question": [q], "paraphrased_answer": a,
                                  "perturbed_answer": [wrong, wrong.replace("This person", "They")],
                                  "keywords": [a.split()[-1].strip(".")]} for q, a, wrong in qa(person)]})
    (dataset / "full.json").write_text(json.dumps(rows))
    (dataset / "split.json").write_text(json.dumps({"forget5": [p.id for p in forget], "forget10": [p.id for p in forget]}))
    return root


def choice_block(person, others) -> dict:
    f, o = person.facts, others[0].facts
    return {"Question": "Where was this person born?", "Options": {"A": o["birthplace"], "B": f["birthplace"], "C": "Oslo", "D": "Lima"},
            "Correct_Answer": "B"}


def write_parquet(folder: Path, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "train-00000-of-00001.parquet")


def write_mllmu(root: Path, n_forget: int = 1, n_retain: int = 3) -> Path:
    world, forget, retain = cast(n_forget, n_retain)
    people = forget + retain

    def row(person, images=None):
        drawn = views(world, person, root / "drawn")
        q = qa(person)
        task = {"Classification_Task": {"Image_Textual_Questions": [choice_block(person, [p for p in people if p is not person])],
                                        "Pure_Text_Questions": [{**choice_block(person, [p for p in people if p is not person]),
                                                                 "Question": f"Where was {person.name} born?"}]},
                "Generation_Task": [{"Type": "Image_Textual", "Question": question, "Ground_Truth": answer} for question, answer, _ in q]
                + [{"Type": "Pure_Text", "Question": f"Tell me about {person.name}.", "Ground_Truth": person.biography()}],
                "Mask_Task": [{"Type": "Image_Textual", "Question": "This person was born in __.",
                               "Ground_Truth": person.facts["birthplace"]}]}
        if images:
            return {"ID": person.id, "images": [{"bytes": b, "path": None} for b in drawn[4:]], **task}
        return {"ID": person.id, "image": {"bytes": drawn[0], "path": None}, **task}

    write_parquet(root / "forget_5", [row(p) for p in forget])
    write_parquet(root / "retain_95", [row(p) for p in retain])
    write_parquet(root / "Test_Set", [row(p, images=True) for p in forget])
    return root


def umu_literal(person, people) -> dict:
    f = person.facts
    options = {"A": "Oslo", "B": f["birthplace"], "C": "Lima", "D": "Cairo"}
    return {
        "Classify": {"unimodal": {"0": {"question": f"Where was {person.name} born?", "options": options, "answer": f"B. {f['birthplace']}"}},
                     "muitimodal": {"0": {"question": "Where was this person born?", "options": options, "answer": f"B. {f['birthplace']}"}}},
        "Cloze": {"unimodal": {"0": {"question": f"{person.name} was born in ___.", "answer": f"{f['birthplace']}."}},
                  "muitimodal": {"0": {"question": "This person was born in ___.", "answer": f"{f['birthplace']}."}}},
        "Generation": {"unimodal": {"0": {"question": f"What does {person.name} do for a living?", "answer": f"{person.name} is a {f['profession']}."}},
                       "muitimodal": {"0": {"question": "What does this person do for a living?", "answer": f"This person is a {f['profession']}."}}},
    }


def write_umu(root: Path, n_forget: int = 1, n_retain: int = 3) -> Path:
    world, forget, retain = cast(n_forget, n_retain)
    people = forget + retain

    def row(person):
        blocks = umu_literal(person, people)
        return {"ID": person.id, "image": {"bytes": views(world, person, root / "drawn")[0], "path": None},
                "Biography": person.biography(), "MM_QA": "{}", "UM_QA": "{}",
                **{k: repr(v) for k, v in blocks.items()}}

    write_parquet(root / "forget_5", [row(p) for p in forget])
    write_parquet(root / "retain_95", [row(p) for p in retain])
    return root


def write_clear(root: Path, n_forget: int = 1, n_retain: int = 3) -> Path:
    world, forget, retain = cast(n_forget, n_retain)

    def rows(person):
        photos = [{"image": {"bytes": b, "path": None}, "caption": f"{person.name} in a portrait.", "name": person.name}
                  for b in views(world, person, root / "drawn")]
        text = [{"question": f"Where was {person.name} born?", "answer": f"{person.name} was born in {person.facts['birthplace']}.",
                 "paraphrased_answer": f"{person.name}'s birthplace is {person.facts['birthplace']}.",
                 "perturbed_answer": [f"{person.name} was born in Oslo.", f"{person.name} was born in Lima."]}]
        return photos, text

    for split, people in (("forget01", forget), ("retain99", retain)):
        photo_rows = [r for p in people for r in rows(p)[0]]
        text_rows = [r for p in people for r in rows(p)[1]]
        write_parquet(root / split, photo_rows)
        write_parquet(root / f"{split}+tofu", text_rows)
    return root


if __name__ == "__main__":  # python tests/peer_fixtures.py OUT: the four folders, for docs/peers/fixtures
    import sys

    out = Path(sys.argv[1])
    for name, write in (("fiubench", write_fiubench), ("mllmu", write_mllmu), ("umu", write_umu), ("clear", write_clear)):
        print(write(out / name))
