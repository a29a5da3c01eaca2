"""Which methods remove knowledge and which only hide it: for every method on a test world, the
generation leak rate beside the knowledge tests (truth ratio, membership-inference AUCs, forget
quality) before and after the erasure, on seen and unseen photos."""

from __future__ import annotations

import tempfile
from pathlib import Path

from forgetctl.benchmarks import permissive_policy, registered_methods
from forgetctl.benchmarks.worlds import choose

COLUMNS = (  # (key in a split's metrics, header, format)
    ("leak_rate", "leaks", ".0%"),
    ("truth_ratio_before", "TR before", ".2f"), ("truth_ratio", "TR after", ".2f"),
    ("mia_auc_loss_before", "LOSS before", ".2f"), ("mia_auc_loss", "LOSS after", ".2f"),
    ("mia_auc_zlib", "zlib after", ".2f"),
    ("mia_auc_min_k_plus_plus_before", "Min-K%++ before", ".2f"), ("mia_auc_min_k_plus_plus", "Min-K%++ after", ".2f"),
    ("forget_quality", "forget quality", ".3f"),
)


RELEARN = {"steps": [10, 30]}  # the attacker of `verify --attacks full`: LoRA and full fine-tuning
KEPT = ("leak_rate", "truth_ratio", "mia_auc_min_k_plus_plus")  # per split, after each relearning variant


def relearned(attack, variant: str, source, targets, data) -> dict:
    """Leaks and the knowledge tests of the one target after one relearning variant."""
    from forgetctl.attacks import attack_once

    done = attack_once(attack, variant, source, targets, data)
    if "not_run" in done:
        return {"not_run": done["not_run"]}
    (request_id,) = done["leaks"]
    return {split: {"leak_rate": rate, **{k: done["knowledge"][request_id][split].get(k) for k in KEPT[1:]}}
            for split, rate in done["leaks"][request_id].items()}


def measure(world, methods=None, on_row=None, earlier: dict | None = None) -> dict:
    """One person of `world` erased by each method (three retain people); per method and split,
    the numbers of COLUMNS with the sample sizes and the interval of the Min-K%++ AUC; then the
    relearning attack (RELEARN) on each erased model and once on the base, as control.
    `earlier`: results of an interrupted run on this world, whose methods are not run again;
    `on_row(world, method, results)` after each method (to keep them)."""
    from forgetctl_audit.store import AuditLog

    from forgetctl.attacks import ModelSource
    from forgetctl.host.manager import create_host
    from forgetctl.pipeline import run_request
    from forgetctl.request import PersonForm, RequestForm, validate
    from forgetctl.verification import attack_inputs

    methods = methods or registered_methods()
    cls = create_host().attacks()["relearn"].cls
    attack = cls(cls.parse_options(RELEARN))
    (person,), retain = choose(world, 1, 3)
    results = earlier or {"world": world.name, "person": person.id, "retain": [p.id for p in retain], "methods": {},
                          "relearn": attack.variants(), "base_relearned": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        world.write_views(person, root / "forget")
        for other in retain:
            world.write_views(other, root / "retain" / other.id)
        for method in [m for m in methods if m not in results["methods"]]:
            form = RequestForm(people=[PersonForm(person.name, root / "forget")], model=world.model_dir, method=method,
                               retain=root / "retain", policy=str(permissive_policy(root)), release=False)
            outcome = run_request(validate(form, default_model=world.model_dir, home=root / method), root / method)
            splits = outcome.evaluation.forget[person.name]
            row = {
                split: {k: m.get(k) for k in [c[0] for c in COLUMNS] + ["members", "non_members", "mia_auc_min_k_plus_plus_interval"]}
                for split, m in splits.items()
            }
            with AuditLog(root / method, readonly=True) as log:
                targets, data = attack_inputs(log, [outcome.request_ids[person.name]])
            erased = ModelSource(world.model_dir, outcome.result.run_dir / "adapter")
            row["relearned"] = {v: relearned(attack, v, erased, targets, data) for v in attack.variants()}
            if not results["base_relearned"]:  # the same attack on the base: the same for every method
                results["base_relearned"] = {v: relearned(attack, v, ModelSource(world.model_dir), targets, data)
                                             for v in attack.variants()}
            results["methods"][method] = row
            if on_row:
                on_row(world.name, method, results)
    return results


def _cell(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def to_markdown(all_results: list[dict], command: str) -> str:
    lines = [
        "# What the weights still know", "",
        f"Made by `{command}`. One person per world erased by each method (three retain people, the "
        "world's `choose`; the default recipe; 2 CPU cores). *leaks*: share of generated answers that "
        "name the person or repeat two private facts. The knowledge tests read likelihoods, not text "
        "(forgetctl/evaluation/knowledge.py): *TR*, the truth ratio (TOFU): how likely the person's "
        "answers with another person's facts swapped in are, against their true answers, length-"
        "normalised (near 0: the true facts are far more likely; 1: no preference). *LOSS*, *zlib*, "
        "*Min-K%++*: membership-inference AUCs telling the person's true answers from those "
        "never-seen perturbed ones (1.0: perfectly; 0.5: not at all). *forget quality*: KS p-value of "
        "the truth ratios against perturbed-vs-perturbed ones (what not knowing looks like). "
        "*before*: the model the run started from (here the base). Sample sizes below each table; "
        "with a few dozen answers an AUC's 95% interval is about ±0.15.", "",
        "What these erasures did to people they were not told about (canaries: look-alikes, people "
        "sharing a fact), and the frontier of PUBG's learning rate there, is in "
        "[bystanders.md](bystanders.md).", "",
    ]
    for results in all_results:
        lines += [f"## {results['world']} world (person {results['person']})", "",
                  "| method | views | " + " | ".join(c[1] for c in COLUMNS) + " |",
                  "|---|---|" + "---|" * len(COLUMNS)]
        sizes = set()
        for method, row in results["methods"].items():
            for split, m in row.items():
                if split == "relearned":
                    continue
                lines.append(f"| {method} | {split} | " + " | ".join(_cell(m.get(k), spec) for k, _, spec in COLUMNS) + " |")
                sizes.add((split, m.get("members"), m.get("non_members")))
        lines += ["", "Answers tested: " + "; ".join(f"{s}: {a} true, {b} perturbed" for s, a, b in sorted(sizes, key=str)), ""]
        lines += relearning_table(results)
    return "\n".join(lines) + "\n"


def relearning_table(results: dict) -> list[str]:
    """After each relearning variant, per method and on the base (control): leaks, truth ratio and
    Min-K%++ AUC on seen / unseen photos."""
    if not results.get("relearn"):
        return []
    lines = ["### After relearning on invented people (`verify --attacks full`'s attacker)", "",
             "Each cell: seen / unseen photos. *leaks* as above; *TR* truth ratio; *AUC* Min-K%++.", "",
             "| model | relearning | leaks | TR | AUC |", "|---|---|---|---|---|"]
    models = [(m, row["relearned"]) for m, row in results["methods"].items()] + [("base (control)", results["base_relearned"])]
    for model, relearned in models:
        for variant in results["relearn"]:
            got = relearned.get(variant, {})
            if "not_run" in got:
                lines.append(f"| {model} | {variant} | not run: {got['not_run']} | | |")
                continue
            cells = [" / ".join(_cell(got.get(split, {}).get(k), spec) for split in ("seen", "unseen"))
                     for k, spec in (("leak_rate", ".0%"), ("truth_ratio", ".2f"), ("mia_auc_min_k_plus_plus", ".2f"))]
            lines.append(f"| {model} | {variant} | " + " | ".join(cells) + " |")
    return lines + [""]
