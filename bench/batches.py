#!/usr/bin/env python3
"""N people in one PUBG run, over training seeds: who the default policy releases.

    python bench/batches.py [--worlds demo second] [--people 5 10 20] [--seeds 0 1 2]

Each run is one process (minutes on 2 CPU cores: about 1 for 10 people, 2 for 20). Rows are kept in
docs/batches.jsonl, so an interrupted sweep resumes; docs/batches.md is written from all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from worlds import world  # the test worlds by name (bench/worlds.py)

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    from forgetctl.benchmarks import batches

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help=argparse.SUPPRESS)  # one run, in the child process
    parser.add_argument("--worlds", nargs="+", default=["demo"])
    parser.add_argument("--people", nargs="+", type=int, default=[5, 10, 20])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    if args.run:
        name, people, seed = json.loads(args.run)
        print(json.dumps(batches.run_batch(world(name), people, seed)), flush=True)
        return
    results = args.out / "batches.jsonl"
    # Rows of older recipes stay (the steps say which); a row counts as done for the steps
    # `erase` gives that many people now.
    done = {(r["world"], r["people"], r["seed"], r.get("steps", 30)) for r in batches.read_rows(results)}
    for key in [(w, n, s) for w in args.worlds for n in args.people for s in args.seeds]:
        if (*key, batches.steps_for(key[1])) in done:
            continue
        if short := batches.too_few(world(key[0]), key[1]):
            print(f"{key}: skipped, {short}", flush=True)
            continue
        child = subprocess.run([sys.executable, __file__, "--run", json.dumps(key)], capture_output=True, text=True,
                               env=os.environ)
        lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
        if child.returncode != 0 or not lines:
            raise SystemExit(f"run {key} failed:\n{child.stderr[-3000:]}")
        with results.open("a") as f:
            f.write(lines[-1] + "\n")
        row = json.loads(lines[-1])
        print(f"{key}: released {row['released']}/{row['people']}, failed {row['failed'] or '-'}, {row['seconds']} s", flush=True)
    from forgetctl.benchmarks.performance import machine

    (args.out / "batches.md").write_text(batches.to_markdown(batches.read_rows(results), "python bench/batches.py", machine()))
    print((args.out / "batches.md").read_text())


if __name__ == "__main__":
    main()
