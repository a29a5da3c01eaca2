import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from forgetctl_audit import merkle
from forgetctl_audit.dsse import EnvelopeError, pae, sign_envelope, verify_envelope


def test_pae_matches_the_spec_vector():
    assert pae("http://example.com/HelloWorld", b"hello world") == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"


def test_pae_counts_bytes_not_characters():
    assert pae("application/vnd.örg+json", "hé".encode()) == "DSSEv1 25 application/vnd.örg+json 3 hé".encode()


def test_envelope_round_trip_and_tampering():
    key = Ed25519PrivateKey.generate()
    keys = {"k1": key.public_key()}
    envelope = sign_envelope(b'{"a": 1}', key, "k1")
    assert verify_envelope(envelope, keys) == b'{"a": 1}'

    swapped = {**envelope, "payloadType": "application/vnd.other+json"}
    with pytest.raises(EnvelopeError):
        verify_envelope(swapped, keys, payload_type="application/vnd.other+json")
    with pytest.raises(EnvelopeError, match="payloadType"):
        verify_envelope(swapped, keys)
    flipped = {**envelope, "payload": base64.b64encode(b'{"a": 2}').decode()}
    with pytest.raises(EnvelopeError, match="signature does not verify"):
        verify_envelope(flipped, keys)
    with pytest.raises(EnvelopeError, match="signature does not verify"):
        verify_envelope(envelope, {"k1": Ed25519PrivateKey.generate().public_key()})
    with pytest.raises(EnvelopeError, match="not the log's active key"):
        verify_envelope(envelope, {"k2": key.public_key()})
    # Only canonical envelopes: no extra field, no second signature passed over unchecked.
    with pytest.raises(EnvelopeError, match="fields must be exactly"):
        verify_envelope({**envelope, "note": "x"}, keys)
    bogus = {**envelope, "signatures": envelope["signatures"] + [{"keyid": "k9", "sig": envelope["signatures"][0]["sig"]}]}
    with pytest.raises(EnvelopeError, match="exactly one signature"):
        verify_envelope(bogus, keys)


def test_non_ascii_payload_type_signs_and_verifies():
    key = Ed25519PrivateKey.generate()
    envelope = sign_envelope(b"x", key, "k", payload_type="application/vnd.förget+json")
    assert verify_envelope(envelope, {"k": key.public_key()}, payload_type="application/vnd.förget+json") == b"x"


def leaves(n):
    return [merkle.leaf_hash(f"record {i}".encode()) for i in range(n)]


def test_known_roots():
    assert merkle.root([]) == hashlib.sha256(b"").digest()
    one = leaves(1)
    assert merkle.root(one) == one[0]
    three = leaves(3)
    assert merkle.root(three) == merkle.node_hash(merkle.node_hash(three[0], three[1]), three[2])


@pytest.mark.parametrize("size", range(1, 34))
def test_every_inclusion_proof_verifies(size):
    tree = leaves(size)
    root = merkle.root(tree)
    for i in range(size):
        assert merkle.verify_inclusion(tree[i], i, size, merkle.inclusion_proof(i, tree), root)


@pytest.mark.parametrize("size", range(1, 34))
def test_every_consistency_proof_verifies(size):
    tree = leaves(size)
    for first in range(1, size + 1):
        proof = merkle.consistency_proof(first, tree)
        assert merkle.verify_consistency(first, size, merkle.root(tree[:first]), merkle.root(tree), proof)


def flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_corrupted_inclusion_proofs_are_rejected():
    tree = leaves(13)
    root = merkle.root(tree)
    for i in range(13):
        proof = merkle.inclusion_proof(i, tree)
        assert not merkle.verify_inclusion(tree[i], (i + 1) % 13, 13, proof, root)  # wrong index
        # Wrong sizes. (A size that keeps the path's shape cannot be told from the proof alone:
        # the size is authenticated by the signed tree head it travels with.)
        assert not merkle.verify_inclusion(tree[i], i, 26, proof, root)
        assert not merkle.verify_inclusion(tree[i], i, i, proof, root)
        assert not merkle.verify_inclusion(flip(tree[i]), i, 13, proof, root)  # flipped leaf
        for j in range(len(proof)):
            assert not merkle.verify_inclusion(tree[i], i, 13, proof[:j] + [flip(proof[j])] + proof[j + 1 :], root)
        assert not merkle.verify_inclusion(tree[i], i, 13, proof[:-1], root)  # missing node
        assert not merkle.verify_inclusion(tree[i], i, 13, proof + [proof[-1]], root)  # extra node


def test_corrupted_consistency_proofs_are_rejected():
    tree = leaves(21)
    new_root = merkle.root(tree)
    for first in range(1, 21):
        old_root = merkle.root(tree[:first])
        proof = merkle.consistency_proof(first, tree)
        assert not merkle.verify_consistency(first, 42, old_root, new_root, proof)  # wrong size
        assert not merkle.verify_consistency(first + 1, 21, old_root, new_root, proof)
        assert not merkle.verify_consistency(first, 21, flip(old_root), new_root, proof)
        for j in range(len(proof)):
            bad = proof[:j] + [flip(proof[j])] + proof[j + 1 :]
            assert not merkle.verify_consistency(first, 21, old_root, new_root, bad)
        if proof:
            assert not merkle.verify_consistency(first, 21, old_root, new_root, proof[:-1])
        assert not merkle.verify_consistency(first, 21, old_root, new_root, proof + [new_root])
