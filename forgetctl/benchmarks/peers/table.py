"""The tables of `bench peer`: the benchmark's metrics (its names) per set, base and after each
method, then forgetctl's, with the command and settings that made them."""

from __future__ import annotations

from forgetctl.evaluation.metrics import PEER_METRICS, metric

SETS = ("forget", "forget, held-out views", "retain")

# forgetctl's own columns (comparison.table_row keys), as (key, label).
FORGETCTL = (
    ("seen.leak_rate", "leaks (trained-on photos)"), ("unseen.leak_rate", "leaks (held-out views)"),
    ("seen.usr", "USR"), ("seen.judge_informativeness", "inform (1-5)"), ("seen.degenerate_rate", "degenerate"),
    ("retain.rouge_l_drop", "retain ROUGE-L drop"), ("seen.mia_auc_min_k_plus_plus", "Min-K%++ AUC"),
    ("seen.truth_ratio", "truth ratio"),
)
COLUMNS = tuple(dict.fromkeys(key.split(".", 1)[1] for key, _ in FORGETCTL if not key.startswith("retain.")))


def people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def settings(training: dict) -> str:
    unset = {"learning_rate": "the method's rate for the family", "gradient_checkpointing": "on for CUDA only"}
    return ", ".join(f"{k} {unset.get(k, v) if v is None else v}" for k, v in training.items())


def peer_cell(row: dict | None, group: str, key: str) -> str:
    value = ((row or {}).get("peer") or {}).get(group, {}).get(key)
    return "n/a" if value is None else PEER_METRICS[key].format(value)


def forgetctl_cell(row: dict | None, key: str) -> str:
    if not row or not row.get("forgetctl"):
        return "not measured"
    value = row["forgetctl"].get(key)
    scope, name = key.split(".", 1)
    return metric(name, "retain" if scope == "retain" else "forget").format(value)


def to_markdown(result: dict, command: str, machine: str) -> str:
    methods = list(result["methods"])
    head = "| metric | set | base | " + " | ".join(methods) + " |"
    rule = "|" + "---|" * (3 + len(methods))
    keys = [k for k in PEER_METRICS if k.startswith(result["format"] + ".")]
    lines = [f"# {result['format']} {result['split']} on {result['model']}", "",
             f"Made by `{command}` on {machine}.", "",
             f"- forget: {people(result['forget'])}; retain: {people(result['retain'])}, {result['retain_asked']} asked the "
             f"benchmark's questions, {result['erasure_retain']} in the erasure's --retain folder",
             f"- held-out views: {'; '.join(result['held_out'])}",
             f"- training: {settings(result['training'])}", "",
             "## The benchmark's metrics (its names; on forget sets lower is forgetting)", "", head, rule]
    for key in keys:
        for group in SETS:
            if any(group in (r.get("peer") or {}) for r in [result["base"], *result["methods"].values()]):
                cells = [peer_cell(result["base"], group, key)] + [peer_cell(result["methods"][m], group, key) for m in methods]
                lines.append(f"| {PEER_METRICS[key].label} | {group} | " + " | ".join(cells) + " |")
    lines += ["", "## forgetctl's metrics (forget people, mean over people)", "",
              "| metric | base | " + " | ".join(methods) + " |", "|" + "---|" * (2 + len(methods))]
    for key, label in FORGETCTL:
        lines.append(f"| {label} | {forgetctl_cell(result['base'], key)} | "
                     + " | ".join(forgetctl_cell(result["methods"][m], key) for m in methods) + " |")
    lines.append("| default policy | – | " + " | ".join(result["methods"][m]["policy"] for m in methods) + " |")
    lines += ["", "Not reproduced here:", *[f"- {why}" for why in result["not_reproduced"]]]
    return "\n".join(lines) + "\n"
