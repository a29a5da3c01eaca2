#!/usr/bin/env python3
"""Which methods remove knowledge and which only hide it, on both test worlds.

    python bench/knowledge.py [--worlds demo second] [--methods pubg ga ...]

Writes docs/knowledge.md and .json: each method's erasure, then the relearning attack of
`verify --attacks full` on it and on the base.
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

    from forgetctl.benchmarks.knowledge import METHODS, measure, to_markdown
    from forgetctl.benchmarks.worlds import demo_world

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worlds", nargs="+", default=["demo", "second"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)

    def progress(world, method, splits):
        print(world, method, {s: {k: v for k, v in m.items() if k in ("leak_rate", "truth_ratio", "mia_auc_min_k_plus_plus")}
                              for s, m in splits.items()}, flush=True)

    worlds = {"demo": demo_world, "second": as_test_world}
    results = [measure(worlds[name](), args.methods, progress) for name in args.worlds]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "knowledge.json").write_text(json.dumps(results, indent=2) + "\n")
    command = "python bench/knowledge.py" + (f" --worlds {' '.join(args.worlds)}" if args.worlds != ["demo", "second"] else "") + (
        f" --methods {' '.join(args.methods)}" if args.methods != list(METHODS) else "")
    (args.out / "knowledge.md").write_text(to_markdown(results, command))
    print((args.out / "knowledge.md").read_text())


if __name__ == "__main__":
    main()
