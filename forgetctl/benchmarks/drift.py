"""Requests over months: ten people erased one request at a time (ten releases, each from the
last) against the same ten in one batched run. After each release: the worst leak of every
earlier person (seen and unseen photos), the new person's leak, the retain people's ROUGE-L drop
against the original base, informativeness, and the time the release took.

The default policy gates releases; GA never passes it (its answers degenerate), so the benchmark
releases every method under a permissive policy (`permissive_policy`) to measure its drift, and
reports the default policy's verdict beside it.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from forgetctl.benchmarks import permissive_policy
from forgetctl.benchmarks.worlds import choose
from forgetctl.pipeline import run_request
from forgetctl.policy import load_policy, verdict
from forgetctl.request import PersonForm, RequestForm, validate

def worst(values) -> float | None:
    values = [v for v in values if v is not None]
    return max(values) if values else None


def release_row(index: int, outcome, seconds: float, default_policy) -> dict:
    evaluation = outcome.evaluation
    earlier = evaluation.earlier
    new = [m for splits in evaluation.forget.values() for m in splits.values()]
    return {
        "release": index, "people": len(earlier) + len(evaluation.forget),
        "earlier_leak_seen": worst(s.get("seen", {}).get("leak_rate") for s in earlier.values()),
        "earlier_leak_unseen": worst(s.get("unseen", {}).get("leak_rate") for s in earlier.values()),
        "new_leak": worst(m["leak_rate"] for m in new),
        "retain_drop": evaluation.retain["rouge_l_drop"],
        "earlier_retain_drop": worst(s.get("retain", {}).get("rouge_l_drop") for s in earlier.values()),
        "informativeness": min((m["judge_informativeness"] or 0) for m in new),
        "degenerate": worst(m["degenerate_rate"] for m in new),
        "default_policy": verdict(default_policy, evaluation).passed,
        "seconds": round(seconds, 1),
    }


def run(world, method: str, forget, retain, root: Path, keep_earlier: bool, batched: bool, on_release=None) -> list[dict]:
    """Erase `forget` one request per release (or all in one, `batched`); rows per release."""
    home = root / f"home-{method}-{'batched' if batched else 'sequential'}"
    for person in (*forget, *retain):
        world.write_views(person, root / "photos" / person.id)
    retain_dir = root / "retain"
    retain_dir.mkdir(exist_ok=True)
    for person in retain:
        target = retain_dir / person.id
        if not target.exists():
            target.symlink_to(root / "photos" / person.id)
    anyway = permissive_policy(root)
    default_policy = load_policy("default")
    groups = [forget] if batched else [[p] for p in forget]
    model, rows = world.model_dir, []
    for index, group in enumerate(groups, 1):
        form = RequestForm(
            people=[PersonForm(p.name, root / "photos" / p.id) for p in group], model=model, method=method,
            retain=retain_dir, policy=str(anyway), keep_earlier=keep_earlier,
        )
        started = time.perf_counter()
        outcome = run_request(validate(form, default_model=world.model_dir, home=home), home)
        rows.append(release_row(index, outcome, time.perf_counter() - started, default_policy))
        model = outcome.merged
        if on_release:
            on_release(method, rows[-1])
    return rows


def measure(world, methods=("pubg", "ga"), n_people: int = 10, keep_earlier: bool = False, on_release=None) -> dict:
    forget, retain = choose(world, n_people, 4)
    results = {"world": world.name, "people": [p.id for p in forget], "retain": [p.id for p in retain],
               "keep_earlier": keep_earlier, "methods": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for method in methods:
            results["methods"][method] = {
                "sequential": run(world, method, forget, retain, Path(tmp), keep_earlier, False, on_release),
                "batched": run(world, method, forget, retain, Path(tmp), keep_earlier, True, on_release),
            }
    return results


def _cell(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def to_markdown(all_results: list[dict], command: str) -> str:
    lines = ["# Requests over months: drift across releases", "",
             f"Made by `{command}`. Each release starts from the previous one; earlier people are re-probed from "
             "their encrypted evidence after every release, leaks judged as their own erasure judged them. "
             "Retain drop is against the original base's answers. GA is released under a permissive policy to "
             "measure its drift (the default policy column says whether it would have passed).", ""]
    for results in all_results:
        lines += [f"## {results['world']} world ({len(results['people'])} people; "
                  f"earlier people {'kept' if results['keep_earlier'] else 'not kept'} in the forget data)", ""]
        for method, runs in results["methods"].items():
            lines += [f"### {method}", "",
                      "| release | people erased | earlier leak seen | earlier leak unseen | new leak | retain drop | "
                      "earlier retain drop | inform | degenerate | default policy | seconds |",
                      "|---|---|---|---|---|---|---|---|---|---|---|"]
            for kind in ("sequential", "batched"):
                for r in runs[kind]:
                    label = f"{r['release']}" if kind == "sequential" else "batched (1 run)"
                    lines.append(
                        f"| {label} | {r['people']} | {_cell(r['earlier_leak_seen'], '.0%')} | {_cell(r['earlier_leak_unseen'], '.0%')} | "
                        f"{_cell(r['new_leak'], '.0%')} | {_cell(r['retain_drop'], '.3f')} | {_cell(r['earlier_retain_drop'], '.3f')} | "
                        f"{_cell(r['informativeness'], '.1f')} | {_cell(r['degenerate'], '.0%')} | "
                        f"{'pass' if r['default_policy'] else 'FAIL'} | {r['seconds']} |")
            lines.append("")
    return "\n".join(lines) + "\n"


def to_chart(all_results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(all_results), 3, figsize=(11, 3.0 * len(all_results)), squeeze=False)
    # Methods often draw the same line (both at 0 leaks): distinct markers, dashes and a small
    # sideways offset keep every one visible.
    styles = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-.")]
    for row, results in enumerate(all_results):
        for i, (method, runs) in enumerate(results["methods"].items()):
            seq = runs["sequential"]
            marker, dash = styles[i % len(styles)]
            x = [r["release"] + 0.08 * i for r in seq]
            style = {"marker": marker, "ls": dash, "label": method, "markersize": 5, "alpha": 0.9}
            axes[row][0].plot(x, [max(r["earlier_leak_seen"] or 0, r["earlier_leak_unseen"] or 0) for r in seq], **style)
            axes[row][1].plot(x, [r["retain_drop"] for r in seq], **style)
            axes[row][2].plot(x, [r["informativeness"] for r in seq], **style)
        kept = "earlier kept" if results["keep_earlier"] else "earlier not kept"
        titles = ("worst leak of earlier people", "retain ROUGE-L drop vs base", "informativeness (1-5)")
        for ax, title, (bottom, top) in zip(axes[row], titles, ((0, 1.0), (0, None), (1, 5.2))):
            ax.set_title(f"{results['world']} ({kept}): {title}", fontsize=8)
            ax.set_xlabel("release", fontsize=8)
            ax.set_ylim(bottom=bottom, top=top)
            ax.legend(fontsize=7)
        axes[row][1].axhline(0.05, color="#999", lw=0.7, ls="--", label="default policy bound (0.05)")
        axes[row][1].set_ylim(top=max(axes[row][1].get_ylim()[1], 0.06))
        axes[row][1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
