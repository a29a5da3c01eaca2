#!/usr/bin/env python3
"""Which methods remove knowledge and which only hide it, on both test worlds.

    python bench/knowledge.py [--worlds demo second] [--methods pubg ga ...]

Writes docs/knowledge.md and .json (kept after every method: an interrupted run resumes): each method's erasure, then the relearning attack of
`verify --attacks full` on it and on the base.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from worlds import MAKERS  # the test worlds by name (bench/worlds.py)

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    from forgetctl.benchmarks import registered_methods
    from forgetctl.benchmarks.knowledge import measure, to_markdown

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worlds", nargs="+", default=["demo", "second"])
    parser.add_argument("--methods", nargs="+", default=list(registered_methods()))
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)

    out = args.out / "knowledge.json"
    kept = {r["world"]: r for r in json.loads(out.read_text())} if out.is_file() else {}

    def progress(world, method, results):  # kept after every method: an interrupted run resumes
        kept[world] = results
        out.write_text(json.dumps(list(kept.values()), indent=2) + "\n")
        row = results["methods"][method]
        print(world, method, {s: {k: row[s].get(k) for k in ("leak_rate", "truth_ratio", "mia_auc_min_k_plus_plus")}
                              for s in row if s != "relearned"}, flush=True)

    worlds = MAKERS
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.worlds:
        kept[name] = measure(worlds[name](), args.methods, progress, kept.get(name))
        out.write_text(json.dumps(list(kept.values()), indent=2) + "\n")
    results = list(kept.values())
    command = "python bench/knowledge.py" + (f" --worlds {' '.join(args.worlds)}" if args.worlds != ["demo", "second"] else "") + (
        f" --methods {' '.join(args.methods)}" if args.methods != list(registered_methods()) else "")
    (args.out / "knowledge.md").write_text(to_markdown(results, command))
    print((args.out / "knowledge.md").read_text())


if __name__ == "__main__":
    main()
