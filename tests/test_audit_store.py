import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from forgetctl.errors import AuditError
from forgetctl_audit.dsse import sign_envelope
from forgetctl_audit.store import AuditLog, canonical_json

NAME, FACTS = "Rowan Rookwood", ["chess coach", "Silverdun", "Saffron Ribbon"]


def fill(log, n=5):
    for i in range(n):
        log.append(
            "run", "req-1", {"step": i, "subject": log.subject_hash(NAME)},
            evidence={"answers": [f"This is {NAME}, a {FACTS[0]} from {FACTS[1]} who won the {FACTS[2]}."]},
        )


def tamper(log, seq, edit):
    envelope = json.loads(log.db.execute("SELECT envelope FROM records WHERE seq = ?", [seq]).fetchone()[0])
    edit(envelope)
    log.db.execute("UPDATE records SET envelope = ? WHERE seq = ?", [json.dumps(envelope), seq])


def flip_b64(text):
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def test_clean_log_verifies(log):
    fill(log)
    report = log.verify()
    assert report.ok and report.records == 6  # the root key's own record, then five
    assert log.records()[0]["kind"] == "key" and report.root_fingerprint == log.root_fingerprint()


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: e.update(payload=flip_b64(e["payload"])),
        lambda e: e["signatures"][0].update(sig=flip_b64(e["signatures"][0]["sig"])),
        lambda e: e.update(payloadType="application/vnd.forgetctl.other+json"),
    ],
    ids=["payload", "signature", "payload-type"],
)
def test_a_flipped_byte_is_caught_and_named(log, edit):
    fill(log)
    tamper(log, 3, edit)
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 3


def test_a_flipped_chain_hash_is_caught_and_named(log):
    fill(log)
    stored = log.db.execute("SELECT record_hash FROM records WHERE seq = 2").fetchone()[0]
    log.db.execute("UPDATE records SET record_hash = ? WHERE seq = 2", [("1" if stored[0] != "1" else "2") + stored[1:]])
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 2


def test_deleted_record_is_caught(log):
    fill(log)
    log.db.execute("DELETE FROM records WHERE seq = 4")
    report = log.verify()
    assert report.first_bad_seq == 4


def resign_chain(log, payloads):
    """What an attacker with the stolen signing key does: rewrite history and re-sign it all."""
    import hashlib

    kid, key = log.keyring.signing_key()
    log.db.execute("DELETE FROM records")
    log.db.execute("DELETE FROM tree_heads")  # the heads in the database and beside it go too:
    (log.home / "tree-head.json").unlink(missing_ok=True)  # only one kept elsewhere survives
    prev = "0" * 64
    for seq, payload in enumerate(payloads, start=1):
        payload = {**payload, "seq": seq, "prev": prev}
        envelope = canonical_json(sign_envelope(canonical_json(payload), key, kid))
        prev = hashlib.sha256(envelope).hexdigest()
        log.db["records"].insert(
            {"seq": seq, "kind": payload["kind"], "request_id": payload["request_id"], "created": payload["time"],
             "envelope": envelope.decode(), "record_hash": prev}
        )


@pytest.mark.parametrize("rewrite", ["delete", "reorder"])
def test_rewritten_and_resigned_history_is_caught_by_an_earlier_tree_head(log, rewrite):
    fill(log, 6)
    head = log.sign_tree_head()
    payloads = log.records()
    payloads = payloads[:2] + payloads[3:] if rewrite == "delete" else [payloads[0], payloads[2], payloads[1], *payloads[3:]]
    resign_chain(log, payloads)
    assert log.verify().ok  # the chain alone cannot tell: it was re-signed with the real key
    report = log.verify(against=head)
    assert not report.ok
    assert "rewritten" in report.problems[0] or "deleted" in report.problems[0]


def test_appending_after_a_tree_head_still_verifies_against_it(log):
    fill(log, 3)
    head = log.sign_tree_head()
    fill(log, 4)
    assert log.verify(against=head).ok


def test_forged_tree_head_is_rejected(log):
    fill(log, 3)
    head = log.sign_tree_head()
    payload = json.loads(base64.b64decode(head["payload"]))
    forged = {**head, "payload": base64.b64encode(canonical_json({**payload, "size": 2})).decode()}
    report = log.verify(against=forged)
    assert not report.ok and "tree head" in report.problems[0]


def test_shredding_makes_evidence_unreadable_and_keeps_the_log_verifiable(log):
    fill(log, 3)
    evidence_id = log.records("req-1")[0]["evidence"][0]["id"]
    assert NAME in log.evidence("req-1", evidence_id)[0]
    head = log.sign_tree_head()
    log.shred("req-1")
    assert log.evidence("req-1", evidence_id) is None
    assert log.verify().ok and log.verify(against=head).ok
    with pytest.raises(AuditError, match="shredded"):
        log.append("run", "req-1", {}, evidence={"x": 1})
    assert log.records("req-1")[-1]["kind"] == "shred"


def test_database_file_holds_no_plaintext_personal_data(log, forgetctl_home):
    fill(log, 3)
    log.sign_tree_head()
    log.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in forgetctl_home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in [NAME, *FACTS]:
                assert secret.encode() not in data, (path, secret)


APPENDER = """
import sys
from pathlib import Path
from forgetctl_audit.store import AuditLog
log = AuditLog(Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    log.append("run", sys.argv[3], {"i": i}, evidence={"e": i})
"""


def test_two_processes_appending_200_each_leave_one_chain_of_400(log, forgetctl_home):
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(forgetctl_home), "200", f"req-{w}"]) for w in "ab"
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    report = log.verify()
    assert report.ok and report.records == 401  # one root key record, whichever process came first
    assert [r["seq"] for r in log.records()] == list(range(1, 402))


def test_sigkill_during_appends_leaves_a_sound_database(log, forgetctl_home):
    fill(log, 2)
    # The child says when its first record landed; the kill then comes at some point of the
    # appends after it (how far it got does not decide the test, only that it had begun).
    appender = APPENDER.replace('{"e": i})', '{"e": i})\n    if i == 0: print("appending", flush=True)')
    for delay in (0.0, 0.05, 0.3):
        proc = subprocess.Popen([sys.executable, "-c", appender, str(forgetctl_home), "100000", "req-k"],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "appending\n"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    conn = sqlite3.connect(forgetctl_home / "audit.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    fresh = AuditLog(forgetctl_home)
    report = fresh.verify()
    assert report.ok and report.records > 3
    fresh.close()
