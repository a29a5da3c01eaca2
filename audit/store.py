"""The audit log: an append-only, hash-chained sequence of DSSE-signed records in SQLite.

Every connection sets WAL with synchronous=FULL (NORMAL can lose the last commits on power loss)
and a busy timeout; appends take the write lock first (BEGIN IMMEDIATE) so concurrent writers
queue instead of forking the chain.

Which key may sign is itself in the log: record 1 announces the root key (signed by itself), and
each rotation is a key record signed by the key it replaces. Verification trusts only that chain
(and, given one, a pinned root fingerprint), never the key files on disk.

Personal data never enters a record in plaintext: a person, a photo or a requester reference is
a keyed hash, and evidence is AES-GCM encrypted under a per-request data key. That key is
wrapped by a key derived from master.key and a per-request share kept outside the database;
`shred` destroys the share and leaves a tombstone, so no backup of audit.db can decrypt the
evidence again and the request can never get a new data key.

The largest signed tree head is kept beside the database too (tree-head.json): deleting the newest
records together with the heads stored in the database is then still caught, unless that file is
deleted as well, which is why an auditor keeps a head of their own (`verify --against`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import unicodedata
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlite_utils import Database

from forgetctl.errors import AuditError
from forgetctl_audit import merkle
from forgetctl_audit.dsse import EnvelopeError, sign_envelope, verify_envelope
from forgetctl_audit.keys import Keyring, fingerprint, key_id, public_pem
from forgetctl_audit.migrations import migrations

TREE_HEAD_TYPE = "application/vnd.forgetctl.treehead+json"
GENESIS = "0" * 64
KEY_RECORD = "key"
SHRED = "shred"
HEAD_FILE = "tree-head.json"
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


def canonical_json(obj) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes that get hashed and signed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def private_files(path: Path) -> None:
    """The database and its WAL files are readable by their owner only."""
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.chmod(0o600)


def connect(path: Path) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    # These reset on every connection, so every connection sets them.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA secure_delete=ON")  # shredded keys are overwritten, not left in free pages
    db = Database(conn)
    with immediate(db):
        migrations.apply(db)
    private_files(path)
    return db


def connect_readonly(path: Path) -> Database:
    """For commands that only read: works on a read-only copy of the trail too. A read-only
    folder cannot hold WAL's shared-memory file, so such a copy is opened as immutable."""
    for mode in ("ro", "ro&immutable=1"):
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=30)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("SELECT COUNT(*) FROM records").fetchone()
            return Database(conn)
        except sqlite3.OperationalError:
            conn.close()
    raise AuditError(f"the audit trail {path} cannot be read (damaged, or not a forgetctl database)")


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


def decode(envelope_text: str) -> dict:
    """A record's payload, unverified (call verify for that)."""
    return json.loads(base64.b64decode(json.loads(envelope_text)["payload"]))


@dataclass
class VerifyReport:
    records: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None
    root_fingerprint: str | None = None
    head_size: int | None = None  # the largest tree head the log was checked against

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, seq: int | None, message: str) -> None:
        if self.first_bad_seq is None and seq is not None:
            self.first_bad_seq = seq
        self.problems.append(message)


class KeyChain:
    """The signing keys as the log announces them: the root in record 1, then each rotation,
    signed by the key it replaces. `active_at[seq]` is the key that must sign record seq+1."""

    def __init__(self):
        self.active = None  # (kid, public key)
        self.active_at: dict[int, tuple] = {0: None}
        self.announced: dict = {}  # every key the chain ever made active

    def accept(self, seq: int, payload: dict) -> None:
        body = payload.get("body", {})
        key = serialization.load_pem_public_key(body["public_key"].encode())
        if key_id(key) != body.get("key_id"):
            raise EnvelopeError(f"key record names {body.get('key_id')} but holds key {key_id(key)}")
        self.active = (body["key_id"], key)
        self.announced[body["key_id"]] = key

    def keys(self) -> dict:
        return {self.active[0]: self.active[1]} if self.active else {}


class AuditLog:
    def __init__(self, home: Path, readonly: bool = False):
        self.home = home
        self.keyring = Keyring(home / "keys")
        self.path = home / "audit.db"
        self.db = connect_readonly(self.path) if readonly else connect(self.path)
        self._in_transaction = False
        if not readonly:
            self.finish_shreds()

    def close(self) -> None:
        self.db.conn.close()

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

    # --- data keys ---------------------------------------------------------------------------

    def _wrapping_key(self, request_id: str, share: bytes) -> AESGCM:
        kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=share, info=b"forgetctl data key wrap v2:" + request_id.encode())
        return AESGCM(kdf.derive(self.keyring.secret("master.key")))

    def is_shredded(self, request_id: str) -> bool:
        """A shred is final: a tombstone row or a signed shred record, either one (deleting the
        row does not undo it)."""
        row = self.db.execute("SELECT shredded FROM data_keys WHERE request_id = ?", [request_id]).fetchone()
        return bool(row and row[0]) or request_id in self._shredded()

    def _shredded(self) -> set[str]:
        """Requests with a shred record, read from the signed payloads (cached per log length)."""
        size = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()[0]
        if getattr(self, "_shred_cache", (None,))[0] != size:
            self._shred_cache = (size, {p["request_id"] for p in self.records() if p["kind"] == SHRED})
        return self._shred_cache[1]

    def _data_key(self, request_id: str, create: bool = False) -> bytes | None:
        if self.is_shredded(request_id):
            return None
        row = self.db.execute("SELECT nonce, wrapped_key FROM data_keys WHERE request_id = ?", [request_id]).fetchone()
        if row is None:
            if not create:
                return None
            key, nonce = AESGCM.generate_key(256), secrets.token_bytes(12)
            wrapped = self._wrapping_key(request_id, self.keyring.new_share(request_id)).encrypt(nonce, key, request_id.encode())
            self.db["data_keys"].insert({"request_id": request_id, "nonce": nonce, "wrapped_key": wrapped, "shredded": None})
            return key
        share = self.keyring.share(request_id)
        if share is None:
            raise AuditError(
                f"the evidence of {request_id} cannot be read: its key share {self.keyring.share_path(request_id)} "
                "is missing (keys/requests/ was not restored; see SECURITY.md, backups)"
            )
        if not row[0] or not row[1]:
            raise AuditError(f"the data key of {request_id} was altered or removed in the database; its evidence is lost")
        try:
            return self._wrapping_key(request_id, share).decrypt(row[0], row[1], request_id.encode())
        except InvalidTag:
            raise AuditError(f"the data key of {request_id} fails its authentication tag: it was altered") from None

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

    def shred(self, request_id: str) -> tuple[int, bool]:
        """Destroy the request's data key for good: the signed shred record and the tombstone
        land together, before the share is destroyed, so a crash at any point leaves a request
        that says it is shredded, and the next writer finishes the job (`finish_shreds`).
        Returns (the shred record's seq, whether it was shredded already)."""
        done = [p["seq"] for p in self.records(request_id) if p["kind"] == SHRED]
        if done:
            self.finish_shreds(checkpoint=True)
            return done[0], True
        if not self.records(request_id):
            raise AuditError(f"no request {request_id} in the audit log")
        with self.transaction():
            self.db.execute(
                "INSERT INTO data_keys (request_id, nonce, wrapped_key, shredded) VALUES (?, NULL, NULL, ?) "
                "ON CONFLICT(request_id) DO UPDATE SET nonce = NULL, wrapped_key = NULL, shredded = excluded.shredded",
                [request_id, now()],
            )
            seq = self.append(SHRED, request_id, {"data_key_destroyed": True})
        self.finish_shreds(checkpoint=True)
        return seq, False

    def finish_shreds(self, checkpoint: bool = False) -> None:
        """Destroy the key share of every shredded request that still has one (a shred a crash
        interrupted), and push the old pages out of the WAL so no copy of a wrapped key survives."""
        rows = self.db.execute("SELECT request_id FROM data_keys WHERE shredded IS NOT NULL").fetchall()
        left = [r for (r,) in rows if self.keyring.share_path(r).exists()]
        for request_id in left:
            self.keyring.destroy_share(request_id)
        if left or checkpoint:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- the Merkle tree ---------------------------------------------------------------------

    def leaves(self) -> list[bytes]:
        rows = self.db.execute("SELECT envelope FROM records ORDER BY seq").fetchall()
        return [merkle.leaf_hash(r[0].encode()) for r in rows]

    def sign_tree_head(self) -> dict:
        """A signed {size, root, time}, over a log that verifies (never sign over tampering).
        Give it to the auditor: later logs must extend it."""
        report = self.verify()
        if not report.ok:
            raise AuditError(f"the log does not verify ({report.problems[0]}); refusing to sign a tree head over it")
        leaves = self.leaves()
        kid = self.active_key_id()
        _, key = self.keyring.signing_key(kid)
        head = {"size": len(leaves), "root": merkle.root(leaves).hex(), "time": now()}
        envelope = sign_envelope(canonical_json(head), key, kid, payload_type=TREE_HEAD_TYPE)
        with immediate(self.db):
            self.db["tree_heads"].upsert(
                {"size": head["size"], "root": head["root"], "created": head["time"], "envelope": json.dumps(envelope)},
                pk="size",
            )
        self._keep_head(envelope, head["size"])
        return envelope

    def proofs(self, seqs: list[int], old_head: dict | None = None) -> dict:
        """What a third party needs to check these records alone: each envelope with its
        inclusion proof under a fresh signed tree head, and, given an older head they hold, the
        proof that today's log extends it."""
        head = self.sign_tree_head()
        leaves = self.leaves()
        bundle = {
            "tree_head": head,
            "records": [
                {"index": seq - 1, "envelope": self.envelope(seq),
                 "proof": [h.hex() for h in merkle.inclusion_proof(seq - 1, leaves)]}
                for seq in sorted(set(seqs))
            ],
        }
        if old_head is not None:
            old_size = json.loads(base64.b64decode(old_head["payload"]))["size"]
            if not 0 < old_size <= len(leaves):
                raise AuditError(f"no consistency proof from size {old_size} to {len(leaves)}")
            bundle["consistency"] = {
                "old_head": old_head, "proof": [h.hex() for h in merkle.consistency_proof(old_size, leaves)],
            }
        return bundle

    # --- verification ------------------------------------------------------------------------

    def verify(self, against: dict | None = None, pin: str | None = None) -> VerifyReport:
        """Every record against the key chain (from a pinned root, if given), the hash chain, the
        columns beside each envelope, the evidence hashes, every data key, the largest tree head
        the database holds, and `against` (a tree head kept elsewhere)."""
        report = VerifyReport()
        rows = self.db.execute("SELECT seq, kind, request_id, created, envelope, record_hash FROM records ORDER BY seq").fetchall()
        report.records = len(rows)
        chain = KeyChain()
        prev = GENESIS
        verified = []  # payloads whose signature holds
        for expected_seq, (seq, kind, request_id, created, envelope_text, stored_hash) in enumerate(rows, start=1):
            if seq != expected_seq:
                report.fail(expected_seq, f"record {expected_seq} is missing (found {seq} next)")
                break
            actual_hash = hashlib.sha256(envelope_text.encode()).hexdigest()
            try:
                envelope = json.loads(envelope_text)
                if canonical_json(envelope).decode() != envelope_text:
                    raise EnvelopeError("envelope is not in canonical form")
                payload = json.loads(verify_envelope(envelope, chain.keys() or self._root_candidate(envelope_text)))
                if seq == 1:
                    self._check_root(payload, pin, report)
                if payload.get("kind") == KEY_RECORD:
                    if seq > 1 and payload["body"].get("replaces") != chain.active[0]:
                        raise EnvelopeError("key record does not replace the active key")
                    chain.accept(seq, payload)
            except (EnvelopeError, ValueError, KeyError, TypeError) as exc:
                report.fail(seq, f"record {seq}: signature check failed ({exc})")
                prev = stored_hash
                chain.active_at[seq] = chain.active
                continue
            chain.active_at[seq] = chain.active
            if payload.get("seq") != seq:
                report.fail(seq, f"record {seq}: signed sequence number is {payload.get('seq')}")
            if payload.get("prev") != prev:
                report.fail(seq, f"record {seq}: chain broken (prev does not match record {seq - 1})")
            if stored_hash != actual_hash:
                report.fail(seq, f"record {seq}: stored record hash does not match its envelope")
            if (kind, request_id, created) != (payload.get("kind"), payload.get("request_id"), payload.get("time")):
                report.fail(seq, f"record {seq}: the columns beside the envelope were edited")
            for item in payload.get("evidence", []):
                row = self.db.execute("SELECT nonce, ciphertext FROM evidence WHERE id = ?", [item["id"]]).fetchone()
                if row is None or hashlib.sha256(row[0] + row[1]).hexdigest() != item["sha256"]:
                    report.fail(seq, f"record {seq}: evidence {item['id']} is missing or altered")
            prev = actual_hash
            verified.append(payload)
        self._verify_data_keys(report)
        self._verify_shreds(verified, report)
        stored = self.db.execute("SELECT envelope FROM tree_heads ORDER BY size DESC LIMIT 1").fetchone()
        if stored is not None:
            self._verify_head(json.loads(stored[0]), chain, report, "the largest tree head stored in the database")
        kept = self.kept_head()
        if kept is not None:
            self._verify_head(kept, chain, report, f"the tree head kept in {HEAD_FILE}")
        if against is not None:
            self._verify_head(against, chain, report, "the tree head you kept")
        return report

    def _root_candidate(self, envelope_text: str) -> dict:
        """Record 1 announces the root key: it must verify with the key it announces."""
        payload = decode(envelope_text)
        if payload.get("seq") != 1 or payload.get("kind") != KEY_RECORD:
            raise EnvelopeError("the log does not start with its root key record")
        key = serialization.load_pem_public_key(payload["body"]["public_key"].encode())
        return {key_id(key): key}

    @staticmethod
    def _check_root(payload: dict, pin: str | None, report: VerifyReport) -> None:
        report.root_fingerprint = payload["body"]["fingerprint"]
        key = serialization.load_pem_public_key(payload["body"]["public_key"].encode())
        if fingerprint(key) != report.root_fingerprint:
            raise EnvelopeError("root key record's fingerprint does not match its key")
        if pin and pin.lower() != report.root_fingerprint:
            raise EnvelopeError(f"root key fingerprint {report.root_fingerprint} is not the pinned {pin}")

    def _verify_data_keys(self, report: VerifyReport) -> None:
        rows = self.db.execute("SELECT request_id FROM data_keys WHERE shredded IS NULL").fetchall()
        for (request_id,) in rows:
            try:
                self._data_key(request_id)
            except AuditError as exc:
                report.fail(None, str(exc))

    def _verify_shreds(self, payloads: list[dict], report: VerifyReport) -> None:
        """A shred record and its tombstone go together, and nothing is added to a request after it."""
        shred_seq = {p["request_id"]: p["seq"] for p in payloads if p["kind"] == SHRED}
        rows = dict(self.db.execute("SELECT request_id, wrapped_key IS NULL AND shredded IS NOT NULL FROM data_keys").fetchall())
        for request_id, seq in shred_seq.items():
            if not rows.get(request_id):
                report.fail(seq, f"request {request_id} is shredded (record {seq}) but its tombstone was deleted or its data key restored")
            if self.keyring.share_path(request_id).exists():
                report.fail(None, f"the shred of {request_id} did not finish (its key share is still there): "
                                  f"run `forgetctl audit shred {request_id}` again")
        for payload in payloads:
            if payload["evidence"] and payload["seq"] > shred_seq.get(payload["request_id"], payload["seq"]):
                report.fail(payload["seq"], f"record {payload['seq']} adds evidence to {payload['request_id']} after its shred")
        for request_id, tombstone in rows.items():
            if tombstone and request_id not in shred_seq:
                report.fail(None, f"request {request_id} has a shred tombstone but no signed shred record")

    def kept_head(self) -> dict | None:
        path = self.home / HEAD_FILE
        try:
            return json.loads(path.read_text()) if path.exists() else None
        except (OSError, json.JSONDecodeError):
            return {"payload": "", "signatures": []}  # unreadable: fails its check, loudly

    def _keep_head(self, envelope: dict, size: int) -> None:
        """Keep the largest head beside the database (written whole, then renamed)."""
        kept = self.kept_head()
        try:
            if kept and json.loads(base64.b64decode(kept["payload"]))["size"] > size:
                return
        except (ValueError, KeyError):
            pass  # an unreadable file is replaced by a good head
        tmp = self.home / f".{HEAD_FILE}.partial"
        tmp.write_text(json.dumps(envelope, indent=2) + "\n")
        tmp.replace(self.home / HEAD_FILE)

    def _verify_head(self, head_envelope: dict, chain: KeyChain, report: VerifyReport, which: str) -> None:
        leaves = self.leaves()
        try:
            size = json.loads(base64.b64decode(head_envelope["payload"]))["size"]
            # A head is signed by the key that was active once its last record was written; a
            # head over records that are gone can only be checked against the keys announced.
            signer = chain.active_at.get(size)
            keys = {signer[0]: signer[1]} if size <= len(leaves) and signer else dict(chain.announced)
            head = json.loads(verify_envelope(head_envelope, keys, TREE_HEAD_TYPE))
        except (EnvelopeError, ValueError, KeyError, TypeError) as exc:
            report.fail(None, f"{which}: {exc}")
            return
        if head["size"] > len(leaves):
            report.fail(len(leaves) + 1, f"the log has {len(leaves)} records but {which} covers {head['size']}: records were deleted")
            return
        if merkle.root(leaves[: head["size"]]).hex() != head["root"]:
            # A tree head fixes only its root, so it cannot say which record changed, only that one did.
            report.fail(None, f"the first {head['size']} records no longer match {which} from {head['time']}: history was rewritten")
            return
        report.head_size = max(report.head_size or 0, head["size"])
