#!/usr/bin/env python3
"""Check a forgetctl report without forgetctl: only Python and `cryptography`.

    python standalone_verify.py REPORT.json|REPORT.html --pin ROOT_FINGERPRINT [--since OLD_HEAD.json]

with report_statements.py in the same folder (both are in the report's appendix).

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
6. every field of the report is derived from those signed records (report_statements.py: the request, dates and
   deadlines, each run and its outcome, each verification and what it tested, the evidence
   state, the residual risk, the summary sentence): a field that is neither signed nor derived,
   or differs from its derivation, fails; so does a run without its outcome record;
7. for an HTML report, that the summary and residual risk the page shows are the derived ones.

Then it prints what it derived. That printout is authoritative, not the page: the rest of an HTML
page or a PDF is a rendering this script does not check, and each says so in its first lines.
Keep these two files self-contained (standard library and `cryptography`): auditors copy them
out of the report, and forgetctl builds its reports with report_statements.py, so there is one
definition of what a report states.
"""

import argparse
import base64
import hashlib
import html
import json
import re
import sys

from cryptography.hazmat.primitives import serialization


def beside(name):
    """The module `name`.py from this script's own folder, never one installed elsewhere (and
    `python -I` would not look in this folder at all)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name(f"{name}.py")
    if not path.is_file():
        sys.exit(f"FAIL: {path.name} is not beside this script; save both files from the report's appendix")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __package__:  # imported by forgetctl
    from forgetctl_audit import report_statements as said
else:  # the auditor's copy, run as a script
    said = beside("report_statements")
EXPORT, FORMAT, facts, statements = said.EXPORT, said.FORMAT, said.facts, said.statements

RECORD_TYPE = "application/vnd.forgetctl.audit+json"
HEAD_TYPE = "application/vnd.forgetctl.treehead+json"


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


def check_page(text, derived):
    """An HTML report's summary and residual risk, as the page shows them, are the derived ones."""
    shown = re.search(r'<p class="summary" id="summary">(.*?)</p>', text, re.S)
    if not shown or html.unescape(shown.group(1)) != derived["summary"]:
        fail("the summary this page shows is not the one the signed records give")
    risks = re.search(r'<ul id="residual-risk">(.*?)</ul>', text, re.S)
    items = [html.unescape(i) for i in re.findall(r"<li>(.*?)</li>", risks.group(1), re.S)] if risks else None
    if items != derived["residual_risk"]:
        fail("the residual risk this page shows is not the one the signed records give")


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
