"""Signed tree heads over the log's Merkle tree, and the proofs a third party checks alone.

The largest signed head is kept beside the database too (tree-head.json): deleting the newest
records together with the heads stored in the database is then still caught, unless that file is
deleted as well, which is why an auditor keeps a head of their own (`verify --against`).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from sqlite_utils import Database

from forgetctl.errors import AuditError
from forgetctl_audit import merkle
from forgetctl_audit.database import canonical_json, immediate, now
from forgetctl_audit.dsse import sign_envelope

TREE_HEAD_TYPE = "application/vnd.forgetctl.treehead+json"
HEAD_FILE = "tree-head.json"


def leaves(db: Database) -> list[bytes]:
    rows = db.execute("SELECT envelope FROM records ORDER BY seq").fetchall()
    return [merkle.leaf_hash(r[0].encode()) for r in rows]


def head_size(envelope: dict) -> int:
    return json.loads(base64.b64decode(envelope["payload"]))["size"]


def sign_tree_head(log) -> dict:
    """A signed {size, root, time}, over a log that verifies (never sign over tampering).
    Give it to the auditor: later logs must extend it."""
    report = log.verify()
    if not report.ok:
        raise AuditError(f"the log does not verify ({report.problems[0]}); refusing to sign a tree head over it")
    hashes = leaves(log.db)
    kid = log.active_key_id()
    _, key = log.keyring.signing_key(kid)
    head = {"size": len(hashes), "root": merkle.root(hashes).hex(), "time": now()}
    envelope = sign_envelope(canonical_json(head), key, kid, payload_type=TREE_HEAD_TYPE)
    with immediate(log.db):
        log.db["tree_heads"].upsert(
            {"size": head["size"], "root": head["root"], "created": head["time"], "envelope": json.dumps(envelope)},
            pk="size",
        )
    keep_head(log.home, envelope, head["size"])
    return envelope


def proofs(log, seqs: list[int], old_head: dict | None = None) -> dict:
    """What a third party needs to check these records alone: each envelope with its inclusion
    proof under a fresh signed tree head, and, given an older head they hold, the proof that
    today's log extends it."""
    head = sign_tree_head(log)
    hashes = leaves(log.db)
    bundle = {
        "tree_head": head,
        "records": [
            {"index": seq - 1, "envelope": log.envelope(seq),
             "proof": [h.hex() for h in merkle.inclusion_proof(seq - 1, hashes)]}
            for seq in sorted(set(seqs))
        ],
    }
    if old_head is not None:
        old_size = head_size(old_head)
        if not 0 < old_size <= len(hashes):
            raise AuditError(f"no consistency proof from size {old_size} to {len(hashes)}")
        bundle["consistency"] = {"old_head": old_head, "proof": [h.hex() for h in merkle.consistency_proof(old_size, hashes)]}
    return bundle


def kept_head(home: Path) -> dict | None:
    path = home / HEAD_FILE
    try:
        return json.loads(path.read_text()) if path.exists() else None
    except (OSError, json.JSONDecodeError):
        return {"payload": "", "signatures": []}  # unreadable: fails its check, loudly


def keep_head(home: Path, envelope: dict, size: int) -> None:
    """Keep the largest head beside the database (written whole, then renamed)."""
    kept = kept_head(home)
    try:
        if kept and head_size(kept) > size:
            return
    except (ValueError, KeyError):
        pass  # an unreadable file is replaced by a good head
    tmp = home / f".{HEAD_FILE}.partial"
    tmp.write_text(json.dumps(envelope, indent=2) + "\n")
    tmp.replace(home / HEAD_FILE)
