"""Re-probe erased people on a model, and sign the result into the audit log (Art. 32(1)(d)).

The photos, the name and the pre-erasure answers come from the request's encrypted evidence, so
a request whose data key was shredded can no longer be re-probed (that is the point of shredding).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from forgetctl_audit.store import AuditLog

from forgetctl.attacks import AttackData, Target
from forgetctl.engine.images import photo_from_bytes
from forgetctl.errors import InputError
from forgetctl.evaluation.evaluate import answer_rates
from forgetctl.evaluation.grounding import LeakDetector, name_parts
from forgetctl.evaluation.knowledge import knowledge_items
from forgetctl.evaluation.rouge import mean_rouge_l
from forgetctl.fingerprint import directory_hashes, files_digest
from forgetctl.lineage import Lineage, not_a_version
from forgetctl.prompts import IDENTITY_QUESTIONS, RETAIN_QUESTIONS
from forgetctl.trail import request_states
from forgetctl.types import Earlier, Example


def evidence_of(log: AuditLog, request_id: str, record: dict) -> dict:
    return {item["id"].split(":", 1)[1]: log.evidence(request_id, item["id"]) for item in record["evidence"]}


def leak_detector(evidence: dict) -> LeakDetector:
    """How the erasure told a leak, from its evidence: the name and the private words (records
    from before the words were kept fall back to the name alone)."""
    return LeakDetector(evidence["subject"], evidence.get("private_terms", {}))


def evidence_photos(probes: list[dict]) -> list:
    """The photos kept (encrypted) in an erasure's evidence, named by their hash prefix."""
    return [photo_from_bytes(base64.b64decode(p["image"]), Path(p["sha256"][:12])) for p in probes]


def latest_erasure(log: AuditLog, request_id: str) -> dict | None:
    state = request_states(log).get(request_id)
    erasures = [r for records in (state or {"runs": {}})["runs"].values() for r in records if r["kind"] == "erasure"]
    return erasures[-1] if erasures else None


def held_answers(photos, items: list[dict], detector: LeakDetector) -> tuple:
    """The seen photos whose answers after erasure named nothing, with those answers: what later
    releases keep them answering (a photo with one leaking answer is left out whole)."""
    return tuple((photo, item["after"]) for photo, item in zip(photos, items) if not any(map(detector.leaks, item["after"])))


def load_earlier(log: AuditLog, request_ids) -> tuple[list[Earlier], dict[str, LeakDetector], dict[str, str]]:
    """The people earlier releases erased, from their evidence: what to re-probe, how to tell a
    leak, and which cannot be re-probed any more (and why)."""
    earlier, detectors, unverifiable = [], {}, {}
    for request_id in request_ids:
        record = latest_erasure(log, request_id)
        if log.is_shredded(request_id):
            unverifiable[request_id] = "its evidence was shredded"
            continue
        evidence = evidence_of(log, request_id, record) if record else {}
        if "probes" not in evidence:
            unverifiable[request_id] = "no erasure evidence is recorded for it"
            continue
        probes = evidence["probes"]
        retain = evidence.get("retain", [])
        photos = {split: tuple(evidence_photos(items)) for split, items in probes.items()}
        detector = detectors[request_id] = leak_detector(evidence)
        held = held_answers(photos.get("seen", ()), probes.get("seen", []), detector)
        earlier.append(Earlier(
            request_id, photos, {split: tuple(p["before"] for p in items) for split, items in probes.items()},
            tuple(evidence_photos(retain)), tuple(p["before"] for p in retain), held,
        ))
    return earlier, detectors, unverifiable


def knowledge_items_of(evidences: dict[str, dict]) -> dict[str, dict[str, list[tuple]]]:
    """Per request and split: what the knowledge tests score, rebuilt from the erasures'
    evidence: the base model's answers that leaked the person, with facts swapped in from the
    answers about other people the evidence holds (retain people, and the other erased people's
    answers that identified them: a mere description has no fact to swap in)."""
    detectors = {r: leak_detector(ev) for r, ev in evidences.items()}
    retained = [a for ev in evidences.values() for item in ev.get("retain", []) for a in item["before"]]
    out = {}
    for request_id, evidence in evidences.items():
        detector = detectors[request_id]
        pool = retained + [a for other, ev in evidences.items() if other != request_id
                 for items in ev["probes"].values() for item in items for a in item["before"] if detectors[other].leaks(a)]
        others = list(dict.fromkeys(a for a in pool if not detector.leaks(a)))
        out[request_id] = {
            split: knowledge_items(evidence_photos(items), [item["before"] for item in items], detector.leaks, others,
                                   name_parts(evidence["subject"]))
            for split, items in evidence["probes"].items()
        }
    return out


@dataclass(frozen=True)
class Targets:
    """What a verification re-probes, and what it says it tested."""

    requests: list[str]
    tested: dict  # model digest, lineage version, adapter digest, whether the model carries the erasures
    unverifiable: dict[str, str]


def select_targets(log: AuditLog, model_dir: Path, adapter_dir: Path | None, only: str | None, allow_unerased: bool,
                   lineage: Lineage | None = None) -> Targets:
    """Exactly the people the model is supposed to have forgotten: a release's lineage, or the
    erasures an adapter made; the original base only when asked for explicitly (it carries none).
    `lineage`: read by a caller that has just verified the log (else it is verified here)."""
    files = directory_hashes(model_dir)
    digest = files_digest(files)
    lineage = Lineage.from_log(log) if lineage is None else lineage
    version = lineage.lookup(digest)
    tested = {"model": digest, "version": None, "adapter": None, "carries_erasure": True, "attacks": None,
              "base": str(model_dir) if adapter_dir is not None else (lineage.roots.get(version.root) if version else None)}
    if adapter_dir is not None:
        hashes = directory_hashes(adapter_dir)
        tested["adapter"] = files_digest(hashes)
        requests = [r for r, state in request_states(log).items() for records in state["runs"].values() for rec in records
                    if rec["kind"] == "erasure" and rec["body"]["manifest"]["adapter"] == hashes
                    and files_digest(rec["body"]["manifest"]["base_model"]["files"]) == digest]
        if not requests:
            raise InputError(f"no erasure in this audit log made the adapter {adapter_dir} on the model {model_dir}")
    elif version is None:
        what = not_a_version(lineage, model_dir, files) if lineage else f"{model_dir} is not a release in this audit log"
        raise InputError(f"{what}; verify a release (`forgetctl lineage list`), or the base with --adapter runs/RUN_ID/adapter")
    elif version.is_root:
        if not allow_unerased:
            raise InputError(
                f"{model_dir} is the original base: it carries no erasure, so its leaks are expected and prove nothing. "
                "Verify a release (`forgetctl lineage head`), or pass --allow-unerased to probe it anyway (recorded as such)"
            )
        requests, tested["carries_erasure"] = sorted(lineage.erased_in(version.root)), False
    else:
        requests, tested["version"] = list(version.erased), version.version
    requests = [r for r in dict.fromkeys(requests) if not only or r == only]
    if only and not requests:
        raise InputError(f"request {only} is not among the erasures {model_dir} carries")
    _, _, unverifiable = load_earlier(log, requests)
    return Targets([r for r in requests if r not in unverifiable], tested, unverifiable)


def attack_inputs(log: AuditLog, requests: list[str], seed: int = 0) -> tuple[list[Target], AttackData]:
    """The people to attack, from their evidence, and the unrelated data relearning may use:
    their erasures' retain people's own answers."""
    targets, unrelated = [], []
    evidences = {r: evidence_of(log, r, latest_erasure(log, r)) for r in requests}
    known = knowledge_items_of(evidences)
    for request_id, evidence in evidences.items():
        photos = {split: tuple(evidence_photos(items)) for split, items in evidence["probes"].items()}
        detector = leak_detector(evidence)
        targets.append(Target(request_id, evidence["subject"], photos, detector.leaks, detector.leaks_facts,
                              known[request_id]))
        retain = evidence.get("retain", [])
        for photo, item in zip(evidence_photos(retain), retain):
            unrelated += [Example(photo.image, q, a, f"{photo.sha256[:16]}:{i}")
                          for i, (q, a) in enumerate(zip(RETAIN_QUESTIONS, item["before"]))]
    return targets, AttackData(tuple(unrelated), seed)


def attack_summary(results: dict, request_id: str) -> dict:
    """One request's share of the attack results, for its verification record."""
    out = {}
    for key, row in results.items():
        out[key] = {k: row[k] for k in ("label", "tests_nothing") if k in row}
        if "not_run" in row:
            out[key]["not_run"] = row["not_run"]
            continue
        out[key].update(erased=row["erased"].get(request_id, {}), base=row["base"].get(request_id, {}))
        if "knowledge" in row:
            out[key]["knowledge"] = {which: row["knowledge"][which].get(request_id, {}) for which in row["knowledge"]}
    return out


@dataclass(frozen=True)
class Reprobed:
    """One request's re-probe, as its verification record signs it: per split a metric table
    (leaks, drift from the erased answers, the knowledge tests), and whether nothing leaked."""

    request_id: str
    metrics: dict[str, dict]
    forgotten: bool


def reprobe(log: AuditLog, model_dir: Path, adapter_dir: Path | None, targets: Targets, phase,
            attacks: dict | None = None) -> list[Reprobed]:
    """Ask every target's photos again on the model (with the adapter), judge leaks as their
    erasure did, score what the weights still know (the knowledge tests), and sign one
    verification record per request saying exactly what was tested (with its share of
    `attacks`, the results of an attack suite, when one ran)."""
    from forgetctl.engine.generation import ask
    from forgetctl.engine.likelihood import knowledge_of
    from forgetctl.engine.loading import load_model

    loaded = load_model(model_dir)
    if adapter_dir:
        from peft import PeftModel

        loaded.model = PeftModel.from_pretrained(loaded.model, adapter_dir).eval()
    records = {r: latest_erasure(log, r) for r in targets.requests}
    evidences = {r: evidence_of(log, r, record) for r, record in records.items()}
    known = knowledge_items_of(evidences)
    results = []
    for request_id, evidence in evidences.items():
        record = records[request_id]
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
                **knowledge_of(loaded, loaded.model, known[request_id][split]),
            }
            answers[split] = now
        forgotten = all(m["leak_rate"] == 0 for m in metrics.values())
        body = {"erasure_record": record["seq"], "tested": targets.tested, "metrics": metrics, "still_forgotten": forgotten}
        if attacks is not None:
            body["attacks"] = attack_summary(attacks, request_id)
        log.append("verification", request_id, body, evidence={"answers": answers})
        results.append(Reprobed(request_id, metrics, forgotten))
    return results
