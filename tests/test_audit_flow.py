"""The audit trail end to end through the CLI: erase, list, export, verify, re-probe, shred."""

import json
import re
import stat
import subprocess
import sys
from importlib.resources import files

import pytest
from typer.testing import CliRunner

from forgetctl.cli import app
from forgetctl.demo import demo_model_dir
from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import load_world

runner = CliRunner()
PERSON = load_world().known[5]
# (Not the birth year: four digits turn up by chance in the many hex hashes a log holds.)
SECRETS = [PERSON.name, *PERSON.name.split(), PERSON.birthplace, PERSON.award, PERSON.profession]


def cli(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.output


def test_keys_lifecycle(forgetctl_home, tmp_path):
    out = cli("keys", "init")
    assert "Created signing key" in out and "Root fingerprint" in out
    first = cli("keys", "show")
    assert "active (root)" in first
    cli("keys", "init", code=1)  # refuses to overwrite
    private = next((forgetctl_home / "keys" / "signing").glob("*.pem"))
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    cli("keys", "rotate")
    shown = cli("keys", "show")
    assert shown.count("retired") == 1 and shown.count("active") == 1
    # The rotated-out private key is gone: nothing can sign as it again.
    assert not private.exists() and len(list((forgetctl_home / "keys" / "signing").glob("*.pem"))) == 1


def test_passphrase_protected_key_stays_protected_across_rotation(forgetctl_home, monkeypatch):
    monkeypatch.setenv("FORGETCTL_KEY_PASSPHRASE", "correct horse")
    cli("keys", "init", "--passphrase")
    pem = next((forgetctl_home / "keys" / "signing").glob("*.pem")).read_text()
    assert "ENCRYPTED" in pem
    from forgetctl_audit.keys import Keyring

    ring = Keyring(forgetctl_home / "keys")
    monkeypatch.setenv("FORGETCTL_KEY_PASSPHRASE", "wrong")
    with pytest.raises(Exception, match="wrong passphrase"):
        ring.signing_key()
    monkeypatch.delenv("FORGETCTL_KEY_PASSPHRASE")
    with pytest.raises(Exception, match="passphrase-protected"):
        ring.signing_key()
    monkeypatch.setenv("FORGETCTL_KEY_PASSPHRASE", "correct horse")
    refused = runner.invoke(app, ["keys", "rotate"])  # never silently unprotected
    assert refused.exit_code == 1 and "rotate with --passphrase" in str(refused.exception)
    cli("keys", "rotate", "--passphrase")
    assert "ENCRYPTED" in next((forgetctl_home / "keys" / "signing").glob("*.pem")).read_text()


@pytest.mark.slow
@pytest.mark.verdict
def test_erase_is_recorded_reported_verified_and_shredded(forgetctl_home, tmp_path):
    write_views(PERSON, tmp_path / "photos")
    for other in load_world().known[6:8]:
        write_views(other, tmp_path / "retain" / other.id)
    out = cli(
        "erase", "--entity", PERSON.name, "--images", tmp_path / "photos", "--retain", tmp_path / "retain",
        "--grounds", "b", "--received", "2026-11-02", "--requester-ref", "TICKET-42",
    )
    request_id = re.search(r"request (req-[0-9a-f]+)", out).group(1)
    run_dir = next((forgetctl_home / "runs").iterdir())

    listing = cli("audit", "list")
    assert request_id in listing and "erasure" in listing and "2026-12-02" in listing  # Art. 12(3) deadline
    cli("audit", "head", "--out", tmp_path / "head.json")
    assert "OK" in cli("verify", "--against", tmp_path / "head.json")

    reprobe = cli("verify", "--model", demo_model_dir(), "--adapter", run_dir / "adapter")
    assert request_id in reprobe and "yes" in reprobe

    for fmt in ("json", "html"):
        cli("audit", "export", request_id, "--format", fmt, "--out", tmp_path / f"report.{fmt}")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["request"]["grounds"].startswith("Art. 17(1)(b)") and report["request"]["requester_ref_hash"]
    assert "TICKET-42" not in (tmp_path / "report.json").read_text()  # the reference itself stays encrypted evidence
    assert report["runs"][0]["status"] == "erasure" and report["runs"][0]["examples"]
    assert report["verifications"][0]["still_forgotten"] is True
    assert report["summary"].startswith(f"Request {request_id} (received 2026-11-02") and "was erased on" in report["summary"]
    html = (tmp_path / "report.html").read_text()
    assert "standalone_verify.py" in html and "forgetctl-report" in html

    # The standalone script verifies both exports with nothing but `cryptography` and the pinned root.
    pin = report["root_fingerprint"]
    script = str(files("forgetctl_audit") / "standalone_verify.py")
    for exported in ("report.json", "report.html"):
        checked = subprocess.run([sys.executable, "-I", script, tmp_path / exported, "--pin", pin], capture_output=True, text=True)
        assert checked.returncode == 0 and checked.stdout.startswith("OK"), checked.stdout + checked.stderr
        assert "erasure" in checked.stdout and "still forgotten" in checked.stdout

    # Shredding: evidence gone, log still verifies against the old head, report still builds.
    cli("audit", "shred", request_id, "--yes")
    assert "shredded" in cli("audit", "show", request_id)
    assert "OK" in cli("verify", "--against", tmp_path / "head.json")
    cli("audit", "export", request_id, "--format", "json", "--out", tmp_path / "after-shred.json")
    checked = subprocess.run([sys.executable, "-I", script, tmp_path / "after-shred.json", "--pin", pin], capture_output=True, text=True)
    assert checked.returncode == 0 and "Its evidence has been shredded." in checked.stdout, checked.stdout + checked.stderr

    # Nothing the trail wrote holds the person's name or facts in plaintext. A release is a model:
    # it carries the base's tokenizer and side files (a vocabulary may hold a name), never a word
    # the base's same file did not already hold.
    stored = [p for p in forgetctl_home.rglob("*") if p.is_file() and "demo" not in p.parts]
    stored += [tmp_path / "report.json", tmp_path / "report.html", tmp_path / "after-shred.json"]
    release = next((forgetctl_home / "releases").iterdir())
    for path in stored:
        data = path.read_bytes()
        for secret in SECRETS:
            if secret.encode() in data and path.is_relative_to(release):
                assert secret.encode() in (demo_model_dir() / path.relative_to(release)).read_bytes(), (path, secret)
            else:
                assert secret.encode() not in data, (path, secret)


def test_verify_without_a_trail_is_a_clear_error(forgetctl_home):
    result = runner.invoke(app, ["verify"])
    assert result.exit_code != 0
    assert not (forgetctl_home / "audit.db").exists()
    assert not forgetctl_home.exists()  # a refused command creates nothing


def boom_plugin():
    """A method plugin whose loss fails: the run must be recorded as failed, never as an erasure."""
    import types

    from pydantic import Field

    from forgetctl.host.hookspecs import hookimpl
    from forgetctl.methods import MethodOptions, UnlearningMethod

    class Boom(UnlearningMethod):
        name = "boom"

        class Options(MethodOptions):
            error: str = Field("RuntimeError")

        def loss(self, ctx, forget):
            raise {"RuntimeError": RuntimeError, "KeyboardInterrupt": KeyboardInterrupt}[self.options.error]("boom")

    module = types.ModuleType("boom_plugin")
    module.register_methods = hookimpl(lambda register: register(Boom))
    module.register_methods.__name__ = "register_methods"
    return module


@pytest.mark.slow
@pytest.mark.parametrize("error, outcome", [(RuntimeError, "run-failed"), (KeyboardInterrupt, "run-interrupted")])
def test_a_failed_or_interrupted_run_is_recorded_as_such(forgetctl_home, tmp_path, error, outcome):
    from forgetctl_audit.store import AuditLog

    from forgetctl.host.manager import create_host
    from forgetctl.pipeline import run_request
    from forgetctl.request import PersonForm, RequestForm, validate
    from forgetctl.types import TrainingConfig

    person = load_world().known[2]
    write_views(person, tmp_path / "photos")
    host = create_host(load_entry_points=False)
    host.register(boom_plugin(), name="boom-plugin")
    form = RequestForm(
        people=[PersonForm(person.name, tmp_path / "photos")], method="boom",
        method_options={"error": error.__name__}, training=TrainingConfig(steps=2),
    )
    request = validate(form, default_model=demo_model_dir(), host=host)
    with pytest.raises(error):
        run_request(request, forgetctl_home)
    log = AuditLog(forgetctl_home)
    kinds = [r["kind"] for r in log.records()]
    assert kinds == ["key", "request", "run-started", outcome]  # the root key record opens every log
    assert log.records()[-1]["body"]["error"] == error.__name__
    assert log.verify().ok
    log.close()
    assert not (forgetctl_home / "runs").exists()  # no adapter, no half-written run
    if error is KeyboardInterrupt:
        # The request stays open and says so; a retry for the same person continues it.
        listed = CliRunner().invoke(app, ["audit", "list"], env={"COLUMNS": "80"}).output
        assert "interrupted" in listed and "d" in listed
        retry = validate(RequestForm(people=[PersonForm(person.name, tmp_path / "photos")], method="boom",
                                     method_options={"error": "RuntimeError"}, training=TrainingConfig(steps=2)),
                         default_model=demo_model_dir(), host=host)
        with pytest.raises(RuntimeError):
            run_request(retry, forgetctl_home)
        log = AuditLog(forgetctl_home)
        assert [r["kind"] for r in log.records()].count("request") == 1
        assert len({r["request_id"] for r in log.records() if r["request_id"]}) == 1
        log.close()


def test_a_closed_request_reads_closed_in_the_signed_summary_and_an_answered_one_cannot_be_closed(log, forgetctl_home, tmp_path, capsys):
    from forgetctl.errors import InputError
    from forgetctl.trail import close_request
    from forgetctl_audit.standalone_verify import main as auditor

    log.append("request", "req-w", {"subject": log.subject_hash("Rowan Rookwood"), "received": "2026-12-01",
                                    "deadline": "2027-01-01", "grounds": "Art. 17(1)(b): consent withdrawn"})
    log.append("run-started", "req-w", {"run": "r1", "method": "pubg"})
    with pytest.raises(InputError, match="no outcome yet .* --killed"):
        close_request(log, "req-w", "withdrawn")
    seq, already = close_request(log, "req-w", "withdrawn", killed=True)
    assert not already and close_request(log, "req-w", "duplicate") == (seq, True)  # closing twice adds nothing
    log.append("request", "req-e", {"subject": log.subject_hash("Ada Quill")})
    log.append("erasure", "req-e", {"run": "r2"})
    with pytest.raises(InputError, match="answered already"):
        close_request(log, "req-e", "mistaken")
    log.close()
    page = tmp_path / "req-w.html"
    assert CliRunner().invoke(app, ["audit", "export", "req-w", "--out", str(page)]).exit_code == 0
    from forgetctl_audit.store import AuditLog

    readonly = AuditLog(forgetctl_home, readonly=True)
    pin = readonly.root_fingerprint()
    readonly.close()
    auditor([str(page), "--pin", pin])  # the auditor's script derives the same words, or fails
    printed = " ".join(capsys.readouterr().out.split())
    text = " ".join(page.read_text().split())
    for words in ("was closed without erasure on", "the data subject withdrew the request; nothing was erased",
                  "no model was changed for this request"):
        assert words in text and words in printed
