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

from forgetctl.benchmarks import demo_request, registered_methods, with_method
from forgetctl.benchmarks.worlds import choose, demo_world
from forgetctl.engine.erase import erase
from forgetctl.evaluation.evaluate import evaluate_run, mean
from forgetctl.evaluation.metrics import Metric, in_scope, metric
from forgetctl.evaluation.results import Evaluation

COLUMNS = ("usr", "judge_privacy", "clipscore", "judge_informativeness", "judge_hallucination")
AFTERMATHS = ("degenerate_rate", "refusal_rate", "hallucinated_identity_rate", "rouge_l_vs_before")
KNOWLEDGE = ("truth_ratio", "mia_auc_min_k_plus_plus", "mia_auc_loss")  # read from the weights, not the answers


def table_row(evaluation: Evaluation, columns=COLUMNS + AFTERMATHS + KNOWLEDGE) -> dict:
    """Means over people for each split, the paper's columns plus the aftermath detectors."""
    row = {}
    for split in ("seen", "unseen"):
        per_person = [splits[split] for splits in evaluation.forget.values() if split in splits]
        for column in columns:
            row[f"{split}.{column}"] = mean([m.get(column) for m in per_person])
    row.update({f"retain.{m.key}": evaluation.retain.get(m.key) for m in in_scope("retain")})
    return row


def original_row(result, people, grading, columns=COLUMNS + AFTERMATHS + KNOWLEDGE) -> dict:
    """The base model measured the same way: its answers before erasure stand in for 'after'."""
    def unchanged(probes):
        return [replace(p, after=p.before) for p in probes]

    base = replace(
        result,
        forget={name: {s: unchanged(p) for s, p in splits.items()} for name, splits in result.forget.items()},
        retain=unchanged(result.retain),
        # The knowledge tests on the model before the erasure, as "after" too.
        knowledge={name: {s: {"before": m["before"], "after": m["before"]} for s, m in splits.items()}
                   for name, splits in result.knowledge.items()},
    )
    return table_row(evaluate_run(base, people, grading), columns)


def compare(settings=(5, 10), methods=None, on_run=None, retain_people: int = 5) -> dict:
    from forgetctl.host.manager import create_host

    registry = create_host().methods()
    methods = methods or registered_methods()
    results = {"settings": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in settings:
            forget, retain = choose(demo_world(), n, retain_people)
            request = demo_request(root / f"n{n}", forget, retain)
            results.update(judge=request.grading.judge.describe(), training=request.spec.training.as_dict())
            rows = {}
            for method in methods:
                spec = with_method(request, registry, method).spec
                result = erase(spec, root / "home", f"compare-{n}-{method}")
                evaluation = evaluate_run(result, spec.people, request.grading)
                if "Original" not in rows:
                    rows["Original"] = original_row(result, spec.people, request.grading)
                rows[method] = table_row(evaluation)
                if on_run:
                    on_run(n, method, rows[method])
            results["settings"][str(n)] = {"forget": [p.id for p in forget], "retain": [p.id for p in retain], "rows": rows}
    return results


def _cell(value, m: Metric) -> str:
    return "–" if value is None else m.format(value)


def _header(m: Metric, prefix: str = "") -> str:
    return f"{prefix}{m.label} {m.arrow}"


def to_markdown(results: dict, command: str) -> str:
    training = results["training"]
    lines = [
        "# The PUBG comparison on the demo world",
        "",
        f"Made by `{command}`. Judge: {results['judge']['label']}. "
        f"Training: LoRA r={training['lora_rank']}, alpha={training['lora_alpha']}, "
        f"batch {training['batch_size']}, {training['steps']} steps, learning rates from each method's `tiny` entry.",
        "",
    ]
    paper = [metric(key) for key in COLUMNS]
    table3 = [*in_scope("retain"), *(metric(key) for key in AFTERMATHS)]
    for n, setting in results["settings"].items():
        lines += [f"## {n} forget people (retain: {len(setting['retain'])} people)", "",
                  "Table 1 columns (↑ higher is better, ↓ lower is better), seen | unseen views:", "",
                  "| method | " + " | ".join(_header(m) for m in paper * 2) + " |",
                  "|---|" + "---|" * (2 * len(paper))]
        for method, row in setting["rows"].items():
            cells = [_cell(row[f"{s}.{m.key}"], m) for s in ("seen", "unseen") for m in paper]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines += ["", "Table 3 (retain) and aftermaths (seen views):", "",
                  "| method | " + " | ".join(_header(m, "retain " if m.scope == "retain" else "") for m in table3) + " |",
                  "|---|" + "---|" * len(table3)]
        for method, row in setting["rows"].items():
            cells = [_cell(row[f"{'retain' if m.scope == 'retain' else 'seen'}.{m.key}"], m) for m in table3]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        known = [metric(key) for key in KNOWLEDGE]
        lines += ["", "What the weights still know (likelihoods, not answers), seen | unseen views:", "",
                  "| method | " + " | ".join(_header(m) for m in known * 2) + " |", "|---|" + "---|" * (2 * len(known))]
        for method, row in setting["rows"].items():
            cells = [_cell(row.get(f"{s}.{m.key}"), m) for s in ("seen", "unseen") for m in known]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def axis_range(m) -> tuple[float, float]:
    """A judge's 1-5 scale starts at 1 (its lowest grade), a share runs 0 to 1."""
    if m.key.startswith("judge_"):
        return 1, 5
    return (0, 1) if m.spec.endswith("%") else (0, None)


def axis_label(m) -> str:
    if m.key.startswith("judge_"):
        return "judge grade (1 to 5)"
    return "share of answers" if m.spec.endswith("%") else m.meaning.split("(")[-1].rstrip(")")


def to_chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [metric(key) for key in ("clipscore", "judge_informativeness", "judge_hallucination", "degenerate_rate", "refusal_rate")]
    settings = list(results["settings"])
    fig, axes = plt.subplots(len(settings), len(panels), figsize=(3.2 * len(panels), 2.8 * len(settings)), squeeze=False)
    for r, n in enumerate(settings):
        rows = results["settings"][n]["rows"]
        names = list(rows)
        for c, m in enumerate(panels):
            ax = axes[r][c]
            values = [rows[name][f"seen.{m.key}"] for name in names]
            shown = [v if v is not None else 0 for v in values]
            ax.bar(names, shown, color=["#999999" if x == "Original" else "#2f6db5" if x == "pubg" else "#9bb7d9" for x in names])
            low = axis_range(m)[0]
            for i, v in enumerate(values):  # the number on each bar: a grade of 1 draws no bar at all
                ax.text(i, low, "n/a" if v is None else m.format(v), ha="center", va="bottom", fontsize=6, rotation=90)
            ax.set_title(f"{m.label} {m.arrow} ({n} people)", fontsize=9)
            ax.set_ylabel(axis_label(m), fontsize=8)
            ax.set_ylim(*axis_range(m))
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
