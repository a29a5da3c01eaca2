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
5. that what the report states about the request, its runs and verifications is exactly what
   the signed records say.

Then it prints those facts: read them, not the prose. It cannot tell whether a record of this
request was left out of the report; `forgetctl verify` on the log itself can.
Keep this file self-contained: auditors copy it out of the report.
"""

import argparse
import base64
import hashlib
import json
import re
import sys

from cryptography.hazmat.primitives import serialization

RECORD_TYPE = "application/vnd.forgetctl.audit+json"
HEAD_TYPE = "application/vnd.forgetctl.treehead+json"
OUTCOMES = ("erasure", "run-failed-policy", "run-failed", "run-interrupted", "not-identifiable")


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
    text = open(path, encoding="utf-8").read()
    if path.endswith((".html", ".htm")):
        match = re.search(r'<script type="application/json" id="forgetctl-report">(.*?)</script>', text, re.S)
        if not match:
            fail("no embedded report in this HTML file")
        text = match.group(1).replace("<\\/", "</")
    return json.loads(text)


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
    request_id = report["request_id"]
    mine = [p for seq, p in sorted(payloads.items()) if p["request_id"] == request_id]
    if report["records"] != mine:
        fail("the report's records differ from the signed records it carries")
    check_statements(report, mine)
    return head, mine


def check_statements(report, records):
    """What the report shows is what the records say: the request, each run, each verification."""
    request = next((r for r in records if r["kind"] == "request"), None)
    if request:
        for key, value in request["body"].items():
            if key in report["request"] and report["request"][key] != value:
                fail(f"the report's {key!r} is not the signed request's")
    by_seq = {r["seq"]: r for r in records}
    for run in report["runs"]:
        seq = run["outcome_record"]
        if seq is None:
            continue
        record = by_seq.get(seq)
        if record is None or record["kind"] != run["status"] or record["time"] != run["finished"]:
            fail(f"run {run['run']}: its status or date is not the signed outcome's")
        body = record["body"]
        if run["verdict"] != body.get("verdict") or run["metrics"] != (body.get("metrics") or {}).get(report["request_id"]):
            fail(f"run {run['run']}: its verdict or metrics are not the signed outcome's")
    for v in report["verifications"]:
        record = by_seq.get(v["seq"])
        if record is None or record["time"] != v["time"] or record["body"]["still_forgotten"] != v["still_forgotten"] \
                or record["body"]["metrics"] != v["metrics"]:
            fail(f"verification #{v['seq']}: the report does not say what the signed record says")


def facts(records):
    lines = []
    for r in records:
        body = r["body"]
        if r["kind"] == "request":
            lines.append(f"  #{r['seq']} {r['time'][:10]} request received {body['received']}, deadline {body['deadline']}, {body['grounds']}")
        elif r["kind"] in OUTCOMES:
            verdict = body.get("verdict")
            policy = f", policy {verdict['policy']} {'passed' if verdict['passed'] else 'FAILED'}" if verdict else ""
            lines.append(f"  #{r['seq']} {r['time'][:10]} {r['kind']} (run {body.get('run')}){policy}")
        elif r["kind"] == "verification":
            tested = body.get("tested", {})
            lines.append(f"  #{r['seq']} {r['time'][:10]} verification: {'still forgotten' if body['still_forgotten'] else 'IDENTIFIABLE AGAIN'}"
                         f" (model {tested.get('model', '?')}, adapter {tested.get('adapter') or 'none'}, attacks {tested.get('attacks') or 'none'})")
        else:
            lines.append(f"  #{r['seq']} {r['time'][:10]} {r['kind']}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report")
    parser.add_argument("--pin", required=True, help="the log's root key fingerprint, received out of band")
    parser.add_argument("--since", help="a tree head you received earlier (JSON)")
    args = parser.parse_args(argv)
    report = load_report(args.report)
    old_head = json.load(open(args.since)) if args.since else None
    head, records = verify_report(report, args.pin, old_head)
    extends = f", and it extends your head of {json.loads(base64.b64decode(old_head['payload']))['size']}" if old_head else ""
    print(f"OK: {len(records)} record(s) of request {report['request_id']} are signed under the key chain from your "
          f"pinned root and are leaves of the {head['size']}-record log whose head was signed at {head['time']}{extends}.")
    print("What the signed records say:")
    print(facts(records))


if __name__ == "__main__":
    sys.exit(main())
