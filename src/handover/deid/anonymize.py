"""Reach k-anonymity with the least information loss (GB/T 37964-2019 §5, Annex A; the
ARX approach: full-domain generalisation over a lattice plus record suppression).

Each quasi-identifier has a :class:`~handover.deid.hierarchy.Hierarchy`. A *node* of the
lattice is one level per quasi-identifier. A node meets the policy when the records in
equivalence classes smaller than ``k`` (or, with l-diversity, holding fewer than ``l``
distinct non-null values of the sensitive column) are at most ``max_suppression`` of the
table; those records are suppressed (removed). Among the nodes that meet it the search
returns the one of least total loss.

Loss is the Loss Metric (Iyengar 2002) per column: a record whose value is generalised
to a node covering ``c`` of the column's ``D`` distinct values at the starting level (a
missing value counting as one) loses ``(c - 1) / (D - 1)``; a suppressed record loses 1 in every column. The total loss
is the mean over records and columns, in [0, 1].

The search is best-first branch and bound. The loss a node would have without suppression
is a per-column sum known before any counting, it never decreases along a lattice edge,
and it bounds the node's total loss from below; nodes are visited in order of that bound
from the bottom, and the search stops when the bound reaches the best total found — the
result is the optimum. Records in small classes only decrease as levels rise, so if the
top node (everything at ``*``, one class) does not meet the policy, no node does: the
table is refused — which happens when it holds fewer than k records, or with l-diversity.

Counting is vectorised: the records are dictionary-encoded once per column (pyarrow
``dictionary_encode``), grouped once into the bottom node's classes, and every node is
evaluated on those classes only (numpy ``bincount`` over class codes, the roll-up of
ARX), never one Python step per record.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.deid.hierarchy import Hierarchy

#: a search that evaluates this many nodes stops with the best node found so far
MAX_NODES = 20_000
#: keys above this are re-densified before they could overflow int64
_KEY_LIMIT = 2**62
_EPS = 1e-12
#: class keys up to this are counted directly (bincount) instead of hashed first
_DIRECT = 1 << 20


@dataclass(frozen=True)
class Policy:
    """The privacy target of a table: ``k``, the suppression cap, optional distinct l."""

    k: int = 5
    max_suppression: float = 0.05
    distinct_l: int = 0  # distinct l-diversity of the sensitive column; 0 = not required

    def cap(self, rows: int) -> int:
        """The most records of a table of ``rows`` records that may be suppressed."""
        return int(self.max_suppression * rows + _EPS)


@dataclass
class QuasiIdentifier:
    """One quasi-identifier column: its values at level ``start`` of its hierarchy."""

    name: str
    values: pa.Array | pa.ChunkedArray
    hierarchy: Hierarchy
    start: int = 0


@dataclass
class Anonymisation:
    """The chosen node of one table and what it costs, or why no node meets the policy."""

    columns: list[str]
    rows: int
    policy: Policy
    feasible: bool = True
    levels: list[str] = field(default_factory=list)  # chosen level name per column
    start_levels: list[str] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)  # Loss Metric per column, shipped records
    total_loss: float = 0.0  # incl. suppressed records (1 in every column)
    suppressed: int = 0
    min_k: int = 0  # smallest class among shipped records
    classes: int = 0
    min_l: int | None = None
    nodes: int = 0  # nodes evaluated
    lattice: int = 1  # nodes in the lattice
    exhaustive: bool = (
        True  # False: the node budget ran out (result meets k, may not be least loss)
    )
    keep: np.ndarray = field(default_factory=lambda: np.ones(0, dtype=bool))
    _columns: list[_Column] = field(default_factory=list, repr=False)
    _node: tuple[int, ...] = ()

    @property
    def shipped(self) -> int:
        """Records left after suppression."""
        return self.rows - self.suppressed

    def generalised(self, j: int, start: int = 0, stop: int | None = None) -> pa.Array:
        """Column ``j`` at the chosen level, records ``start:stop`` (suppressed ones included)."""
        col = self._columns[j]
        x = self._node[j]
        return col.level_values[x].take(pa.array(col.maps[x][col.codes[start:stop]]))


class _Column:
    """A quasi-identifier encoded once: record codes, and per level the code map and loss."""

    def __init__(self, qi: QuasiIdentifier) -> None:
        values = qi.values
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        enc = pc.dictionary_encode(values, null_encoding="encode")
        self.codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        dictionary = enc.dictionary
        distinct = len(dictionary)  # a missing value counts as one value of the domain
        weight = np.bincount(self.codes, minlength=len(dictionary)).astype(np.float64)
        self.names = list(qi.hierarchy.levels[qi.start :])
        self.maps: list[np.ndarray] = []
        self.level_values: list[pa.Array] = []
        self.lm: list[np.ndarray] = []  # Loss Metric of each starting value at each level
        self.bound: list[float] = []  # sum of the Loss Metric over every record
        for level in range(qi.start, qi.hierarchy.height + 1):
            out = qi.hierarchy.generalise(dictionary, qi.start, level)
            lenc = pc.dictionary_encode(out, null_encoding="encode")
            m = lenc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            covered = np.bincount(m, minlength=len(lenc.dictionary))
            lm = (covered[m] - 1) / (distinct - 1) if distinct > 1 else np.zeros(distinct)
            self.maps.append(m)
            self.level_values.append(lenc.dictionary)
            self.lm.append(lm)
            self.bound.append(float(weight @ lm))

    @property
    def height(self) -> int:
        return len(self.maps) - 1


def _dense(key: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..G-1 for the distinct keys (hash-based, in order of first appearance)."""
    enc = pc.dictionary_encode(pa.array(key, pa.int64()))
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(enc.dictionary)


def _keys(parts: list[tuple[np.ndarray, int]], size: int) -> tuple[np.ndarray, int]:
    """One key in ``0..card-1`` per row for the tuple of codes ``parts`` ((codes,
    cardinality) each), mixed-radix, re-densified before it could overflow."""
    key = np.zeros(size, dtype=np.int64)
    card = 1
    for codes, n in parts:
        if card * max(n, 1) >= _KEY_LIMIT:
            key, card = _dense(key)
        key = key * max(n, 1) + codes
        card *= max(n, 1)
    return key, card


@dataclass
class _Eval:
    node: tuple[int, ...]
    feasible: bool
    suppressed: int
    total: float
    loss: list[float]
    kept: np.ndarray  # per bottom class
    min_k: int
    classes: int
    min_l: int | None


class _Search:
    def __init__(
        self, qis: list[QuasiIdentifier], policy: Policy, sensitive: pa.Array | None
    ) -> None:
        self.policy = policy
        self.cols = [_Column(q) for q in qis]
        self.rows = len(self.cols[0].codes)
        parts = [(c.codes, len(c.maps[0])) for c in self.cols]
        self.s_codes: np.ndarray | None = None
        self.s_valid = np.zeros(0, dtype=bool)
        self.s_card = 1
        if sensitive is not None and policy.distinct_l:
            if isinstance(sensitive, pa.ChunkedArray):
                sensitive = sensitive.combine_chunks()
            senc = pc.dictionary_encode(sensitive, null_encoding="encode")
            s = senc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            valid = pc.is_valid(senc.dictionary).to_numpy(zero_copy_only=False)
            self.s_valid = np.asarray(valid, dtype=bool)
            self.s_card = len(senc.dictionary)
            parts.append((s, self.s_card))
            self.s_codes = s
        # The bottom node's classes (with the sensitive value, if any): every node is
        # a roll-up of these.
        self.inv, nb = _dense(_keys(parts, self.rows)[0])
        self.count = np.bincount(self.inv, minlength=nb).astype(np.int64)
        first = np.unique(self.inv, return_index=True)[1]
        self.class_codes = [c.codes[first] for c in self.cols]
        self.class_s = self.s_codes[first] if self.s_codes is not None else None
        self.cap = policy.cap(self.rows)
        self.evaluated = 0

    def bound(self, node: tuple[int, ...]) -> float:
        """Total loss of ``node`` if nothing were suppressed: a lower bound of its loss."""
        m = len(self.cols)
        return sum(c.bound[x] for c, x in zip(self.cols, node, strict=True)) / (self.rows * m)

    def evaluate(self, node: tuple[int, ...]) -> _Eval:
        self.evaluated += 1
        parts = [
            (c.maps[x][codes], len(c.level_values[x]))
            for c, codes, x in zip(self.cols, self.class_codes, node, strict=True)
        ]
        key, card = _keys(parts, len(self.count))
        if card > max(4 * len(key), _DIRECT):
            # Too sparse for a direct count: hash the keys to dense class codes first.
            key, card = _dense(key)
        size = np.bincount(key, weights=self.count, minlength=card)
        ok = size >= self.policy.k
        min_l: int | None = None
        if self.class_s is not None:
            has = self.s_valid[self.class_s]
            pairs = np.unique(key[has] * self.s_card + self.class_s[has])
            distinct = np.bincount(pairs // self.s_card, minlength=card)
            ok &= distinct >= self.policy.distinct_l
            min_l = int(distinct[ok].min()) if ok.any() else 0
        kept = ok[key]
        shipped = int(self.count[kept].sum())
        suppressed = self.rows - shipped
        loss = []
        weight = self.count[kept]
        for c, codes, x in zip(self.cols, self.class_codes, node, strict=True):
            lost = float(weight @ c.lm[x][codes[kept]])
            loss.append(lost / shipped if shipped else 0.0)
        m = len(self.cols)
        total = (sum(v * shipped for v in loss) + m * suppressed) / (self.rows * m)
        return _Eval(
            node,
            suppressed <= self.cap,
            suppressed,
            total,
            loss,
            kept,
            int(size[ok].min()) if ok.any() else 0,
            int(ok.sum()),
            min_l,
        )

    def run(self, max_nodes: int) -> tuple[_Eval, bool]:
        top = tuple(c.height for c in self.cols)
        best = self.evaluate(top)
        if not best.feasible:
            return best, True
        bottom = tuple(0 for _ in self.cols)
        heap = [(self.bound(bottom), 0, bottom)]
        seen = {bottom}
        while heap:
            lb, height, node = heapq.heappop(heap)
            if lb > best.total + _EPS:
                return best, True
            if self.evaluated >= max_nodes:
                return best, False
            got = best if node == top else self.evaluate(node)
            if got.feasible and _better(got, best):
                best = got
            for j, c in enumerate(self.cols):
                if node[j] < c.height:
                    nxt = (*node[:j], node[j] + 1, *node[j + 1 :])
                    if nxt not in seen:
                        seen.add(nxt)
                        heapq.heappush(heap, (self.bound(nxt), height + 1, nxt))
        return best, True


def _better(a: _Eval, b: _Eval) -> bool:
    """Less loss; on a tie the less generalised node, then the lexically smaller."""
    if abs(a.total - b.total) > _EPS:
        return a.total < b.total
    return (sum(a.node), a.node) < (sum(b.node), b.node)


def anonymise(
    qis: list[QuasiIdentifier],
    policy: Policy,
    *,
    sensitive: pa.Array | pa.ChunkedArray | None = None,
    max_nodes: int = MAX_NODES,
) -> Anonymisation:
    """The least-loss generalisation of ``qis`` that meets ``policy``, or why none does.

    ``sensitive`` (one value per record) is required when ``policy.distinct_l`` is set.
    """
    if policy.distinct_l and sensitive is None:
        raise ValueError("l-diversity needs the sensitive column")
    names = [q.name for q in qis]
    rows = len(qis[0].values) if qis else 0
    starts = [q.hierarchy.levels[q.start] for q in qis]
    if not qis or rows == 0:
        return Anonymisation(
            names, rows, policy, levels=list(starts), start_levels=starts,
            loss=[0.0] * len(qis), keep=np.ones(rows, dtype=bool),
            min_k=rows, classes=1 if rows else 0,
        )  # fmt: skip
    search = _Search(qis, policy, sensitive)
    got, exhaustive = search.run(max_nodes)
    lattice = int(np.prod([c.height + 1 for c in search.cols]))
    result = Anonymisation(
        names,
        rows,
        policy,
        feasible=got.feasible,
        levels=[c.names[x] for c, x in zip(search.cols, got.node, strict=True)],
        start_levels=starts,
        loss=got.loss,
        total_loss=got.total,
        suppressed=got.suppressed,
        min_k=got.min_k,
        classes=got.classes,
        min_l=got.min_l,
        nodes=search.evaluated,
        lattice=lattice,
        exhaustive=exhaustive,
        keep=got.kept[search.inv],
        _columns=search.cols,
        _node=got.node,
    )
    return result
