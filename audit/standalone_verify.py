#!/usr/bin/env python3
"""Check one forgetctl audit record without forgetctl: only Python and `cryptography`.

    python standalone_verify.py BUNDLE.json PUBLIC_KEYS.pem

BUNDLE.json is the "verification" section of a forgetctl report export: the record's DSSE
envelope, its inclusion proof, and the signed tree head. The script checks the record's
signature, the tree head's signature, and that the record is in the tree the head commits to.
Keep this file self-contained: auditors copy it out of the report.
"""

import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import serialization


def pae(payload_type, body):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def verify_envelope(envelope, keys, payload_type):
    if envelope["payloadType"] != payload_type:
        raise SystemExit(f"FAIL: payloadType {envelope['payloadType']!r}, expected {payload_type!r}")
    body = base64.b64decode(envelope["payload"])
    for signature in envelope["signatures"]:
        key = keys.get(signature["keyid"])
        if key is not None:
            try:
                key.verify(base64.b64decode(signature["sig"]), pae(payload_type, body))
                return body
            except Exception:
                pass
    raise SystemExit(f"FAIL: no valid signature on the {payload_type} envelope")


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf, index, size, proof, root):
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


def load_keys(pem_bundle):
    keys, blocks = {}, pem_bundle.split("-----END PUBLIC KEY-----")
    for block in blocks:
        if "-----BEGIN PUBLIC KEY-----" in block:
            pem = block[block.index("-----BEGIN PUBLIC KEY-----"):] + "-----END PUBLIC KEY-----\n"
            key = serialization.load_pem_public_key(pem.encode())
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            keys[hashlib.sha256(raw).hexdigest()[:16]] = key
    return keys


def main(bundle_path, keys_path):
    bundle = json.load(open(bundle_path))
    keys = load_keys(open(keys_path).read())
    record = bundle["record"]
    payload = json.loads(verify_envelope(record, keys, "application/vnd.forgetctl.audit+json"))
    head = json.loads(verify_envelope(bundle["tree_head"], keys, "application/vnd.forgetctl.treehead+json"))
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    leaf = hashlib.sha256(b"\x00" + canonical).digest()
    proof = [bytes.fromhex(h) for h in bundle["proof"]]
    if head["size"] != bundle["tree_size"] or not verify_inclusion(
        leaf, bundle["index"], head["size"], proof, bytes.fromhex(head["root"])
    ):
        raise SystemExit("FAIL: the record is not in the tree the signed head commits to")
    print(f"OK: record #{payload['seq']} ({payload['kind']}, {payload['time']}) is signed and is leaf "
          f"{bundle['index']} of the {head['size']}-record log whose head was signed at {head['time']}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
