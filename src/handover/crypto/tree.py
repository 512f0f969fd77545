"""RFC 6962 Merkle hashing of many leaves and nodes in one call, where a worker process can
run it.

A leaf hashes as ``SHA-256(0x00 || data)``, an interior node as
``SHA-256(0x01 || left || right)``. The loops here are the ledger's hot paths: every
append hashes its leaves and the tree heads after each (:mod:`handover.ledger.ledger`),
and the verifier recomputes every leaf, every level and the tree head after every entry
(about log2(n)/2 node hashes each, the largest cost of a verification), the heads in a
worker process (:mod:`handover.ledger.verify`). Each runs in the C module ``_tree``
(OpenSSL's SHA-256, about a fifth of hashlib's cost per node, which is mostly the
interpreter's) when it was built, else in the Python loop below it, which gives the same
bytes (tests/test_merkle_native.py). This module imports only
:mod:`handover.crypto.digest`, so that worker starts in a fraction of the time the ledger
package would take to import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handover.crypto.digest import SHA256_NEW, arrow_buffers

try:
    from handover.crypto import _tree as _native
except ImportError:  # no C compiler or OpenSSL headers at install: the Python loops
    _native = None  # type: ignore[assignment]

HASH_SIZE = 32
NODE_PREFIX = b"\x01"


def native_built() -> bool:
    """Whether the C module was built at install."""
    return _native is not None


def leaf_hashes_of(values: Any) -> bytes | None:
    """Leaf hashes of the values of an Arrow string or binary array (int32 offsets),
    concatenated, in one C call with no Python object per value; None without the C
    module. A null hashes as an empty value: the caller refuses nulls first."""
    if _native is None:
        return None
    if len(values) == 0:
        return b""
    return _native.leaf_hashes_offsets(*arrow_buffers(values))


def leaf_hash_list(leaves: Sequence[bytes]) -> list[bytes]:
    """Leaf hashes of ``leaves``, one 32-byte value each."""
    if _native is not None:
        return _native.leaf_hash_list(leaves)
    new = SHA256_NEW
    return [new(b"\x00" + d).digest() for d in leaves]


def leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """Leaf hashes of ``leaves`` concatenated (32 bytes each)."""
    if _native is not None:
        return _native.leaf_hashes(leaves)
    new = SHA256_NEW
    return b"".join([new(b"\x00" + d).digest() for d in leaves])


def parent_level(level: bytes | bytearray | memoryview) -> bytes:
    """Hashes of the complete pairs of a concatenated level (an odd last node is dropped)."""
    if _native is not None:
        return _native.parent_level(level)
    new = SHA256_NEW
    mv = memoryview(level)
    end = (len(mv) // 64) * 64
    return b"".join([new(b"\x01" + mv[i : i + 64]).digest() for i in range(0, end, 64)])


def extend(
    frontier: list[bytes],
    leaves: Sequence[bytes],
    start: int,
    lowest: int = 1,
    with_roots: bool = True,
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append the leaf hashes ``leaves`` to the tree of ``start`` leaves whose ``frontier``
    (perfect subtree roots, left to right) is extended in place.

    Returns the root after each leaf (none without ``with_roots``) and every perfect
    subtree of level ``lowest`` or more completed on the way as ``(level, index, hash)``
    (the nodes an append stores). A leaf costs the hashes of the subtrees it completes plus,
    for its root, the fold of the frontier.
    """
    if _native is not None:
        return _native.extend(frontier, leaves, start, lowest, with_roots)
    new = SHA256_NEW
    prefix = NODE_PREFIX
    roots: list[bytes] = []
    nodes: list[tuple[int, int, bytes]] = []
    for node in leaves:
        idx = start
        start += 1
        level = 0
        while idx & 1:
            node = new(prefix + frontier.pop() + node).digest()
            level += 1
            idx >>= 1
            if level >= lowest:
                nodes.append((level, idx, node))
        frontier.append(node)
        if not with_roots:
            continue
        acc = node
        for j in range(len(frontier) - 2, -1, -1):
            acc = new(prefix + frontier[j] + acc).digest()
        roots.append(acc)
    return roots, nodes


def prefix_roots(frontier: list[bytes], level0: bytes, start: int) -> bytes:
    """Roots of the trees of sizes ``start + 1 .. start + k`` (32 bytes each, concatenated),
    appending the next ``k`` concatenated leaf hashes to the tree whose ``frontier`` (perfect
    subtree roots of the first ``start`` leaves, left to right) is extended in place.

    About log2(n)/2 hashes per leaf: the verifier recomputes the tree head stored with
    every entry.
    """
    if _native is not None:
        return _native.prefix_roots(frontier, level0, start)
    new = SHA256_NEW
    prefix = NODE_PREFIX
    out: list[bytes] = []
    for i in range(0, len(level0), HASH_SIZE):
        node = level0[i : i + HASH_SIZE]
        idx = start
        start += 1
        while idx & 1:
            node = new(prefix + frontier.pop() + node).digest()
            idx >>= 1
        frontier.append(node)
        acc = node
        for j in range(len(frontier) - 2, -1, -1):
            acc = new(prefix + frontier[j] + acc).digest()
        out.append(acc)
    return b"".join(out)


def roots_after(frontier: list[bytes], level0: bytes, start: int) -> tuple[bytes, list[bytes]]:
    """:func:`prefix_roots` and the frontier it leaves (what a worker process sends back)."""
    roots = prefix_roots(frontier, level0, start)
    return roots, frontier
