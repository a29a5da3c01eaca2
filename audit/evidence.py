"""Evidence: personal data kept only as AES-GCM ciphertext under a per-request data key.

That key is wrapped by a key derived from master.key and a per-request share kept outside the
database; a shred destroys the share and leaves a tombstone, so no backup of audit.db can decrypt
the evidence again and the request can never get a new data key.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlite_utils import Database

from forgetctl.errors import AuditError
from forgetctl_audit.database import SHRED, canonical_json, decode, now
from forgetctl_audit.keys import Keyring


class Vault:
    """The data keys and the evidence rows of one audit database."""

    def __init__(self, db: Database, keyring: Keyring):
        self.db, self.keyring = db, keyring
        self._shred_cache: tuple[int | None, set[str]] = (None, set())

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
        if self._shred_cache[0] != size:
            # Every payload, not the kind column: an edited column must not hide a shred.
            rows = self.db.execute("SELECT envelope FROM records").fetchall()
            self._shred_cache = (size, {p["request_id"] for p in map(decode, (r[0] for r in rows)) if p["kind"] == SHRED})
        return self._shred_cache[1]

    def data_key(self, request_id: str, create: bool = False) -> bytes | None:
        """The request's data key; None once shredded (or, unless `create`, never made)."""
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

    def seal(self, seq: int, request_id: str, evidence: dict) -> list[dict]:
        """Encrypt each item for record `seq`; return what the signed record names: each item's
        id and the hash of its nonce and ciphertext."""
        data_key = self.data_key(request_id, create=True)
        if data_key is None:
            raise AuditError(f"request {request_id} was shredded; no new evidence can be added")
        sealed = []
        for name, value in sorted(evidence.items()):
            evidence_id = f"{seq}:{name}"
            nonce = secrets.token_bytes(12)
            ciphertext = AESGCM(data_key).encrypt(nonce, canonical_json(value), evidence_id.encode())
            self.db["evidence"].insert(
                {"id": evidence_id, "request_id": request_id, "seq": seq, "nonce": nonce, "ciphertext": ciphertext}
            )
            sealed.append({"id": evidence_id, "sha256": hashlib.sha256(nonce + ciphertext).hexdigest()})
        return sealed

    def open(self, request_id: str, evidence_id: str):
        """Decrypted evidence, or None once the request is shredded."""
        key = self.data_key(request_id)
        if key is None:
            return None
        row = self.db.execute("SELECT nonce, ciphertext FROM evidence WHERE id = ?", [evidence_id]).fetchone()
        if row is None:
            raise AuditError(f"no evidence {evidence_id}")
        try:
            return json.loads(AESGCM(key).decrypt(row[0], row[1], evidence_id.encode()))
        except InvalidTag:
            raise AuditError(f"evidence {evidence_id} fails its authentication tag: it was altered") from None

    def tombstone(self, request_id: str) -> None:
        """The wrapped key gone, the row kept as the mark that it is (inside the shred's transaction)."""
        self.db.execute(
            "INSERT INTO data_keys (request_id, nonce, wrapped_key, shredded) VALUES (?, NULL, NULL, ?) "
            "ON CONFLICT(request_id) DO UPDATE SET nonce = NULL, wrapped_key = NULL, shredded = excluded.shredded",
            [request_id, now()],
        )

    def finish_shreds(self, checkpoint: bool = False) -> None:
        """Destroy the key share of every shredded request that still has one (a shred a crash
        interrupted), and push the old pages out of the WAL so no copy of a wrapped key survives."""
        rows = self.db.execute("SELECT request_id FROM data_keys WHERE shredded IS NOT NULL").fetchall()
        left = [r for (r,) in rows if self.keyring.share_path(r).exists()]
        for request_id in left:
            self.keyring.destroy_share(request_id)
        if left or checkpoint:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
