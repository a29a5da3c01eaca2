#!/usr/bin/env python3
"""Every method's erasure under every attack, on both test worlds, beside the base model's leak
under the same attack.

    python bench/robustness.py [--suite full] [--worlds demo second] [--out docs]

Writes docs/robustness.md and .json. About 20 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the second world is a test fixture

METHODS = ("pubg", "ga", "npo", "random", "reject", "vgid")


def main(argv=None):
    from second_world import as_test_world

    from forgetctl.benchmarks.robustness import measure, to_markdown
    from forgetctl.benchmarks.worlds import demo_world
    from forgetctl.engine.training import TrainingConfig

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default="full")
    parser.add_argument("--worlds", nargs="+", default=["demo", "second"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)

    def progress(world, name, row):
        print(f"{world} {name}: leak {row['leak']:.0%}; " + ", ".join(
            f"{k} {'-' if a.get('not_run') else format(a['leak'], '.0%')}/{'-' if a.get('not_run') else format(a['base_leak'] or 0, '.0%')}"
            for k, a in row["attacks"].items()), flush=True)

    worlds = {"demo": demo_world, "second": as_test_world}
    variants = {m: (m, {}, TrainingConfig()) for m in METHODS}
    results = [measure(worlds[name](), variants, args.suite, progress) for name in args.worlds]
    command = "python bench/robustness.py" + (f" --suite {args.suite}" if args.suite != "full" else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "robustness.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "robustness.md").write_text(to_markdown(results, command, "Robustness: every method under every attack"))
    print((args.out / "robustness.md").read_text())


if __name__ == "__main__":
    main()
