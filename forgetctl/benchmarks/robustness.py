"""Robustness: every method's erasure under every attack of a suite, beside the base model's
leak under the same attack (an attack under which the base does not leak tests nothing).

Each method erases the same person (with a retain folder) from the world's model; the suite then
attacks the adapter on its base, as `verify --model BASE --adapter ADAPTER --attacks SUITE` does.
A method option or training setting can be measured too (defences against relearning), and every
row carries the erasure's own retain drop and informativeness, so a defence's price is visible.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from forgetctl.attacks import ModelSource, load_suite, run_attacks
from forgetctl.benchmarks import permissive_policy
from forgetctl.benchmarks.worlds import choose
from forgetctl.host.manager import create_host
from forgetctl.pipeline import run_request
from forgetctl.request import PersonForm, RequestForm, validate
from forgetctl.types import TrainingConfig
from forgetctl.verification import attack_inputs


def attack_one(world, method: str, options: dict, training: TrainingConfig, suite: str, root: Path) -> dict:
    """Erase one person with `method` (and `options`), then run the suite on the adapter."""
    forget, retain = choose(world, 1, 3)
    person = forget[0]
    world.write_views(person, root / "photos")
    for other in retain:
        world.write_views(other, root / "retain" / other.id)
    home = root / "home"
    form = RequestForm([PersonForm(person.name, root / "photos")], method=method, method_options=options, training=training,
                       retain=root / "retain", policy=str(permissive_policy(root)), release=False)
    outcome = run_request(validate(form, default_model=world.model_dir, home=home), home)
    (request_id,) = outcome.request_ids.values()
    from forgetctl_audit.store import AuditLog

    with AuditLog(home, readonly=True) as log:
        people, data = attack_inputs(log, [request_id])
    _, attacks = load_suite(suite, create_host().attacks())
    adapter = outcome.result.run_dir / "adapter"
    results = run_attacks(attacks, people, ModelSource(world.model_dir, adapter), ModelSource(world.model_dir), data)
    splits = outcome.evaluation.forget[person.name]
    return {
        "leak": max(m["leak_rate"] for m in splits.values()),
        "informativeness": min(m["judge_informativeness"] or 0 for m in splits.values()),
        "retain_drop": outcome.evaluation.retain["rouge_l_drop"],
        "attacks": {key: {k: row.get(k) for k in ("label", "leak", "base_leak", "tests_nothing", "not_run")}
                    for key, row in results.items()},
    }


def measure(world, variants: dict[str, tuple[str, dict, TrainingConfig]], suite: str = "full", on_row=None) -> dict:
    """`variants`: row name -> (method, method options, training)."""
    rows = {}
    for name, (method, options, training) in variants.items():
        with tempfile.TemporaryDirectory() as tmp:
            rows[name] = attack_one(world, method, options, training, suite, Path(tmp))
        if on_row:
            on_row(world.name, name, rows[name])
    return {"world": world.name, "suite": suite, "rows": rows}


def _rate(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def to_markdown(results: list[dict], command: str, title: str) -> str:
    lines = [f"# {title}", "", f"Made by `{command}`. Each cell: the share of answers that leak the person after the "
             "erasure, under the attack (worst of seen and unseen photos); the base model's leak under the same attack "
             "in parentheses. *tests nothing*: the base does not leak under it either, so it cannot show anything. "
             "The last columns are the erasure's own numbers without attack.", ""]
    for result in results:
        rows = result["rows"]
        keys = list(next(iter(rows.values()))["attacks"])
        lines += [f"## {result['world']} world, suite `{result['suite']}`", "",
                  "| erased by | " + " | ".join(keys) + " | leak | inform | retain drop |",
                  "|---|" + "---|" * (len(keys) + 3)]
        for name, row in rows.items():
            cells = []
            for key in keys:
                a = row["attacks"][key]
                cells.append("not run" if a.get("not_run") else
                             f"{_rate(a['leak'])} ({_rate(a['base_leak'])})" + (" *tests nothing*" if a["tests_nothing"] else ""))
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {_rate(row['leak'])} | {row['informativeness']:.1f} | "
                         f"{row['retain_drop']:.3f} |")
        lines.append("")
    return "\n".join(lines) + "\n"
