"""One erasure request from start to signed record: erase, evaluate, decide, merge, record.

The request was validated before this runs (forgetctl.request), so the audit log is only
opened for work that can start. The run is recorded as started before any work; its outcome is
"erasure" only if it finished and the policy passed, and a merged model is written only then;
"run-failed-policy", "run-failed" or "run-interrupted" otherwise. Under `accelerate launch` only
the main process evaluates and records; the others return None.
"""

from __future__ import annotations

import base64
import shutil
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from forgetctl.engine import distributed
from forgetctl.engine.erase import erase
from forgetctl.engine.loading import stored_dtype
from forgetctl.engine.release import write_release
from forgetctl.errors import AuditError, RunInterrupted, short_reason
from forgetctl.evaluation.evaluate import evaluate_run
from forgetctl.evaluation.results import Evaluation
from forgetctl.lineage import RELEASE, Lineage, moved_since, release_body
from forgetctl.policy import Verdict, split_batch, verdict
from forgetctl.prompts import IDENTITY_QUESTIONS
from forgetctl.reporting import QUIET, Reporter
from forgetctl.request import EraseRequest
from forgetctl.trail import Outcome, open_log, record_outcome, record_request, record_started
from forgetctl.types import EraseResult, Person


@dataclass
class RunOutcome:
    result: EraseResult
    evaluation: Evaluation | None  # None: nobody was identifiable, nothing was trained or measured after
    verdict: Verdict | None
    request_ids: dict[str, str] = field(default_factory=dict)  # person name -> request id
    merged: Path | None = None
    # A batch split by its verdict: the people held back (their own checks failed) and their
    # verdict; `verdict` is then the erased people's.
    held_back: dict[str, Verdict] = field(default_factory=dict)


def new_run_id() -> str:
    """Sortable and unique: the name of runs/RUN_ID and the run's id in every record."""
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]


def run_plan(request: EraseRequest) -> dict:
    spec = request.spec
    return {
        "method": spec.method.name, "method_options": spec.method_options.model_dump(),
        "training": spec.training.as_dict(), "model": str(spec.model_dir), "people_in_run": len(spec.people),
        "policy": request.policy.name, "judge": request.grading.judge.describe(),
        "new_lineage": request.lineage.start.new_lineage, "canaries": [b.label for b in spec.bystanders],
    }


def erasure_evidence(person: Person, result: EraseResult, evaluation: Evaluation) -> dict:
    """The personal data behind an erasure, kept only encrypted: who, what was known, the photos
    (so `verify --model` can re-probe them later), answers before and after, and judge replies."""
    return {
        "subject": person.name,
        "profile": person.profile,
        "probes": {
            split: [
                {
                    "sha256": p.photo.sha256, "image": base64.b64encode(p.photo.data).decode(),
                    "before": p.before, "after": p.after, "reference": p.reference,
                }
                for p in probes
            ]
            for split, probes in result.forget[person.name].items()
        },
        "grades": evaluation.grades[person.name],
        # Other people's photos and the base's answers: later releases re-probe them (collateral).
        "retain": [
            {"sha256": p.photo.sha256, "image": base64.b64encode(p.photo.data).decode(), "before": p.before}
            for p in result.retain
        ] if result.retain_are_others else [],
        # What counts as this person's private facts, from the base model's answers: later
        # re-probes judge leaks exactly as this erasure did.
        "private_terms": evaluation.private_terms[person.name],
    }


def not_identifiable_body(name: str, result: EraseResult, model_dir: Path) -> dict:
    """Nothing was trained: what was asked of the base model, and how often it identified the person
    against the control (counts only; the answers are evidence)."""
    return {
        "outcome": Outcome.NOT_IDENTIFIABLE, "model": str(model_dir),
        "photos": {split: len(probes) for split, probes in result.not_identifiable[name].items()},
        "questions": len(IDENTITY_QUESTIONS), "identification": result.identified[name].as_dict(),
    }


def not_identifiable_evidence(name: str, result: EraseResult) -> dict:
    return {"subject": name, "probes": {
        split: [{"sha256": p.photo.sha256, "before": p.before, "reference": p.reference} for p in probes]
        for split, probes in result.not_identifiable[name].items()
    }}


def record_not_identifiable(log, run_id: str, result: EraseResult, by_request: dict, model_dir: Path) -> None:
    """Close the requests of the people the base model does not identify: nothing was changed."""
    for name in result.not_identifiable:
        request_id = by_request[name]
        record_outcome(log, [request_id], run_id, not_identifiable_body(name, result, model_dir),
                       evidence={request_id: not_identifiable_evidence(name, result)})


def outcome_body(result: EraseResult, evaluation: Evaluation, decision: Verdict, by_request: dict, merged: Path | None,
                 batch: dict | None = None) -> dict:
    """The outcome record: numbers only (grades keep raw judge replies, which may quote the person:
    they stay in the evidence)."""
    return {
        "outcome": Outcome.ERASURE if decision.passed else Outcome.POLICY_FAILED,
        # A batch split by its verdict: which of its requests were erased, which held back.
        "batch": batch,
        # Whether the base model identified each person before training (--force trains anyway).
        "identification": {by_request[name]: result.identified[name].as_dict() for name in evaluation.forget},
        "run_dir": str(result.run_dir), "merged_model": str(merged) if merged else None,
        "manifest": {k: v for k, v in result.manifest.items() if k != "loss_log"},
        "losses": [round(entry["loss"], 4) for entry in result.manifest["loss_log"]],
        **evaluation.record(by_request),
        "start_named": result.start_named, "verdict": decision.record(),
    }


class HeadMoved(AuditError):
    """Another erasure released from this run's start while it ran."""


def record_result(log, request: EraseRequest, run_id: str, result: EraseResult, groups: list[tuple[list[Person], Verdict]],
                  evaluation: Evaluation, by_request: dict, merged: Path | None, merged_on: str | None) -> None:
    """One outcome record per group (a split batch has two: the erased, the held back) and the
    release of the erased, landing together or not at all (a crash between them would leave
    an "erasure" naming a release the lineage does not know). Under the write lock, the run
    checks that no erasure released from its start meanwhile: its release would lack that one."""
    start = request.lineage.start
    batch = None if len(groups) == 1 else {
        "erased": [by_request[p.name] for p in groups[0][0]], "held_back": [by_request[p.name] for p in groups[1][0]],
    }
    with log.transaction():
        if merged is not None:
            moved = moved_since(Lineage.from_log(log), start)
            if moved and not start.may_fork:
                raise HeadMoved(
                    f"while this run trained, {', '.join(sorted(moved))} was erased in a release from the same "
                    "version; a release from here would lack it. Erase again from the head (`forgetctl lineage head`)"
                )
            start = replace(start, missing=start.missing | moved)
        for people, decision in groups:
            mine = {p.name: by_request[p.name] for p in people}
            shown = evaluation.for_people(mine)
            record_outcome(
                log, list(mine.values()), run_id,
                outcome_body(result, shown, decision, mine, merged if decision.passed else None, batch),
                evidence={mine[p.name]: erasure_evidence(p, result, evaluation) for p in people},
            )
        if merged is not None:
            adapter = {"files": result.manifest["adapter"], "dtype": str(result.loaded.dtype).removeprefix("torch."),
                       "device": merged_on, "stored": stored_dtype(merged)}
            erased = [by_request[p.name] for p in groups[0][0]]
            log.append(RELEASE, None, release_body(start, request.spec.model_dir, merged, run_id, erased, adapter))


def open_requests(log, request: EraseRequest, report: Reporter) -> list:
    """Each person's request, opened or continued, and said first: the id to quote if the run is
    interrupted, and the clock it runs against."""
    people = request.spec.people
    single = request.record.request_id if len(people) == 1 else None
    opened = [record_request(log, person.name, request.record, single) for person in people]
    for person, o in zip(people, opened):
        report.notice(f"{'Opened' if o.new else 'Continuing the open'} request {o.request_id} for {person.name} "
                      f"(received {o.body.get('received')}, deadline {o.body.get('deadline')}, {o.body.get('grounds')})"
                      + ("" if o.new or not request.record.received else "; --received was not used: the request has its date"))
    return opened


def run_request(request: EraseRequest, home: Path, report: Reporter = QUIET) -> RunOutcome | None:
    run_id = new_run_id()
    people = request.spec.people
    if request.grading.clip is not None and distributed.is_main_process():
        request.grading.clip.load()  # a CLIP that cannot load is refused before any record
    with open_log(home, announce=report.notice) if distributed.is_main_process() else nullcontext() as log:
        opened = open_requests(log, request, report) if log is not None else []
        request_ids = [o.request_id for o in opened]
        if log is not None:
            record_started(log, request_ids, run_id, run_plan(request))
        merged = merged_on = None
        try:
            spec = replace(request.spec, photo_id=log.photo_id) if log is not None else request.spec
            result = erase(spec, home, run_id, report)
            if result is None:
                return None
            by_request = dict(zip((p.name for p in people), request_ids))
            if log is not None:
                record_not_identifiable(log, run_id, result, by_request, spec.model_dir)
                request_ids = [by_request[p.name] for p in people if p.name not in result.not_identifiable]
            if not result.trained:
                return RunOutcome(result, None, None, by_request)
            people = [p for p in people if p.name not in result.not_identifiable]
            lineage = request.lineage
            evaluation = evaluate_run(result, people, request.grading, report.phase, lineage.detectors, lineage.unverifiable)
            named = {p.name: p for p in people}
            groups = [([named[n] for n in names], decision) for names, decision in
                      split_batch(request.policy, evaluation, verdict(request.policy, evaluation), list(named))]
            if groups[0][1].passed and request.release:  # a passing erasure becomes a deployable version
                merged = request.merge_to or home / "releases" / run_id
                merged_on = write_release(result, request.spec.model_dir, merged, stored_dtype(request.spec.model_dir))
            by_request = {p.name: by_request[p.name] for p in people}
            if log is not None:
                record_result(log, request, run_id, result, groups, evaluation, by_request, merged, merged_on)
        except BaseException as exc:
            if merged is not None:  # its record did not land: never a folder that looks like a release
                shutil.rmtree(merged, ignore_errors=True)
            if request_ids:
                outcome = Outcome.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else Outcome.FAILED
                # The error's class (and kind, for storage errors) only: its message may quote
                # file names or answers.
                record_outcome(log, request_ids, run_id, {"outcome": outcome, "error": short_reason(exc)})
                if isinstance(exc, KeyboardInterrupt):  # the requests stay open: say which, to continue them
                    deadlines = {o.request_id: o.body.get("deadline") for o in opened}
                    raise RunInterrupted({r: deadlines.get(r) for r in request_ids}) from exc
            raise
        held_back = {p.name: decision for group, decision in groups[1:] for p in group}
        return RunOutcome(result, evaluation, groups[0][1], by_request, merged, held_back)
