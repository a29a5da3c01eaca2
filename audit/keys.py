"""Key material under FORGETCTL_HOME/keys, every file mode 0600:

- signing/ACTIVE            key id of the current Ed25519 signing key
- signing/KEYID.pem         private keys (PKCS#8, optionally passphrase-encrypted)
- public/KEYID.pem          every public key ever used: rotation keeps old records verifiable
- master.key                wraps the per-request data keys (AES-256-GCM key wrap)
- subject-hmac.key          site secret for the keyed hash that stands in for a person's name
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


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


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
        return self._new_signing_key(passphrase)

    def rotate(self, passphrase: str | None = None) -> str:
        self._require()
        return self._new_signing_key(passphrase)

    def _new_signing_key(self, passphrase: str | None) -> str:
        key = Ed25519PrivateKey.generate()
        kid = key_id(key.public_key())
        encryption = (
            serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
        )
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        write_secret(self.root / "signing" / f"{kid}.pem", pem)
        write_secret(self.root / "public" / f"{kid}.pem", public_pem(key.public_key()))
        write_secret(self.root / "signing" / "ACTIVE", kid.encode())
        return kid

    def _require(self) -> None:
        if not self.initialised:
            raise AuditError(f"no audit keys in {self.root}; run `forgetctl keys init` first")

    def active_key_id(self) -> str:
        self._require()
        return (self.root / "signing" / "ACTIVE").read_text().strip()

    def signing_key(self, passphrase: str | None = None) -> tuple[str, Ed25519PrivateKey]:
        kid = self.active_key_id()
        passphrase = passphrase if passphrase is not None else os.environ.get(PASSPHRASE_VARIABLE)
        data = (self.root / "signing" / f"{kid}.pem").read_bytes()
        try:
            key = serialization.load_pem_private_key(data, password=passphrase.encode() if passphrase else None)
        except TypeError:
            raise AuditError(f"signing key {kid} is passphrase-protected; set {PASSPHRASE_VARIABLE}") from None
        except ValueError:
            raise AuditError(f"wrong passphrase for signing key {kid} ({PASSPHRASE_VARIABLE})") from None
        return kid, key

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        self._require()
        keys = {}
        for path in sorted((self.root / "public").glob("*.pem")):
            key = serialization.load_pem_public_key(path.read_bytes())
            keys[key_id(key)] = key
        return keys

    def public_bundle(self) -> str:
        """Every public key as PEM, each preceded by its key id: what an auditor needs."""
        return "".join(f"# forgetctl key id {kid}\n{public_pem(key).decode()}" for kid, key in self.public_keys().items())

    def secret(self, name: str) -> bytes:
        self._require()
        return (self.root / name).read_bytes()
