"""RFC 6962 tree heads over many leaves in one tight loop, where a worker process can run it.

The ledger's verifier recomputes the tree head after every entry (about log2(n)/2
SHA-256 node hashes each, the largest cost of a verification) in a worker process
(:mod:`handover.ledger.verify`). This module imports only :mod:`handover.crypto.digest`,
so that worker starts in a fraction of the time the ledger package would take to import.
"""

from __future__ import annotations

from handover.crypto.digest import SHA256_NEW

HASH_SIZE = 32
NODE_PREFIX = b"\x01"


def prefix_roots(frontier: list[bytes], level0: bytes, start: int) -> bytes:
    """Roots of the trees of sizes ``start + 1 .. start + k`` (32 bytes each, concatenated),
    appending the next ``k`` concatenated leaf hashes to the tree whose ``frontier`` (perfect
    subtree roots of the first ``start`` leaves, left to right) is extended in place.

    One tight hashlib loop, about log2(n)/2 hashes per leaf: the verifier recomputes the
    tree head stored with every entry.
    """
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
