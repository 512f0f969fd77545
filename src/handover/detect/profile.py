"""The column kernel: one Arrow column (a batch's worth) → mergeable value evidence.

``profile_column(array, plan)`` is a pure function over one array; ``merge`` adds two
profiles. The sample stage and ``--full`` run the same kernel; ``--full`` only runs the
recognizers the sample made plausible (plus free-text search) over every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.detect.freetext import scan_text
from handover.detect.normalize import (
    MANGLED,
    as_strings,
    binary_as_text,
    is_binary,
    placeholder_mask,
    to_compact,
    to_text,
)
from handover.detect.recognizers import BY_KEY, RECOGNIZERS, TYPES
from handover.taxonomy import mask_value

MAX_CELL = 1 << 20  # characters of one cell that are scanned; the rest is reported
# Look-alike numbers filling at least this share of the range they span form a numbering
# (serials, sequences): ten thousand real mobiles spread over ~10^10 numbers.
NUMBERING_DENSITY = 1e-3
_SENTENCE = r"[,。;!?、,;!?]|\s"
K = TypeVar("K", str, int)


@dataclass(frozen=True)
class Plan:
    """What to run on a column: recognizer keys, context types allowed, free-text search."""

    keys: tuple[str, ...] | None  # None: every recognizer (gated on the first values)
    context_types: frozenset[str] = frozenset()
    free_text: bool = True
    stats: bool = True  # distinct / Han / sentence counts (the sample decides with them)


@dataclass
class ColumnProfile:
    """Counts over the values of one column; ``merge`` adds two of them."""

    rows: int = 0
    nulls: int = 0
    placeholders: int = 0
    considered: int = 0
    valid: dict[str, int] = field(default_factory=dict)  # PII type → values passing
    by_key: dict[str, int] = field(default_factory=dict)  # recognizer key → values passing
    examples: dict[str, list[str]] = field(default_factory=dict)  # masked
    mangled: int = 0
    mangled_exp: dict[int, int] = field(default_factory=dict)
    mangled_example: str | None = None
    length_sum: int = 0
    sentence_like: int = 0
    han: int = 0
    distinct: int = 0
    truncated: int = 0
    binary: int = 0  # cells of a binary column that are bytes, not UTF-8 text (not scanned)
    text_rows: int = 0  # cells searched as free text
    text_hits: dict[str, int] = field(default_factory=dict)
    text_examples: dict[str, list[str]] = field(default_factory=dict)
    ran: set[str] = field(default_factory=set)  # recognizer keys that ran
    # Look-alikes (recognizers with a ``chance``): recognizer key → values of its
    # look-alike shape that no recognizer of its type validates (evidence against).
    contra: dict[str, int] = field(default_factory=dict)
    # PII type → (lowest, highest, distinct) of its look-alike values of at most 18 pure
    # digits, as integers: a dense run of them is a numbering (serial), not the type
    # (``distinct`` is exact only when they could be one, see ``_digit_span``).
    spread: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """The profile of both parts (distinct counts keep the larger part's figure), its
        keys in one order whatever order the parts hold them in (see :func:`_in_order`)."""
        out = ColumnProfile()
        for name in (
            "rows",
            "nulls",
            "placeholders",
            "considered",
            "mangled",
            "length_sum",
            "sentence_like",
            "han",
            "truncated",
            "binary",
            "text_rows",
        ):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        out.distinct = max(self.distinct, other.distinct)
        for d in ("valid", "by_key", "text_hits", "mangled_exp", "contra"):
            a, b = getattr(self, d), getattr(other, d)
            keys = _in_order(a.keys() | b.keys(), d)
            setattr(out, d, {k: a.get(k, 0) + b.get(k, 0) for k in keys})
        for d in ("examples", "text_examples"):
            a, b = getattr(self, d), getattr(other, d)
            keys = _in_order(a.keys() | b.keys(), d)
            setattr(out, d, {k: (a.get(k, []) + b.get(k, []))[:2] for k in keys})
        out.mangled_example = self.mangled_example or other.mangled_example
        out.ran = self.ran | other.ran
        out.spread = {
            t: _span(self.spread.get(t), other.spread.get(t), distinct=max)
            for t in _in_order(self.spread.keys() | other.spread.keys(), "spread")
        }
        return out

    def to_json(self) -> dict[str, Any]:
        """The profile as JSON (a run's record of a shard): examples masked, the mangled
        example as reports show it (:func:`mangled_shown`)."""
        out = asdict(self)
        # the record keeps the example as reports show it (the digits of an ID hidden)
        if self.mangled_example is not None:
            out["mangled_example"] = mangled_shown(self.mangled_example)
        out["ran"] = sorted(self.ran)
        out["mangled_exp"] = [[k, v] for k, v in self.mangled_exp.items()]
        out["spread"] = {t: list(v) for t, v in self.spread.items()}
        return out

    @classmethod
    def from_json(cls, j: dict[str, Any]) -> ColumnProfile:
        """The inverse of :meth:`to_json`."""
        out = cls(**{k: v for k, v in j.items() if k not in ("ran", "mangled_exp", "spread")})
        out.ran = set(j["ran"])
        out.mangled_exp = {int(k): int(v) for k, v in j["mangled_exp"]}
        out.spread = {t: (int(v[0]), int(v[1]), int(v[2])) for t, v in j["spread"].items()}
        return out

    def share(self, pii_type: str) -> float:
        """Share of considered (non-null, non-placeholder) values valid as ``pii_type``."""
        return self.valid.get(pii_type, 0) / self.considered if self.considered else 0.0

    @property
    def mean_length(self) -> float:
        return self.length_sum / self.considered if self.considered else 0.0


def _in_order(keys: Iterable[K], of: str) -> list[K]:
    """The keys of a merged profile's dict ``of`` in one order: recognizer keys and PII
    types in the order of :data:`RECOGNIZERS`, exponents ascending, any other after them.

    Not a set's order: that follows the process's string hashes and the order of insertion,
    and a Dask worker hashes with a seed of its own (its nanny sets PYTHONHASHSEED); the
    classifier lists a column's checks and candidates in dict order, so a sharded scan
    merged in set order could word a verdict otherwise than the local scan of the same rows.
    """
    rank = _RANKS.get(of, _TYPE_RANK)
    return sorted(keys, key=lambda k: (rank.get(str(k), len(rank)), k))


_TYPE_RANK = {t: i for i, t in enumerate(TYPES)}
_KEY_RANK = {r.key: i for i, r in enumerate(RECOGNIZERS)}
#: the order of each dict of a profile (keyed by PII type unless named here)
_RANKS: dict[str, Mapping[str, int]] = {"by_key": _KEY_RANK, "contra": _KEY_RANK, "mangled_exp": {}}


def _np(arr: pa.Array) -> np.ndarray[Any, Any]:
    return np.asarray(arr.to_numpy(zero_copy_only=False))


def profile_column(array: pa.Array | pa.ChunkedArray, plan: Plan) -> ColumnProfile:
    """Value evidence of one column: shares per PII type, placeholders, Excel-mangled
    numbers, text statistics and free-text spans (when ``plan.free_text``)."""
    p = ColumnProfile()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    while pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        # A list column (Parquet) is judged by its elements: a list of ID numbers is an
        # ID column. Structs and maps are rendered as JSON by ``as_strings``.
        array = pc.list_flatten(array)
    if is_binary(array.type):
        # BLOB/bytea: only cells that are UTF-8 text are scanned; the rest are counted.
        strings, p.binary = binary_as_text(array)
    else:
        strings = as_strings(array)
    p.rows = len(strings)
    p.nulls = strings.null_count - p.binary
    if strings.null_count == p.rows:
        return p
    sizes = _np(pc.fill_null(pc.binary_length(strings), 0))
    big = sizes > MAX_CELL
    if big.any():
        # A huge cell is scanned up to the cap only; the note says so.
        p.truncated = int(big.sum())
        strings = pc.if_else(pa.array(big), pc.utf8_slice_codeunits(strings, 0, MAX_CELL), strings)
    text = to_text(strings)
    ph = placeholder_mask(text)
    p.placeholders = int(ph.sum()) - strings.null_count
    keep = ~ph
    p.considered = int(keep.sum())
    if not p.considered:
        return p
    text = text.filter(pa.array(keep))
    p.length_sum = int(pc.sum(pc.utf8_length(text)).as_py() or 0)
    if plan.stats:
        p.distinct = int(pc.count_distinct(text).as_py())
        p.han = int(pc.sum(pc.match_substring_regex(text, r"\p{Han}")).as_py() or 0)
        p.sentence_like = int(pc.sum(pc.match_substring_regex(text, _SENTENCE)).as_py() or 0)
    if pc.any(pc.match_substring(text, "E+", ignore_case=True)).as_py():
        _mangled(p, text)
    recs = RECOGNIZERS if plan.keys is None else tuple(BY_KEY[k] for k in plan.keys)
    recs = tuple(r for r in recs if not r.needs_context or r.type in plan.context_types)
    compact = to_compact(text) if any(r.form == "compact" for r in recs) else text
    union: dict[str, np.ndarray[Any, np.dtype[np.bool_]]] = {}
    lookalikes: list[tuple[str, str, pa.Array, np.ndarray[Any, np.dtype[np.bool_]]]] = []
    for rec in recs:
        values = compact if rec.form == "compact" else text
        shaped, ok = rec.judge(values)
        if rec.chance is not None and shaped.any():
            lookalikes.append((rec.key, rec.type, values, shaped))
        p.ran.add(rec.key)
        count = int(ok.sum())
        if not count:
            continue
        p.by_key[rec.key] = count
        if rec.type in union:
            union[rec.type] |= ok
        else:
            union[rec.type] = ok
        if rec.type not in p.examples:
            first = values.filter(pa.array(ok)).slice(0, 2).to_pylist()
            p.examples[rec.type] = [mask_value(rec.type, str(x)) for x in first]
    p.valid = {t: int(m.sum()) for t, m in union.items()}
    for key, pii_type, values, shaped in lookalikes:
        # Evidence against: shaped like the type, yet no recognizer of the type accepts it.
        against = shaped & ~union[pii_type] if pii_type in union else shaped
        if against.any():
            p.contra[key] = int(against.sum())
        span = _digit_span(values.filter(pa.array(shaped)))
        if span is not None:
            p.spread[pii_type] = _span(p.spread.get(pii_type), span, distinct=sum)
    if plan.free_text and (p.han or not plan.stats) and p.mean_length >= 8:
        _free_text(p, text)
    return p


def _digit_span(values: pa.Array) -> tuple[int, int, int] | None:
    """(lowest, highest, distinct) of the values that are 1-18 digits, as integers.

    ``distinct`` is exact when the values could fill ``NUMBERING_DENSITY`` of their
    range; otherwise it is their count, an upper bound that cannot make them a
    numbering either (counting distinct values is the costly part; real numbers skip it).
    """
    ok = pc.and_(pc.ascii_is_decimal(values), pc.less_equal(pc.binary_length(values), 18))
    digits = values.filter(ok)
    if len(digits) == 0:
        return None
    nums = pc.cast(digits, pa.int64())
    mm = pc.min_max(nums)
    lo, hi = int(mm["min"].as_py()), int(mm["max"].as_py())
    if len(nums) < NUMBERING_DENSITY * (hi - lo + 1):
        return lo, hi, len(nums)
    return lo, hi, int(pc.count_distinct(nums).as_py())


def _span(
    a: tuple[int, int, int] | None,
    b: tuple[int, int, int] | None,
    *,
    distinct: Callable[[tuple[int, int]], int],
) -> tuple[int, int, int]:
    """Two spans as one: ``distinct`` adds disjoint parts (one batch, look-alikes of two
    lengths) or keeps the larger part's figure (two batches may share values)."""
    if a is None or b is None:
        out = a or b
        assert out is not None
        return out
    return min(a[0], b[0]), max(a[1], b[1]), distinct((a[2], b[2]))


def mangled_shown(example: str) -> str:
    """A number spreadsheet software mangled (``4.40106199003077E+17``) as reports show
    it: its first three characters and its exponent (``4.4…E+17``); applied twice, the same."""
    return example[:3] + "…" + example[example.find("E") :] if "E" in example.upper() else "…"


def _mangled(p: ColumnProfile, text: pa.Array) -> None:
    mangled = pc.extract_regex(text, r"^(?P<m>" + MANGLED[1:-1] + r")$")
    mmask = _np(pc.fill_null(pc.is_valid(pc.struct_field(mangled, "m")), False)).astype(bool)
    if not mmask.any():
        return
    p.mangled = int(mmask.sum())
    mtext = text.filter(pa.array(mmask))
    exps = _np(pc.cast(pc.extract_regex(mtext, r"[Ee]\+?(?P<e>[0-9]+)$").field("e"), pa.int64()))
    vals, counts = np.unique(exps, return_counts=True)
    p.mangled_exp = {int(v): int(c) for v, c in zip(vals, counts, strict=True)}
    p.mangled_example = str(mtext[0].as_py())


def _free_text(p: ColumnProfile, text: pa.Array) -> None:
    hits = scan_text(text)
    p.text_rows = len(text)
    for t, mask in hits.rows.items():
        n = int(mask.sum())
        if n:
            p.text_hits[t] = n
            p.text_examples[t] = [mask_value(t, s) for s in hits.examples.get(t, [])][:2]
