"""The benchmarks stay runnable on a machine without a GPU: the GPU benchmark scaled down, the
image-token table, and the perf harness on one demo erase."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench"
sys.path.insert(0, str(BENCH))
from image_tokens import GRIDS, PAPER_GRID, image_tokens  # noqa: E402


def test_image_tokens_match_llava_next_anyres():
    # 576 base + 4 tiles of 24x24 patches unpadded + one newline per row: 576 + 2,304 + 48.
    assert image_tokens(PAPER_GRID, 672, 672) == 2928
    assert image_tokens(GRIDS["one tile ([336,336])"], 1024, 768) < image_tokens(PAPER_GRID, 1024, 768) / 2


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["llava-next-mistral-7b", "qwen2.5-vl-7b"])
def test_gpu_benchmark_runs_scaled_down_on_cpu(tmp_path, shape):
    out = tmp_path / "gpu.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "gpu_llava_next.py"), "--tiny", "--steps", "1", "--shape", shape, "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["shape"] == shape
    assert [r["gradient_checkpointing"] for r in report["training"]] == [False, True]
    assert report["generation"]["decode_tokens_per_s"] > 0


@pytest.mark.slow
def test_perf_harness_times_phases_and_rates_of_a_demo_erase():
    from forgetctl.benchmarks.performance import erase_once

    run = erase_once()
    assert set(run["timings_s"]) == {"load", "harvest", "identify", "prepare", "train", "evaluate", "knowledge",
                                     "judge_and_metrics", "total"}
    assert all(v > 0 for v in run["rates"].values())
    # the recipe's 30 steps over the train phase's time
    assert run["rates"]["train_steps_per_s"] == pytest.approx(30 / run["timings_s"]["train"], rel=0.01)
    assert run["memory"] == "RSS" and run["peak_memory_mb"] > 100


def test_the_year_and_bystander_tables_render_every_row_and_say_what_was_not_measured(tmp_path):
    from forgetctl.benchmarks import bystanders, year

    row = {"release": 1, "seconds": 40.0, "verify_seconds": 0.0, "reprobed": 0, "deferred": 0, "earlier_leak_seen": None,
           "earlier_leak_unseen": None, "new_leak": 0.0, "informativeness": 5.0, "retain_drop": 0.0, "canary_drop": None,
           "default_policy": True, "disk_unpruned": {"releases": 2**20, "adapters": 2**20},
           "disk_pruned": {"releases": 2**20, "adapters": 2**20}}
    later = {**row, "release": 2, "seconds": 50.0, "earlier_leak_seen": 0.0, "earlier_leak_unseen": 0.25, "canary_drop": 0.1}
    table = year.to_markdown({"world": "demo", "releases": 2, "reprobe_every": 5, "keep_earlier": False, "retain": ["a"],
                              "canaries": ["b"], "rows": [row, later]}, "cmd", 2**20)
    assert "| 1 | 40.0 | 0 / 0 | – / – |" in table and "0% / 25%" in table and "2.0 -> 1.0 + 1.0" in table
    assert "Release 2 took 1.25x the seconds of release 1" in table and "(lineage-year.png)" in table
    chart = tmp_path / "year.png"
    year.to_chart({"rows": [row, later]}, chart)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = {"passed": False, "failed": ["canary_drop_max"], "leak_rate": {"seen": 0.0, "unseen": 0.0},
           "informativeness": {"seen": 5.0, "unseen": None}, "retain_drop": 0.0, "canary_drops": [None, 0.5],
           "relearned": {"10 steps, LoRA": {"seen": {"leak_rate": 0.5}, "unseen": {"leak_rate": 0.0}}, "10 steps, full": {"not_run": "x"}}}
    table = bystanders.to_markdown([{"world": "demo", "learning_rate": 3e-4, "person": "p1", "canaries": ["c1", "c2"],
                                     "lookalike_canaries": ["c1"], "retain": {"unlike": ["r1"]}, "runs": {"unlike": run}}], "cmd")
    assert "learning rate 0.0003" in table and "fail: canary_drop_max" in table
    assert "named as the person, 0.500" in table and "5.0 / n/a" in table and "50% / 0%; not run" in table
