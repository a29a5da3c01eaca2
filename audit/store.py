"""The audit log: an append-only, hash-chained sequence of DSSE-signed records in SQLite.

Every connection sets WAL with synchronous=FULL (NORMAL can lose the last commits on power loss)
and a busy timeout; appends take the write lock first (BEGIN IMMEDIATE) so concurrent writers
queue instead of forking the chain. Personal data never enters a record in plaintext: a person
is an HMAC under a site secret, and evidence is AES-GCM encrypted under a per-request data key
that `shred` destroys while every signature, the chain and the Merkle tree still verify.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import sqlite3
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlite_utils import Database

from forgetctl.errors import AuditError
from forgetctl_audit import merkle
from forgetctl_audit.dsse import EnvelopeError, sign_envelope, verify_envelope
from forgetctl_audit.keys import Keyring
from forgetctl_audit.migrations import migrations

TREE_HEAD_TYPE = "application/vnd.forgetctl.treehead+json"
GENESIS = "0" * 64


def canonical_json(obj) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes that get hashed and signed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def connect(path: Path) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    # These reset on every connection, so every connection sets them.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA secure_delete=ON")  # shredded keys are overwritten, not left in free pages
    db = Database(conn)
    with immediate(db):
        migrations.apply(db)
    return db


@contextmanager
def immediate(db: Database):
    """A write transaction that holds the lock from its first statement."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


@dataclass
class VerifyReport:
    records: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, seq: int | None, message: str) -> None:
        if self.first_bad_seq is None and seq is not None:
            self.first_bad_seq = seq
        self.problems.append(message)


class AuditLog:
    def __init__(self, home: Path):
        self.home = home
        self.keyring = Keyring(home / "keys")
        self.path = home / "audit.db"
        self.db = connect(self.path)

    def close(self) -> None:
        self.db.conn.close()

    # --- identities and keys -------------------------------------------------------------

    def subject_hash(self, name: str) -> str:
        """Keyed hash of a person's name: lets a DPO find a request by name without storing it."""
        normalised = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
        return hmac.new(self.keyring.secret("subject-hmac.key"), normalised.encode(), hashlib.sha256).hexdigest()

    def _data_key(self, request_id: str, create: bool = False) -> bytes | None:
        master = AESGCM(self.keyring.secret("master.key"))
        row = self.db.execute(
            "SELECT nonce, wrapped_key FROM data_keys WHERE request_id = ?", [request_id]
        ).fetchone()
        if row is None:
            if not create:
                return None
            key, nonce = AESGCM.generate_key(256), secrets.token_bytes(12)
            wrapped = master.encrypt(nonce, key, request_id.encode())
            self.db["data_keys"].insert({"request_id": request_id, "nonce": nonce, "wrapped_key": wrapped, "shredded": None})
            return key
        if row[1] is None:
            return None  # shredded
        return master.decrypt(row[0], row[1], request_id.encode())

    # --- appending -------------------------------------------------------------------------

    def append(self, kind: str, request_id: str | None, body: dict, evidence: dict | None = None) -> int:
        """Sign and append one record; encrypt `evidence` (personal data) under the request's key."""
        kid, key = self.keyring.signing_key()
        with immediate(self.db):
            last = self.db.execute("SELECT seq, record_hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            sealed = []
            if evidence:
                if request_id is None:
                    raise AuditError("evidence needs a request id to be encrypted under")
                data_key = self._data_key(request_id, create=True)
                if data_key is None:
                    raise AuditError(f"request {request_id} was shredded; no new evidence can be added")
                for name, value in sorted(evidence.items()):
                    evidence_id = f"{seq}:{name}"
                    nonce = secrets.token_bytes(12)
                    ciphertext = AESGCM(data_key).encrypt(nonce, canonical_json(value), evidence_id.encode())
                    self.db["evidence"].insert(
                        {"id": evidence_id, "request_id": request_id, "seq": seq, "nonce": nonce, "ciphertext": ciphertext}
                    )
                    sealed.append({"id": evidence_id, "sha256": hashlib.sha256(nonce + ciphertext).hexdigest()})
            payload = {
                "seq": seq, "prev": prev, "kind": kind, "request_id": request_id, "time": now(),
                "body": body, "evidence": sealed,
            }
            envelope = sign_envelope(canonical_json(payload), key, kid)
            envelope_bytes = canonical_json(envelope)
            self.db["records"].insert({
                "seq": seq, "kind": kind, "request_id": request_id, "created": payload["time"],
                "envelope": envelope_bytes.decode(), "record_hash": hashlib.sha256(envelope_bytes).hexdigest(),
            })
        return seq

    # --- reading ---------------------------------------------------------------------------

    def records(self, request_id: str | None = None) -> list[dict]:
        """Decoded payloads (unverified: call verify for that), in sequence order."""
        where, params = ("WHERE request_id = ?", [request_id]) if request_id else ("", [])
        rows = self.db.execute(f"SELECT envelope FROM records {where} ORDER BY seq", params).fetchall()
        return [json.loads(base64.b64decode(json.loads(r[0])["payload"])) for r in rows]

    def evidence(self, request_id: str, evidence_id: str):
        """Decrypted evidence, or None once the request's data key is shredded."""
        key = self._data_key(request_id)
        if key is None:
            return None
        row = self.db.execute("SELECT nonce, ciphertext FROM evidence WHERE id = ?", [evidence_id]).fetchone()
        if row is None:
            raise AuditError(f"no evidence {evidence_id}")
        try:
            return json.loads(AESGCM(key).decrypt(row[0], row[1], evidence_id.encode()))
        except InvalidTag:
            raise AuditError(f"evidence {evidence_id} fails its authentication tag: it was altered") from None

    def shred(self, request_id: str) -> int:
        """Destroy the request's data key (crypto-shredding) and log that it was done."""
        with immediate(self.db):
            updated = self.db.execute(
                "UPDATE data_keys SET wrapped_key = NULL, nonce = NULL, shredded = ? WHERE request_id = ? AND wrapped_key IS NOT NULL",
                [now(), request_id],
            ).rowcount
        if not updated:
            known = self.db.execute("SELECT 1 FROM records WHERE request_id = ?", [request_id]).fetchone()
            if not known:
                raise AuditError(f"no request {request_id} in the audit log")
        # Push the change out of the WAL so no copy of the wrapped key survives in it.
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.append("shred", request_id, {"data_key_destroyed": True})

    # --- the Merkle tree -------------------------------------------------------------------

    def leaves(self) -> list[bytes]:
        rows = self.db.execute("SELECT envelope FROM records ORDER BY seq").fetchall()
        return [merkle.leaf_hash(r[0].encode()) for r in rows]

    def sign_tree_head(self) -> dict:
        """A signed {size, root, time}. Give it to the auditor: later logs must extend it."""
        kid, key = self.keyring.signing_key()
        leaves = self.leaves()
        head = {"size": len(leaves), "root": merkle.root(leaves).hex(), "time": now()}
        envelope = sign_envelope(canonical_json(head), key, kid, payload_type=TREE_HEAD_TYPE)
        with immediate(self.db):
            self.db["tree_heads"].upsert(
                {"size": head["size"], "root": head["root"], "created": head["time"], "envelope": json.dumps(envelope)},
                pk="size",
            )
        return envelope

    def consistency_bundle(self, old_size: int) -> dict:
        """Proof that the current log extends the log of `old_size` records (for a third party)."""
        leaves = self.leaves()
        if not 0 < old_size <= len(leaves):
            raise AuditError(f"no consistency proof from size {old_size} to {len(leaves)}")
        return {
            "old_size": old_size, "new_size": len(leaves),
            "proof": [h.hex() for h in merkle.consistency_proof(old_size, leaves)], "tree_head": self.sign_tree_head(),
        }

    def inclusion_bundle(self, seq: int) -> dict:
        """Everything a third party needs to check one record against a signed tree head."""
        leaves = self.leaves()
        row = self.db.execute("SELECT envelope FROM records WHERE seq = ?", [seq]).fetchone()
        if row is None:
            raise AuditError(f"no record {seq}")
        head = self.sign_tree_head()
        return {
            "record": json.loads(row[0]), "index": seq - 1, "tree_size": len(leaves),
            "proof": [h.hex() for h in merkle.inclusion_proof(seq - 1, leaves)], "tree_head": head,
        }

    # --- verification ----------------------------------------------------------------------

    def verify(self, against: dict | None = None) -> VerifyReport:
        report = VerifyReport()
        keys = self.keyring.public_keys()
        rows = self.db.execute("SELECT seq, envelope, record_hash FROM records ORDER BY seq").fetchall()
        report.records = len(rows)
        prev = GENESIS
        for expected_seq, (seq, envelope_text, stored_hash) in enumerate(rows, start=1):
            if seq != expected_seq:
                report.fail(expected_seq, f"record {expected_seq} is missing (found {seq} next)")
                break
            actual_hash = hashlib.sha256(envelope_text.encode()).hexdigest()
            try:
                payload = json.loads(verify_envelope(json.loads(envelope_text), keys))
            except (EnvelopeError, ValueError) as exc:
                report.fail(seq, f"record {seq}: signature check failed ({exc})")
                prev = stored_hash
                continue
            if payload.get("seq") != seq:
                report.fail(seq, f"record {seq}: signed sequence number is {payload.get('seq')}")
            if payload.get("prev") != prev:
                report.fail(seq, f"record {seq}: chain broken (prev does not match record {seq - 1})")
            if stored_hash != actual_hash:
                report.fail(seq, f"record {seq}: stored record hash does not match its envelope")
            for item in payload.get("evidence", []):
                row = self.db.execute("SELECT nonce, ciphertext FROM evidence WHERE id = ?", [item["id"]]).fetchone()
                if row is None or hashlib.sha256(row[0] + row[1]).hexdigest() != item["sha256"]:
                    report.fail(seq, f"record {seq}: evidence {item['id']} is missing or altered")
            prev = actual_hash
        if against is not None:
            self._verify_against(against, keys, report)
        return report

    def _verify_against(self, head_envelope: dict, keys, report: VerifyReport) -> None:
        try:
            head = json.loads(verify_envelope(head_envelope, keys, payload_type=TREE_HEAD_TYPE))
        except (EnvelopeError, ValueError) as exc:
            report.fail(None, f"tree head: {exc}")
            return
        leaves = self.leaves()
        size = head["size"]
        if size > len(leaves):
            report.fail(len(leaves) + 1, f"the log has {len(leaves)} records but the tree head covers {size}: records were deleted")
            return
        if merkle.root(leaves[:size]).hex() != head["root"]:
            # A tree head fixes only its root, so it cannot say which record changed, only that one did.
            report.fail(None, f"the first {size} records no longer match the tree head from {head['time']}: history was rewritten")
            return

