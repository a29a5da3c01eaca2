#!/usr/bin/env python3
"""Every method's erasure under every attack, on both test worlds, beside the base model's leak
under the same attack.

    python bench/robustness.py [--suite full] [--worlds demo second] [--out docs]

Writes docs/robustness.md and .json. About 20 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from worlds import MAKERS  # the test worlds by name (bench/worlds.py)

ROOT = Path(__file__).resolve().parent.parent


RELEARNING_SWEEP = ROOT / "bench" / "relearning_sweep.toml"


def defences():
    from forgetctl.types import TrainingConfig

    return {
        "pubg (default)": ("pubg", {}, TrainingConfig()),
        "pubg + SAM (rho 0.05)": ("pubg", {}, TrainingConfig(sam_rho=0.05)),
        "pubg + projector LoRA": ("pubg", {}, TrainingConfig(lora_targets="language+projector")),
        "pubg, 10x lower lr": ("pubg", {}, TrainingConfig(learning_rate=1e-4)),
        # The weak erasure above relearns: do the defences hold it?
        "pubg, 10x lower lr + SAM": ("pubg", {}, TrainingConfig(learning_rate=1e-4, sam_rho=0.05)),
        "pubg, 10x lower lr + projector LoRA": ("pubg", {}, TrainingConfig(learning_rate=1e-4, lora_targets="language+projector")),
        "npo": ("npo", {}, TrainingConfig()),
        "ga": ("ga", {}, TrainingConfig()),
    }


def main(argv=None):
    from forgetctl.benchmarks import registered_methods
    from forgetctl.benchmarks.robustness import measure, to_markdown
    from forgetctl.types import TrainingConfig

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default="full")
    parser.add_argument("--worlds", nargs="+", default=["demo", "second"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--defences", action="store_true",
                        help="PUBG with each defence against relearning, under a relearning sweep -> docs/relearning.md")
    args = parser.parse_args(argv)

    def progress(world, name, row):
        print(f"{world} {name}: leak {row['leak']:.0%}; " + ", ".join(
            f"{k} {'-' if a.get('not_run') else format(a['leak'], '.0%')}/{'-' if a.get('not_run') else format(a['base_leak'] or 0, '.0%')}"
            for k, a in row["attacks"].items()), flush=True)

    worlds = MAKERS
    if args.defences:
        suite, name, title = str(RELEARNING_SWEEP), "relearning", "Defences against relearning, side by side"
        variants = defences()
    else:
        suite, name, title = args.suite, "robustness", "Robustness: every method under every attack"
        variants = {m: (m, {}, TrainingConfig()) for m in registered_methods()}
    results = [measure(worlds[w](), variants, suite, progress) for w in args.worlds]
    command = "python bench/robustness.py" + (" --defences" if args.defences else f" --suite {args.suite}" if args.suite != "full" else "") + (
        f" --worlds {' '.join(args.worlds)}" if args.worlds != ["demo", "second"] else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / f"{name}.md").write_text(to_markdown(results, command, title))
    print((args.out / f"{name}.md").read_text())


if __name__ == "__main__":
    main()
