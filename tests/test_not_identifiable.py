"""A stranger's photos are not an erasure: the base model never identified them, so nothing is
trained, released or recorded as erased (exit 4); a known person still erases. Through the CLI on
both test worlds."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forgetctl.cli import app
from forgetctl.demo import demo_model_dir
from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import load_world
from forgetctl.errors import ExitCode
from forgetctl_audit.store import AuditLog
from second_world import MODEL_DIR as SECOND_MODEL
from second_world import as_test_world

pytestmark = [pytest.mark.slow, pytest.mark.verdict]
runner = CliRunner()
DEMO = load_world()


def erase(home, *args):
    return runner.invoke(app, ["erase", *map(str, args)], env={"FORGETCTL_HOME": str(home), "COLUMNS": "80"})


def outcomes(home) -> dict[str, list[dict]]:
    log = AuditLog(home, readonly=True)
    try:
        found: dict[str, list[dict]] = {}
        for record in log.records():
            if record["kind"] not in ("request", "run-started") and record["request_id"]:
                found.setdefault(record["request_id"], []).append(record)
        return found
    finally:
        log.close()


@pytest.mark.parametrize("world", ["demo", "second"])
def test_a_strangers_photos_give_not_identifiable_with_no_adapter_and_no_release(world, tmp_path):
    home = tmp_path / "home"
    if world == "demo":
        write_views(DEMO.strangers[0], tmp_path / "stranger")
        model = demo_model_dir()
    else:
        as_test_world()  # the world's drawing of someone it never trained on
        from second_world.drawing import write_views as draw
        from second_world.world import load_world as load_second

        draw(load_second().strangers[0], tmp_path / "stranger")
        model = SECOND_MODEL
    result = erase(home, "--entity", "Ulrich Nobody", "--images", tmp_path / "stranger", "--model", model)
    assert result.exit_code == ExitCode.NOT_IDENTIFIABLE, result.output[-3000:]
    said = " ".join(result.output.split())
    assert "did not identify Ulrich Nobody on these photos; nothing was changed" in said
    assert not (home / "runs").exists() and not (home / "releases").exists()
    (records,) = outcomes(home).values()
    (outcome,) = records
    assert outcome["kind"] == "not-identifiable" and outcome["body"]["identification"]["verdict"] == "not identified"
    assert outcome["body"]["identification"]["asked"] > 0 and outcome["body"]["identification"]["control_asked"] > 0
    listed = runner.invoke(app, ["audit", "list", "--json"], env={"FORGETCTL_HOME": str(home)})
    row = json.loads(listed.output.splitlines()[0])
    assert row["state"] == "not identified" and row["days_left"] is None  # no deadline clock left running
    report = tmp_path / "report.json"
    exported = runner.invoke(app, ["audit", "export", outcome["request_id"], "--format", "json", "--out", str(report)],
                             env={"FORGETCTL_HOME": str(home)})
    assert exported.exit_code == 0, exported.output
    assert "the model did not identify this person on these photos" in json.loads(report.read_text())["summary"]
    pin = json.loads(report.read_text())["root_fingerprint"]
    checked = subprocess.run([sys.executable, str(Path("audit/standalone_verify.py").resolve()), str(report), "--pin", pin],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_in_a_batch_the_stranger_is_left_out_and_the_known_person_erased(tmp_path):
    home = tmp_path / "home"
    known = DEMO.known[0]
    write_views(known, tmp_path / "known")
    write_views(DEMO.strangers[1], tmp_path / "stranger")
    result = erase(home, "--entity", known.name, "--images", tmp_path / "known", "--entity", "Ulrich Nobody",
                   "--images", tmp_path / "stranger", "--no-release")
    said = " ".join(result.output.split())
    assert "left out of this erasure: Ulrich Nobody" in said, result.output[-3000:]
    kinds = {rid: [r["kind"] for r in records] for rid, records in outcomes(home).items()}
    assert sorted(k for ks in kinds.values() for k in ks if k == "not-identifiable") == ["not-identifiable"]
    erased = next(records for records in outcomes(home).values() if records[0]["kind"] != "not-identifiable")
    (found,) = erased[-1]["body"]["identification"].values()
    assert found["verdict"] == "identified" and found["leaks"] > 0
    assert result.exit_code == (0 if erased[-1]["kind"] == "erasure" else ExitCode.CHECK_FAILED)


def test_force_trains_a_stranger_anyway_and_the_record_says_so(tmp_path):
    home = tmp_path / "home"
    write_views(DEMO.strangers[2], tmp_path / "stranger")
    result = erase(home, "--entity", "Ulrich Nobody", "--images", tmp_path / "stranger", "--force", "--steps", "2",
                   "--no-release")
    assert result.exit_code in (0, ExitCode.CHECK_FAILED), result.output[-3000:]
    assert "--force: Ulrich Nobody was erased although the model did not identify them" in " ".join(result.output.split())
    (records,) = outcomes(home).values()
    (found,) = records[-1]["body"]["identification"].values()
    assert found["verdict"] == "not identified" and (home / "runs").is_dir()
