"""Does an erasure's verdict depend on the machine? One erasure, the same request, over seeds,
CPU kernels (`ATEN_CPU_CAPABILITY`: default, avx2, the machine's own) and thread counts: the
distribution of what the policy reads (leaks, degenerate answers, retain drop,
informativeness) and how often the default policy passes.

Each cell runs in a fresh process, since torch picks its kernels and threads at start. Cells
already in the results file are not run again, so a long grid can be stopped and resumed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from forgetctl.benchmarks import permissive_policy
from forgetctl.benchmarks.worlds import choose

# What the policy reads, per cell: the worst split of the erased person.
MEASURED = ("leak", "degenerate", "retain_drop", "inform")


@dataclass(frozen=True)
class Cell:
    world: str
    method: str
    person: int  # index into the world's chosen people
    seed: int
    capability: str  # ATEN_CPU_CAPABILITY
    threads: int
    recipe: str = "default"  # a key of RECIPES

    @property
    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


# Recipes compared, as (training settings, PUBG options): the shipped default; the one before it
# (the tiny models' rate 1e-3, which forgot bystanders: docs/bystanders.md); and the recipe before
# that (GA on every answer token, the last step kept), whose verdicts flipped with the kernels.
RECIPES = {
    "default": ({}, {}),
    "lr-1e-3": ({"learning_rate": 1e-3}, {}),
    "before": ({"watch_every": 0, "learning_rate": 1e-3}, {"ascent": "all"}),
}


def native_capability() -> str:
    """What torch picks on this CPU when nothing is forced (e.g. avx2, avx512)."""
    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    done = subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().lower()


def capabilities() -> list[str]:
    return list(dict.fromkeys(["default", "avx2", native_capability()]))


def grid(worlds, methods, people: int, seeds, threads, recipes=("default",)) -> list[Cell]:
    return [Cell(w, m, p, s, c, t, r) for w in worlds for m in methods for r in recipes for p in range(people)
            for s in seeds for c in capabilities() for t in threads]


def run_cell(world, cell: Cell) -> dict:
    """Erase one person of `world` alone, with three retain people; what the default policy reads."""
    import torch

    from forgetctl.pipeline import run_request
    from forgetctl.policy import load_policy, verdict
    from forgetctl.request import PersonForm, RequestForm, validate
    from forgetctl.types import TrainingConfig

    torch.set_num_threads(cell.threads)
    forget, retain = choose(world, cell.person + 1, 3)
    person = forget[cell.person]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        world.write_views(person, root / "forget" / person.id)
        for other in retain:
            world.write_views(other, root / "retain" / other.id)
        form = RequestForm(
            people=[PersonForm(person.name, root / "forget" / person.id)], model=world.model_dir, method=cell.method,
            method_options=RECIPES[cell.recipe][1], retain=root / "retain", policy=str(permissive_policy(root)),
            release=False, training=TrainingConfig(seed=cell.seed, **RECIPES[cell.recipe][0]),
        )
        started = time.perf_counter()
        outcome = run_request(validate(form, default_model=world.model_dir, home=root / "home"), root / "home")
        seconds = time.perf_counter() - started
    evaluation = outcome.evaluation
    splits = list(evaluation.forget[person.name].values())
    decision = verdict(load_policy("default"), evaluation)
    return {
        "cell": asdict(cell), "person_id": person.id, "capability_seen": torch.backends.cpu.get_cpu_capability(),
        "leak": max(m["leak_rate"] for m in splits), "degenerate": max(m["degenerate_rate"] for m in splits),
        "inform": min(m["judge_informativeness"] or 0 for m in splits), "retain_drop": evaluation.retain["rouge_l_drop"],
        "passed": decision.passed, "failed": decision.failed,
        "kept_step": outcome.result.manifest["training"]["kept_step"], "seconds": round(seconds, 1),
    }


def measure(cells: list[Cell], results: Path, script: Path, on_row=None) -> list[dict]:
    """Run every cell not yet in `results` (JSON lines) as `python SCRIPT --cell JSON`."""
    done = {json.dumps(r["cell"], sort_keys=True): r for r in read_rows(results)}
    for cell in cells:
        if cell.key in done:
            continue
        env = {**os.environ, "ATEN_CPU_CAPABILITY": cell.capability, "OMP_NUM_THREADS": str(cell.threads)}
        child = subprocess.run([sys.executable, str(script), "--cell", cell.key], env=env, capture_output=True, text=True)
        lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
        if child.returncode != 0 or not lines:
            raise RuntimeError(f"cell {cell.key} failed:\n{child.stderr[-3000:]}")
        row = json.loads(lines[-1])
        with results.open("a") as f:
            f.write(json.dumps(row) + "\n")
        done[cell.key] = row
        if on_row:
            on_row(row)
    return [done[c.key] for c in cells]


def read_rows(results: Path) -> list[dict]:
    if not results.exists():
        return []
    return [json.loads(line) for line in results.read_text().splitlines() if line.strip()]


def spread(values) -> str:
    values = sorted(values)
    return f"{values[0]:.2f} / {statistics.median(values):.2f} / {values[-1]:.2f}"


def to_markdown(rows: list[dict], command: str, machine: str) -> str:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        c = r["cell"]
        groups.setdefault((c["world"], c["method"], c["recipe"]), []).append(r)
    lines = [
        "# Stability: does a verdict depend on the machine?", "",
        f"Made by `{command}` on {machine}. Each cell erases one person alone (three retain people, the "
        "world's `choose`), with one seed, one `ATEN_CPU_CAPABILITY` and one thread count, in a fresh "
        "process; the default policy decides. Figures are min / median / max over the cells.", "",
        "| world | method | recipe | cells | default policy passes | leaks | degenerate | retain drop | inform | what failed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (world, method, recipe), group in sorted(groups.items()):
        passes = sum(r["passed"] for r in group)
        failed = sorted({name for r in group for name in r["failed"]})
        lines.append(
            f"| {world} | {method} | {recipe} | {len(group)} | {passes}/{len(group)} ({passes / len(group):.0%}) | "
            + " | ".join(spread(r[k] for r in group) for k in MEASURED) + f" | {', '.join(failed) or '–'} |")
    lines += ["", "## Every cell", "",
              "| world | method | recipe | person | seed | kernels | threads | leaks | degenerate | retain drop | inform | kept step | policy |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: json.dumps(r["cell"], sort_keys=True)):
        c = r["cell"]
        kept = "last" if r["kept_step"] is None else r["kept_step"] + 1
        lines.append(
            f"| {c['world']} | {c['method']} | {c['recipe']} | {r['person_id']} | {c['seed']} | {c['capability']} | "
            f"{c['threads']} | {r['leak']:.0%} | {r['degenerate']:.0%} | {r['retain_drop']:.3f} | {r['inform']:.1f} | "
            f"{kept} | {'pass' if r['passed'] else 'FAIL: ' + ', '.join(r['failed'])} |")
    return "\n".join(lines) + "\n"
