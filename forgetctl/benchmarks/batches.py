"""Do batches hold? One run erasing N people of a test world at once (three retain people), over
training seeds: how many pass the default policy on their own checks (a batch that fails only on
some is split: the others are released, `policy.split_batch`), and what the worst of them reads.
Each run in a fresh process, like the stability grid, so a long sweep resumes."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from forgetctl.benchmarks import permissive_policy
from forgetctl.benchmarks.worlds import choose


def too_few(world, people: int, retain: int = 3) -> str | None:
    """Why the world cannot give this batch (None: it can): `choose` keeps look-alikes apart."""
    forget, others = choose(world, people, retain)
    if len(forget) < people or len(others) < retain:
        return (f"the {world.name} world has {len(forget)} people no two of whom look alike for {people} asked, "
                f"and {len(others)} unlike them all for the {retain} retain people")
    return None


def run_batch(world, people: int, seed: int, retain: int = 3) -> dict:
    from forgetctl.pipeline import run_request
    from forgetctl.policy import load_policy, split_batch, verdict
    from forgetctl.request import PersonForm, RequestForm, validate
    from forgetctl.types import TrainingConfig

    forget, others = choose(world, people, retain)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for person in forget:
            world.write_views(person, root / "forget" / person.id)
        for other in others:
            world.write_views(other, root / "retain" / other.id)
        form = RequestForm(
            people=[PersonForm(p.name, root / "forget" / p.id) for p in forget], model=world.model_dir,
            retain=root / "retain", policy=str(permissive_policy(root)), release=False, training=TrainingConfig(seed=seed),
        )
        started = time.perf_counter()
        request = validate(form, default_model=world.model_dir, home=root / "home")
        outcome = run_request(request, root / "home")
        seconds = time.perf_counter() - started
    evaluation, policy = outcome.evaluation, load_policy("default")
    names = [p.name for p in forget]
    groups = split_batch(policy, evaluation, verdict(policy, evaluation), names)
    released = groups[0][0] if groups[0][1].passed else []
    splits = [m for person in evaluation.forget.values() for m in person.values()]
    return {
        "world": world.name, "people": people, "seed": seed, "steps": request.spec.training.steps, "released": len(released),
        "held_back": [p.id for p in forget if p.name not in released],
        "failed": sorted({name for _, d in groups for name in d.failed}),
        "leak": max(m["leak_rate"] for m in splits), "degenerate": max(m["degenerate_rate"] for m in splits),
        "inform": min(m["judge_informativeness"] or 0 for m in splits), "retain_drop": evaluation.retain["rouge_l_drop"],
        "seconds": round(seconds, 1),
    }


def steps_for(people: int) -> int:
    """The steps `erase` gives N people with the default recipe (`request.covering`)."""
    from forgetctl.request import covering
    from forgetctl.types import TrainingConfig

    return covering(TrainingConfig(), [None] * people, ())[0].steps


def to_markdown(rows: list[dict], command: str, machine: str) -> str:
    lines = ["# Batches: N people erased in one run", "",
             f"Made by `{command}` on {machine}. Each row is one PUBG run (the default recipe, three retain "
             "people, the world's `choose`) with one training seed; *steps*: 30, or more where `erase` raises them "
             "so each person gets 24 training examples (rows at 30 for more than 10 people are from before it did); the default policy judges each person on "
             "their own checks, and a batch that fails only on some is split: the rest are released. *seconds*: the run's wall time, "
             "under whatever else the machine ran (the sweep does not wait for it to be idle).", "",
             "| world | people | steps | seed | released | held back | failed checks | worst leak | worst degenerate | "
             "min inform | retain drop | seconds |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["world"], r["people"], r.get("steps", 30), r["seed"])):
        lines.append(f"| {r['world']} | {r['people']} | {r.get('steps', 30)} | {r['seed']} | {r['released']}/{r['people']} | "
                     f"{', '.join(r['held_back']) or '–'} | {', '.join(r['failed']) or '–'} | {r['leak']:.0%} | "
                     f"{r['degenerate']:.0%} | {r['inform']:.1f} | {r['retain_drop']:.3f} | {r['seconds']} |")
    return "\n".join(lines) + "\n"


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
