"""The C module of the Merkle loops (``handover.crypto._tree``) against RFC 6962's known
answers and against the Python loops it replaces, byte for byte, frontier included."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import require_built

from handover.crypto import tree
from handover.ledger import merkle

try:
    from handover.crypto import _tree
except ImportError:
    _tree = None  # type: ignore[assignment]

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "rfc6962_merkle.json").read_text(encoding="utf-8")
)
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(VECTORS["roots"][str(size)]) for size in range(1, 9)]


@pytest.fixture(autouse=True)
def _built() -> None:
    require_built(_tree is not None, "handover.crypto._tree", "C compiler or OpenSSL headers")


@pytest.fixture(params=["C", "Python"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test once with the C module and once with the Python loops."""
    if request.param == "Python":
        monkeypatch.setattr(tree, "_native", None)
    yield request.param


def test_known_answers(way: str) -> None:
    h = VECTORS["hasher"]
    assert tree.leaf_hashes([b""]).hex() == h["empty_leaf"]
    assert tree.leaf_hash_list([b"L123456"])[0].hex() == h["leaf_L123456"]
    # parent_level hashes 0x01 || left || right of 64-byte pairs; the vector's node is of
    # two 4-byte values, so check the level against the construction it stands for
    assert merkle.node_hash(b"N123", b"N456").hex() == h["node_N123_N456"]
    level0 = tree.leaf_hashes(LEAVES)
    assert tree.parent_level(level0[:64]) == merkle.node_hash(level0[:32], level0[32:64])
    assert merkle.build_levels(level0)[-1] == ROOTS[7]
    assert tree.prefix_roots([], level0, 0) == b"".join(ROOTS)
    roots, _ = tree.extend([], tree.leaf_hash_list(LEAVES), 0)
    assert roots == ROOTS


def _frontier(rng: random.Random, start: int) -> list[bytes]:
    """A frontier for a tree of ``start`` leaves (its values arbitrary 32-byte hashes)."""
    return [rng.randbytes(32) for _ in range(start.bit_count())]


@pytest.mark.parametrize("start", [0, 1, 7, 8, 1023, 2**20 - 3, 2**40 - 1, 2**62 + 5])
def test_c_and_python_give_the_same_bytes(start: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(start)
    leaves: list[bytes] = [
        rng.randbytes(rng.choice([0, 1, 31, 55, 56, 64, 300])) for _ in range(97)
    ]
    mixed: list[bytes] = [bytearray(x) if i % 3 == 1 else x for i, x in enumerate(leaves)]
    frontier = _frontier(rng, start)

    def run() -> tuple[object, ...]:
        f1, f2 = list(frontier), list(frontier)
        level0 = tree.leaf_hashes(mixed)
        heads = tree.prefix_roots(f1, level0, start)
        roots, nodes = tree.extend(f2, tree.leaf_hash_list(leaves), start)
        f3 = list(frontier)
        high = tree.extend(f3, tree.leaf_hash_list(leaves), start, 4)
        assert high == (roots, [n for n in nodes if n[0] >= 4]) and f3 == f2
        f4 = list(frontier)
        assert tree.extend(f4, tree.leaf_hash_list(leaves), start, 1, False) == ([], nodes)
        assert f4 == f2
        odd = level0 + b"\x07" * 40  # a 33rd node and 8 stray bytes: dropped
        return level0, heads, f1, roots, nodes, f2, tree.parent_level(odd), tree.parent_level(b"")

    native = run()
    monkeypatch.setattr(tree, "_native", None)
    python = run()
    assert native == python
    level0, heads, f1, roots, _nodes, f2, _, _ = native
    assert f1 == f2 and heads == b"".join(roots) and len(heads) == len(level0) == 97 * 32


def test_nodes_completed_by_an_append(way: str) -> None:
    """The perfect subtrees an append completes are every node of the levels, once."""
    leaves = tree.leaf_hash_list([b"%d" % i for i in range(37)])
    frontier: list[bytes] = []
    nodes: list[tuple[int, int, bytes]] = []
    for a, b in [(0, 5), (5, 6), (6, 32), (32, 37)]:
        nodes += tree.extend(frontier, leaves[a:b], a)[1]
    levels = merkle.build_levels(b"".join(leaves))
    want = sorted(
        (lv, i, levels[lv][32 * i : 32 * i + 32])
        for lv in range(1, len(levels))
        for i in range(len(levels[lv]) // 32)
    )
    assert sorted(nodes) == want
    assert b"".join(frontier) == b"".join(
        merkle.levels_node(levels)(lv, i) for lv, i in merkle.aligned_pieces(0, 37)
    )


def test_a_frontier_too_short_to_pop_from(way: str) -> None:
    hashes = tree.leaf_hashes([b"a", b"b"])
    with pytest.raises(IndexError):
        tree.prefix_roots([], hashes, 1)
    with pytest.raises(IndexError):
        tree.extend([], [hashes[:32]], 3)


def test_the_c_module_refuses_what_is_not_a_tree() -> None:
    """Inputs the Python loops would hash into a wrong tree are refused by the C module."""
    with pytest.raises(ValueError, match="32-byte"):
        _tree.prefix_roots([], b"\x00" * 33, 0)
    with pytest.raises(ValueError, match="32 bytes"):
        _tree.prefix_roots([b"\x00" * 31], b"\x00" * 32, 1)
    with pytest.raises(ValueError, match="32 bytes"):
        _tree.extend([], [b"\x00" * 31], 0)
    with pytest.raises(TypeError):
        _tree.leaf_hashes([b"a", 7])  # type: ignore[list-item]
    frontier = [b"\x01" * 32]
    with pytest.raises(ValueError):
        _tree.prefix_roots(frontier, b"\x00" * 31, 1)
    assert frontier == [b"\x01" * 32]  # refused: nothing changed
