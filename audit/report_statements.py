"""What a forgetctl report states, derived from the signed records of one request: the request,
its runs and outcomes, its verifications and what each tested, the evidence state, the residual
risk and the summary sentence, in words.

One definition, used twice: forgetctl builds its reports with these functions, and the
auditor's standalone_verify.py (beside this file, standard library only) derives every field
again and fails a report whose field differs. Keep it that way: no import beyond the standard
library, no forgetctl import.
"""

import datetime as dt
import hashlib
import json

# How a run ended, in the order a run's status is read (forgetctl.trail.Outcome holds the same).
OUTCOMES = ("erasure", "run-failed-policy", "run-failed", "run-interrupted", "not-identifiable")
ERASURE, NOT_IDENTIFIABLE = "erasure", "not-identifiable"
EXPORT = "export"
# A request answered without erasure by a person's decision (`forgetctl audit close`), and why.
CLOSED = "request-closed"
CLOSE_REASONS = {
    "withdrawn": "the data subject withdrew the request",
    "duplicate": "another request of the same person covers it",
    "refused": "refused under Art. 17(3) or Art. 12(5), the data subject informed",
    "mistaken": "opened by mistake (the wrong person or photos)",
}
INCOMPLETE = "no outcome recorded (still running, or killed)"
# Raised whenever a derivation changes: an older report is then sent to the script it carries,
# which derived it, rather than failed as if it had been edited. 5: the two files; an erasure
# without knowledge tests says so; a request closed without erasure; the attacks it leaks under.
FORMAT = 5
ATTRIBUTION = "forgetctl audit report"


def files_digest(files):
    """The fingerprint of a set of file hashes: a model version, an adapter."""
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def digest(files):
    return files_digest(files) if files else "-"


def run_status(records):
    kinds = [r["kind"] for r in records]
    for outcome in OUTCOMES:
        if outcome in kinds:
            return outcome
    return INCOMPLETE


def request_state(records):
    """One request's records: its request record, its runs in order (records by run id), and
    whether it was shredded or closed without erasure."""
    state = {"request": None, "runs": {}, "shredded": False, "closed": None}
    for record in records:
        if record["kind"] == "request":
            state["request"] = record
        elif record["kind"] == "shred":
            state["shredded"] = True
        elif record["kind"] == CLOSED:
            state["closed"] = record
        elif "run" in record["body"]:
            state["runs"].setdefault(record["body"]["run"], []).append(record)
    return state


def identification_of(body, request_id):
    """Whether the base model identified the person before training (erasures keep one per request)."""
    found = body.get("identification")
    if not found:
        return None
    return found if "verdict" in found else found.get(request_id)


def identified_words(found):
    return (f"it named them or revealed their private facts in {found['leaks']} of {found['asked']} answers about "
            f"their photos, against {found['control_leaks']} of {found['control_asked']} about photos that are not theirs")


def run_view(request_id, run_id, run_records, examples):
    started = next((r for r in run_records if r["kind"] == "run-started"), None)
    outcome = next((r for r in run_records if r["kind"] in OUTCOMES), None)
    body = outcome["body"] if outcome else {}
    manifest = body.get("manifest", {})
    return {
        "run": run_id, "status": run_status(run_records),
        "started": started["time"] if started else None, "finished": outcome["time"] if outcome else None,
        "outcome_record": outcome["seq"] if outcome else None,
        "method": manifest.get("method") or ({"name": started["body"].get("method")} if started else {}),
        "model": folder_name(started["body"].get("model")) if started else None,
        "model_digest": digest(manifest.get("base_model", {}).get("files")),
        "adapter_digest": digest(manifest.get("adapter")),
        "merged_model": folder_name(body.get("merged_model")),
        "judge": (body.get("judge") or {}).get("label") or ((started or {}).get("body", {}).get("judge") or {}).get("label"),
        "metrics": (body.get("metrics") or {}).get(request_id),
        "retain_metrics": body.get("retain_metrics"),
        "verdict": body.get("verdict"), "losses": body.get("losses", []), "error": body.get("error"),
        "identification": identification_of(body, request_id),
        "examples": examples if outcome and manifest else [],
    }


def verification_view(record, note=None):
    """A verification and what it tested; `note` is the latest signed annotation about it."""
    body = record["body"]
    return {
        "seq": record["seq"], "time": record["time"], "still_forgotten": body["still_forgotten"],
        "tested": body.get("tested", {"model": digest(body.get("model")), "adapter": digest(body.get("adapter"))}),
        "metrics": body["metrics"], "note": note, "attacks": body.get("attacks"),
    }


def describe_tested(tested):
    """What a verification probed, in words: a release, an adapter on its base, or a model that
    carries no erasure at all (a test, not a finding)."""
    adapter = tested.get("adapter")
    if tested.get("version"):
        what = f"release {tested['version']}"
    else:
        what = f"model {tested.get('model', '-')}" + (f" + adapter {adapter}" if adapter and adapter != "-" else " alone")
    if tested.get("carries_erasure") is False:
        what += " (the original base, without the erasure: a test, not a finding)"
    if tested.get("attacks"):
        what += f", attacks {tested['attacks']}"
    return what


def leaking_attacks(v):
    """The attacks of a verification under which the erased model named the person or their facts."""
    return [a["label"] for a in (v.get("attacks") or {}).values() if "not_run" not in a and not a.get("tests_nothing")
            and any((a.get("erased") or {}).values())]


def result_words(v):
    if v["tested"].get("carries_erasure") is False:
        return "leaks, as expected without the erasure" if not v["still_forgotten"] else "no leak (no erasure tested)"
    if not v["still_forgotten"]:
        return "IDENTIFIABLE AGAIN"
    leaking = leaking_attacks(v)
    # "Still forgotten" beside the name of an attack it did not survive would read as if it had.
    return f"no leak on the re-probe, but the person leaks under {', '.join(leaking)}" if leaking else "still forgotten"


def findings(verifications):
    """Verifications of a model that carries the erasure: the only ones that can find it undone."""
    return [v for v in verifications if v["tested"].get("carries_erasure") is not False and not v["note"]]


def folder_name(path):
    """A folder as a report names it: its last component, never this machine's layout."""
    return path.rstrip("/").rsplit("/", 1)[-1] if path else None


def holding_words(holding):
    """The models that still hold the person, in plain words."""
    named = [f"{h['what']} {h['version']}" + (f" ({h['folder']})" if h.get("folder") else "") for h in holding]
    return ("These models still hold the person and must not be served (restrict or delete them): "
            + "; ".join(named) + ".")


def knowledge_words(metrics):
    """One plain sentence on what the weights still know, per view split (with the model before
    the run, where it was measured), or None if nothing was measured."""
    parts = []
    for split, m in (metrics or {}).items():
        if not m.get("knowledge_measured") or m.get("truth_ratio") is None:
            continue

        def before(key):
            return f"before: {m[key]:.2f}; " if m.get(key) is not None else ""

        low, high = m.get("mia_auc_min_k_plus_plus_interval") or [None, None]
        parts.append(
            f"on {split} photos, false facts are {m['truth_ratio']:.2f} times as likely as their true ones "
            f"({before('truth_ratio_before')}1 would mean no preference), and a membership test tells their answers "
            f"from never-seen ones with AUC {m['mia_auc_min_k_plus_plus']:.2f} "
            f"(95% {low}-{high}; {before('mia_auc_min_k_plus_plus_before')}0.5 would mean it cannot), "
            f"from {m['members']} answers and {m['non_members']} perturbed ones")
    return ("In the weights: " + "; ".join(parts) + ".") if parts else None


def knowledge_unmeasured(metrics):
    """What an erasure's record says when no knowledge test ran: never silence, which would read
    as nothing left to find."""
    why = next((m["knowledge_note"] for m in (metrics or {}).values() if m.get("knowledge_note")), None)
    return ("What the weights still know (likelihoods, membership inference) was not measured"
            + (f": {why}." if why else "."))


def knowledge_extremes(splits):
    """Over measured splits: the most a membership test still tells (the highest Min-K%++ AUC) and
    the strongest preference for the true facts (the lowest truth ratio); None if none measured."""
    measured = [m for m in splits if m.get("knowledge_measured")]
    if not measured:
        return None
    return max(m["mia_auc_min_k_plus_plus"] for m in measured), min(m["truth_ratio"] for m in measured)


def attack_words(verifications):
    """Which attacks the erased model has faced, and which it has not, in plain words."""
    attacked = [v for v in findings(verifications) if v.get("attacks")]
    if not attacked:
        return ("No attack (relearning, paraphrases, other languages, quantization) has been run against the erased "
                "model: run `forgetctl verify --model RELEASE --attacks full`.")
    latest = attacked[-1]
    ran = [a["label"] for a in latest["attacks"].values() if "not_run" not in a]
    skipped = [f"{a['label']} ({a['not_run']})" for a in latest["attacks"].values() if "not_run" in a]
    leaking = leaking_attacks(latest)
    text = f"Attacks run in verification #{latest['seq']}: {', '.join(ran) or 'none'}."
    if skipped:
        text += f" Not run: {'; '.join(skipped)}."
    if leaking:
        text += f" The person leaks under: {', '.join(leaking)}."
    weights = []
    for a in latest["attacks"].values():
        erased, base = (knowledge_extremes((a.get("knowledge") or {}).get(w, {}).values()) for w in ("erased", "base"))
        if erased:
            weights.append(f"after {a['label']}, AUC {erased[0]:.2f}" + (f" (the base: {base[0]:.2f})" if base else ""))
    if weights:
        text += (" In the weights, how well a membership test tells the person's answers from never-seen ones "
                 f"(0.5: it cannot): {'; '.join(weights)}.")
    return text


def residual_risk(runs, verifications, holding=(), closed=None):
    notes = []
    erased = [r for r in runs if r["status"] == ERASURE]
    if not erased and closed:
        notes.append(f"Closed without erasure ({CLOSE_REASONS.get(closed['reason'], closed['reason'])}): no model was "
                     "changed for this request, and every model that knew the person still does.")
    elif not erased and any(r["status"] == NOT_IDENTIFIABLE for r in runs):
        notes.append("The model was not changed: it did not identify the person on the photos given. Other photos of "
                     "them, or another model, were not tested.")
    elif not erased:
        notes.append("No completed erasure is recorded for this request.")
    for run in erased:
        for split, m in (run["metrics"] or {}).items():
            if m.get("leak_rate"):
                notes.append(f"Run {run['run']}: the person still leaks in {m['leak_rate']:.0%} of {split}-view answers.")
        notes.append(f"Run {run['run']}: {knowledge_words(run['metrics']) or knowledge_unmeasured(run['metrics'])}")
        notes += [f"Run {run['run']}: {note}." for note in (run["verdict"] or {}).get("notes", [])]
    real = findings(verifications)
    if real and not real[-1]["still_forgotten"]:
        notes.append(f"The latest re-probe found the person identifiable again (tested: {describe_tested(real[-1]['tested'])}).")
    if real and knowledge_words(real[-1]["metrics"]):
        notes.append(f"The latest re-probe (verification #{real[-1]['seq']}): {knowledge_words(real[-1]['metrics'])}")
    if holding:
        notes.append(holding_words(holding))
    if erased:
        notes.append(attack_words(verifications))
    notes.append(
        "Unlearning removes what the probes elicit; paraphrased or other-language questions, jailbreaks and "
        "fine-tuning on related data may still recover some knowledge. Re-run `forgetctl verify --model` regularly "
        "(GDPR Art. 32(1)(d))."
    )
    return notes


def evidence_words(records, export):
    if any(r["kind"] == "shred" for r in records):
        return "shredded: the data key was destroyed; no copy of the evidence can be read"
    items = sum(len(r["evidence"]) for r in records)
    if not items:
        return "none recorded"
    if export.get("evidence_unreadable"):
        return f"unreadable ({export['evidence_unreadable']})"
    return f"encrypted at rest (AES-256-GCM), {items} item(s)"


def summary(report, today):
    """One sentence a DPO can read first: who asked, when, what was done, the outcome, the deadline."""
    request = report["request"]
    received = request.get("received", "?")
    deadline = request.get("deadline")
    asked = f"Request {report['request_id']} (received {received}, {request.get('grounds', 'grounds not recorded')})"
    erasures = [r for r in report["runs"] if r["status"] == ERASURE]
    if erasures:
        run = erasures[0]
        done = run["finished"][:10]
        met = deadline is None or done <= deadline
        text = (f"{asked} was erased on {done} with {run['method'].get('name', '?')}; the "
                f"{run['verdict']['policy']} policy passed; the Art. 12(3) deadline ({deadline}) was "
                f"{'met' if met else 'missed'}.")
    elif unidentified := [r for r in report["runs"] if r["status"] == NOT_IDENTIFIABLE and r["identification"]]:
        run = unidentified[-1]
        text = (f"{asked} was answered on {run['finished'][:10]} without erasure: the model did not identify this "
                f"person on these photos ({identified_words(run['identification'])}); nothing was changed.")
    elif closed := report.get("closed"):
        text = (f"{asked} was closed without erasure on {closed['time'][:10]}: "
                f"{CLOSE_REASONS.get(closed['reason'], closed['reason'])}; nothing was erased.")
    else:
        statuses = ", ".join(r["status"] for r in report["runs"]) or "no runs"
        days = (dt.date.fromisoformat(deadline) - today).days if deadline else None
        when = "" if days is None else (f" {days} day(s) left" if days >= 0 else f" overdue by {-days} day(s)")
        text = f"{asked} has not been erased: no run passed its policy ({statuses}); deadline {deadline}:{when}."
    real = findings(report["verifications"])
    if real:
        v = real[-1]
        text += f" Latest check {v['time'][:10]}: {result_words(v)} ({describe_tested(v['tested'])})."
    if report["evidence"].startswith("shredded"):
        text += " Its evidence has been shredded."
    return text


def statements(request_id, records, root_fingerprint):
    """Everything a report states, from the signed records of one request ending in its export
    record (which carries the redacted example answers, made from encrypted evidence when the
    report was exported). Dates are as of that export."""
    export = records[-1]["body"]
    earlier = records[:-1]
    state = request_state(earlier)
    notes = {r["body"]["about"]: r["body"]["note"] for r in earlier if r["kind"] == "annotation"}
    runs = [run_view(request_id, run_id, rs, export.get("examples", {}).get(run_id, [])) for run_id, rs in state["runs"].items()]
    verifications = [verification_view(r, notes.get(r["seq"])) for r in earlier if r["kind"] == "verification"]
    closed = {"time": state["closed"]["time"], "reason": state["closed"]["body"].get("reason")} if state["closed"] else None
    report = {
        "report": ATTRIBUTION, "format": FORMAT, "request_id": request_id, "root_fingerprint": root_fingerprint,
        "request": (state["request"] or {"body": {}})["body"], "evidence": evidence_words(earlier, export),
        "runs": runs, "verifications": verifications,
        "closed": closed,
        "residual_risk": residual_risk(runs, verifications, export.get("still_holding", []), closed),
        "exported": records[-1]["time"],
    }
    report["summary"] = summary(report, dt.date.fromisoformat(records[-1]["time"][:10]))
    return report


def facts(records):
    """Each signed record of the request, one line each, in log order."""
    notes = {r["body"].get("about"): r["body"].get("note") for r in records if r["kind"] == "annotation"}
    lines = []
    for r in records:
        body = r["body"]
        line = f"  #{r['seq']} {r['time'][:10]} {r['kind']}"
        if r["kind"] == "request":
            line += f" received {body.get('received', '?')}, deadline {body.get('deadline', '?')}, {body.get('grounds', 'no grounds')}"
        elif r["kind"] in OUTCOMES:
            verdict = body.get("verdict")
            line += f" (run {body.get('run')})" + (f", policy {verdict['policy']} {'passed' if verdict['passed'] else 'FAILED'}" if verdict else "")
            line += f", error {body['error']}" if body.get("error") else ""
        elif r["kind"] == "verification":
            v = verification_view(r, notes.get(r["seq"]))
            line += f": {result_words(v)} (tested {describe_tested(v['tested'])})" + (f"; annotated: {v['note']}" if v["note"] else "")
        elif r["kind"] == "run-started":
            line += f" (run {body.get('run')}, method {body.get('method')})"
        elif r["kind"] == "annotation":
            line += f" of #{body.get('about')}: {body.get('note')}"
        elif r["kind"] == CLOSED:
            line += f": {CLOSE_REASONS.get(body.get('reason'), body.get('reason'))}"
        elif r["kind"] == EXPORT:
            line += f": a report, listing the {len(body.get('records', []))} records before it"
        if r.get("evidence"):
            line += f" [{len(r['evidence'])} evidence item(s), encrypted]"
        lines.append(line)
    return "\n".join(lines)
