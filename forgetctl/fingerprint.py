"""File hashes and the one fingerprint of a model directory.

A model version is identified by the SHA-256 of every file in its folder, folded into one short
digest. Lineage, verify and the DPO report all name a model by this digest, so the version
`lineage list` prints is the one a report shows for the same folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# The fingerprint of a set of file hashes (the format of signed release records, kept as is so
# that every version in an audit log keeps its identity) is defined in the auditor's code:
# the version a report names is the one the auditor computes.
from forgetctl_audit.report_statements import files_digest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def directory_hashes(path: Path) -> dict[str, str]:
    """Every file under `path`, by its path relative to it, with its SHA-256."""
    return {str(p.relative_to(path)): file_sha256(p) for p in sorted(path.rglob("*")) if p.is_file()}




def model_digest(model_dir: Path) -> str:
    """A model version's identity: the fingerprint of every file in its directory."""
    return files_digest(directory_hashes(model_dir))
