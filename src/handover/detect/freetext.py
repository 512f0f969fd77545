"""Spans of PII inside free text (notes, collection records), vectorised.

Digit-like PII is found by splitting every cell into maximal digit runs
(``split_pattern_regex``) after joining the usual separators (``138 1234 5678``,
``+86-…``); the runs are flattened into one array, validated together, and mapped back
to their rows with ``list_parent_indices``. ``\\b`` is never used: it does not separate
a CJK character from a digit. Types without a checksum use RE2 patterns bounded by
``(?:^|[^0-9])`` … ``(?:[^0-9]|$)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.detect.normalize import to_compact
from handover.detect.recognizers import BY_KEY, RECOGNIZERS, Recognizer

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]

# Joins that turn typed-in separators back into one run of digits (regex, replacement);
# public: de-identification tags the same spans the scan finds.
JOINS = (
    (r"(^|[^0-9])\+?86[- ]?(1[3-9][0-9])[- ]([0-9]{4})[- ]([0-9]{4})", r"\1\2\3\4"),
    (r"(^|[^0-9])(1[3-9][0-9])[- ]([0-9]{4})[- ]([0-9]{4})", r"\1\2\3\4"),
    (r"(^|[^0-9])\+?86-(1[3-9][0-9]{9})", r"\1\2"),
    (r"([0-9]{4}) ([0-9]{4}) ([0-9]{4}) ([0-9]{4})(?: ([0-9]{1,3}))?", r"\1\2\3\4\5"),
    (r"([0-9]{6}) ([0-9]{8}) ([0-9]{3}[0-9Xx])", r"\1\2\3"),
    (r"(^|[^0-9])(0[0-9]{2,3}) ([0-9]{3,4}) ([0-9]{4})", r"\1\2-\3\4"),
)
_DIGIT_KEYS = ("cn_resident_id_18", "cn_mobile", "bank_card")
_ALNUM_KEYS = ("uscc", "passport", "hk_macau_permit")
_REGEX_KEYS = tuple(r.key for r in RECOGNIZERS if r.text == "regex")


@dataclass
class TextHits:
    """Per type: which rows hold at least one valid span, and a few example spans."""

    rows: dict[str, BoolArray] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, pii_type: str, mask: BoolArray, spans: list[str]) -> None:
        if pii_type in self.rows:
            self.rows[pii_type] |= mask
        else:
            self.rows[pii_type] = mask.copy()
        ex = self.examples.setdefault(pii_type, [])
        ex.extend(spans[: max(0, 2 - len(ex))])


def _tokens(text: pa.Array, splitter: str) -> tuple[pa.Array, np.ndarray[Any, np.dtype[np.int64]]]:
    lists = pc.split_pattern_regex(text, splitter)
    flat = pc.list_flatten(lists)
    parents = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
    return flat, parents


def _validated(rec: Recognizer, tokens: pa.Array) -> BoolArray:
    return rec.match(tokens)


def scan_text(text: pa.Array) -> TextHits:
    """Find valid PII spans in each cell of ``text`` (normalised, null-free strings)."""
    n = len(text)
    hits = TextHits()
    if n == 0:
        return hits
    joined = text
    for pattern, repl in JOINS:
        joined = pc.replace_substring_regex(joined, pattern, repl)

    # Digit runs: resident IDs, mobiles, bank cards (an ID is never also a card).
    flat, parents = _tokens(joined, r"[^0-9Xx+]+")
    lengths = pc.utf8_length(flat).to_numpy(zero_copy_only=False)
    keep = np.flatnonzero((lengths >= 11) & (lengths <= 20))
    if keep.size:
        toks = to_compact(flat.take(pa.array(keep)))
        par = parents[keep]
        taken = np.zeros(len(toks), dtype=np.bool_)
        for key in _DIGIT_KEYS:
            rec = BY_KEY[key]
            ok = _validated(rec, toks) & ~taken
            taken |= ok
            if ok.any():
                mask = np.zeros(n, dtype=np.bool_)
                mask[par[ok]] = True
                hits.add(rec.type, mask, toks.filter(pa.array(ok)).slice(0, 2).to_pylist())

    # Letter+digit runs: USCC, passports, travel permits.
    flat, parents = _tokens(text, r"[^0-9A-Za-z]+")
    lengths = pc.utf8_length(flat).to_numpy(zero_copy_only=False)
    keep = np.flatnonzero((lengths == 9) | (lengths == 18) | (lengths == 11))
    if keep.size:
        toks = pc.utf8_upper(flat.take(pa.array(keep)))
        par = parents[keep]
        id_like = BY_KEY["cn_resident_id_18"].match(toks)
        for key in _ALNUM_KEYS:
            rec = BY_KEY[key]
            ok = rec.match(toks) & ~id_like
            if ok.any():
                mask = np.zeros(n, dtype=np.bool_)
                mask[par[ok]] = True
                hits.add(rec.type, mask, toks.filter(pa.array(ok)).slice(0, 2).to_pylist())

    # E-mail addresses.
    at = pc.match_substring(text, "@").to_numpy(zero_copy_only=False)
    if at.any():
        rows = np.flatnonzero(at)
        flat, parents = _tokens(text.take(pa.array(rows)), r"[^A-Za-z0-9._%+@\-]+")
        toks = pc.utf8_rtrim(flat, characters=".")
        ok = BY_KEY["email"].match(toks)
        if ok.any():
            mask = np.zeros(n, dtype=np.bool_)
            mask[rows[parents[ok]]] = True
            hits.add("email", mask, toks.filter(pa.array(ok)).slice(0, 2).to_pylist())

    # Patterns without a checksum, bounded by look-around-free RE2 patterns.
    for key in _REGEX_KEYS:
        rec = BY_KEY[key]
        assert rec.text_pattern is not None
        found = pc.fill_null(pc.match_substring_regex(joined, rec.text_pattern), False)
        mask = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.bool_)
        if not mask.any():
            continue
        spans = _example_spans(joined.filter(pa.array(mask)).slice(0, 8), rec.text_pattern)
        hits.add(rec.type, mask, spans)
    return hits


def _example_spans(values: pa.Array, pattern: str) -> list[str]:
    ex = pc.extract_regex(values, pattern)
    out: list[str] = []
    for name in ("v", "w"):
        if ex.type.get_field_index(name) >= 0:
            out.extend(s for s in pc.struct_field(ex, name).to_pylist() if s)
    return out[:2]
