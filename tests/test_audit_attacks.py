"""The red-team table of the audit trail, attack by attack: someone who can write to
FORGETCTL_HOME (but does not hold the signing key), and an auditor handed an export. Each test
performs the attack and shows that it is now refused or caught."""

import base64
import hashlib
import json
import shutil
import stat
import subprocess
import sys
from importlib.resources import files

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from forgetctl.cli import app, main
from forgetctl.errors import AuditError
from forgetctl.report import build_report, redact, render, visible_words
from forgetctl_audit.dsse import sign_envelope
from forgetctl_audit.keys import key_id, public_pem
from forgetctl_audit.store import AuditLog, canonical_json

NAME = "Rowan Rookwood"
runner = CliRunner()
SCRIPT = str(files("forgetctl_audit") / "standalone_verify.py")


def erased_request(log, request_id="req-a"):
    """A request with a run, an erasure (with encrypted evidence) and a verification."""
    log.append("request", request_id, {"subject": log.subject_hash(NAME), "received": "2026-11-02",
                                        "deadline": "2026-12-02", "grounds": "Art. 17(1)(b): consent withdrawn"})
    log.append("run-started", request_id, {"run": "r1", "method": "pubg"})
    verdict = {"policy": "default", "passed": True, "checks": []}
    log.append("erasure", request_id, {"run": "r1", "verdict": verdict, "metrics": {request_id: {"seen": {"leak_rate": 0.0}}}},
               evidence={"probes": {"seen": [{"before": [f"This is {NAME}."], "after": ["A person."]}]}})
    log.append("verification", request_id, {"still_forgotten": False, "metrics": {"seen": {"leak_rate": 0.5}}})
    return request_id


def resign(log, seq, key, kid, edit=lambda payload: None):
    """Re-sign record `seq` (and fix the chain after it) with `key`: what someone does who holds
    a key, real or planted."""
    rows = log.db.execute("SELECT seq, envelope FROM records WHERE seq >= ? ORDER BY seq", [seq]).fetchall()
    prev = log.db.execute("SELECT record_hash FROM records WHERE seq = ?", [seq - 1]).fetchone()[0]
    for s, text in rows:
        payload = json.loads(base64.b64decode(json.loads(text)["payload"]))
        payload["prev"] = prev
        if s == seq:
            edit(payload)
        envelope = canonical_json(sign_envelope(canonical_json(payload), key, kid))
        prev = hashlib.sha256(envelope).hexdigest()
        log.db.execute("UPDATE records SET envelope = ?, record_hash = ? WHERE seq = ?", [envelope.decode(), prev, s])


# --- high --------------------------------------------------------------------------------------


def test_a_shredded_request_never_gets_a_new_data_key(log, forgetctl_home, tmp_path, capsys):
    # A run killed before any evidence existed: only the request and run-started records.
    log.append("request", "req-k", {"subject": log.subject_hash(NAME)})
    log.append("run-started", "req-k", {"run": "r1"})
    log.shred("req-k")
    with pytest.raises(AuditError, match="shredded"):
        log.append("erasure", "req-k", {}, evidence={"probes": [NAME]})
    # Deleting the tombstone row does not undo the shred: the signed shred record stands.
    log.db.execute("DELETE FROM data_keys WHERE request_id = 'req-k'")
    with pytest.raises(AuditError, match="shredded"):
        log.append("erasure", "req-k", {}, evidence={"probes": [NAME]})
    # And `erase --request-id` refuses it before any work, leaving no record.
    (tmp_path / "photos").mkdir()
    from PIL import Image

    for i in range(2):
        Image.new("RGB", (64, 64), "red").save(tmp_path / "photos" / f"{i}.png")
    before = len(log.records())
    with pytest.raises(SystemExit) as exit_info:
        main(["erase", "--entity", NAME, "--images", str(tmp_path / "photos"), "--request-id", "req-k"])
    assert exit_info.value.code == 1 and "was shredded" in capsys.readouterr().err
    assert len(log.records()) == before and not (forgetctl_home / "runs").exists()


def test_a_planted_public_key_cannot_sign_records(log, forgetctl_home, tmp_path):
    request_id = erased_request(log)
    head = log.sign_tree_head()
    (tmp_path / "head.json").write_text(json.dumps(head))
    rogue = Ed25519PrivateKey.generate()
    (forgetctl_home / "keys" / "public" / f"{key_id(rogue.public_key())}.pem").write_bytes(public_pem(rogue.public_key()))
    # Hide the failed verification: re-sign it as still forgotten with the planted key.
    resign(log, 5, rogue, key_id(rogue.public_key()), lambda p: p["body"].update(still_forgotten=True))
    for against in (None, head):
        report = log.verify(against=against)
        assert not report.ok and report.first_bad_seq == 5 and "not the log's active key" in report.problems[0]
    # Nothing signs over the forged log: not a tree head, not an export.
    with pytest.raises(AuditError, match="does not verify"):
        log.sign_tree_head()
    with pytest.raises(AuditError, match="does not verify"):
        build_report(log, request_id)
    assert runner.invoke(app, ["audit", "head", "--out", str(tmp_path / "h2.json")]).exit_code == 1
    assert not (tmp_path / "h2.json").exists()


# --- medium ------------------------------------------------------------------------------------


def test_deleting_the_last_record_is_caught_by_the_stored_tree_head(log):
    erased_request(log)
    log.sign_tree_head()
    log.db.execute("DELETE FROM records WHERE seq = (SELECT MAX(seq) FROM records)")
    report = log.verify()
    assert not report.ok and "records were deleted" in report.problems[-1]


def test_editing_the_unsigned_request_id_column_hides_nothing(log):
    request_id = erased_request(log)
    log.db.execute("UPDATE records SET request_id = 'req-other' WHERE seq = 5")
    # Selection follows the signed payload: the failed verification stays with its request...
    assert [r["kind"] for r in log.records(request_id)][-1] == "verification"
    report = build_report_unverified(log, request_id)
    assert report["verifications"][0]["still_forgotten"] is False
    # ...and verify names the edited columns.
    result = log.verify()
    assert not result.ok and "columns beside the envelope were edited" in result.problems[0]


def build_report_unverified(log, request_id):
    from forgetctl_audit.report_statements import verification_view

    return {"verifications": [verification_view(r) for r in log.records(request_id) if r["kind"] == "verification"]}


def exported(log, request_id, tmp_path, fmt="json", old_head=None):
    report = build_report(log, request_id, old_head)
    path = tmp_path / f"report.{fmt}"
    path.write_text(render(report, fmt))
    return report, path


def standalone(path, *args):
    return subprocess.run([sys.executable, "-I", SCRIPT, str(path), *map(str, args)], capture_output=True, text=True)


def test_an_auditor_checks_an_export_alone_with_a_pinned_root(log, tmp_path):
    request_id = erased_request(log)
    old = log.sign_tree_head()
    (tmp_path / "old.json").write_text(json.dumps(old))
    log.append("verification", request_id, {"still_forgotten": True, "metrics": {"seen": {"leak_rate": 0.0}}})
    report, path = exported(log, request_id, tmp_path, old_head=old)
    pin = log.root_fingerprint()
    ok = standalone(path, "--pin", pin, "--since", tmp_path / "old.json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert request_id in ok.stdout and "IDENTIFIABLE AGAIN" in ok.stdout and "extends your head" in ok.stdout
    assert len(report["bundle"]["records"]) == len(log.records(request_id)) + 1  # every record, and the root key
    # A report pinned to another root fails: the auditor never takes keys from the bundle.
    assert "not the fingerprint you pinned" in standalone(path, "--pin", "0" * 64).stdout + standalone(path, "--pin", "0" * 64).stderr


def test_the_auditors_script_runs_its_own_statements_beside_it(log, tmp_path):
    """The two files copied out of the page's appendix check the page; the statements that run
    are the copy beside the script (an edited copy fails the report), never an installed one."""
    import html as markup

    request_id = erased_request(log)
    _, path = exported(log, request_id, tmp_path, fmt="html")
    pin = log.root_fingerprint()
    auditor = tmp_path / "auditor"
    auditor.mkdir()
    page = path.read_text()
    for name in ("standalone_verify.py", "report_statements.py"):
        start = page.index(f"<h3>{name}</h3><pre>") + len(f"<h3>{name}</h3><pre>")
        (auditor / name).write_text(markup.unescape(page[start:page.index("</pre>", start)]))

    def run():
        return subprocess.run([sys.executable, "-I", str(auditor / "standalone_verify.py"), str(path), "--pin", pin],
                              capture_output=True, text=True, cwd=tmp_path)

    ok = run()
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr
    statements = auditor / "report_statements.py"
    statements.write_text(statements.read_text().replace("IDENTIFIABLE AGAIN", "still forgotten"))
    edited = run()
    assert edited.returncode != 0 and "is not what the signed records say" in edited.stdout + edited.stderr
    statements.unlink()
    alone = run()
    assert alone.returncode != 0 and "report_statements.py is not beside this script" in alone.stderr


def test_a_report_of_another_format_is_sent_to_the_script_it_carries(log, tmp_path):
    """Derivations change between versions: an older report is never failed as if edited."""
    from forgetctl_audit.report_statements import FORMAT

    request_id = erased_request(log)
    report, path = exported(log, request_id, tmp_path)
    path.write_text(json.dumps({**report, "format": FORMAT - 1}))
    older = standalone(path, "--pin", log.root_fingerprint())
    assert older.returncode != 0
    assert f"this script checks reports of format {FORMAT}; use the script embedded in the report itself" in older.stderr


def drop_from_bundle(report, kind):
    """Leave a record out of both the report's records and its bundle (proofs and all)."""
    seq = next(r["seq"] for r in report["records"] if r["kind"] == kind)
    report["records"] = [r for r in report["records"] if r["seq"] != seq]
    report["bundle"]["records"] = [i for i in report["bundle"]["records"] if i["index"] != seq - 1]
    report["verifications"] = [v for v in report["verifications"] if v["seq"] != seq]


EDITS = {
    "verdict": lambda r: r["runs"][0]["verdict"].update(passed=not r["runs"][0]["verdict"]["passed"]),
    "metrics": lambda r: r["runs"][0]["metrics"]["seen"].update(leak_rate=0.25),
    "received": lambda r: r["request"].update(received="2026-11-20"),
    "verification": lambda r: r["verifications"][0].update(still_forgotten=True),
    "record": lambda r: r.update(records=r["records"][:-1]),
    "summary": lambda r: r.update(summary="Request req-a was erased; the latest check found it still forgotten."),
    "residual risk": lambda r: r.update(residual_risk=r["residual_risk"][-1:]),
    "evidence state": lambda r: r.update(evidence="shredded: the data key was destroyed"),
    "root fingerprint": lambda r: r.update(root_fingerprint="0" * 64),
    "verification dropped from the view": lambda r: r.update(verifications=[]),
    "unsigned note": lambda r: r["verifications"][0].update(note="a test of the base model, not a finding"),
    "tested edited": lambda r: r["verifications"][0].update(tested={"carries_erasure": False}),
    "fabricated run": lambda r: r["runs"].append({**r["runs"][0], "run": "r2", "outcome_record": None, "status": "erasure"}),
    "a field nobody signed": lambda r: r.update(auditor_note="all fine"),
    "verification left out of records and bundle": lambda r: drop_from_bundle(r, "verification"),
    "export record left out": lambda r: drop_from_bundle(r, "export"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_export_no_longer_verifies(log, tmp_path, edit):
    request_id = erased_request(log)
    report, path = exported(log, request_id, tmp_path)
    pin = log.root_fingerprint()
    assert standalone(path, "--pin", pin).returncode == 0
    EDITS[edit](report)
    path.write_text(json.dumps(report))
    checked = standalone(path, "--pin", pin)
    assert checked.returncode != 0 and "FAIL" in checked.stdout + checked.stderr, edit


def test_an_html_page_whose_visible_text_was_edited_fails_and_says_what_is_authoritative(log, tmp_path):
    request_id = erased_request(log)
    _, path = exported(log, request_id, tmp_path, fmt="html")
    pin = log.root_fingerprint()
    page = path.read_text()
    ok = standalone(path, "--pin", pin)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "This printout is authoritative" in ok.stdout and "IDENTIFIABLE AGAIN" in ok.stdout
    first_lines = page[page.index("<h1>"):][:600]
    assert "Only the printout of standalone_verify.py" in first_lines
    summary = page[page.index('id="summary">') + 13:page.index("</p>", page.index('id="summary">'))]
    # Only what a reader sees (the first occurrence); the embedded JSON stays genuine.
    for edited in (page.replace(summary, "Request req-a was erased and remains forgotten.", 1),
                   page.replace("The latest re-probe found the person identifiable again", "Nothing remains", 1)):
        assert edited != page
        path.write_text(edited)
        checked = standalone(path, "--pin", pin)
        assert checked.returncode != 0 and "this page shows is not" in checked.stdout + checked.stderr


def test_the_verifier_reads_run_outcomes_as_forgetctl_records_them():
    from forgetctl.trail import Outcome
    from forgetctl_audit.report_statements import OUTCOMES

    assert tuple(Outcome) == OUTCOMES


def test_a_backup_from_before_a_shred_cannot_read_the_evidence(log, forgetctl_home, tmp_path):
    request_id = erased_request(log)
    evidence_id = log.records(request_id)[2]["evidence"][0]["id"]
    log.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backup = tmp_path / "backup"
    shutil.copytree(forgetctl_home, backup)  # database and keys, taken before the shred
    shutil.rmtree(backup / "keys" / "requests")  # ...following SECURITY.md: shares are never backed up
    log.shred(request_id)
    # The live home: gone. The backup with the unchanged master key: still no way in.
    assert log.evidence(request_id, evidence_id) is None
    restored = AuditLog(backup)
    with pytest.raises(AuditError, match="key share .* is missing"):
        restored.evidence(request_id, evidence_id)
    restored.close()
    # Nor by putting the old database back under the live keys.
    log.close()
    shutil.copy(backup / "audit.db", forgetctl_home / "audit.db")
    for suffix in ("-wal", "-shm"):
        (forgetctl_home / f"audit.db{suffix}").unlink(missing_ok=True)
    again = AuditLog(forgetctl_home)
    with pytest.raises(AuditError, match="key share .* is missing"):
        again.evidence(request_id, evidence_id)
    again.close()


# --- low ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["null", "flip"])
def test_a_damaged_data_key_is_reported_not_a_traceback(log, forgetctl_home, damage, capsys):
    request_id = erased_request(log)
    if damage == "null":
        log.db.execute("UPDATE data_keys SET wrapped_key = NULL WHERE request_id = ?", [request_id])
    else:
        wrapped = bytearray(log.db.execute("SELECT wrapped_key FROM data_keys").fetchone()[0])
        wrapped[3] ^= 1
        log.db.execute("UPDATE data_keys SET wrapped_key = ? WHERE request_id = ?", [bytes(wrapped), request_id])
    report = log.verify()
    assert not report.ok and f"data key of {request_id}" in report.problems[-1]
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "show", request_id])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 1 and len(err.splitlines()) == 1 and f"data key of {request_id}" in err


def test_after_rotation_the_old_key_is_gone_and_cannot_sign(log, forgetctl_home):
    erased_request(log)
    old_kid, old_key = log.keyring.signing_key()
    log.rotate_key(None)
    assert not (forgetctl_home / "keys" / "signing" / f"{old_kid}.pem").exists()
    log.append("verification", "req-a", {"still_forgotten": True, "metrics": {}})
    assert log.verify().ok
    # A copy of the old key, kept by someone: what it signs after the rotation does not verify.
    resign(log, len(log.records()), old_key, old_kid)
    report = log.verify()
    assert not report.ok and "not the log's active key" in report.problems[0]


def test_request_ids_are_a_safe_alphabet_everywhere(log, capsys):
    markup = "[link=http://evil]x[/link]\x1b[8m"
    with pytest.raises(AuditError, match="not valid"):
        log.append("request", markup, {})
    for command in (["audit", "show", markup], ["audit", "shred", markup, "--yes"]):
        with pytest.raises(SystemExit) as exit_info:
            main(command)
        assert exit_info.value.code == 1 and "not valid" in capsys.readouterr().err
    erased_request(log)
    assert runner.invoke(app, ["audit", "list"]).exit_code == 0


def test_redaction_hides_words_in_every_script():
    described = "A person with grey hair wearing an orange shirt, in front of a pink background."
    allowed = visible_words({"seen": [{"reference": described + " Born in a town."}]}, {}, "José Müller")
    assert redact("José Müller, born in Zürich", allowed) == "█████ █████, born in █████"
    assert "Иван" not in redact("Это Иван Петров", allowed) and "北京" not in redact("他住在北京", allowed)
    assert redact(described, allowed) == described


def test_records_and_files_hold_no_plain_photo_hash_or_requester_ref_and_are_private(forgetctl_home, tmp_path):
    from forgetctl.request import RecordOptions
    from forgetctl.trail import open_log, record_request

    log = open_log(forgetctl_home)
    record_request(log, NAME, RecordOptions(grounds="b", requester_ref="DPO-2026-113"))
    photo_sha = hashlib.sha256(b"photo bytes").hexdigest()
    log.append("erasure", log.records()[-1]["request_id"], {"manifest": {"entities": [{"seen": [log.photo_id(photo_sha)]}]}})
    log.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    log.close()
    for path in forgetctl_home.rglob("*"):
        if path.is_file():
            assert b"DPO-2026-113" not in path.read_bytes() and photo_sha.encode() not in path.read_bytes(), path
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        else:
            assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


def test_export_never_follows_a_planted_temporary_path(log, tmp_path, forgetctl_home, monkeypatch):
    request_id = erased_request(log)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "report.json"
    (tmp_path / "report.json.partial").symlink_to(victim)  # where the old exporter wrote first
    result = runner.invoke(app, ["audit", "export", request_id, "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "keep me" and json.loads(out.read_text())["request_id"] == request_id
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.json.")]


@pytest.mark.parametrize("edit", ["extra field", "extra signature"])
def test_only_canonical_envelopes_verify(log, edit):
    erased_request(log)
    seq = len(log.records())
    envelope = json.loads(log.db.execute("SELECT envelope FROM records WHERE seq = ?", [seq]).fetchone()[0])
    if edit == "extra field":
        envelope["note"] = "added later"
    else:
        envelope["signatures"].append({"keyid": "bogus", "sig": envelope["signatures"][0]["sig"]})
    text = canonical_json(envelope)
    log.db.execute("UPDATE records SET envelope = ?, record_hash = ? WHERE seq = ?", [text.decode(), hashlib.sha256(text).hexdigest(), seq])
    report = log.verify()
    assert not report.ok and report.first_bad_seq == seq
