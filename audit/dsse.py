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
    """Return the payload if at least one signature by a known key verifies; raise otherwise."""
    try:
        body = base64.b64decode(envelope["payload"], validate=True)
        claimed_type = envelope["payloadType"]
        signatures = envelope["signatures"]
    except (KeyError, TypeError, ValueError) as exc:
        raise EnvelopeError(f"malformed envelope ({exc})") from None
    if claimed_type != payload_type:
        raise EnvelopeError(f"payloadType is {claimed_type!r}, expected {payload_type!r}")
    message = pae(claimed_type, body)
    for signature in signatures:
        key = public_keys.get(signature.get("keyid"))
        if key is None:
            continue
        try:
            key.verify(base64.b64decode(signature["sig"], validate=True), message)
            return body
        except (InvalidSignature, KeyError, ValueError):
            continue
    raise EnvelopeError("no valid signature from a known key")
