#!/usr/bin/env python3
"""Who else an erasure forgets: canary drift under three retain folders, on both test worlds.

    python bench/bystanders.py [--worlds demo second] [--lr RATE]

Writes docs/bystanders.md and .json (kept after every run: an interrupted run resumes).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from worlds import MAKERS  # the test worlds by name (bench/worlds.py)

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    from forgetctl.benchmarks.bystanders import measure, to_markdown

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worlds", nargs="+", default=["demo", "second"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--lr", type=float, help="PUBG's learning rate (default: its rate for the model's family)")
    args = parser.parse_args(argv)

    out = args.out / "bystanders.json"
    kept = {(r["world"], r.get("learning_rate")): r for r in json.loads(out.read_text())} if out.is_file() else {}

    def progress(world, results):
        kept[world, args.lr] = results
        out.write_text(json.dumps(list(kept.values()), indent=2) + "\n")
        choice, row = list(results["runs"].items())[-1]
        print(world, choice, row["passed"], row["canary_drops"], row["retain_drop"], flush=True)

    worlds = MAKERS
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.worlds:
        kept[name, args.lr] = measure(worlds[name](), progress, kept.get((name, args.lr)), args.lr)
    command = "python bench/bystanders.py [--lr RATE]" + (f" --worlds {' '.join(args.worlds)}" if args.worlds != ["demo", "second"] else "")
    (args.out / "bystanders.md").write_text(to_markdown(list(kept.values()), command))
    print((args.out / "bystanders.md").read_text())


if __name__ == "__main__":
    main()
