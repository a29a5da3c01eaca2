"""DSSE envelopes (secure-systems-lab/dsse, protocol v1) signed with Ed25519.

The signature covers PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body, with
lengths in bytes (not characters: securesystemslib counts characters, which breaks non-ASCII types).
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PAYLOAD_TYPE = "application/vnd.forgetctl.audit+json"


class EnvelopeError(Exception):
    """An envelope is malformed, of the wrong type, or carries no valid signature."""


def pae(payload_type: str, body: bytes) -> bytes:
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(type_bytes), type_bytes, len(body), body)


def sign_envelope(body: bytes, key: Ed25519PrivateKey, keyid: str, payload_type: str = PAYLOAD_TYPE) -> dict:
    signature = key.sign(pae(payload_type, body))
    return {
        "payload": base64.b64encode(body).decode(),
        "payloadType": payload_type,
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(signature).decode()}],
    }


def verify_envelope(envelope: dict, public_keys: dict[str, Ed25519PublicKey], payload_type: str = PAYLOAD_TYPE) -> bytes:
    """Return the payload if the envelope is exactly {payload, payloadType, signatures} with one
    signature, by one of `public_keys`, that verifies; raise otherwise. Extra fields or extra
    signatures are refused: a verifier must never pass over bytes it did not check."""
    if not isinstance(envelope, dict) or set(envelope) != {"payload", "payloadType", "signatures"}:
        raise EnvelopeError("malformed envelope (fields must be exactly payload, payloadType, signatures)")
    signatures = envelope["signatures"]
    if not isinstance(signatures, list) or len(signatures) != 1 or not isinstance(signatures[0], dict) \
            or set(signatures[0]) != {"keyid", "sig"}:
        raise EnvelopeError("malformed envelope (exactly one signature {keyid, sig} expected)")
    try:
        body = base64.b64decode(envelope["payload"], validate=True)
        sig = base64.b64decode(signatures[0]["sig"], validate=True)
    except (TypeError, ValueError) as exc:
        raise EnvelopeError(f"malformed envelope ({exc})") from None
    if envelope["payloadType"] != payload_type:
        raise EnvelopeError(f"payloadType is {envelope['payloadType']!r}, expected {payload_type!r}")
    key = public_keys.get(signatures[0]["keyid"])
    if key is None:
        raise EnvelopeError(f"signed by key {signatures[0]['keyid']!r}, which is not the log's active key there")
    try:
        key.verify(sig, pae(payload_type, body))
    except InvalidSignature:
        raise EnvelopeError("signature does not verify") from None
    return body
