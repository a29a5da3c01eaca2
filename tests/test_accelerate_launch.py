"""`forgetctl erase` under `accelerate launch`, two processes on CPU (gloo): the repo's DDP config,
the launcher's own process spawning, and forgetctl's sharding and data-parallel loop."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from peft import PeftModel

from forgetctl.demo import demo_model_dir
from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import load_world
from forgetctl.engine.generation import ask
from forgetctl.engine.loading import load_model
from forgetctl.prompts import IDENTITY_QUESTIONS
from forgetctl.trail import request_states
from forgetctl.verification import evidence_of, evidence_photos
from forgetctl_audit.store import AuditLog

pytestmark = pytest.mark.slow
CONFIG = Path(__file__).parent.parent / "configs" / "accelerate-ddp.yaml"
WORLD = load_world()
TARGET = WORLD.known[0]


@pytest.fixture
def request_dir(tmp_path):
    write_views(TARGET, tmp_path / "photos")
    for other in WORLD.unlike(TARGET, 3):
        write_views(other, tmp_path / "retain" / other.id)
    return tmp_path


def launch_erase(request_dir, *options):
    """`forgetctl erase` in two processes; ACCELERATE_USE_CPU: the multi-GPU launcher's processes
    run on CPU and join over gloo."""
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}
    command = [
        str(Path(sys.executable).parent / "accelerate"), "launch", "--config_file", str(CONFIG), "--num_processes", "2",
        "-m", "forgetctl", "erase", "--entity", TARGET.name, "--images", str(request_dir / "photos"),
        "--retain", str(request_dir / "retain"), *options,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def test_a_batch_that_does_not_split_is_refused_before_any_work(request_dir, forgetctl_home):
    done = launch_erase(request_dir, "--batch-size", "3")
    assert done.returncode != 0
    assert "--batch-size 3 does not split over 2 processes" in done.stderr
    assert not any(forgetctl_home.rglob("*"))  # no run, no audit record, no keys


def test_erase_runs_data_parallel_in_two_processes(request_dir, forgetctl_home):
    # Two micro-batches of 4 per step: still 8 examples a step, and DDP's no_sync in use.
    done = launch_erase(request_dir, "--batch-size", "4", "--grad-accum", "2")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("Policy default: PASSED") == 1  # only the main process reports

    runs = list((forgetctl_home / "runs").iterdir())
    assert len(runs) == 1  # and only it writes
    log = AuditLog(forgetctl_home)
    (request_id, state), = request_states(log).items()
    (records,) = state["runs"].values()
    erasure = records[-1]
    assert [r["kind"] for r in records] == ["run-started", "erasure"]
    assert erasure["body"]["manifest"]["training"]["processes"] == 2

    # Each process answered half of the post-erasure probes with its own copy of the trained
    # model; the one saved adapter reproduces all of them only if the processes trained in sync.
    evidence = evidence_of(log, request_id, erasure)
    log.close()
    probes = [p for split in evidence["probes"].values() for p in split]
    photos = evidence_photos(probes)
    reloaded = load_model(demo_model_dir(), device="cpu")
    reloaded.model = PeftModel.from_pretrained(reloaded.model, runs[0] / "adapter").eval()
    assert ask(reloaded, photos, IDENTITY_QUESTIONS) == [p["after"] for p in probes]
    assert not any(TARGET.name in a for p in probes for a in p["after"])
