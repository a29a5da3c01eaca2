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
def test_gpu_benchmark_runs_scaled_down_on_cpu(tmp_path):
    out = tmp_path / "gpu.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "gpu_llava_next.py"), "--tiny", "--steps", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
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
