"""The model lineage: which deployable version carries which erasures, derived from signed
release records only.

Every erasure that passes its policy produces a release: base + adapter merged into a plain
transformers model directory (a serving team deploys one folder; an adapter chain would not do,
because each later adapter is trained on the previous release, not on the original base). A
release record names the version (a digest of its files), its parent, the original base it
descends from (its root), where it lives, and every request whose erasure it carries.

    base (root) --A--> v1 {A} --B--> v2 {A, B} --C--> v3 {A, B, C}    head: v3

Starting a new erasure from a version that lacks an erasure a later version has would bring that
person back; it is refused unless the run forks on purpose (`--fork`), and recorded as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from forgetctl.errors import InputError
from forgetctl.fingerprint import directory_hashes, files_digest, model_digest

RELEASE = "release"


@dataclass(frozen=True)
class Version:
    version: str
    parent: str | None  # None for an original base (a root)
    root: str
    path: str | None
    erased: tuple[str, ...] = ()  # every request whose erasure this version carries
    added: tuple[str, ...] = ()  # the requests this release erased
    time: str | None = None
    run: str | None = None
    fork: bool = False
    seq: int | None = None  # the release record

    @property
    def is_root(self) -> bool:
        return self.parent is None


@dataclass
class Lineage:
    versions: dict[str, Version] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)  # root digest -> its path when first released from

    @classmethod
    def from_log(cls, log) -> Lineage:
        lineage = cls()
        for record in log.records():
            if record["kind"] != RELEASE:
                continue
            body = record["body"]
            lineage.roots.setdefault(body["root"], body["root_path"])
            lineage.versions[body["version"]] = Version(
                body["version"], body["parent"], body["root"], body["path"], tuple(body["erased"]),
                tuple(body["added"]), record["time"], body["run"], body.get("fork", False), record["seq"],
            )
        return lineage

    def lookup(self, digest: str) -> Version | None:
        """The version with this digest: a release, or an original base releases descend from."""
        if digest in self.versions:
            return self.versions[digest]
        if digest in self.roots:
            return Version(digest, None, digest, self.roots[digest])
        return None

    def releases(self, root: str) -> list[Version]:
        return sorted((v for v in self.versions.values() if v.root == root), key=lambda v: v.seq)

    def erased_in(self, root: str) -> set[str]:
        """Every request any release of this lineage has erased."""
        return {r for v in self.releases(root) for r in v.erased}

    def head(self, root: str) -> Version | None:
        """The version to deploy: the newest release carrying every erasure of its lineage.
        None when no single version does (forks went separate ways) or nothing was released."""
        everything = self.erased_in(root)
        complete = [v for v in self.releases(root) if everything <= set(v.erased)]
        return complete[-1] if complete else None

    def missing_from(self, version: Version) -> set[str]:
        """Requests a later version of this lineage erased that `version` does not carry."""
        return self.erased_in(version.root) - set(version.erased)


@dataclass(frozen=True)
class Start:
    """Where an erasure starts in the lineage: the version, the original base to take the sound
    reference from, and whether it forks."""

    version: Version | None  # None: a model the log has never seen (a new lineage)
    root_dir: Path | None  # the original base, when the start is a release
    fork: bool = False
    digest: str | None = None  # of the starting model

    @property
    def earlier(self) -> tuple[str, ...]:
        return self.version.erased if self.version else ()


def release_body(start: Start, model_dir: Path, release_dir: Path, run_id: str, added: list[str]) -> dict:
    """The signed record of a new version: its files, its parent and root, and every erasure it carries."""
    files = directory_hashes(release_dir)
    parent = start.version.version if start.version else start.digest or model_digest(model_dir)
    return {
        "version": files_digest(files), "parent": parent,
        "root": start.version.root if start.version else parent,
        "root_path": str(start.root_dir or model_dir) if start.version and not start.version.is_root else str(model_dir),
        "path": str(release_dir), "files": files,
        "erased": sorted(set(start.earlier) | set(added)), "added": sorted(added), "run": run_id, "fork": start.fork,
    }


def plan_start(lineage: Lineage, model_dir: Path, fork: bool) -> Start:
    """Check that starting from `model_dir` brings nobody back; refuse with the way forward."""
    digest = model_digest(model_dir)
    version = lineage.lookup(digest)
    if version is None:
        return Start(None, None, digest=digest)
    missing = lineage.missing_from(version)
    if missing and not fork:
        head = lineage.head(version.root)
        where = f"start from the head {head.version} ({head.path})" if head else "erase the missing requests again"
        raise InputError(
            f"{model_dir} is version {version.version}, which lacks the erasure of {', '.join(sorted(missing))}: "
            f"erasing from it would bring them back; {where}, or pass --fork to branch on purpose"
        )
    root_dir = None if version.is_root else Path(lineage.roots[version.root])
    if root_dir is not None and not root_dir.is_dir():
        raise InputError(
            f"the original base of this lineage ({root_dir}) is gone; it is the sound reference for what a person's "
            "facts are. Restore it there, or start a new lineage from this model with --fork"
        )
    return Start(version, root_dir, fork and bool(missing), digest)
