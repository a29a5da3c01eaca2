"""One erasure request from start to signed record: erase, evaluate, judge, decide, record.

The audit log is opened only once the inputs are valid (bad input leaves nothing behind). The
run is recorded as started before any work; its outcome is "erasure" only if it finished and the
policy passed; "run-failed-policy", "run-failed" or "run-interrupted" otherwise. Under
`accelerate launch` only the main process evaluates and records; the others return None.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

from forgetctl.engine.erase import Entity, EraseResult, erase, no_progress
from forgetctl.engine.training import TrainingConfig
from forgetctl.evaluation.evaluate import Distractors, evaluate_run
from forgetctl.policy import Policy, verdict
from forgetctl.trail import open_log, record_outcome, record_request, record_started


@dataclass
class RequestOptions:
    grounds: str = "a"
    received: object = None  # datetime.date
    requester_ref: str | None = None
    request_id: str | None = None


@dataclass
class Outcome:
    result: EraseResult
    evaluation: dict
    verdict: dict
    request_ids: dict[str, str] = field(default_factory=dict)  # entity name -> request id


def erasure_evidence(entity: Entity, result: EraseResult, evaluation: dict) -> dict:
    """The personal data behind an erasure, kept only encrypted: who, what was known, the photos
    (so `verify --model` can re-probe them later), answers before and after, and judge replies."""
    return {
        "subject": entity.name,
        "profile": entity.profile,
        "probes": {
            split: [
                {
                    "sha256": p.photo.sha256, "image": base64.b64encode(p.photo.path.read_bytes()).decode(),
                    "before": p.before, "after": p.after,
                }
                for p in probes
            ]
            for split, probes in result.forget[entity.name].items()
        },
        "grades": {split: m["grades"] for split, m in evaluation["forget"][entity.name].items()},
    }


def without_grades(metrics: dict) -> dict:
    """Numbers only: grades keep raw judge replies, which may quote the person, so they are evidence."""
    return {k: v for k, v in metrics.items() if k != "grades"}


def run_request(
    home: Path, entities: list[Entity], methods: dict, method: str, method_options: dict,
    training: TrainingConfig, model: Path | None, retain: Path | None, merge: Path | None,
    judge, clip, distractors: Distractors, policy: Policy, request: RequestOptions,
    phase=no_progress, on_step=None, announce=None,
) -> Outcome | None:
    log = None
    request_ids: list[str] = []
    run_id = None

    def started():
        nonlocal log, run_id
        log = open_log(home, announce=announce)
        for entity in entities:
            request_ids.append(record_request(
                log, entity.name, request.grounds, request.received, request.requester_ref,
                request.request_id if len(entities) == 1 else None,
            ))
        run_id = record_started(log, request_ids, {
            "method": method, "method_options": method_options, "training": training.as_dict(),
            "model": str(model) if model else "forgetctl demo model", "people_in_run": len(entities),
            "policy": policy.name, "judge": judge.describe(),
        })

    try:
        try:
            result = erase(
                entities, home, methods, method_name=method, method_options=method_options, training=training,
                model_dir=model, retain_dir=retain, merge_to=merge, phase=phase, on_step=on_step,
                on_validated=started,
            )
            if result is None:
                return None
            evaluation = evaluate_run(result, entities, judge, clip, distractors, phase)
        except BaseException as exc:
            if run_id is not None:
                outcome = "run-interrupted" if isinstance(exc, KeyboardInterrupt) else "run-failed"
                # The error's class only: its message may quote file names or answers.
                record_outcome(log, request_ids, run_id, {"outcome": outcome, "error": type(exc).__name__})
            raise
        decision = verdict(policy, evaluation)
        by_request = dict(zip((e.name for e in entities), request_ids))
        manifest = {k: v for k, v in result.manifest.items() if k != "loss_log"}
        record_outcome(
            log, request_ids, run_id,
            {
                "outcome": "erasure" if decision["passed"] else "run-failed-policy",
                "run_dir": str(result.run_dir), "manifest": manifest, "final_loss": result.manifest["loss_log"][-1],
                "metrics": {
                    by_request[name]: {split: without_grades(m) for split, m in splits.items()}
                    for name, splits in evaluation["forget"].items()
                },
                "retain_metrics": without_grades(evaluation["retain"]),
                "judge": evaluation["judge"], "verdict": decision,
            },
            evidence={by_request[e.name]: erasure_evidence(e, result, evaluation) for e in entities},
        )
        return Outcome(result, evaluation, decision, by_request)
    finally:
        if log is not None:
            log.close()
