#!/usr/bin/env python3
"""Judge agreement on the three test worlds: per-rubric agreement of the offline judge with each
world's truth, and the default policy's confusion matrix over real erasures.

    python bench/judge_agreement.py [--people 3] [--out docs]

Writes docs/judge_agreement.md and .json. About 20 minutes on 2 CPU cores (54 erasures).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from worlds import MAKERS, world  # the test worlds by name (bench/worlds.py)

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    from forgetctl.benchmarks.agreement import Tally, measure, to_markdown
    from forgetctl.host.manager import create_host

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=3, help="people erased per world (one run per method each)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--regrade", action="store_true", help="grade the kept cases again (no erasure rerun)")
    args = parser.parse_args(argv)
    worlds = {name: world(name) for name in MAKERS}
    judge = create_host().judges()["grounded"].cls()

    def progress(world, person, method, run):
        print(f"{world:6s} {person} {method:7s} truth {'good' if run['good'] else 'bad ':4s} "
              f"policy {'passed' if run['passed'] else 'failed'}  {', '.join(run['failing'])}", flush=True)

    if args.regrade:
        kept = json.loads((args.out / "judge_agreement.json").read_text())
        results = {name: Tally(data["cases"], data["runs"], data["groundings"]) for name, data in kept.items()}
        for name, tally in results.items():
            tally.regrade(worlds[name], judge)
    else:
        results = {name: measure(w, n_forget=args.people, on_run=progress) for name, w in worlds.items()}
    label = judge.label
    command = "python bench/judge_agreement.py" + (f" --people {args.people}" if args.people != 3 else "") + (" --regrade" if args.regrade else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "judge_agreement.md").write_text(to_markdown(results, command, label))
    summary = {name: {"agreement": t.agreement(), "confusion": t.confusion(), "runs": t.runs, "cases": t.cases,
                      "groundings": t.groundings} for name, t in results.items()}
    (args.out / "judge_agreement.json").write_text(json.dumps(summary, indent=2) + "\n")
    print((args.out / "judge_agreement.md").read_text())


if __name__ == "__main__":
    main()
