#!/usr/bin/env python3
"""Stability of verdicts over seeds, CPU kernels and thread counts, on both test worlds.

    python bench/stability.py [--worlds demo second] [--methods pubg] [--seeds 0 1 2]
                              [--people 3] [--threads 1 2] [--recipes default before]

Each cell is one erasure in a fresh process (about 45 s on 2 CPU cores). Results are kept in
docs/stability.jsonl, so an interrupted grid resumes where it stopped; docs/stability.md is
written from every cell in that file.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

from worlds import world  # the test worlds by name (bench/worlds.py)

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    from forgetctl.benchmarks import stability

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cell", help=argparse.SUPPRESS)  # one cell, in the child process
    parser.add_argument("--worlds", nargs="+", default=["demo", "second"])
    parser.add_argument("--methods", nargs="+", default=["pubg"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--people", type=int, default=3)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--recipes", nargs="+", default=["default"], choices=list(stability.RECIPES))
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    if args.cell:
        cell = stability.Cell(**json.loads(args.cell))
        print(json.dumps(stability.run_cell(world(cell.world), cell)), flush=True)
        return

    def progress(row):
        c = row["cell"]
        print(f"{c['world']:6s} {c['method']:6s} {c['recipe']:9s} {row['person_id']} seed {c['seed']} "
              f"{c['capability']:7s} {c['threads']}t: leak {row['leak']:.0%} degenerate {row['degenerate']:.0%} "
              f"retain drop {row['retain_drop']:.3f} inform {row['inform']:.1f} "
              f"{'pass' if row['passed'] else 'FAIL'} {row['seconds']} s", flush=True)

    cells = stability.grid(args.worlds, args.methods, args.people, args.seeds, args.threads, args.recipes)
    results = args.out / "stability.jsonl"
    stability.measure(cells, results, Path(__file__).resolve(), progress)
    machine = f"{platform.machine()}, {stability.native_capability()} kernels native, torch threads as listed"
    (args.out / "stability.md").write_text(
        stability.to_markdown(stability.read_rows(results), "python bench/stability.py", machine))
    print((args.out / "stability.md").read_text())


if __name__ == "__main__":
    main()
