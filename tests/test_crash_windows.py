"""Crash windows: a process killed at the worst moment leaves a state that says what it is, and
the next command finishes the job or flags it. Each test kills a real process (SIGKILL) or
performs the edit an attacker who can write FORGETCTL_HOME would make."""

import os
import signal
import sqlite3
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from forgetctl.cli import app
from forgetctl.errors import AuditError
from forgetctl_audit.store import AuditLog

runner = CliRunner()

# Shred, killed (SIGKILL, no cleanup) right after its transaction committed, before the key share
# is destroyed: the worst moment of the old order, where the share survived and no record said so.
KILLED_SHRED = """
import os, signal, sys
from pathlib import Path
from forgetctl_audit.evidence import Vault
from forgetctl_audit.store import AuditLog
log = AuditLog(Path(sys.argv[1]))
Vault.finish_shreds = lambda self, checkpoint=False: os.kill(os.getpid(), signal.SIGKILL)
log.shred(sys.argv[2])
"""


def evidenced_request(log, request_id="req-a"):
    log.append("request", request_id, {"subject": log.subject_hash("Rowan Rookwood")})
    log.append("erasure", request_id, {"run": "r1"}, evidence={"probes": {"seen": [{"before": ["This is Rowan."]}]}})


def test_a_shred_killed_after_its_record_says_shredded_and_the_next_writer_finishes_it(log, forgetctl_home):
    evidenced_request(log)
    share = log.keyring.share_path("req-a")
    assert share.exists()
    killed = subprocess.run([sys.executable, "-c", KILLED_SHRED, str(forgetctl_home), "req-a"])
    assert killed.returncode == -signal.SIGKILL
    readonly = AuditLog(forgetctl_home, readonly=True)
    try:
        assert readonly.is_shredded("req-a") and readonly.evidence("req-a", "2:probes") is None
        report = readonly.verify()  # the state says what it is: shredded, but not finished
        assert not report.ok and "did not finish" in " ".join(report.problems)
    finally:
        readonly.close()
    # No wrapped key is left in the database file the crash left behind.
    conn = sqlite3.connect(forgetctl_home / "audit.db")
    assert conn.execute("SELECT wrapped_key FROM data_keys WHERE request_id = 'req-a'").fetchone() == (None,)
    conn.close()
    again = runner.invoke(app, ["audit", "shred", "req-a", "--yes"])
    assert again.exit_code == 0 and "already shredded" in again.output
    assert not share.exists()
    fresh = AuditLog(forgetctl_home)
    assert fresh.verify().ok
    fresh.close()


def test_deleting_a_shred_tombstone_is_caught_and_lets_no_evidence_in(log):
    evidenced_request(log)
    log.shred("req-a")
    log.db.execute("DELETE FROM data_keys WHERE request_id = 'req-a'")
    report = log.verify()
    assert not report.ok and "tombstone was deleted" in " ".join(report.problems)
    assert log.is_shredded("req-a")  # the signed record alone still says so
    with pytest.raises(AuditError, match="shredded"):
        log.append("verification", "req-a", {"still_forgotten": True}, evidence={"answers": ["x"]})


def test_a_tombstone_without_its_signed_record_is_flagged(log):
    evidenced_request(log)
    log.db.execute("UPDATE data_keys SET nonce = NULL, wrapped_key = NULL, shredded = '2026-12-01' WHERE request_id = 'req-a'")
    report = log.verify()
    assert not report.ok and "no signed shred record" in " ".join(report.problems)


def test_deleting_the_newest_records_and_the_stored_heads_is_caught_by_the_head_kept_beside(log, forgetctl_home, monkeypatch):
    evidenced_request(log)
    log.append("verification", "req-a", {"still_forgotten": False})
    log.sign_tree_head()
    assert (forgetctl_home / "tree-head.json").is_file()
    log.db.execute("DELETE FROM records WHERE seq = (SELECT MAX(seq) FROM records)")
    log.db.execute("DELETE FROM tree_heads")
    report = log.verify()
    assert not report.ok and "tree-head.json covers" in report.problems[-1]
    # Delete that file too and only a head kept elsewhere can tell: plain verify says it had none.
    (forgetctl_home / "tree-head.json").unlink()
    monkeypatch.setenv("COLUMNS", "200")
    plain = runner.invoke(app, ["verify"])
    assert plain.exit_code == 0
    assert "No tree head of your own" in plain.output and "--against" in plain.output


def test_a_signed_head_is_kept_beside_the_database_and_only_ever_grows(log, forgetctl_home):
    import base64
    import json

    evidenced_request(log)
    log.sign_tree_head()
    log.append("verification", "req-a", {"still_forgotten": True})
    log.sign_tree_head()
    kept = json.loads((forgetctl_home / "tree-head.json").read_text())
    assert json.loads(base64.b64decode(kept["payload"]))["size"] == 4
    assert not any(p.name.endswith(".partial") for p in forgetctl_home.iterdir())
    assert os.stat(forgetctl_home / "tree-head.json").st_size > 0 and log.verify().ok


def test_an_erasure_that_names_a_release_without_its_record_fails_verify(log, monkeypatch):
    log.append("request", "req-a", {"subject": log.subject_hash("Rowan Rookwood")})
    log.append("erasure", "req-a", {"run": "r1", "merged_model": "/srv/releases/r1"})
    log.close()
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 3
    assert "names a release, but no release record of its run exists" in result.output


# An erasure killed (SIGKILL) after its release was merged, before the outcome and release records
# (which land together) were written.
KILLED_BEFORE_RECORDING = """
import os, signal, sys
from pathlib import Path
import forgetctl.pipeline as pipeline
from forgetctl.demo import demo_model_dir
from forgetctl.request import PersonForm, RequestForm, validate
from forgetctl.types import TrainingConfig
home, photos, policy = map(Path, sys.argv[1:4])
pipeline.record_result = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
form = RequestForm([PersonForm(sys.argv[4], photos)], policy=str(policy), training=TrainingConfig(steps=1, watch_every=0))
pipeline.run_request(validate(form, default_model=demo_model_dir(), home=home), home)
"""


@pytest.mark.slow
def test_an_erasure_killed_after_merging_says_nothing_was_released(forgetctl_home, tmp_path, monkeypatch):
    from forgetctl.demo.portraits import write_views
    from forgetctl.demo.world import load_world

    person = load_world().known[3]
    write_views(person, tmp_path / "photos")
    lenient = tmp_path / "lenient.toml"
    lenient.write_text("[thresholds]\nleak_rate_max = 1.0\nname_leak_rate_max = 1.0\nusr_min = 0.0\n"
                       "[judge]\ninconclusive_fails = false\n")
    killed = subprocess.run([sys.executable, "-c", KILLED_BEFORE_RECORDING, str(forgetctl_home), str(tmp_path / "photos"),
                             str(lenient), person.name], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert any((forgetctl_home / "releases").iterdir())  # it had merged
    log = AuditLog(forgetctl_home, readonly=True)
    kinds = [r["kind"] for r in log.records()]
    log.close()
    assert "erasure" not in kinds and "release" not in kinds and kinds[-1] == "run-started"
    monkeypatch.setenv("COLUMNS", "200")
    assert runner.invoke(app, ["verify"]).exit_code == 0  # a sound log that says what it is
    listed = runner.invoke(app, ["audit", "list"])
    assert "running or killed" in listed.output
    lineage = runner.invoke(app, ["lineage", "list"])
    assert "No releases yet" in lineage.output and "is not a release" in lineage.output
