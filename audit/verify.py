"""Verifying an audit log: every record against the key chain the log itself announces (from a
pinned root, if given), the hash chain, the columns beside each envelope, the evidence hashes,
every data key and shred, and the tree heads it must extend. Trusts no key file on disk."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization

from forgetctl.errors import AuditError
from forgetctl_audit import merkle
from forgetctl_audit.database import GENESIS, KEY_RECORD, SHRED, canonical_json, decode
from forgetctl_audit.dsse import EnvelopeError, verify_envelope
from forgetctl_audit.keys import fingerprint, key_id
from forgetctl_audit.treehead import HEAD_FILE, TREE_HEAD_TYPE, head_size, kept_head, leaves


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


def verify_log(log, against: dict | None = None, pin: str | None = None) -> VerifyReport:
    """The whole log; `against`: a tree head kept elsewhere, which the log must extend."""
    report = VerifyReport()
    rows = log.db.execute("SELECT seq, kind, request_id, created, envelope, record_hash FROM records ORDER BY seq").fetchall()
    report.records = len(rows)
    chain = KeyChain()
    verified = check_records(log.db, rows, chain, pin, report)
    check_data_keys(log.vault, report)
    check_shreds(log, verified, report)
    stored = log.db.execute("SELECT envelope FROM tree_heads ORDER BY size DESC LIMIT 1").fetchone()
    heads = [(json.loads(stored[0]) if stored else None, "the largest tree head stored in the database"),
             (kept_head(log.home), f"the tree head kept in {HEAD_FILE}"), (against, "the tree head you kept")]
    hashes = leaves(log.db)
    for head, which in heads:
        if head is not None:
            check_head(head, hashes, chain, report, which)
    return report


def check_records(db, rows, chain: KeyChain, pin: str | None, report: VerifyReport) -> list[dict]:
    """Each record in turn; returns the payloads whose signature holds."""
    prev = GENESIS
    verified = []
    for expected_seq, (seq, kind, request_id, created, envelope_text, stored_hash) in enumerate(rows, start=1):
        if seq != expected_seq:
            report.fail(expected_seq, f"record {expected_seq} is missing (found {seq} next)")
            break
        try:
            payload = check_signature(envelope_text, seq, chain, pin, report)
        except (EnvelopeError, ValueError, KeyError, TypeError) as exc:
            report.fail(seq, f"record {seq}: signature check failed ({exc})")
            prev = stored_hash
            chain.active_at[seq] = chain.active
            continue
        chain.active_at[seq] = chain.active
        actual_hash = hashlib.sha256(envelope_text.encode()).hexdigest()
        if payload.get("seq") != seq:
            report.fail(seq, f"record {seq}: signed sequence number is {payload.get('seq')}")
        if payload.get("prev") != prev:
            report.fail(seq, f"record {seq}: chain broken (prev does not match record {seq - 1})")
        if stored_hash != actual_hash:
            report.fail(seq, f"record {seq}: stored record hash does not match its envelope")
        if (kind, request_id, created) != (payload.get("kind"), payload.get("request_id"), payload.get("time")):
            report.fail(seq, f"record {seq}: the columns beside the envelope were edited")
        for item in payload.get("evidence", []):
            row = db.execute("SELECT nonce, ciphertext FROM evidence WHERE id = ?", [item["id"]]).fetchone()
            if row is None or hashlib.sha256(row[0] + row[1]).hexdigest() != item["sha256"]:
                report.fail(seq, f"record {seq}: evidence {item['id']} is missing or altered")
        prev = actual_hash
        verified.append(payload)
    return verified


def check_signature(envelope_text: str, seq: int, chain: KeyChain, pin: str | None, report: VerifyReport) -> dict:
    """The record's payload, if its envelope is canonical and signed by the key the chain says
    signs it; a key record moves the chain on."""
    envelope = json.loads(envelope_text)
    if canonical_json(envelope).decode() != envelope_text:
        raise EnvelopeError("envelope is not in canonical form")
    payload = json.loads(verify_envelope(envelope, chain.keys() or root_candidate(envelope_text)))
    if seq == 1:
        check_root(payload, pin, report)
    if payload.get("kind") == KEY_RECORD:
        if seq > 1 and payload["body"].get("replaces") != chain.active[0]:
            raise EnvelopeError("key record does not replace the active key")
        chain.accept(seq, payload)
    return payload


def root_candidate(envelope_text: str) -> dict:
    """Record 1 announces the root key: it must verify with the key it announces."""
    payload = decode(envelope_text)
    if payload.get("seq") != 1 or payload.get("kind") != KEY_RECORD:
        raise EnvelopeError("the log does not start with its root key record")
    key = serialization.load_pem_public_key(payload["body"]["public_key"].encode())
    return {key_id(key): key}


def check_root(payload: dict, pin: str | None, report: VerifyReport) -> None:
    report.root_fingerprint = payload["body"]["fingerprint"]
    key = serialization.load_pem_public_key(payload["body"]["public_key"].encode())
    if fingerprint(key) != report.root_fingerprint:
        raise EnvelopeError("root key record's fingerprint does not match its key")
    if pin and pin.lower() != report.root_fingerprint:
        raise EnvelopeError(f"root key fingerprint {report.root_fingerprint} is not the pinned {pin}")


def check_data_keys(vault, report: VerifyReport) -> None:
    rows = vault.db.execute("SELECT request_id FROM data_keys WHERE shredded IS NULL").fetchall()
    for (request_id,) in rows:
        try:
            vault.data_key(request_id)
        except AuditError as exc:
            report.fail(None, str(exc))


def check_shreds(log, payloads: list[dict], report: VerifyReport) -> None:
    """A shred record and its tombstone go together, and nothing is added to a request after it."""
    shred_seq = {p["request_id"]: p["seq"] for p in payloads if p["kind"] == SHRED}
    rows = dict(log.db.execute("SELECT request_id, wrapped_key IS NULL AND shredded IS NOT NULL FROM data_keys").fetchall())
    for request_id, seq in shred_seq.items():
        if not rows.get(request_id):
            report.fail(seq, f"request {request_id} is shredded (record {seq}) but its tombstone was deleted "
                             "or its data key restored")
        if log.keyring.share_path(request_id).exists():
            report.fail(None, f"the shred of {request_id} did not finish (its key share is still there): "
                              f"run `forgetctl audit shred {request_id}` again")
    for payload in payloads:
        if payload["evidence"] and payload["seq"] > shred_seq.get(payload["request_id"], payload["seq"]):
            report.fail(payload["seq"], f"record {payload['seq']} adds evidence to {payload['request_id']} after its shred")
    for request_id, tombstone in rows.items():
        if tombstone and request_id not in shred_seq:
            report.fail(None, f"request {request_id} has a shred tombstone but no signed shred record")


def check_head(head_envelope: dict, hashes: list[bytes], chain: KeyChain, report: VerifyReport, which: str) -> None:
    """The log extends this signed head: as many records at least, and the same root over them."""
    try:
        size = head_size(head_envelope)
        # A head is signed by the key that was active once its last record was written; a head
        # over records that are gone can only be checked against the keys announced.
        signer = chain.active_at.get(size)
        keys = {signer[0]: signer[1]} if size <= len(hashes) and signer else dict(chain.announced)
        head = json.loads(verify_envelope(head_envelope, keys, TREE_HEAD_TYPE))
    except (EnvelopeError, ValueError, KeyError, TypeError) as exc:
        report.fail(None, f"{which}: {exc}")
        return
    if head["size"] > len(hashes):
        report.fail(len(hashes) + 1, f"the log has {len(hashes)} records but {which} covers {head['size']}: records were deleted")
        return
    if merkle.root(hashes[: head["size"]]).hex() != head["root"]:
        # A tree head fixes only its root, so it cannot say which record changed, only that one did.
        report.fail(None, f"the first {head['size']} records no longer match {which} from {head['time']}: history was rewritten")
        return
    report.head_size = max(report.head_size or 0, head["size"])
