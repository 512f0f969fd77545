"""RFC 6962 / 9162 Merkle tree: published vectors, pymerkle cross-check, property tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover.ledger import merkle

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "rfc6962_merkle.json").read_text(encoding="utf-8")
)
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaves"]]
ROOTS = {int(k): bytes.fromhex(v) for k, v in VECTORS["roots"].items()}
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_hasher_vectors() -> None:
    h = VECTORS["hasher"]
    assert merkle.root_hash([]).hex() == h["empty_tree"]
    assert merkle.leaf_hash(b"").hex() == h["empty_leaf"]
    assert merkle.leaf_hash(b"L123456").hex() == h["leaf_L123456"]
    assert merkle.node_hash(b"N123", b"N456").hex() == h["node_N123_N456"]


@pytest.mark.parametrize("size", range(1, 9))
def test_roots(size: int) -> None:
    assert merkle.root_hash(LEAVES[:size]) == ROOTS[size]


def test_prefix_roots_vectors_in_any_chunking() -> None:
    """The root after every leaf, computed chunk by chunk with a running frontier, is the
    published root of that prefix (sizes 1-8) whatever the chunk boundaries."""
    level0 = merkle.leaf_hashes(LEAVES)
    want = b"".join(ROOTS[size] for size in range(1, 9))
    for cuts in ([8], [1] * 8, [3, 5], [2, 1, 4, 1]):
        frontier: list[bytes] = []
        got, start = b"", 0
        for k in cuts:
            got += merkle.prefix_roots(frontier, level0[32 * start : 32 * (start + k)], start)
            start += k
        assert got == want, cuts
    many = [f"leaf {i}".encode() for i in range(70)]
    roots = merkle.prefix_roots([], merkle.leaf_hashes(many), 0)
    assert [roots[32 * i : 32 * i + 32] for i in range(70)] == [
        merkle.root_hash(many[: i + 1]) for i in range(70)
    ]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_inclusion_vectors(case: dict[str, object]) -> None:
    index, size = int(case["index"]), int(case["size"])  # type: ignore[call-overload]
    want = [bytes.fromhex(x) for x in case["proof"]]  # type: ignore[attr-defined]
    assert merkle.inclusion_proof(LEAVES[:size], index) == want
    root = ROOTS[size]
    leaf = LEAVES[index]
    assert merkle.verify_inclusion(leaf, index, size, want, root)
    # The corruptions of transparency-dev's verify_test.go must all be rejected.
    probes = [
        (leaf, index - 1, size, want, root),
        (leaf, index + 1, size, want, root),
        (leaf, index ^ 2, size, want, root),
        (leaf, index, size * 2, want, root),
        (leaf, index, size // 2, want, root),
        (b"WrongLeaf", index, size, want, root),
        (leaf, index, size, want, merkle.EMPTY_ROOT),
        (leaf, index, size, want, SOME_HASH),
        (leaf, index, size, [*want, b""], root),
        (leaf, index, size, [*want, root], root),
        (leaf, index, size, [b"", *want], root),
        (leaf, index, size, [root, *want], root),
    ]
    for i in range(len(want)):
        bad = list(want)
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        probes.append((leaf, index, size, bad, root))
    if want:
        probes.append((leaf, index, size, want[:-1], root))
    if len(want) > 1:
        probes.append((leaf, index, size, [want[0], SOME_HASH, *want[1:]], root))
    for p in probes:
        assert not merkle.verify_inclusion(*p), p


@pytest.mark.parametrize(
    "case", VECTORS["consistency"], ids=lambda c: f"{c['old_size']}-{c['new_size']}"
)
def test_consistency_vectors(case: dict[str, object]) -> None:
    m, n = int(case["old_size"]), int(case["new_size"])  # type: ignore[call-overload]
    want = [bytes.fromhex(x) for x in case["proof"]]  # type: ignore[attr-defined]
    assert merkle.consistency_proof(LEAVES[:n], m) == want
    r1, r2 = ROOTS[m], ROOTS[n]
    assert merkle.verify_consistency(m, n, want, r1, r2)
    if not want:
        return
    probes = [
        (m - 1, n, want, r1, r2),
        (m + 1, n, want, r1, r2),
        (m ^ 2, n, want, r1, r2),
        (m, n * 2, want, r1, r2),
        (m, n // 2, want, r1, r2),
        (m, n, want, b"WrongRoot", r2),
        (m, n, want, r1, b"WrongRoot"),
        (m, n, want, r2, r1),
        (m, n, [], r1, r2),
        (m, n, [*want, b""], r1, r2),
        (m, n, [*want, r1], r1, r2),
        (m, n, [*want, r2], r1, r2),
        (m, n, [b"", *want], r1, r2),
        (m, n, [r1, *want], r1, r2),
        (m, n, [r2, *want], r1, r2),
        (m, n, [want[0], *want], r1, r2),
        (m, n, want[:-1], r1, r2),
    ]
    for i in range(len(want)):
        bad = list(want)
        bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
        probes.append((m, n, bad, r1, r2))
    for p in probes:
        assert not merkle.verify_consistency(*p), p


def test_trivial_consistency() -> None:
    e = merkle.EMPTY_ROOT
    assert merkle.verify_consistency(0, 0, [], e, e)
    assert merkle.verify_consistency(0, 1, [], e, ROOTS[1])
    assert merkle.verify_consistency(1, 1, [], ROOTS[1], ROOTS[1])
    assert not merkle.verify_consistency(1, 0, [], ROOTS[1], e)
    assert not merkle.verify_consistency(2, 1, [], ROOTS[2], ROOTS[1])
    assert not merkle.verify_consistency(1, 2, [], ROOTS[1], ROOTS[2])
    assert not merkle.verify_consistency(1, 1, [e], e, e)
    assert not merkle.verify_consistency(0, 1, [e], e, e)


def test_cross_check_with_pymerkle() -> None:
    """Every root, inclusion and consistency proof agrees with pymerkle (RFC 6962 mode)."""
    import pymerkle  # a dev dependency: the cross-check must run, never skip

    # sha256 with its second-preimage protection on (0x00/0x01 prefixes): RFC 6962 hashing.
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    assert tree.security and tree.leaf_prefix == b"\x00" and tree.node_prefix == b"\x01"
    data = [bytes([i % 251]) * (i % 7) + i.to_bytes(4, "big") for i in range(40)]
    for d in data:
        tree.append_entry(d)
    assert tree.get_root(0) == merkle.EMPTY_ROOT
    for n in range(1, len(data) + 1):
        assert tree.get_root(n) == merkle.root_hash(data[:n])
        for i in range(n):
            theirs = tree.prove_inclusion(i + 1, n)
            # pymerkle's path starts with the leaf hash itself; the rest is RFC 9162 PATH.
            assert theirs.path[0] == merkle.leaf_hash(data[i])
            assert theirs.path[1:] == merkle.inclusion_proof(data[:n], i)
        for m in range(1, n + 1):
            ours = merkle.consistency_proof(data[:n], m)
            # Each element is the MTH of its range, as pymerkle computes it.
            want = [tree._get_root(a, b) for a, b in merkle.consistency_ranges(m, n)]
            assert ours == want
            assert merkle.verify_consistency(m, n, ours, tree.get_root(m), tree.get_root(n))
            pymerkle.verify_consistency(
                tree.get_root(m), tree.get_root(n), tree.prove_consistency(m, n)
            )


def _flip(proof: list[bytes], i: int, byte: int) -> list[bytes]:
    bad = list(proof)
    h = bytearray(bad[i])
    h[byte % 32] ^= 0x01
    bad[i] = bytes(h)
    return bad


@settings(max_examples=150, deadline=None)
@given(
    leaves=st.lists(st.binary(max_size=12), min_size=1, max_size=80),
    pick=st.integers(min_value=0),
    byte=st.integers(min_value=0, max_value=31),
)
def test_inclusion_property(leaves: list[bytes], pick: int, byte: int) -> None:
    n = len(leaves)
    i = pick % n
    root = merkle.root_hash(leaves)
    proof = merkle.inclusion_proof(leaves, i)
    assert merkle.verify_inclusion(leaves[i], i, n, proof, root)
    assert not merkle.verify_inclusion(leaves[i] + b"x", i, n, proof, root)
    for k in range(len(proof)):
        assert not merkle.verify_inclusion(leaves[i], i, n, _flip(proof, k, byte), root)


@settings(max_examples=150, deadline=None)
@given(
    leaves=st.lists(st.binary(max_size=12), min_size=1, max_size=80),
    pick=st.integers(min_value=0),
    byte=st.integers(min_value=0, max_value=31),
)
def test_consistency_property(leaves: list[bytes], pick: int, byte: int) -> None:
    n = len(leaves)
    m = 1 + pick % n
    old, new = merkle.root_hash(leaves[:m]), merkle.root_hash(leaves)
    proof = merkle.consistency_proof(leaves, m)
    assert merkle.verify_consistency(m, n, proof, old, new)
    for k in range(len(proof)):
        assert not merkle.verify_consistency(m, n, _flip(proof, k, byte), old, new)
    if m < n:
        assert not merkle.verify_consistency(m, n, proof, _flip([old], 0, byte)[0], new)
