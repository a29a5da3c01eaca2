"""Re-probe erased people on a model, and sign the result into the audit log (Art. 32(1)(d)).

The photos, the name and the pre-erasure answers come from the request's encrypted evidence, so
a request whose data key was shredded can no longer be re-probed (that is the point of shredding).
"""

from __future__ import annotations

import base64
from pathlib import Path

from forgetctl.engine.erase import ask, directory_hashes
from forgetctl.engine.images import photo_from_bytes
from forgetctl.engine.loading import load_model
from forgetctl.errors import InputError
from forgetctl.evaluation.evaluate import answer_rates
from forgetctl.evaluation.grounding import LeakDetector
from forgetctl.evaluation.rouge import mean_rouge_l
from forgetctl.prompts import IDENTITY_QUESTIONS
from forgetctl.trail import request_states
from forgetctl_audit.store import AuditLog


def erased_requests(log: AuditLog, adapter_hashes: dict | None, only: str | None) -> list[tuple[str, dict]]:
    """(request id, latest erasure record) for each erased request, matching the adapter if given."""
    chosen = []
    for request_id, state in request_states(log).items():
        if only and request_id != only:
            continue
        erasures = [r for records in state["runs"].values() for r in records if r["kind"] == "erasure"]
        if adapter_hashes is not None:
            erasures = [r for r in erasures if r["body"]["manifest"]["adapter"] == adapter_hashes]
        if erasures and not state["shredded"]:
            chosen.append((request_id, erasures[-1]))
    return chosen


def evidence_of(log: AuditLog, request_id: str, record: dict) -> dict:
    return {item["id"].split(":", 1)[1]: log.evidence(request_id, item["id"]) for item in record["evidence"]}


def leak_detector(evidence: dict) -> LeakDetector:
    """How the erasure told a leak, from its evidence: the name and the private words (records
    from before the words were kept fall back to the name alone)."""
    return LeakDetector(evidence["subject"], evidence.get("private_terms", {}))


def evidence_photos(probes: list[dict]) -> list:
    """The photos kept (encrypted) in an erasure's evidence, named by their hash prefix."""
    return [photo_from_bytes(base64.b64decode(p["image"]), Path(p["sha256"][:12])) for p in probes]


def reprobe(log: AuditLog, model_dir: Path, adapter_dir: Path | None, only: str | None, phase) -> list[dict]:
    adapter_hashes = directory_hashes(adapter_dir) if adapter_dir else None
    targets = erased_requests(log, adapter_hashes, only)
    if not targets:
        raise InputError(
            "no erased request with readable evidence matches"
            + (f" the adapter {adapter_dir}" if adapter_dir else "")
            + (f" and request {only}" if only else "")
        )
    loaded = load_model(model_dir)
    if adapter_dir:
        from peft import PeftModel

        loaded.model = PeftModel.from_pretrained(loaded.model, adapter_dir).eval()
    results = []
    for request_id, record in targets:
        evidence = evidence_of(log, request_id, record)
        metrics, answers = {}, {}
        for split, probes in evidence["probes"].items():
            photos = evidence_photos(probes)
            advance = phase(f"Re-probing {request_id} ({split})", len(photos) * len(IDENTITY_QUESTIONS))
            now = ask(loaded, photos, IDENTITY_QUESTIONS, advance)
            flat_now = [a for per_photo in now for a in per_photo]
            flat_before = [a for p in probes for a in p["before"]]
            metrics[split] = {
                "answers": len(flat_now), "rouge_l_vs_before": mean_rouge_l(flat_now, flat_before),
                **answer_rates(flat_now, leak_detector(evidence)),
            }
            answers[split] = now
        forgotten = all(m["name_leak_rate"] == 0 for m in metrics.values())
        log.append(
            "verification", request_id,
            {
                "erasure_record": record["seq"], "model": directory_hashes(model_dir),
                "adapter": adapter_hashes, "metrics": metrics, "still_forgotten": forgotten,
            },
            evidence={"answers": answers},
        )
        results.append({"request_id": request_id, "metrics": metrics, "forgotten": forgotten})
    return results
