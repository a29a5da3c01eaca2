"""What an erasure request leaves in the audit log, from request to outcome.

A run is recorded as started before any work, and as an erasure only after it finished and its
adapter was written. A run that fails or is interrupted is recorded as such; a killed process
leaves a started run with no outcome, which `audit show` reports as incomplete. Never as erased.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from forgetctl.errors import InputError
from forgetctl_audit.keys import Keyring, fingerprint
from forgetctl_audit.report_statements import CLOSED, INCOMPLETE, request_state, run_status
from forgetctl_audit.store import AuditLog


# GDPR Art. 17(1) grounds, (a) to (f).
GROUNDS = {
    "a": "no longer necessary for the purposes collected",
    "b": "consent withdrawn",
    "c": "objection under Art. 21",
    "d": "unlawfully processed",
    "e": "legal obligation to erase",
    "f": "collected from a child (Art. 8(1))",
}


class Outcome(StrEnum):
    """How a run ended for a request, as recorded. Only ERASURE means the person was erased;
    NOT_IDENTIFIABLE closes a request whose person the model never identified."""

    ERASURE = "erasure"
    POLICY_FAILED = "run-failed-policy"
    FAILED = "run-failed"
    INTERRUPTED = "run-interrupted"
    # The base model did not identify the person on their photos: nothing was trained or changed.
    NOT_IDENTIFIABLE = "not-identifiable"


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def open_log(home: Path, announce=None) -> AuditLog:
    """The audit log under `home`, creating its keys on first use (announced, never silent)."""
    keyring = Keyring(home / "keys")
    if not keyring.initialised:
        kid = keyring.init()
        if announce:
            announce(f"Created audit keys in {keyring.root} (signing key {kid}; root fingerprint for your auditors to "
                     f"pin: {fingerprint(keyring.public_key(kid))}); back them up, see SECURITY.md")
    return AuditLog(home)


@dataclass(frozen=True)
class Opened:
    request_id: str
    body: dict  # the signed request record's body (dates, deadline, grounds)
    new: bool  # False: an open request of the same person was continued


def open_request_of(log: AuditLog, subject_hash: str) -> dict | None:
    """The latest request of this person that nothing has answered yet (not erased, not closed as
    not identifiable or by `audit close`, not shredded): a retry continues it instead of opening
    a second one."""
    for state in reversed(list(request_states(log).values())):
        request = state["request"]
        if request is None or request["body"].get("subject") != subject_hash or state["shredded"] or state["closed"]:
            continue
        statuses = {run_status(records) for records in state["runs"].values()}
        if not statuses & {Outcome.ERASURE, Outcome.NOT_IDENTIFIABLE}:
            return request
    return None


def check_same_person(log: AuditLog, request: dict, name: str) -> None:
    """A run attaches to a request only for the person it was made for (by keyed hash of the
    normalised name): checked when the request is validated and again as the run records it."""
    if request["body"].get("subject") != log.subject_hash(name):
        raise InputError(f"request {request['request_id']} was made for a different person")


def record_request(log: AuditLog, subject: str, record, request_id: str | None = None) -> Opened:
    """Record a new request, continue this person's open one, or check that `request_id` exists
    and is for the same person. `record` carries the grounds (already validated), the date
    received and the requester reference."""
    subject_hash = log.subject_hash(subject)
    existing = [r for r in log.records(request_id) if r["kind"] == "request"] if request_id else []
    if not request_id and (open_one := open_request_of(log, subject_hash)) is not None:
        existing = [open_one]
    if existing:
        check_same_person(log, existing[0], subject)
        return Opened(existing[0]["request_id"], existing[0]["body"], False)
    request_id = request_id or f"req-{uuid.uuid4().hex[:12]}"
    received = record.received or dt.date.today()
    body = {
        "subject": subject_hash,
        "received": received.isoformat(),
        # Art. 12(3): one month to act, extendable by two with reasons given within the first.
        "deadline": add_months(received, 1).isoformat(),
        "latest_extended_deadline": add_months(received, 3).isoformat(),
        "grounds": f"Art. 17(1)({record.grounds}): {GROUNDS[record.grounds]}",
        # Only a keyed hash: `audit list --requester-ref` finds it; the reference itself is evidence.
        "requester_ref_hash": log.keyed_hash("requester-ref", record.requester_ref) if record.requester_ref else None,
    }
    log.append("request", request_id, body,
               evidence={"requester_ref": record.requester_ref} if record.requester_ref else None)
    return Opened(request_id, body, True)


def close_request(log: AuditLog, request_id: str, reason: str, killed: bool = False) -> tuple[int, bool]:
    """Close a request without erasure, for a reason a person gives (CLOSE_REASONS): a signed
    record, checked and appended under the write lock. Returns (its seq, whether it was closed
    already). An erased request has its answer; one whose last run has no outcome may still be
    running, and is closed only when the caller says that run was killed."""
    with log.transaction():
        state = request_state(log.records(request_id))
        if state["request"] is None:
            raise InputError(f"no request {request_id} in the audit log")
        if state["closed"]:
            return state["closed"]["seq"], True
        statuses = [run_status(records) for records in state["runs"].values()]
        if Outcome.ERASURE in statuses or Outcome.NOT_IDENTIFIABLE in statuses:
            raise InputError(f"request {request_id} was answered already ({', '.join(statuses)}); there is nothing to close")
        if statuses and statuses[-1] == INCOMPLETE and not killed:
            raise InputError(f"request {request_id} has a run with no outcome yet (still running, or killed); "
                             "close it once that run has ended, or with --killed if its process is gone")
        return log.append(CLOSED, request_id, {"reason": reason}), False


def record_started(log: AuditLog, request_ids: list[str], run_id: str, plan: dict) -> None:
    for request_id in request_ids:
        log.append("run-started", request_id, {"run": run_id, **plan})


def record_outcome(log: AuditLog, request_ids: list[str], run_id: str, body: dict, evidence: dict[str, dict] | None = None):
    """`evidence` maps request id -> personal-data evidence, encrypted under that request's key."""
    for request_id in request_ids:
        log.append(body["outcome"], request_id, {"run": run_id, **body}, evidence=(evidence or {}).get(request_id))


CANARY_SET = "canaries-"  # the id prefix of canary sets (forgetctl.canaries): their own data key, no request


def is_canary_set(request_id: str | None) -> bool:
    return bool(request_id) and request_id.startswith(CANARY_SET)


def request_states(log: AuditLog) -> dict[str, dict]:
    """Per request: its request record, the records of its runs in order, whether it was shredded
    (canary sets, kept under ids of their own, are no request)."""
    by_request: dict[str, list] = {}
    for record in log.records():
        if record["request_id"] is not None and not is_canary_set(record["request_id"]):
            by_request.setdefault(record["request_id"], []).append(record)
    return {request_id: request_state(records) for request_id, records in by_request.items()}


def claims_problems(records: list[dict]) -> list[str]:
    """What signed records claim together and must hold together: an erasure that names a
    release has that release's record (both land in one transaction; a log where they do not
    was cut or edited)."""
    released = {r["body"].get("run") for r in records if r["kind"] == "release"}
    return [
        f"record {r['seq']}: the erasure of {r['request_id']} names a release, but no release record of its run exists"
        for r in records
        if r["kind"] == Outcome.ERASURE and r["body"].get("merged_model") and r["body"].get("run") not in released
    ]
