"""`forgetctl erase` under `accelerate launch`, two processes on CPU (gloo): the repo's DDP and
FSDP2 configs, the launcher's own process spawning, and forgetctl's data-parallel and sharded loops."""

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
from forgetctl.fingerprint import directory_hashes
from forgetctl.lineage import Lineage
from forgetctl.prompts import IDENTITY_QUESTIONS
from forgetctl.trail import request_states
from forgetctl.verification import evidence_of, evidence_photos
from forgetctl_audit.store import AuditLog

pytestmark = pytest.mark.slow
CONFIGS = Path(__file__).parent.parent / "configs"
WORLD = load_world()
TARGET = WORLD.known[0]


@pytest.fixture
def request_dir(tmp_path):
    write_views(TARGET, tmp_path / "photos")
    for other in WORLD.unlike(TARGET, 3):
        write_views(other, tmp_path / "retain" / other.id)
    return tmp_path


def launch_erase(request_dir, *options, config="accelerate-ddp.yaml"):
    """`forgetctl erase` in two processes; ACCELERATE_USE_CPU: the multi-GPU launcher's processes
    run on CPU and join over gloo."""
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}
    command = [
        str(Path(sys.executable).parent / "accelerate"), "launch", "--config_file", str(CONFIGS / config), "--num_processes", "2",
        "-m", "forgetctl", "erase", "--entity", TARGET.name, "--images", str(request_dir / "photos"),
        "--retain", str(request_dir / "retain"), *options,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def test_a_batch_that_does_not_split_is_refused_before_any_work(request_dir, forgetctl_home):
    done = launch_erase(request_dir, "--batch-size", "3")
    assert done.returncode != 0
    assert "--batch-size 3 does not split over 2 processes" in done.stderr
    assert not any(forgetctl_home.rglob("*"))  # no run, no audit record, no keys


@pytest.mark.parametrize("config", ["accelerate-ddp.yaml", "accelerate-fsdp2.yaml"])
def test_erase_runs_in_two_processes(request_dir, forgetctl_home, config):
    # Two micro-batches of 4 per step: still 8 examples a step, and DDP's no_sync (FSDP2's
    # gradient sync switched off) in use.
    done = launch_erase(request_dir, "--batch-size", "4", "--grad-accum", "2", config=config)
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
    assert erasure["body"]["manifest"]["training"]["sharded"] == (config == "accelerate-fsdp2.yaml")

    # Each process answered half of the post-erasure probes with its own copy of the trained
    # model; the one saved adapter reproduces all of them only if the processes trained in sync.
    evidence = evidence_of(log, request_id, erasure)
    release, = [v for v in Lineage.from_log(log).versions.values() if v.run == runs[0].name]
    log.close()
    # The release on disk is the one signed; a sharded run's is merged from the files on CPU.
    assert directory_hashes(Path(release.path)) == release.files
    assert release.adapter["device"] == "cpu"
    probes = [p for split in evidence["probes"].values() for p in split]
    photos = evidence_photos(probes)
    reloaded = load_model(demo_model_dir(), device="cpu")
    reloaded.model = PeftModel.from_pretrained(reloaded.model, runs[0] / "adapter").eval()
    assert ask(reloaded, photos, IDENTITY_QUESTIONS) == [p["after"] for p in probes]
    assert not any(TARGET.name in a for p in probes for a in p["after"])
