"""Key material under FORGETCTL_HOME/keys, every file mode 0600, every folder 0700:

- signing/ACTIVE            key id of the signing key to start a new log with (the log itself
                            names the active key once it exists: its key records are signed)
- signing/KEYID.pem         private signing keys (PKCS#8, optionally passphrase-encrypted); a
                            rotated-out key's file is overwritten and removed
- public/KEYID.pem          public keys, for convenience only: verification trusts the keys the
                            log's signed key records announce, chained from the pinned root
- master.key                one half of every request's key-wrapping key
- requests/REQUEST.key      the other half, one per request, never inside audit.db: shredding
                            destroys it, so no backup of the database can bring evidence back
- subject-hmac.key          site secret for keyed hashes of names, photos and references
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from forgetctl.errors import AuditError

PASSPHRASE_VARIABLE = "FORGETCTL_KEY_PASSPHRASE"


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(public_key)).hexdigest()[:16]


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key: what an auditor pins (the key id is its first 16 digits)."""
    return hashlib.sha256(raw_public(public_key)).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def write_secret(path: Path, data: bytes) -> None:
    """Create a file readable by its owner only, atomically (never a world-readable moment)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def destroy(path: Path) -> None:
    """Overwrite a key file with zeros, flush it to disk, then remove it."""
    if not path.exists():
        return
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.write(b"\0" * size)
        f.flush()
        os.fsync(f.fileno())
    path.unlink()


@dataclass
class Keyring:
    root: Path

    @property
    def initialised(self) -> bool:
        return (self.root / "signing" / "ACTIVE").is_file()

    def init(self, passphrase: str | None = None) -> str:
        if self.initialised:
            raise AuditError(f"keys already exist in {self.root}; use `forgetctl keys rotate` for a new signing key")
        write_secret(self.root / "master.key", secrets.token_bytes(32))
        write_secret(self.root / "subject-hmac.key", secrets.token_bytes(32))
        kid = self.create_signing_key(passphrase)
        self.set_active(kid)
        return kid

    def create_signing_key(self, passphrase: str | None) -> str:
        """A new Ed25519 key pair on disk; it signs nothing until the log announces it."""
        key = Ed25519PrivateKey.generate()
        kid = key_id(key.public_key())
        encryption = (
            serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
        )
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        write_secret(self.root / "signing" / f"{kid}.pem", pem)
        write_secret(self.root / "public" / f"{kid}.pem", public_pem(key.public_key()))
        return kid

    def set_active(self, kid: str) -> None:
        write_secret(self.root / "signing" / "ACTIVE", kid.encode())

    def retire(self, kid: str) -> None:
        """Destroy a rotated-out private key: nothing can sign as it again."""
        destroy(self.root / "signing" / f"{kid}.pem")

    def _require(self) -> None:
        if not self.initialised:
            raise AuditError(f"no audit keys in {self.root}; run `forgetctl keys init` first")

    def active_key_id(self) -> str:
        self._require()
        return (self.root / "signing" / "ACTIVE").read_text().strip()

    def is_protected(self, kid: str) -> bool:
        return b"ENCRYPTED" in self._private_pem(kid)

    def _private_pem(self, kid: str) -> bytes:
        path = self.root / "signing" / f"{kid}.pem"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise AuditError(f"signing key {kid} is missing from {path.parent} (retired, or keys/ restored incompletely)") from None

    def signing_key(self, kid: str | None = None, passphrase: str | None = None) -> tuple[str, Ed25519PrivateKey]:
        kid = kid or self.active_key_id()
        passphrase = passphrase if passphrase is not None else os.environ.get(PASSPHRASE_VARIABLE)
        data = self._private_pem(kid)
        try:
            key = serialization.load_pem_private_key(data, password=passphrase.encode() if passphrase else None)
        except TypeError:
            if b"ENCRYPTED" in data:
                raise AuditError(f"signing key {kid} is passphrase-protected; set {PASSPHRASE_VARIABLE}") from None
            raise AuditError(f"signing key {kid} is not protected; unset {PASSPHRASE_VARIABLE}") from None
        except ValueError:
            raise AuditError(f"wrong passphrase for signing key {kid} ({PASSPHRASE_VARIABLE}), or a damaged key file") from None
        return kid, key

    def public_key(self, kid: str) -> Ed25519PublicKey:
        return serialization.load_pem_public_key((self.root / "public" / f"{kid}.pem").read_bytes())

    def secret(self, name: str) -> bytes:
        self._require()
        try:
            return (self.root / name).read_bytes()
        except FileNotFoundError:
            raise AuditError(f"{self.root / name} is missing; restore keys/ from its backup") from None

    # --- per-request key shares, outside the database -------------------------------------

    def share_path(self, request_id: str) -> Path:
        return self.root / "requests" / f"{request_id}.key"

    def new_share(self, request_id: str) -> bytes:
        share = secrets.token_bytes(32)
        write_secret(self.share_path(request_id), share)
        return share

    def share(self, request_id: str) -> bytes | None:
        path = self.share_path(request_id)
        return path.read_bytes() if path.is_file() else None

    def destroy_share(self, request_id: str) -> None:
        destroy(self.share_path(request_id))
