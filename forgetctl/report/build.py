"""A request's report, built from signed records only: an export record signed over every record
of the request (with redacted examples from its encrypted evidence), then the statements the
auditor's script derives from those records, with the proofs.
"""

from __future__ import annotations

from pathlib import Path

from forgetctl_audit.report_statements import EXPORT, digest, request_state, statements
from forgetctl_audit.store import AuditLog

from forgetctl.errors import AuditError
from forgetctl.lineage import Lineage
from forgetctl.report.redaction import redact, visible_words
from forgetctl.trail import Outcome



def build_report(log: AuditLog, request_id: str, old_head: dict | None = None) -> dict:
    """Sign an export record listing every record of the request (with the redacted examples,
    made from its encrypted evidence), then derive the report from the signed records exactly
    as the auditor's script will, with the proofs. Refuses (AuditError) when the log does not
    verify: no report is signed over tampering."""
    records = log.records(request_id)
    if not records:
        raise AuditError(f"no request {request_id} in the audit log")
    checked = log.verify()
    if not checked.ok:
        raise AuditError(f"the log does not verify ({checked.problems[0]}); refusing to export a report over it")
    state = request_state(records)
    examples_by_run = {}
    for run_id, run_records in state["runs"].items():
        outcome = next((r for r in run_records if r["kind"] in set(Outcome)), None)
        if outcome and outcome["body"].get("manifest"):
            examples_by_run[run_id] = examples(log, request_id, outcome)
    log.append(EXPORT, request_id, {
        "records": [r["seq"] for r in records], "examples": examples_by_run,
        "evidence_unreadable": None if state["shredded"] else evidence_problem(log, request_id, records),
        "still_holding": still_holding(Lineage.from_records(log.records()), request_id, state),
    })
    records = log.records(request_id)
    bundle = log.proofs([k["seq"] for k in log.key_records()] + [r["seq"] for r in records], old_head)
    return {**statements(request_id, records, log.root_fingerprint()), "records": records, "bundle": bundle}


def still_holding(lineage: Lineage, request_id: str, state: dict) -> list[dict]:
    """The models that still hold the person: the original base of each lineage whose releases
    carry the erasure, and every version of it that does not (older releases, forks), named by
    version and folder name (a report names no machine path)."""
    roots = {v.root for v in lineage.versions.values() if request_id in v.erased}
    holding = []
    for root in sorted(roots):
        holding.append({"what": "original base", "version": root, "folder": Path(lineage.roots[root]).name})
        holding += [{"what": "release", "version": v.version, "folder": Path(v.path).name}
                    for v in lineage.releases(root) if request_id not in v.erased]
    if not roots and any(r["kind"] == Outcome.ERASURE for rs in state["runs"].values() for r in rs):
        holding.append({"what": "the model the erasure ran on (no release carries the erasure; only its adapter does)",
                        "version": next(digest_of_run(rs) for rs in state["runs"].values()
                                        if any(r["kind"] == Outcome.ERASURE for r in rs)), "folder": None})
    return holding


def digest_of_run(run_records: list[dict]) -> str:
    outcome = next(r for r in run_records if r["kind"] == Outcome.ERASURE)
    return digest((outcome["body"].get("manifest") or {}).get("base_model", {}).get("files"))


def _evidence_value(log: AuditLog, request_id: str, record: dict, name: str):
    item = next((i for i in record.get("evidence", []) if i["id"].endswith(f":{name}")), None)
    try:
        return log.evidence(request_id, item["id"]) if item else None
    except AuditError:
        return None


def evidence_problem(log: AuditLog, request_id: str, records: list[dict]) -> str | None:
    """Why the request's evidence cannot be read on this machine, or None."""
    first = next((i["id"] for r in records for i in r["evidence"]), None)
    if first is None:
        return None
    try:
        log.evidence(request_id, first)
    except AuditError as exc:
        return str(exc)
    return None


def attack_rows(attacks: dict) -> list[dict]:
    """Per attack: worst leak on the erased model and on the base, and what that shows."""
    rows = []
    for key, a in attacks.items():
        def worst(rates):
            values = [v for v in (rates or {}).values() if v is not None]
            return max(values) if values else None

        erased, base = worst(a.get("erased")), worst(a.get("base"))
        result = ("not run: " + a["not_run"] if "not_run" in a else "tests nothing (the base does not leak either)"
                  if a.get("tests_nothing") else "holds" if not erased else "LEAKS")
        rows.append({"attack": a["label"], "erased": erased, "base": base, "result": result})
    return rows


def examples(log: AuditLog, request_id: str, record: dict, limit: int = 3) -> list[dict]:
    probes = _evidence_value(log, request_id, record, "probes")
    if probes is None:
        return []
    allowed = visible_words(probes, _evidence_value(log, request_id, record, "private_terms"),
                            _evidence_value(log, request_id, record, "subject"))
    return [
        {"views": split, "before": redact(item["before"][0], allowed), "after": redact(item["after"][0], allowed)}
        for split, items in probes.items() for item in items[:limit]
    ]
