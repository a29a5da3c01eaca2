"""A year of requests on one lineage: N people erased one release at a time, each from the last
head, with people kept aside (a retain folder and registered canaries). Per release: the seconds
the release took (the erase command's own work, with its `--reprobe-every` rotation), and then,
apart and untimed, every earlier person re-probed on the new release the way `verify --model`
does, the canaries' and retain people's drift, informativeness, and the disk the lineage takes
before and after `lineage prune --keep 1`."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

RETAIN = 4


def disk(home: Path) -> dict:
    from forgetctl.chain import folder_bytes

    return {"releases": folder_bytes(home / "releases"), "adapters": folder_bytes(home / "runs")}


def prune_to_head(home: Path) -> None:
    """`forgetctl lineage prune --keep 1 --yes`, as the command does it."""
    from forgetctl.chain import carry_out, plan_prune
    from forgetctl.lineage import Lineage
    from forgetctl.trail import open_log

    with open_log(home) as log:
        lineage = Lineage.from_log(log)
        carry_out(log, lineage, [plan_prune(lineage, root, 1, home) for root in lineage.roots], 1)


def everyone_earlier(home: Path, release: Path) -> dict:
    """Every person the release carries, re-probed as `verify --model` does: worst leak per split."""
    from forgetctl.reporting import no_progress
    from forgetctl.trail import open_log
    from forgetctl.verification import reprobe, select_targets

    with open_log(home) as log:
        targets = select_targets(log, release, None, None, False)
        results = reprobe(log, release, None, targets, no_progress)
    return {split: max((r.metrics[split]["leak_rate"] for r in results if split in r.metrics), default=None)
            for split in ("seen", "unseen")}


def measure(world, releases: int = 30, canaries: int = 6, reprobe_every: int = 5, keep_earlier: bool = False,
            on_release=None) -> dict:
    from forgetctl.benchmarks import permissive_policy
    from forgetctl.canaries import read_canaries, register
    from forgetctl.reporting import QUIET
    from forgetctl.pipeline import run_request
    from forgetctl.policy import load_policy, verdict
    from forgetctl.request import PersonForm, RequestForm, validate
    from forgetctl.trail import open_log

    people = list(world.people)
    forget, aside = people[:releases], people[releases:releases + RETAIN + canaries]
    retain, watched = aside[:RETAIN], aside[RETAIN:]
    results = {"world": world.name, "releases": releases, "reprobe_every": reprobe_every, "keep_earlier": keep_earlier,
               "retain": [p.id for p in retain], "canaries": [p.id for p in watched], "rows": []}
    default_policy = load_policy("default")
    with tempfile.TemporaryDirectory() as tmp:
        root, home = Path(tmp), Path(tmp) / "home"
        for person in (*forget, *retain):
            world.write_views(person, root / ("retain" if person in retain else "photos") / person.id)
        for person in watched:
            first = Path(world.write_views(person, root / "views" / person.id)[0])
            (root / "canaries" / person.id).mkdir(parents=True)
            first.rename(root / "canaries" / person.id / first.name)
        with open_log(home) as log:
            register(log, world.model_dir, read_canaries(root / "canaries"), QUIET)
        anyway, model = permissive_policy(root), world.model_dir
        for index, person in enumerate(forget, 1):
            form = RequestForm(people=[PersonForm(person.name, root / "photos" / person.id)], model=model,
                               retain=root / "retain", policy=str(anyway), keep_earlier=keep_earlier,
                               reprobe_every=reprobe_every)
            started = time.perf_counter()
            outcome = run_request(validate(form, default_model=world.model_dir, home=home), home)
            seconds = time.perf_counter() - started
            if outcome.evaluation is None:  # the base does not identify them: nothing to erase, no release
                results["rows"].append({"release": index, "not_identifiable": person.id, "seconds": round(seconds, 1)})
                continue
            evaluation, model = outcome.evaluation, outcome.merged
            started = time.perf_counter()
            earlier = everyone_earlier(home, model) if index > 1 else {"seen": None, "unseen": None}
            verify_seconds = time.perf_counter() - started
            before_prune = disk(home)
            prune_to_head(home)
            splits = list(evaluation.forget.values())[0]
            results["rows"].append({
                "release": index, "seconds": round(seconds, 1), "verify_seconds": round(verify_seconds, 1),
                "reprobed": len(evaluation.earlier), "deferred": len(evaluation.coverage.deferred),
                "earlier_leak_seen": earlier["seen"], "earlier_leak_unseen": earlier["unseen"],
                "new_leak": max(m["leak_rate"] for m in splits.values()),
                "informativeness": min(m["judge_informativeness"] or 0 for m in splits.values()),
                "retain_drop": evaluation.retain["rouge_l_drop"],
                "canary_drop": max((m["rouge_l_drop"] for m in evaluation.bystanders.values()), default=None),
                "default_policy": verdict(default_policy, evaluation).passed,
                "disk_unpruned": before_prune, "disk_pruned": disk(home),
            })
            if on_release:
                on_release(results)
    return results


def _cell(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def to_markdown(results: dict, command: str, base_bytes: int) -> str:
    rows = results["rows"]
    mib = 2 ** 20
    lines = [
        f"# A year of requests: {results['releases']} releases on one lineage", "",
        f"Made by `{command}` ({results['world']} world, 2 CPU cores). Each release erases one "
        f"person from the last head with `--reprobe-every {results['reprobe_every']}` "
        f"({'with' if results['keep_earlier'] else 'without'} earlier people in the forget data), a retain folder of "
        f"{len(results['retain'])} people and {len(results['canaries'])} canaries, all kept aside. *seconds*: the erase "
        "itself (harvest, train, judge, re-probe its share of earlier people, merge, record). Then, untimed, every "
        "earlier person is re-probed on the new release as `verify --model` does (*earlier leak*, worst person), and "
        "`lineage prune --keep 1` runs. *disk*: merged release folders and adapters, before and after pruning; the "
        f"original base is {base_bytes / mib:.1f} MiB.", "",
        "| release | seconds | re-probed / deferred | earlier leak seen / unseen | new leak | inform | retain drift | "
        "canary drift (worst) | default policy | disk MiB (releases + adapters), pruned |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "not_identifiable" in r:
            lines.append(f"| {r['release']} | {r['seconds']} | not identifiable ({r['not_identifiable']}): no release | | | | | | | |")
            continue
        unpruned = sum(r["disk_unpruned"].values()) / mib
        pruned = r["disk_pruned"]
        lines.append(
            f"| {r['release']} | {r['seconds']} | {r['reprobed']} / {r['deferred']} | "
            f"{_cell(r['earlier_leak_seen'], '.0%')} / {_cell(r['earlier_leak_unseen'], '.0%')} | {_cell(r['new_leak'], '.0%')} | "
            f"{_cell(r['informativeness'], '.1f')} | {_cell(r['retain_drop'], '.3f')} | {_cell(r['canary_drop'], '.3f')} | "
            f"{'pass' if r['default_policy'] else 'fail'} | {unpruned:.1f} -> {pruned['releases'] / mib:.1f} + "
            f"{pruned['adapters'] / mib:.1f} |")
    released = [r for r in rows if "not_identifiable" not in r]
    if len(released) > 1:
        first, last = released[0], released[-1]
        lines += ["", f"Release {last['release']} took {last['seconds'] / first['seconds']:.2f}x the seconds of release "
                  f"{first['release']} ({last['seconds']} s against {first['seconds']} s).", "",
                  "![seconds, earlier people's leaks and disk per release](lineage-year.png)"]
    return "\n".join(lines) + "\n"


def to_chart(results: dict, path: Path) -> None:
    """Per release: the erase's seconds against 1.3x release 1's, the worst earlier person's
    leaks on seen and unseen photos, and the disk the lineage takes unpruned and pruned."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    rows = [r for r in results["rows"] if "not_identifiable" not in r]
    x = [r["release"] for r in rows]
    fig, (cost, leaks, disk_ax) = plt.subplots(1, 3, figsize=(11, 3.0))
    cost.plot(x, [r["seconds"] for r in rows], marker="o", markersize=3, label="erase seconds")
    cost.axhline(1.3 * rows[0]["seconds"], color="#999", lw=0.7, ls="--", label="1.3x release 1")
    cost.set_ylim(0, 1.15 * max(1.3 * rows[0]["seconds"], *(r["seconds"] for r in rows)))
    cost.set_title("seconds per release", fontsize=9)
    for key, label, marker in (("earlier_leak_seen", "seen photos", "o"), ("earlier_leak_unseen", "unseen photos", "s")):
        leaks.plot(x, [r[key] or 0 for r in rows], marker=marker, markersize=3, label=label, alpha=0.85)
    worst = max((r[k] or 0 for r in rows for k in ("earlier_leak_seen", "earlier_leak_unseen")), default=0)
    leaks.set_ylim(0, max(0.1, 1.2 * worst))  # a 2% return must show, not sit on the axis
    leaks.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    leaks.set_title("worst earlier person's leaks", fontsize=9)
    mib = 2 ** 20
    disk_ax.plot(x, [sum(r["disk_unpruned"].values()) / mib for r in rows], marker="o", markersize=3, label="unpruned")
    disk_ax.plot(x, [sum(r["disk_pruned"].values()) / mib for r in rows], marker="s", markersize=3, label="lineage prune --keep 1")
    disk_ax.set_ylim(bottom=0)
    disk_ax.set_title("disk: releases + adapters (MiB)", fontsize=9)
    for ax in (cost, leaks, disk_ax):
        ax.set_xlabel("release", fontsize=8)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
