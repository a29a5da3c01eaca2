#!/usr/bin/env python3
"""Drift across releases on both test worlds: ten people erased one request at a time (ten
releases) against the same ten in one batched run, for PUBG and GA, and PUBG keeping earlier
people in its forget data.

    python bench/lineage_drift.py [--people 10] [--out docs]
    python bench/lineage_drift.py --releases 30 [--reprobe-every 5] [--worlds demo]

Writes docs/lineage.md, .json and .png. About 40 minutes on 2 CPU cores. With --releases N:
a year of requests instead, N releases in a row with people kept aside (a retain folder and
canaries), every earlier person re-probed after each, pruned to the head as it goes; writes
docs/lineage-year.md, .json and .png (kept after every release; --replot redraws the .png from
the .json).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from worlds import MAKERS  # the test worlds by name (bench/worlds.py)

ROOT = Path(__file__).resolve().parent.parent


def year(args, world) -> None:
    from forgetctl.benchmarks.year import measure, to_chart, to_markdown
    from forgetctl.chain import folder_bytes

    command = f"python bench/lineage_drift.py --releases {args.releases} --reprobe-every {args.reprobe_every} --worlds {world.name}"
    args.out.mkdir(parents=True, exist_ok=True)

    def progress(results):  # kept after every release
        (args.out / "lineage-year.json").write_text(json.dumps(results, indent=2) + "\n")
        (args.out / "lineage-year.md").write_text(to_markdown(results, command, folder_bytes(world.model_dir)))
        to_chart(results, args.out / "lineage-year.png")
        r = results["rows"][-1]
        print(f"release {r['release']:2d}: {r['seconds']} s, re-probed {r['reprobed']}, earlier leak "
              f"{r['earlier_leak_seen']}/{r['earlier_leak_unseen']}, new {r['new_leak']}, retain {r['retain_drop']:.3f}, "
              f"canary {r['canary_drop']}, inform {r['informativeness']}", flush=True)

    measure(world, args.releases, reprobe_every=args.reprobe_every, on_release=progress)
    print((args.out / "lineage-year.md").read_text())


def main(argv=None):
    from forgetctl.benchmarks.drift import measure, to_chart, to_markdown

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--worlds", nargs="+", default=["demo", "second"])
    parser.add_argument("--releases", type=int, help="a year of requests: this many releases in a row")
    parser.add_argument("--reprobe-every", type=int, default=5)
    parser.add_argument("--replot", action="store_true", help="redraw lineage-year.png from lineage-year.json only")
    args = parser.parse_args(argv)
    if args.replot:
        from forgetctl.benchmarks.year import to_chart as year_chart

        return year_chart(json.loads((args.out / "lineage-year.json").read_text()), args.out / "lineage-year.png")
    if args.releases:
        return year(args, MAKERS[args.worlds[0]]())

    def progress(method, row):
        print(f"{method:5s} release {row['release']:2d}: earlier leak {row['earlier_leak_seen']}/{row['earlier_leak_unseen']} "
              f"new {row['new_leak']} retain drop {row['retain_drop']:.3f} inform {row['informativeness']:.1f} "
              f"{row['seconds']} s", flush=True)

    results = []
    for name in args.worlds:
        world = MAKERS[name]()
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
