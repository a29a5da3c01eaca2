"""The audit log: an append-only, hash-chained sequence of DSSE-signed records in SQLite.

Which key may sign is itself in the log: record 1 announces the root key (signed by itself), and
each rotation is a key record signed by the key it replaces. Verification (verify.py) trusts only
that chain (and, given one, a pinned root fingerprint), never the key files on disk.

Personal data never enters a record in plaintext: a person, a photo or a requester reference is
a keyed hash, and evidence is encrypted under a per-request data key that a shred destroys
(evidence.py). The Merkle tree, its signed heads and proofs are in treehead.py; the SQLite file
and the bytes of a record in database.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from contextlib import contextmanager, nullcontext
from pathlib import Path

from forgetctl.errors import AuditError
from forgetctl_audit import treehead
from forgetctl_audit.database import GENESIS, KEY_RECORD, SHRED, canonical_json, connect, connect_readonly, decode, immediate, now
from forgetctl_audit.dsse import sign_envelope
from forgetctl_audit.evidence import Vault
from forgetctl_audit.keys import Keyring, fingerprint, public_pem
from forgetctl_audit.verify import VerifyReport, verify_log

# Request ids reach file names (key shares), the terminal and reports: a safe alphabet only.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_request_id(request_id: str) -> str:
    if not REQUEST_ID.fullmatch(request_id or ""):
        raise AuditError(
            f"request id {request_id!r} is not valid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return request_id


def normalised_name(name: str) -> str:
    """One person, however the name is typed: Unicode width, case and spacing folded."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


class AuditLog:
    def __init__(self, home: Path, readonly: bool = False):
        self.home = home
        self.keyring = Keyring(home / "keys")
        self.path = home / "audit.db"
        self.db = connect_readonly(self.path) if readonly else connect(self.path)
        self.vault = Vault(self.db, self.keyring)
        self._in_transaction = False
        if not readonly:
            self.vault.finish_shreds()

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self):
        """Several appends that land together or not at all, under one write lock (checks made
        inside see every record another process wrote before it)."""
        with immediate(self.db):
            self._in_transaction = True
            try:
                yield self
            finally:
                self._in_transaction = False

    # --- identities --------------------------------------------------------------------------

    def keyed_hash(self, purpose: str, value: str) -> str:
        """HMAC under the site secret: lets someone who knows the value find it, and nobody else."""
        message = purpose.encode() + b"\0" + value.encode()
        return hmac.new(self.keyring.secret("subject-hmac.key"), message, hashlib.sha256).hexdigest()

    def subject_hash(self, name: str) -> str:
        """Keyed hash of a person's name: lets a DPO find a request by name without storing it."""
        return hmac.new(self.keyring.secret("subject-hmac.key"), normalised_name(name).encode(), hashlib.sha256).hexdigest()

    def photo_id(self, sha256: str) -> str:
        """A photo's keyed hash: whoever holds the photo cannot confirm from a record that it was processed."""
        return self.keyed_hash("photo", sha256)

    # --- signing keys ------------------------------------------------------------------------

    def key_records(self) -> list[dict]:
        rows = self.db.execute("SELECT envelope FROM records ORDER BY seq").fetchall()
        return [p for p in map(decode, (r[0] for r in rows)) if p["kind"] == KEY_RECORD]

    def active_key_id(self) -> str:
        """The key the log says signs next: its last key record's, or ACTIVE for an empty log.
        (Found by the kind column for speed: an edited column only makes signing fail to verify.)"""
        row = self.db.execute(f"SELECT envelope FROM records WHERE kind = '{KEY_RECORD}' ORDER BY seq DESC LIMIT 1").fetchone()
        return decode(row[0])["body"]["key_id"] if row else self.keyring.active_key_id()

    def key_body(self, kid: str, replaces: str | None) -> dict:
        public = self.keyring.public_key(kid)
        return {"key_id": kid, "public_key": public_pem(public).decode(), "fingerprint": fingerprint(public),
                "replaces": replaces}

    def rotate_key(self, passphrase: str | None) -> str:
        """Announce a new signing key in a record signed by the current one, then destroy the old
        private key: records it would sign from here on no longer verify."""
        old = self.active_key_id()
        if self.keyring.is_protected(old) and not passphrase:
            raise AuditError(f"signing key {old} is passphrase-protected; rotate with --passphrase to protect the new one too")
        new = self.keyring.create_signing_key(passphrase)
        self.append(KEY_RECORD, None, self.key_body(new, old))
        self.keyring.set_active(new)
        self.keyring.retire(old)
        return new

    def root_fingerprint(self) -> str | None:
        records = self.key_records()
        return records[0]["body"]["fingerprint"] if records else None

    # --- appending ---------------------------------------------------------------------------

    def append(self, kind: str, request_id: str | None, body: dict, evidence: dict | None = None) -> int:
        """Sign and append one record; encrypt `evidence` (personal data) under the request's key.
        The first record of a log is always the root key's own announcement."""
        if request_id is not None:
            check_request_id(request_id)
        with nullcontext() if self._in_transaction else immediate(self.db):
            last = self.db.execute("SELECT seq, record_hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            if last is None and not (kind == KEY_RECORD and body.get("replaces") is None):
                root = self.keyring.active_key_id()
                last = self._append_locked(1, GENESIS, KEY_RECORD, None, self.key_body(root, None), None, root)
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            return self._append_locked(seq, prev, kind, request_id, body, evidence, self.active_key_id())[0]

    def _append_locked(self, seq, prev, kind, request_id, body, evidence, kid) -> tuple[int, str]:
        sealed = []
        if evidence:
            if request_id is None:
                raise AuditError("evidence needs a request id to be encrypted under")
            sealed = self.vault.seal(seq, request_id, evidence)
        payload = {
            "seq": seq, "prev": prev, "kind": kind, "request_id": request_id, "time": now(),
            "body": body, "evidence": sealed,
        }
        _, key = self.keyring.signing_key(kid)
        envelope_bytes = canonical_json(sign_envelope(canonical_json(payload), key, kid))
        record_hash = hashlib.sha256(envelope_bytes).hexdigest()
        self.db["records"].insert({
            "seq": seq, "kind": kind, "request_id": request_id, "created": payload["time"],
            "envelope": envelope_bytes.decode(), "record_hash": record_hash,
        })
        return seq, record_hash

    # --- reading -----------------------------------------------------------------------------

    def records(self, request_id: str | None = None) -> list[dict]:
        """Decoded payloads (unverified: call verify for that), in sequence order, chosen by the
        signed request id, never by the unsigned column beside it."""
        rows = self.db.execute("SELECT envelope FROM records ORDER BY seq").fetchall()
        payloads = [decode(r[0]) for r in rows]
        return [p for p in payloads if request_id is None or p["request_id"] == request_id]

    def envelope(self, seq: int) -> dict:
        row = self.db.execute("SELECT envelope FROM records WHERE seq = ?", [seq]).fetchone()
        if row is None:
            raise AuditError(f"no record {seq}")
        return json.loads(row[0])

    def evidence(self, request_id: str, evidence_id: str):
        """Decrypted evidence, or None once the request is shredded."""
        return self.vault.open(request_id, evidence_id)

    def is_shredded(self, request_id: str) -> bool:
        return self.vault.is_shredded(request_id)

    # --- shredding ---------------------------------------------------------------------------

    def shred(self, request_id: str) -> tuple[int, bool]:
        """Destroy the request's data key for good: the signed shred record and the tombstone
        land together, before the share is destroyed, so a crash at any point leaves a request
        that says it is shredded, and the next writer finishes the job (`finish_shreds`).
        Returns (the shred record's seq, whether it was shredded already)."""
        done = [p["seq"] for p in self.records(request_id) if p["kind"] == SHRED]
        if done:
            self.vault.finish_shreds(checkpoint=True)
            return done[0], True
        if not self.records(request_id):
            raise AuditError(f"no request {request_id} in the audit log")
        with self.transaction():
            self.vault.tombstone(request_id)
            seq = self.append(SHRED, request_id, {"data_key_destroyed": True})
        self.vault.finish_shreds(checkpoint=True)
        return seq, False

    # --- tree heads and verification ---------------------------------------------------------

    def leaves(self) -> list[bytes]:
        return treehead.leaves(self.db)

    def sign_tree_head(self) -> dict:
        return treehead.sign_tree_head(self)

    def proofs(self, seqs: list[int], old_head: dict | None = None) -> dict:
        return treehead.proofs(self, seqs, old_head)

    def kept_head(self) -> dict | None:
        return treehead.kept_head(self.home)

    def verify(self, against: dict | None = None, pin: str | None = None) -> VerifyReport:
        return verify_log(self, against, pin)
