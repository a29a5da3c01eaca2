#!/usr/bin/env python3
"""Check a forgetctl report without forgetctl: only Python and `cryptography`.

    python standalone_verify.py REPORT.json|REPORT.html --pin ROOT_FINGERPRINT [--since OLD_HEAD.json]

ROOT_FINGERPRINT is the one the controller gave you out of band (`forgetctl keys show`); never
take it from the report. The script checks:

1. the key chain: record 1 announces the root key and its fingerprint is the one you pinned;
   every later key is announced by a record that the key before it signed;
2. every record in the report is in canonical form and signed by the key that was active at its
   place in the log, and sits at that place (its sequence number is its leaf index);
3. every record is a leaf of the tree whose signed head the report carries (inclusion proofs);
4. with --since, that this log extends the tree head you held before (consistency proof);
5. completeness: the request's last record is the signed export record, which lists every
   earlier record of the request; the report must carry each of them (none left out, none added);
6. every field of the report is derived here from those signed records (the request, dates and
   deadlines, each run and its outcome, each verification and what it tested, the evidence
   state, the residual risk, the summary sentence): a field that is neither signed nor derived,
   or differs from its derivation, fails; so does a run without its outcome record;
7. for an HTML report, that the summary and residual risk the page shows are the derived ones.

Then it prints what it derived. That printout is authoritative, not the page: the rest of an HTML
page or a PDF is a rendering this script does not check, and each says so in its first lines.
Keep this file self-contained (standard library and `cryptography`): auditors copy it out of the
report, and forgetctl builds its reports with the functions below, so there is one definition
of what a report states.
"""

import argparse
import base64
import datetime as dt
import hashlib
import html
import json
import re
import sys

from cryptography.hazmat.primitives import serialization

RECORD_TYPE = "application/vnd.forgetctl.audit+json"
HEAD_TYPE = "application/vnd.forgetctl.treehead+json"
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
FORMAT = 4
ATTRIBUTION = "forgetctl audit report"


def fail(message):
    raise SystemExit(f"FAIL: {message}")


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def pae(payload_type, body):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def verify_envelope(envelope, kid, key, payload_type):
    """Exactly {payload, payloadType, signatures}, one signature, by `kid`, that verifies."""
    if set(envelope) != {"payload", "payloadType", "signatures"} or len(envelope["signatures"]) != 1:
        fail("an envelope is not in canonical form (extra fields or signatures)")
    signature = envelope["signatures"][0]
    if envelope["payloadType"] != payload_type or signature.get("keyid") != kid or set(signature) != {"keyid", "sig"}:
        fail(f"an envelope is signed by {signature.get('keyid')!r}, not by the active key {kid}")
    body = base64.b64decode(envelope["payload"], validate=True)
    try:
        key.verify(base64.b64decode(signature["sig"], validate=True), pae(payload_type, body))
    except Exception:
        fail(f"a signature by {kid} does not verify")
    return json.loads(body)


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf, index, size, proof, root):
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


def public_key(pem):
    key = serialization.load_pem_public_key(pem.encode())
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest(), key


def load_report(path):
    """The report, and the page's HTML when it is one."""
    text = open(path, encoding="utf-8").read()
    page = None
    if path.endswith((".html", ".htm")):
        match = re.search(r'<script type="application/json" id="forgetctl-report">(.*?)</script>', text, re.S)
        if not match:
            fail("no embedded report in this HTML file")
        page, text = text, match.group(1).replace("<\\/", "</")
    try:
        report = json.loads(text)
    except ValueError:
        fail("the report is not valid JSON")
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        fail(f"this script checks reports of format {FORMAT}; use the script embedded in the report itself")
    return report, page


def verify_chain(bundle, pin):
    """Walk the carried records in log order with the key chain; return {seq: payload} and the
    key active after each key record."""
    items = sorted(bundle["records"], key=lambda item: item["index"])
    active, changes, payloads = None, [], {}
    for item in items:
        envelope = item["envelope"]
        claimed = json.loads(base64.b64decode(envelope["payload"]))
        if item["index"] == 0:
            if claimed.get("kind") != "key" or claimed["body"].get("replaces") is not None:
                fail("record 1 is not the root key's announcement")
            fp, key = public_key(claimed["body"]["public_key"])
            if fp != pin.lower():
                fail(f"the log's root key {fp} is not the fingerprint you pinned ({pin})")
            active = (claimed["body"]["key_id"], key)
        if active is None:
            fail("the report does not carry record 1 (the root key)")
        payload = verify_envelope(envelope, active[0], active[1], RECORD_TYPE)
        if payload["seq"] != item["index"] + 1:
            fail(f"record {payload['seq']} claims leaf {item['index']}")
        if payload["kind"] == "key":
            if item["index"] > 0 and payload["body"].get("replaces") != active[0]:
                fail(f"key record {payload['seq']} does not replace the active key")
            fp, key = public_key(payload["body"]["public_key"])
            active = (payload["body"]["key_id"], key)
            changes.append((payload["seq"], active))
        payloads[payload["seq"]] = payload
    return items, payloads, changes


def key_at(changes, size):
    """The key that was active once record `size` was written."""
    return [key for seq, key in changes if seq <= size][-1]


def verify_report(report, pin, old_head=None):
    bundle = report["bundle"]
    items, payloads, changes = verify_chain(bundle, pin)
    head_envelope = bundle["tree_head"]
    claimed_head = json.loads(base64.b64decode(head_envelope["payload"]))
    kid, key = key_at(changes, claimed_head["size"])
    head = verify_envelope(head_envelope, kid, key, HEAD_TYPE)
    for item in items:
        leaf = hashlib.sha256(b"\x00" + canonical(item["envelope"])).digest()
        proof = [bytes.fromhex(h) for h in item["proof"]]
        if not verify_inclusion(leaf, item["index"], head["size"], proof, bytes.fromhex(head["root"])):
            fail(f"record {item['index'] + 1} is not in the tree the signed head commits to")
    if old_head is not None:
        held = json.loads(base64.b64decode(old_head["payload"]))
        kid, key = key_at(changes, held["size"])
        verify_envelope(old_head, kid, key, HEAD_TYPE)
        consistency = bundle.get("consistency")
        if not consistency or consistency["old_head"] != old_head:
            fail("the report carries no consistency proof from the tree head you hold (export it with --since)")
        proof = [bytes.fromhex(h) for h in consistency["proof"]]
        if not verify_consistency(held["size"], head["size"], bytes.fromhex(held["root"]), bytes.fromhex(head["root"]), proof):
            fail(f"the log does not extend your tree head of {held['size']} records: history was rewritten")
    request_id = report.get("request_id")
    mine = [p for seq, p in sorted(payloads.items()) if p["request_id"] == request_id]
    check_complete(mine)
    if report.get("records") != mine:
        fail("the report's records differ from the signed records it carries")
    root = payloads[1]["body"]["fingerprint"]
    derived = statements(request_id, mine, root)
    for key in sorted(set(report) - {"records", "bundle"} | set(derived)):
        if key not in derived:
            fail(f"the report's {key!r} is neither signed nor derived from the signed records")
        if report.get(key) != derived[key]:
            fail(f"the report's {key!r} is not what the signed records say")
    return head, mine, derived


def check_complete(records):
    """The export record, signed when the report was made, lists every earlier record of the
    request: one left out of the report (a bad verification, say) or slipped in is caught."""
    if not records or records[-1]["kind"] != EXPORT:
        fail("the report does not end with its signed export record, so it cannot show that it is complete")
    listed = records[-1]["body"].get("records", [])
    carried = [r["seq"] for r in records[:-1]]
    if carried != listed:
        missing = sorted(set(listed) - set(carried))
        fail(f"the report leaves out record(s) {missing} of its request" if missing
             else "the report carries records of its request that its export record does not list")


# --- what a report states, derived from signed records (forgetctl's reports use these) ------


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
        if knowledge_words(run["metrics"]):
            notes.append(f"Run {run['run']}: {knowledge_words(run['metrics'])}")
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


def check_page(text, derived):
    """An HTML report's summary and residual risk, as the page shows them, are the derived ones."""
    shown = re.search(r'<p class="summary" id="summary">(.*?)</p>', text, re.S)
    if not shown or html.unescape(shown.group(1)) != derived["summary"]:
        fail("the summary this page shows is not the one the signed records give")
    risks = re.search(r'<ul id="residual-risk">(.*?)</ul>', text, re.S)
    items = [html.unescape(i) for i in re.findall(r"<li>(.*?)</li>", risks.group(1), re.S)] if risks else None
    if items != derived["residual_risk"]:
        fail("the residual risk this page shows is not the one the signed records give")


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report")
    parser.add_argument("--pin", required=True, help="the log's root key fingerprint, received out of band")
    parser.add_argument("--since", help="a tree head you received earlier (JSON)")
    args = parser.parse_args(argv)
    report, page = load_report(args.report)
    old_head = json.load(open(args.since)) if args.since else None
    head, records, derived = verify_report(report, args.pin, old_head)
    if page is not None:
        check_page(page, derived)
    extends = f", and it extends your head of {json.loads(base64.b64decode(old_head['payload']))['size']}" if old_head else ""
    print(f"OK: all {len(records)} record(s) of request {report['request_id']} up to its export are signed under the key "
          f"chain from your pinned root and are leaves of the {head['size']}-record log whose head was signed at "
          f"{head['time']}{extends}; every field of the report is derived from them.")
    print("This printout is authoritative; anything else a page or PDF shows is a rendering of it.")
    print(f"\nSummary (as of the export, {derived['exported'][:10]}):\n  {derived['summary']}")
    print("\nWhat the signed records say:")
    print(facts(records))
    print("\nResidual risk:")
    print("\n".join(f"  - {note}" for note in derived["residual_risk"]))


if __name__ == "__main__":
    sys.exit(main())
