"""Canaries: people an operator registers once per lineage, whom every later erasure on it asks
again and never trains on. A look-alike forgotten on the side then fails the policy of the run
that forgot them, not the next request's.

A canary set is kept like evidence: its photos and the original base's answers are encrypted in
the audit log under the set's own data key (the set id stands where a request id would), and
`forgetctl canaries remove` shreds that key for good. The signed record holds counts only.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from forgetctl_audit.store import AuditLog

from forgetctl.engine.images import read_photos, retain_folders, survey
from forgetctl.errors import InputError
from forgetctl.fingerprint import directory_hashes, files_digest
from forgetctl.lineage import Lineage
from forgetctl.prompts import RETAIN_QUESTIONS
from forgetctl.trail import CANARY_SET, is_canary_set
from forgetctl.types import Bystander

KIND = "canaries"


def canary_sets(log: AuditLog) -> list[dict]:
    """Every registered set: id, the lineage root it belongs to, counts, and whether it was removed."""
    records = log.records()
    removed = {r["request_id"] for r in records if r["kind"] == "shred" and is_canary_set(r["request_id"])}
    return [{"id": r["request_id"], "seq": r["seq"], "time": r["time"], **r["body"], "evidence": r["evidence"][0]["id"],
             "removed": r["request_id"] in removed} for r in records if r["kind"] == KIND]


def root_of(log: AuditLog, model_dir: Path) -> str:
    """The digest of the lineage root `model_dir` is; a release is refused: canaries are answered
    by the original base, which every release is compared against."""
    digest = files_digest(directory_hashes(model_dir))
    lineage = Lineage.from_log(log)
    version = lineage.lookup(digest)
    if version is not None and not version.is_root:
        raise InputError(f"{model_dir} is release {version.version[:16]}; register canaries on its original base "
                         f"({lineage.roots.get(version.root)}), whose answers every release is compared against")
    return digest


def read_canaries(folder: Path) -> list[list]:
    """One sub-folder of photos per canary person, checked like a request's photos."""
    people = retain_folders(folder)
    survey(people)
    return [read_photos(sub) for sub in people]


def register(log: AuditLog, model_dir: Path, people: list[list], report) -> dict:
    """Ask the original base about every canary's photos (per person, from read_canaries) and
    sign the set into the log, encrypted."""
    root = root_of(log, model_dir)
    from forgetctl.engine.generation import ask  # torch: only once the input is known to be good
    from forgetctl.engine.loading import load_model

    loaded = load_model(model_dir)
    photos = [p for person in people for p in person]
    answers = iter(ask(loaded, photos, RETAIN_QUESTIONS, report.phase("Asking the base about the canaries",
                                                                         len(photos) * len(RETAIN_QUESTIONS))))
    kept = [[{"sha256": p.sha256, "image": base64.b64encode(p.data).decode(), "before": next(answers)} for p in person]
            for person in people]
    set_id = f"{CANARY_SET}{uuid.uuid4().hex[:12]}"
    body = {"root": root, "people": len(people), "photos": len(photos), "questions": len(RETAIN_QUESTIONS)}
    log.append(KIND, set_id, body, evidence={"people": kept})
    return {"id": set_id, **body}


def load_bystanders(log: AuditLog, root: str | None) -> tuple[Bystander, ...]:
    """The canaries registered for the lineage `root` and not removed, one Bystander per person."""
    from forgetctl.verification import evidence_photos

    out = []
    for found in canary_sets(log):
        if found["root"] != root or found["removed"]:
            continue
        people = log.evidence(found["id"], found["evidence"])
        for k, person in enumerate(people, 1):
            out.append(Bystander(f"{found['id']}#{k}", tuple(evidence_photos(person)), tuple(p["before"] for p in person)))
    return tuple(out)
