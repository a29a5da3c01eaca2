#!/usr/bin/env python3
"""Drift across releases on both test worlds: ten people erased one request at a time (ten
releases) against the same ten in one batched run, for PUBG and GA, and PUBG keeping earlier
people in its forget data.

    python bench/lineage_drift.py [--people 10] [--out docs]

Writes docs/lineage.md, .json and .png. About 40 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the second world is a test fixture


def main(argv=None):
    from second_world import as_test_world

    from forgetctl.benchmarks.drift import measure, to_chart, to_markdown
    from forgetctl.benchmarks.worlds import demo_world

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--worlds", nargs="+", default=["demo", "second"])
    args = parser.parse_args(argv)

    def progress(method, row):
        print(f"{method:5s} release {row['release']:2d}: earlier leak {row['earlier_leak_seen']}/{row['earlier_leak_unseen']} "
              f"new {row['new_leak']} retain drop {row['retain_drop']:.3f} inform {row['informativeness']:.1f} "
              f"{row['seconds']} s", flush=True)

    worlds = {"demo": demo_world, "second": as_test_world}
    results = []
    for name in args.worlds:
        world = worlds[name]()
        results.append(measure(world, ("pubg", "ga"), args.people, keep_earlier=False, on_release=progress))
        results.append(measure(world, ("pubg",), args.people, keep_earlier=True, on_release=progress))
    command = "python bench/lineage_drift.py" + (f" --people {args.people}" if args.people != 10 else "") + (
        f" --worlds {' '.join(args.worlds)}" if args.worlds != ["demo", "second"] else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "lineage.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "lineage.md").write_text(to_markdown(results, command) + "\n![drift](lineage.png)\n")
    to_chart(results, args.out / "lineage.png")
    print((args.out / "lineage.md").read_text())


if __name__ == "__main__":
    main()
