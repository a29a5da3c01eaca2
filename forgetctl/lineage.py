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

Nothing here trusts what it has not checked: the lineage is read from a log that verifies, a
release folder is re-hashed against its signed record before it is advised or started from, and
once a lineage exists a model that is no known version (one touched file is enough) starts a new
lineage only when the operator says so (`--new-lineage REASON`, recorded).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from forgetctl.errors import AuditError, InputError
from forgetctl.fingerprint import directory_hashes, files_digest

RELEASE = "release"
PRUNED = "release-pruned"  # merged folders deleted on purpose; each rebuildable from its chain


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
    files: dict = field(default_factory=dict, compare=False)  # path -> SHA-256, as signed
    # The adapter that made it from its parent, as signed: {"files", "dtype" (merged in), "device",
    # "stored" (written in: the parent's dtype)} (empty: recorded before releases kept their
    # adapter, so it cannot be rebuilt).
    adapter: dict = field(default_factory=dict, compare=False)
    pruned: bool = False  # its merged folder was deleted by `lineage prune`

    @property
    def is_root(self) -> bool:
        return self.parent is None


@dataclass
class Lineage:
    versions: dict[str, Version] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)  # root digest -> its path when first released from
    root_files: dict[str, dict] = field(default_factory=dict)  # root digest -> its files (records that name them)

    @classmethod
    def from_log(cls, log) -> Lineage:
        """The lineage of a log that verifies; AuditError naming the first problem otherwise
        (an unsigned or edited release record must never be advised for deployment)."""
        report = log.verify()
        if not report.ok:
            raise AuditError(f"the audit log does not verify ({report.problems[0]}); "
                             "nothing in it can be trusted until `forgetctl verify` passes")
        return cls.from_records(log.records())

    @classmethod
    def from_records(cls, records) -> Lineage:
        lineage = cls()
        for record in records:
            body = record["body"]
            if record["kind"] == PRUNED:
                for digest in body["versions"]:
                    lineage.versions[digest] = replace(lineage.versions[digest], pruned=True)
            if record["kind"] != RELEASE:
                continue
            lineage.roots.setdefault(body["root"], body["root_path"])
            if body.get("root_files"):
                lineage.root_files.setdefault(body["root"], body["root_files"])
            lineage.versions[body["version"]] = Version(
                body["version"], body["parent"], body["root"], body["path"], tuple(body["erased"]),
                tuple(body["added"]), record["time"], body["run"], body.get("fork", False), record["seq"],
                body["files"], body.get("adapter") or {},
            )
        return lineage

    def __bool__(self) -> bool:
        return bool(self.versions)

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

    def ancestry(self, version: Version | None) -> list[Version]:
        """The releases from the original base to `version`, oldest first (as far back as the
        records reach)."""
        chain = []
        while version is not None and not version.is_root:
            chain.append(version)
            version = self.lookup(version.parent)
        return chain[::-1]

    def erasure_order(self, version: Version | None) -> tuple[str, ...]:
        """The requests `version` carries, oldest erasure first, from the releases that added
        them (a signed `erased` list is sorted by id, which says nothing of when). Requests whose
        release lies beyond the records come first, by id."""
        if version is None:
            return ()
        added = [r for v in self.ancestry(version) for r in v.added]
        return tuple(sorted(set(version.erased) - set(added))) + tuple(r for r in dict.fromkeys(added) if r in version.erased)

    def depth(self, version: Version | None) -> int:
        """How many releases lie between the original base and `version` (0: the base itself)."""
        return len(self.ancestry(version))

    def missing_from(self, version: Version) -> set[str]:
        """Requests a later version of this lineage erased that `version` does not carry."""
        return self.erased_in(version.root) - set(version.erased)

    def known_files(self) -> list[tuple[str, Version, dict]]:
        """Every version whose files a record names: (what it is, the version, its files)."""
        known = [("release", v, v.files) for v in self.versions.values()]
        return known + [("original base", self.lookup(root), files) for root, files in self.root_files.items()]

    def closest(self, files: dict) -> tuple[str, Version, list[str]] | None:
        """The known version `files` is nearest to (most files alike) and how they differ; None
        when no file is alike."""
        scored = [(len(files.items() & known.items()), what, v, known) for what, v, known in self.known_files()]
        scored = [s for s in scored if s[0]]
        if not scored:
            return None
        _, what, version, known = max(scored, key=lambda s: s[0])
        return what, version, differences(known, files)


def reprobe_choice(earlier: tuple[str, ...], depth: int, every: int) -> tuple[list[str], list[str]]:
    """Which of the people erased before (oldest first) a release at `depth` re-probes, and which
    it defers: the `every` most recent always, each older one when its place comes round (place
    modulo `every` equals the depth modulo `every`). Along a chain every person is re-probed at
    least once in any `every` consecutive releases; `every` 1 re-probes everyone, every time."""
    recent = set(earlier[-every:])
    chosen = [r for i, r in enumerate(earlier) if r in recent or i % every == depth % every]
    return chosen, [r for r in earlier if r not in chosen]


def first_differences(changed: list[str], shown: int = 3) -> str:
    """The first few differences, and how many more: one line, however many files changed."""
    return "; ".join(changed[:shown]) + (f" (and {len(changed) - shown} more)" if len(changed) > shown else "")


def differences(signed: dict, found: dict) -> list[str]:
    """How a folder's files differ from the ones a record names, file by file."""
    changed = [f"{name} differs" for name in sorted(signed.keys() & found.keys()) if signed[name] != found[name]]
    missing = [f"{name} is missing" for name in sorted(signed.keys() - found.keys())]
    added = [f"{name} was added" for name in sorted(found.keys() - signed.keys())]
    return changed + missing + added


def check_release_folder(version: Version) -> None:
    """Re-hash a release folder against its signed record; InputError naming the files that
    differ. A folder that changed since it was released is not that version any more."""
    path = Path(version.path)
    if not path.is_dir():
        if version.pruned:
            raise InputError(f"release {version.version} was pruned from {path}; "
                             f"rebuild it with `forgetctl lineage rebuild {version.version}`")
        raise InputError(f"release {version.version} is gone from {path}; restore it from a backup")
    changed = differences(version.files, directory_hashes(path))
    if changed:
        raise InputError(f"{path} is no longer release {version.version}: {first_differences(changed)}; "
                         "restore the release from a backup, do not deploy it")


@dataclass(frozen=True)
class Start:
    """Where an erasure starts in the lineage: the version, the original base to take the sound
    reference from, and what it lacks (a fork, when the operator allowed one)."""

    version: Version | None  # None: a model the log has never seen (a new lineage)
    root_dir: Path | None  # the original base, when the start is a release
    digest: str | None = None  # of the starting model
    files: dict = field(default_factory=dict, compare=False)  # of the starting model
    root_files: dict = field(default_factory=dict, compare=False)  # of its original base, where known
    missing: frozenset = frozenset()  # erasures a later version has that this start lacks
    may_fork: bool = False  # --fork: lacking some is on purpose
    new_lineage: str | None = None  # why the operator began a new lineage beside the known ones
    earlier: tuple[str, ...] = ()  # the requests the start carries, oldest erasure first (Lineage.erasure_order)

    @property
    def fork(self) -> bool:
        return self.may_fork and bool(self.missing)


def release_body(start: Start, model_dir: Path, release_dir: Path, run_id: str, added: list[str], adapter: dict) -> dict:
    """The signed record of a new version: its files, its parent and root, every erasure it
    carries, and the adapter that made it from its parent (`adapter`: its files' hashes and the
    dtype and device of the merge), from which `lineage rebuild` makes it again."""
    files = directory_hashes(release_dir)
    parent = start.version.version if start.version else start.digest
    return {
        "version": files_digest(files), "parent": parent,
        "root": start.version.root if start.version else parent,
        "root_path": str(start.root_dir or model_dir),
        "root_files": start.root_files, "path": str(release_dir), "files": files,
        "erased": sorted(set(start.earlier) | set(added)), "added": sorted(added), "run": run_id, "fork": start.fork,
        "new_lineage": start.new_lineage, "adapter": adapter,
    }


def not_a_version(lineage: Lineage, model_dir: Path, files: dict) -> str:
    near = lineage.closest(files)
    if near is None:
        return f"{model_dir} shares no file with any version of the lineage in this audit log"
    what, version, changed = near
    where = f" ({version.path})" if version.path else ""
    return f"{model_dir} is not a version of this lineage: against the {what} {version.version}{where}, {first_differences(changed)}"


def plan_start(lineage: Lineage, model_dir: Path, fork: bool, new_lineage: str | None = None) -> Start:
    """Check that starting from `model_dir` brings nobody back; refuse with the way forward."""
    files = directory_hashes(model_dir)
    digest = files_digest(files)
    version = lineage.lookup(digest)
    if version is None:
        if lineage and not new_lineage:
            # A touched file would otherwise start a lineage with nobody earlier to re-probe.
            raise InputError(
                f"{not_a_version(lineage, model_dir, files)}. Start from a known version (`forgetctl lineage head`), "
                "or pass --new-lineage REASON to begin a new lineage from it on purpose (recorded)"
            )
        return Start(None, None, digest, files, files, new_lineage=new_lineage)
    if new_lineage:
        raise InputError(f"--new-lineage: {model_dir} is already version {digest} of a lineage; leave the option out")
    missing = lineage.missing_from(version)
    if missing and not fork:
        head = lineage.head(version.root)
        where = f"start from the head {head.version} ({head.path})" if head else "erase the missing requests again"
        raise InputError(
            f"{model_dir} is version {version.version}, which lacks the erasure of {', '.join(sorted(missing))}: "
            f"erasing from it would bring them back; {where}, or pass --fork to branch on purpose"
        )
    root_files = files if version.is_root else lineage.root_files.get(version.root, {})
    root_dir = None if version.is_root else Path(lineage.roots[version.root])
    if root_dir is not None:
        check_original_base(root_dir, version.root, root_files)
    return Start(version, root_dir, digest, files, root_files, frozenset(missing), fork, earlier=lineage.erasure_order(version))


def check_original_base(root_dir: Path, root: str, root_files: dict) -> None:
    """The original base is the sound reference for what a person's facts are: it must be there
    and be the model the lineage began from."""
    if not root_dir.is_dir():
        raise InputError(
            f"the original base of this lineage ({root_dir}) is gone; it is the sound reference for what a person's "
            "facts are. Restore it there, or start a new lineage from this model with --fork"
        )
    found = directory_hashes(root_dir)
    if files_digest(found) != root:
        changed = first_differences(differences(root_files, found)) if root_files else "its files changed"
        raise InputError(f"the original base {root_dir} is no longer version {root} ({changed}); restore it from a backup")


def moved_since(lineage: Lineage, start: Start) -> set[str]:
    """Erasures released from this run's start since it was planned (another erasure ran at the
    same time): a release from the old start would lack them. Checked under the write lock."""
    version = lineage.lookup(start.digest) if start.digest else None
    return (lineage.missing_from(version) - start.missing) if version else set()
