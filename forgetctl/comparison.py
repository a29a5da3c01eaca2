"""The PUBG paper's comparison (its Tables 1 and 3) reproduced on the demo world.

Every method erases the same forget people in one run; the metrics are the paper's (USR,
JUDGE_privacy, CLIPScore, JUDGE_inform, JUDGE_hall on seen and unseen views; retain
informativeness) plus forget/retain ROUGE-L (VGID's) and the aftermath detectors.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import ATTRIBUTE_VALUES, load_world
from forgetctl.engine.erase import Entity, erase, no_progress
from forgetctl.engine.training import TrainingConfig
from forgetctl.evaluation.evaluate import bundled_distractors, evaluate_run, mean

METHODS = ("ga", "npo", "random", "reject", "pubg", "vgid")
COLUMNS = ("usr", "judge_privacy", "clipscore", "judge_informativeness", "judge_hallucination")
AFTERMATHS = ("degenerate_rate", "refusal_rate", "hallucinated_identity_rate", "rouge_l_vs_before")


def choose_people(n_forget: int, n_retain: int = 5):
    """n known people to forget, no two of them near-twins (3 of 4 visible attributes shared), and
    retain people who look like none of them. Near-twins are recognised by the same features, so
    erasing one erases the other: a real effect, measured apart (see docs), not mixed in here."""
    world = load_world()

    def unlike_all(person, chosen):
        return all(sum(person.looks[k] == c.looks[k] for k in ATTRIBUTE_VALUES) <= 2 for c in chosen)

    forget: list = []
    for person in world.known:
        if len(forget) < n_forget and unlike_all(person, forget):
            forget.append(person)
    retain = [p for p in world.known if p not in forget and unlike_all(p, forget)][:n_retain]
    return forget, retain


def table_row(evaluation: dict) -> dict:
    """Means over people for each split, the paper's columns plus the aftermath detectors."""
    row = {}
    for split in ("seen", "unseen"):
        per_person = [splits[split] for splits in evaluation["forget"].values() if split in splits]
        for column in COLUMNS + AFTERMATHS:
            row[f"{split}.{column}"] = mean([m[column] for m in per_person])
    retain = evaluation["retain"]
    row.update({
        "retain.judge_informativeness": retain["judge_informativeness"], "retain.clipscore": retain["clipscore"],
        "retain.rouge_l_drop": retain["rouge_l_drop"],
    })
    return row


def original_row(result, entities, judge, clip, distractors) -> dict:
    """The base model measured the same way: its answers before erasure stand in for 'after'."""
    def unchanged(probes):
        return [replace(p, after=p.before) for p in probes]

    base = replace(
        result,
        forget={name: {s: unchanged(p) for s, p in splits.items()} for name, splits in result.forget.items()},
        retain=unchanged(result.retain),
    )
    return table_row(evaluate_run(base, entities, judge, clip, distractors, no_progress))


def compare(settings=(5, 10), methods=METHODS, judge=None, clip=None, methods_registry=None, on_run=None) -> dict:
    from forgetctl.evaluation.clipscore import demo_clip
    from forgetctl.host.manager import create_host

    host = create_host()
    registry = methods_registry or host.methods()
    judge = judge or host.judges()["heuristic"].cls()
    clip = clip or demo_clip()
    distractors = bundled_distractors()
    results = {"judge": judge.describe(), "training": TrainingConfig().as_dict(), "settings": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in settings:
            forget, retain = choose_people(n)
            for person in forget:
                write_views(person, root / f"n{n}" / "forget" / person.id)
            for person in retain:
                write_views(person, root / f"n{n}" / "retain" / person.id)
            rows = {}
            for method in methods:
                entities = [Entity(p.name, root / f"n{n}" / "forget" / p.id, p.biography()) for p in forget]
                result = erase(entities, root / "home", registry, method_name=method, retain_dir=root / f"n{n}" / "retain")
                evaluation = evaluate_run(result, entities, judge, clip, distractors, no_progress)
                if "Original" not in rows:
                    rows["Original"] = original_row(result, entities, judge, clip, distractors)
                rows[method] = table_row(evaluation)
                if on_run:
                    on_run(n, method, rows[method])
            results["settings"][str(n)] = {"forget": [p.id for p in forget], "retain": [p.id for p in retain], "rows": rows}
    return results


def _cell(value, spec=".2f") -> str:
    return "–" if value is None else format(value, spec)


def to_markdown(results: dict, command: str) -> str:
    lines = [
        "# The PUBG comparison on the demo world",
        "",
        f"Made by `{command}`. Judge: {results['judge']['label']}. "
        f"Training: LoRA r={results['training']['lora_rank']}, alpha={results['training']['lora_alpha']}, "
        f"batch {results['training']['batch_size']}, {results['training']['steps']} steps, "
        "learning rates from each method's `forgetctl-demo` entry.",
        "",
    ]
    for n, setting in results["settings"].items():
        lines += [f"## {n} forget people (retain: {len(setting['retain'])} people)", "",
                  "Table 1 columns (↑ higher is better, ↓ lower is better), seen | unseen views:", "",
                  "| method | USR ↑ | privacy ↓ | CLIPScore ↑ | inform ↑ | halluc. ↓ | USR ↑ | privacy ↓ | CLIPScore ↑ | inform ↑ | halluc. ↓ |",
                  "|---|" + "---|" * 10]
        for method, row in setting["rows"].items():
            cells = [_cell(row[f"{s}.{c}"]) for s in ("seen", "unseen") for c in COLUMNS]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines += ["", "Table 3 (retain informativeness) and aftermaths (seen views):", "",
                  "| method | retain inform ↑ | retain CLIPScore ↑ | retain ROUGE-L drop ↓ | degenerate | refusals | other identity | forget ROUGE-L ↓ |",
                  "|---|---|---|---|---|---|---|---|"]
        for method, row in setting["rows"].items():
            lines.append(
                f"| {method} | {_cell(row['retain.judge_informativeness'])} | {_cell(row['retain.clipscore'])} | "
                f"{_cell(row['retain.rouge_l_drop'], '.3f')} | {_cell(row['seen.degenerate_rate'], '.0%')} | "
                f"{_cell(row['seen.refusal_rate'], '.0%')} | {_cell(row['seen.hallucinated_identity_rate'], '.0%')} | "
                f"{_cell(row['seen.rouge_l_vs_before'], '.3f')} |"
            )
        lines.append("")
    return "\n".join(lines)


def to_chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("seen.clipscore", "CLIPScore ↑"), ("seen.judge_informativeness", "informativeness ↑"),
              ("seen.judge_hallucination", "hallucination ↓"), ("seen.degenerate_rate", "degenerate ↓"),
              ("seen.refusal_rate", "refusals ↓")]
    settings = list(results["settings"])
    fig, axes = plt.subplots(len(settings), len(panels), figsize=(3.2 * len(panels), 2.8 * len(settings)), squeeze=False)
    for r, n in enumerate(settings):
        rows = results["settings"][n]["rows"]
        names = list(rows)
        for c, (key, title) in enumerate(panels):
            ax = axes[r][c]
            values = [rows[m][key] or 0 for m in names]
            ax.bar(names, values, color=["#999999" if m == "Original" else "#2f6db5" if m == "pubg" else "#9bb7d9" for m in names])
            ax.set_title(f"{title} ({n} people)", fontsize=9)
            ax.set_ylim(bottom=0)
            ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(results: dict, out_dir: Path, command: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "comparison.md", out_dir / "comparison.json", out_dir / "comparison.png"]
    paths[0].write_text(to_markdown(results, command) + "\n")
    paths[1].write_text(json.dumps(results, indent=2) + "\n")
    to_chart(results, paths[2])
    return paths
