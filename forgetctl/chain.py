"""Releases kept as the chain that made them: each release is its adapter on its parent, so old
merged copies can be pruned and any of them rebuilt on demand.

    base --adapter 1--> v1 --adapter 2--> v2 --adapter 3--> v3 (head, materialised)

A release record signs the hashes of its adapter's files, the dtype and device the merge ran in,
and the merged folder's files. Pruning deletes merged folders (never the head, never an adapter,
never the original base) after checking that each one can be rebuilt: every adapter on its way
from the base is present and matches its record. A rebuild merges the chain again and compares
every file with the signed record: bit-exact where the arithmetic is the same (the same dtype on
the same kind of device and library versions); a rebuild that differs is said to differ, file by
file, and is never put where the release was. Nothing here loads torch; the merge is
`forgetctl.engine.release.rebuild`.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from forgetctl.errors import InputError
from forgetctl.fingerprint import directory_hashes
from forgetctl.lineage import PRUNED, Lineage, Version, check_original_base, differences, first_differences


def adapter_dir(home: Path, version: Version) -> Path:
    return home / "runs" / version.run / "adapter"


def folder_matches(version: Version) -> bool:
    path = Path(version.path) if version.path else None
    return path is not None and path.is_dir() and not differences(version.files, directory_hashes(path))


def check_adapter(home: Path, version: Version) -> Path:
    """The adapter that made `version`, checked against its signed release record."""
    if not version.adapter:
        raise InputError(f"release {version.version} was recorded before releases kept their adapter; "
                         "it cannot be rebuilt, so it is never pruned")
    found = adapter_dir(home, version)
    if not found.is_dir():
        raise InputError(f"the adapter of release {version.version} ({found}) is gone; restore it from a backup")
    changed = differences(version.adapter["files"], directory_hashes(found))
    if changed:
        raise InputError(f"the adapter of release {version.version} ({found}) is not the one its record signs: "
                         f"{first_differences(changed)}; restore it from a backup")
    return found


@dataclass(frozen=True)
class Rebuild:
    """How to materialise a version: the nearest folder that is what its record says (a kept
    release or the original base), then each adapter in order."""

    start: Path
    adapters: tuple[tuple[Path, str | None], ...]  # each adapter, and the dtype its release was written in


def plan_rebuild(lineage: Lineage, version: Version, home: Path) -> Rebuild:
    """Walk from `version` towards the base until a folder that matches its record; every adapter
    on the way must match its own. InputError naming the first missing or changed piece."""
    steps: list[Version] = []
    current = version
    while True:
        steps.append(current)
        parent = lineage.lookup(current.parent)
        if parent is None:
            raise InputError(f"release {current.version} names a parent ({current.parent}) no record knows")
        if parent.is_root:
            check_original_base(Path(parent.path), parent.version, lineage.root_files.get(parent.version, {}))
            start = Path(parent.path)
            break
        if folder_matches(parent):
            start = Path(parent.path)
            break
        current = parent
    steps.reverse()
    return Rebuild(start, tuple((check_adapter(home, v), v.adapter.get("stored")) for v in steps))


def chain_from_base(lineage: Lineage, version: Version) -> list[Version]:
    """Every release from the original base to `version`, oldest first."""
    chain = lineage.ancestry(version)
    if chain and lineage.lookup(chain[0].parent) is None:
        raise InputError(f"release {chain[0].version} names a parent no record knows")
    return chain


@dataclass(frozen=True)
class PrunePlan:
    prune: tuple[Version, ...]  # folders to delete: each one rebuildable
    keep: tuple[Version, ...]  # materialised versions kept (the head first)
    unprunable: tuple[tuple[Version, str], ...]  # left in place, and why


def plan_prune(lineage: Lineage, root: str, keep: int, home: Path) -> PrunePlan:
    """Keep the head and the newest materialised releases up to `keep` in all; every older
    materialised one is pruned if it can be rebuilt from the base and the adapters."""
    head = lineage.head(root)
    present = [v for v in reversed(lineage.releases(root)) if v.path and Path(v.path).is_dir()]
    kept = ([head] if head in present else []) + [v for v in present if v != head]
    kept, candidates = kept[:keep], kept[keep:]
    prune, unprunable = [], []
    problems: dict[str, str | None] = {}  # per release: why its adapter fails, hashed once for all chains

    def adapter_problem(step: Version) -> str | None:
        if step.version not in problems:
            try:
                check_adapter(home, step)
                problems[step.version] = None
            except InputError as exc:
                problems[step.version] = str(exc)
        return problems[step.version]

    for version in candidates:
        if not folder_matches(version):
            # A changed folder is evidence someone should look at, not disk to free.
            unprunable.append((version, "its folder is not the release its record signs"))
            continue
        try:  # its ancestors are older, so pruned too: the chain must hold from the base
            chain = chain_from_base(lineage, version)
        except InputError as exc:
            unprunable.append((version, str(exc)))
            continue
        why = next((problem for problem in map(adapter_problem, chain) if problem), None)
        if why:
            unprunable.append((version, why))
            continue
        prune.append(version)
    return PrunePlan(tuple(prune), tuple(kept), tuple(unprunable))


def prune_body(plan: PrunePlan, keep: int) -> dict:
    return {"versions": [v.version for v in plan.prune], "paths": [v.path for v in plan.prune],
            "kept": [v.version for v in plan.keep], "keep": keep}


def carry_out(log, planned: Lineage, plans: list[PrunePlan], keep: int) -> list[int]:
    """Record the pruning (signed, under the write lock: refused if a release landed since
    `planned` was read), then delete the folders; the records' seqs. Recorded first: a crash
    between the two leaves folders the record says can go, never a gone folder nobody recorded."""
    with log.transaction():
        if Lineage.from_log(log).versions.keys() != planned.versions.keys():
            raise InputError("a release was recorded while pruning was planned; run `forgetctl lineage prune` again")
        seqs = [log.append(PRUNED, None, prune_body(plan, keep)) for plan in plans if plan.prune]
    for plan in plans:
        for version in plan.prune:
            remove_folder(Path(version.path))
    return seqs


def remove_folder(path: Path) -> None:
    """Rename first, then delete: a half-deleted folder never sits where a release was."""
    doomed = path.parent / f".{path.name}.pruning-{uuid.uuid4().hex[:6]}"
    path.rename(doomed)
    shutil.rmtree(doomed)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0
