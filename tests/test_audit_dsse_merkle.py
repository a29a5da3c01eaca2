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


# RFC 6962 reference vectors, as published with the Certificate Transparency implementations
# (transparency-dev/merkle testonly): a log no other implementation agrees with proves nothing.
CT_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}


def test_merkle_matches_the_rfc_6962_reference_vectors():
    leaves = [merkle.leaf_hash(data) for data in CT_LEAVES]
    for size, expected in enumerate(CT_ROOTS):
        assert merkle.root(leaves[:size]).hex() == expected, size
    for (index, size), proof in CT_INCLUSION.items():
        assert [h.hex() for h in merkle.inclusion_proof(index, leaves[:size])] == proof
        assert merkle.verify_inclusion(leaves[index], index, size, [bytes.fromhex(h) for h in proof], bytes.fromhex(CT_ROOTS[size]))


def test_the_auditors_standalone_verifier_checks_the_rfc_6962_proofs_too():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("standalone_verify", Path(merkle.__file__).parent / "standalone_verify.py")
    standalone = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(standalone)
    leaves = [merkle.leaf_hash(data) for data in CT_LEAVES]
    for (index, size), proof in CT_INCLUSION.items():
        good = [bytes.fromhex(h) for h in proof]
        assert standalone.verify_inclusion(leaves[index], index, size, good, bytes.fromhex(CT_ROOTS[size]))
        assert not standalone.verify_inclusion(leaves[index], index, size, good[::-1], bytes.fromhex(CT_ROOTS[size]))
