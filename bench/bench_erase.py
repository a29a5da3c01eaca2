"""Median wall time of a demo erase (PUBG, default settings), per phase.

    python bench/bench_erase.py --repeats 3 --out bench/results/erase_demo.json

Runs in-process after one warm-up import; each repeat is a full `erase` call (model load,
harvest, reference sampling, 30 training steps, evaluation, writing the run).
"""

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import load_world
from forgetctl.engine.erase import Entity, erase
from forgetctl.host.manager import create_host


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--method", default="pubg")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    world = load_world()
    methods = create_host().methods()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_views(world.known[0], root / "photos")
        for person in world.unlike(world.known[0], 4):
            write_views(person, root / "retain" / person.id)
        for i in range(args.repeats):
            started = time.perf_counter()
            result = erase(
                [Entity(world.known[0].name, root / "photos")], root / f"home{i}", methods,
                method_name=args.method, retain_dir=root / "retain",
            )
            total = time.perf_counter() - started
            runs.append({"total_s": round(total, 2), **result.manifest["timings_s"]})
            print(json.dumps(runs[-1]), flush=True)
    report = {
        "benchmark": "demo erase", "method": args.method, "repeats": args.repeats,
        "machine": f"{platform.machine()} {platform.processor() or ''} threads={torch.get_num_threads()}".strip(),
        "median_s": {k: statistics.median(r[k] for r in runs) for k in runs[0]},
        "runs": runs,
    }
    print(json.dumps(report["median_s"], indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
