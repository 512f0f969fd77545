"""RFC 6962 / RFC 9162 §2.1 Merkle tree hashing, proofs and proof verification.

SHA-256; a leaf hashes as ``SHA-256(0x00 || data)``, an interior node as
``SHA-256(0x01 || left || right)``; a tree of ``n`` leaves splits at the largest power
of two smaller than ``n``; the empty tree hashes to ``SHA-256("")``. Indices are 0-based.

The ``*_ranges`` functions give the leaf ranges whose subtree hashes make up a proof;
they depend only on the sizes, so the ledger resolves them from stored nodes and the
verifier from recomputed levels, with one definition of the proof shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from handover.crypto.digest import sha256

# the loops over many leaves live where the verifier's worker process imports them without
# the ledger package (and run in C when it was built)
from handover.crypto.tree import extend as extend
from handover.crypto.tree import leaf_hash_list as leaf_hash_list
from handover.crypto.tree import leaf_hashes as leaf_hashes
from handover.crypto.tree import leaf_hashes_of as leaf_hashes_of
from handover.crypto.tree import native_built as native_built
from handover.crypto.tree import parent_level as parent_level
from handover.crypto.tree import prefix_roots as prefix_roots
from handover.crypto.tree import roots_after as roots_after

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = sha256(b"")

Range = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """The RFC 6962 hash of one leaf: SHA-256(0x00 || data)."""
    return sha256(LEAF_PREFIX + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 hash of an interior node: SHA-256(0x01 || left || right)."""
    return sha256(NODE_PREFIX + left + right)


def build_levels(level0: bytes) -> list[bytes]:
    """All levels of perfect aligned subtrees over concatenated leaf hashes.

    ``levels[l][32*i : 32*i+32]`` is the hash of leaves ``[i*2**l, (i+1)*2**l)``; level
    ``l`` holds ``n >> l`` nodes (no carried odd nodes), so any RFC 6962 subtree is a fold
    of these nodes (see :func:`range_hash`).
    """
    levels = [bytes(level0)]
    while len(levels[-1]) >= 64:
        levels.append(parent_level(levels[-1]))
    return levels


def aligned_pieces(start: int, end: int) -> list[tuple[int, int]]:
    """The aligned perfect subtrees ``(level, index)`` that tile ``[start, end)``, left to right.

    For every range that occurs in an RFC 6962 tree (or proof) the pieces have strictly
    decreasing sizes, and the range hash is their right-to-left fold.
    """
    pieces: list[tuple[int, int]] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        pieces.append((level, start >> level))
        start += 1 << level
    return pieces


def fold(hashes: Sequence[bytes]) -> bytes:
    """Fold subtree hashes given left to right (sizes decreasing) into their root."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def range_hash(node: Callable[[int, int], bytes], start: int, end: int) -> bytes:
    """MTH of leaves ``[start, end)`` from a ``node(level, index)`` lookup of aligned subtrees."""
    return fold([node(level, idx) for level, idx in aligned_pieces(start, end)])


def levels_node(levels: Sequence[bytes]) -> Callable[[int, int], bytes]:
    """A ``node(level, index)`` lookup over :func:`build_levels` output."""

    def node(level: int, idx: int) -> bytes:
        return levels[level][idx * HASH_SIZE : idx * HASH_SIZE + HASH_SIZE]

    return node


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges of the RFC 9162 inclusion proof PATH(index, D[0:size]), bottom-up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """Leaf ranges of the RFC 9162 consistency proof PROOF(old_size, D[0:new_size])."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    siblings: list[Range] = []
    terminal: list[Range] = []
    m, start, end, whole = old_size, 0, new_size, True
    while True:
        width = end - start
        if m == width:
            if not whole:
                terminal.append((start, end))
            break
        k = _split(width)
        if m <= k:
            siblings.append((start + k, end))
            end = start + k
        else:
            siblings.append((start, start + k))
            start += k
            m -= k
            whole = False
    return terminal + siblings[::-1]


def _tree(leaves: Sequence[bytes]) -> Callable[[int, int], bytes]:
    return levels_node(build_levels(leaf_hashes(leaves)))


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[0:n]) of the raw leaf data ``leaves`` (the empty tree hashes to SHA-256(""))."""
    return range_hash(_tree(leaves), 0, len(leaves))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf ``index`` in the tree of all ``leaves``."""
    node = _tree(leaves)
    return [range_hash(node, a, b) for a, b in inclusion_ranges(index, len(leaves))]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """The RFC 9162 consistency proof from the first ``old_size`` leaves to all ``leaves``."""
    node = _tree(leaves)
    return [range_hash(node, a, b) for a, b in consistency_ranges(old_size, len(leaves))]


def _well_formed(proof: Sequence[bytes]) -> bool:
    return all(isinstance(p, bytes | bytearray) and len(p) == HASH_SIZE for p in proof)


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root implied by an inclusion proof of leaf hash ``leaf`` (RFC 9162 §2.1.3.2), or None."""
    if not 0 <= index < size or not _well_formed(proof) or len(leaf) != HASH_SIZE:
        return None
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(bytes(p), r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, bytes(p))
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion_hash(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree (size, root)."""
    got = root_from_inclusion(leaf, index, size, proof)
    return got is not None and got == root


def verify_inclusion(
    leaf_data: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows raw ``leaf_data`` at ``index`` in the tree (size, root)."""
    return verify_inclusion_hash(leaf_hash(leaf_data), index, size, proof, root)


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bool:
    """Whether ``proof`` shows tree (old_size, old_root) is a prefix of (new_size, new_root).

    RFC 9162 §2.1.4.2; equal sizes need an empty proof and equal roots, size 0 an empty proof.
    """
    if not 0 <= old_size <= new_size or not _well_formed(proof):
        return False
    if len(old_root) != HASH_SIZE or len(new_root) != HASH_SIZE:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = [bytes(p) for p in proof]
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
