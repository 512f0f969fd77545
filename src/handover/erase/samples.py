"""Verification samples: identifiers taken before destruction, searched for afterwards.

Samples (resident ID numbers, mobile numbers, bank card numbers) are drawn from the
identifier columns of the tables being destroyed, found through the scan inventory
(``handover.detect``), and kept in memory only: they are never written, logged or
ledgered, in clear or hashed. After destruction they are searched in the raw bytes of
what remains (a SQLite file and its -wal/-journal/-shm), in the remaining table data of
a server, and in the read-back of every overwritten file.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from handover.erase.database import Database, SQLiteDatabase

if TYPE_CHECKING:
    from handover.workspace import Workspace

#: PII types whose values are unique enough to search for in raw bytes
IDENTIFIER_TYPES = ("cn_resident_id", "cn_mobile", "bank_card")
#: identifiers sampled per run, in total over the ID/phone/card columns
SAMPLES = 1_000
#: rows read per column before drawing the sample
POOL = 5_000
#: rows per table a scan reads when no stored inventory names the identifier columns
SCAN_SAMPLE = 2_000


@dataclass(eq=False)
class Sample:
    """One identifier from a destroyed row. ``repr`` never shows the value."""

    pii_type: str
    table: str
    column: str
    value: str = field(repr=False)
    needles: list[bytes] = field(repr=False, default_factory=list)


@dataclass
class SampleSet:
    """The samples of one run, and how many were set aside because kept data holds them too."""

    samples: list[Sample] = field(default_factory=list)
    excluded: int = 0
    columns: list[dict[str, Any]] = field(default_factory=list)

    def by_type(self) -> dict[str, int]:
        """Sample counts per PII type."""
        out: dict[str, int] = {}
        for s in self.samples:
            out[s.pii_type] = out.get(s.pii_type, 0) + 1
        return dict(sorted(out.items()))

    def clear(self) -> None:
        """Drop the values from memory once the verification is done."""
        for s in self.samples:
            s.value = ""
            s.needles = []


def identifier_columns(
    ws: Workspace | None, db: Database, tables: Iterable[str]
) -> list[tuple[str, str, str]]:
    """``(table, column, pii type)`` of every identifier column of ``tables``.

    Uses the newest stored inventory when it was taken of this source; otherwise scans
    the source now (in memory, nothing stored).
    """
    wanted = {t.lower() for t in tables}
    if not wanted:
        return []
    inv: dict[str, Any] | None = None
    if ws is not None:
        from handover.detect.store import latest_inventory

        stored = latest_inventory(ws)
        if stored is not None and stored.get("source") == db.display:
            inv = stored
    out: list[tuple[str, str, str]] = []
    if inv is not None:
        for tb in inv["tables"]:
            for c in tb["columns"]:
                if tb["name"].lower() in wanted and c.get("primary") in IDENTIFIER_TYPES:
                    out.append((tb["name"], c["name"], c["primary"]))
        return out
    from handover.detect.scan import scan_source

    spec = str(db.path) if isinstance(db, SQLiteDatabase) else str(getattr(db, "url", ""))
    scanned = scan_source(spec, sample=SCAN_SAMPLE)
    for t in scanned.tables:
        for col in t.columns:
            if t.name.lower() in wanted and col.primary in IDENTIFIER_TYPES:
                out.append((t.name, col.name, str(col.primary)))
    return out


def _quotas(sizes: list[int], total: int) -> list[int]:
    """Split ``total`` samples over columns as evenly as their candidates allow.

    A column with fewer candidates than its share gives the rest to the others, so the
    run draws ``min(total, sum(sizes))`` samples: all candidates when there are fewer.
    """
    quota = [0] * len(sizes)
    left = min(total, sum(sizes))
    while left > 0:
        open_ = [j for j, n in enumerate(sizes) if quota[j] < n]
        share = max(1, left // len(open_))
        for j in open_:
            add = min(share, sizes[j] - quota[j], left)
            quota[j] += add
            left -= add
            if left == 0:
                break
    return quota


def draw_samples(
    db: Database,
    columns: list[tuple[str, str, str]],
    keep_filters: dict[str, str | None],
    *,
    samples: int = SAMPLES,
    seed: int = 0,
    kept: dict[str, str | None] | None = None,
) -> SampleSet:
    """Draw ``samples`` distinct valid identifiers in total from the rows to destroy.

    Candidates are the checksum-valid values among up to ``max(POOL, samples)`` rows of
    each identifier column, minus values that ``kept`` data (table → kept-row filter, or
    None for the whole table) also holds; the total is split evenly over the columns (a
    column short of candidates leaves its share to the others), so fewer candidates than
    ``samples`` means every candidate is taken.
    """
    from handover.detect import validate

    if samples < 0:
        from handover.errors import BadInput

        raise BadInput.msg("erase.samples")
    rng = np.random.default_rng(seed)
    out = SampleSet()
    seen: set[str] = set()
    pool_rows = max(POOL, samples)
    candidates: list[list[tuple[str, Any, str]]] = []
    for table, column, pii_type in columns:
        pool = db.sample(table, column, keep_filters.get(table), pool_rows) if samples else []
        values = [str(v).strip() for v, _ in pool]
        as_seen: list[str | None] = list(values)
        ok = validate(pii_type, as_seen) if values else np.zeros(0, dtype=np.bool_)
        mine: list[tuple[str, Any, str]] = []
        for row in np.flatnonzero(ok).tolist():
            value = values[row]
            # Distinct across columns: one customer's ID in two tables is one sample.
            if value not in seen:
                seen.add(value)
                mine.append((value, *pool[row]))
        candidates.append(mine)
    if kept and any(candidates):
        # A value kept under a retention rule would be "found" after destruction: such
        # candidates are set aside (counted) before drawing, so the total stays ``samples``.
        flat = [c[0] for mine in candidates for c in mine]
        hit = _in_kept(db, flat, kept)
        out.excluded = len(hit)
        if hit:
            held = {flat[i] for i in hit}
            candidates = [[c for c in mine if c[0] not in held] for mine in candidates]
    quotas = _quotas([len(c) for c in candidates], samples)
    for (table, column, pii_type), mine, quota in zip(columns, candidates, quotas, strict=True):
        idx: list[int] = (
            sorted(int(x) for x in rng.choice(len(mine), size=quota, replace=False))
            if quota
            else []
        )
        for i in idx:
            value, raw, storage = mine[i]
            if isinstance(db, SQLiteDatabase):
                needles = db.needles(raw, storage)
            else:
                needles = [value.encode("utf-8")]
            out.samples.append(Sample(pii_type, table, column, value, needles))
        out.columns.append(
            {
                "table": table,
                "column": column,
                "type": pii_type,
                "candidates": len(mine),
                "samples": quota,
            }
        )
    return out


def _in_kept(db: Database, values: list[str], kept: dict[str, str | None]) -> set[int]:
    """Indices of ``values`` that data which stays (kept tables or kept rows) also holds."""
    forms = [[v.encode("utf-8")] for v in values]
    hit: set[int] = set()
    for table, keep in kept.items():
        for chunk in db.text_chunks(table, keep):
            hit |= find_needles(np.frombuffer(chunk.encode("utf-8"), dtype=np.uint8), forms)
            if len(hit) == len(forms):
                return hit
    return hit


#: odd multiplier of the polynomial window hash (mod 2**64) and its inverse mod 2**64
_P = 0x9E3779B97F4A7C15
_Q = pow(_P, -1, 1 << 64)
_MASK = (1 << 64) - 1
_BITS = 22
#: bytes searched per step (memory: about 40 bytes per byte of chunk)
SEARCH_CHUNK = 4 << 20


def _needle_hash(needle: bytes) -> int:
    h, q = 0, 1
    for b in needle:
        h = (h + b * q) & _MASK
        q = (q * _Q) & _MASK
    return h


def find_needles(buf: np.ndarray[Any, np.dtype[np.uint8]], needles: list[list[bytes]]) -> set[int]:
    """Indices ``i`` such that some byte string of ``needles[i]`` occurs in ``buf``.

    One vectorised pass per needle length however many needles there are: every window's
    polynomial hash (mod 2**64) comes from prefix sums, candidate windows are found by a
    sorted lookup, and each candidate is confirmed byte for byte.
    """
    by_len: dict[int, dict[int, list[tuple[int, bytes]]]] = {}
    for i, forms in enumerate(needles):
        for form in forms:
            if form:
                by_len.setdefault(len(form), {}).setdefault(_needle_hash(form), []).append(
                    (i, form)
                )
    found: set[int] = set()
    if not by_len or len(buf) == 0:
        return found
    longest = max(by_len)
    with np.errstate(over="ignore"):
        for start in range(0, len(buf), SEARCH_CHUNK):
            part = buf[start : start + SEARCH_CHUNK + longest - 1]
            n = len(part)
            # P**j and Q**j (uint64 arithmetic wraps, i.e. works mod 2**64).
            pw = np.ones(n, dtype=np.uint64)
            qw = np.ones(n, dtype=np.uint64)
            np.cumprod(np.full(n - 1, _P, dtype=np.uint64), out=pw[1:])
            np.cumprod(np.full(n - 1, _Q, dtype=np.uint64), out=qw[1:])
            prefix = np.zeros(n + 1, dtype=np.uint64)
            np.cumsum(part.astype(np.uint64) * qw, out=prefix[1:])
            for length, table in by_len.items():
                if n < length:
                    continue
                # Windows starting in this chunk only; the overlap belongs to the next one.
                m = min(n - length + 1, SEARCH_CHUNK)
                h = (prefix[length : length + m] - prefix[:m]) * pw[:m]
                targets = np.array(sorted(table), dtype=np.uint64)
                # A bitmap of the targets' top bits rules out nearly every window cheaply;
                # only the few survivors pay for the sorted lookup.
                bitmap = np.zeros(1 << _BITS, dtype=np.bool_)
                bitmap[targets >> np.uint64(64 - _BITS)] = True
                maybe = np.flatnonzero(bitmap[h >> np.uint64(64 - _BITS)])
                pos = np.searchsorted(targets, h[maybe])
                pos[pos == len(targets)] = 0
                for j in maybe[targets[pos] == h[maybe]]:
                    window = part[j : j + length].tobytes()
                    for i, needle in table[int(h[j])]:
                        if needle == window:
                            found.add(i)
    return found


@dataclass
class SearchResult:
    """Where the samples were searched and how many were found (never which)."""

    method: str
    searched: list[dict[str, Any]] = field(default_factory=list)
    found: int = 0
    found_by_type: dict[str, int] = field(default_factory=dict)

    def add_found(self, s: Sample) -> None:
        self.found += 1
        self.found_by_type[s.pii_type] = self.found_by_type.get(s.pii_type, 0) + 1

    def to_json(self) -> dict[str, Any]:
        """Certificate form."""
        return {
            "method": self.method,
            "searched": self.searched,
            "found": self.found,
            "found_by_type": dict(sorted(self.found_by_type.items())),
        }


def search_files(paths: Iterable[Path], samples: list[Sample]) -> SearchResult:
    """Search every sample's byte forms in the raw bytes of ``paths`` (memory-mapped)."""
    res = SearchResult("raw-bytes")
    hit: set[int] = set()
    forms = [s.needles for s in samples]
    for path in paths:
        if not path.exists():
            res.searched.append({"path": str(path), "bytes": 0, "exists": False})
            continue
        size = path.stat().st_size
        res.searched.append({"path": str(path), "bytes": size, "exists": True})
        if size == 0:
            continue
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            view = np.frombuffer(mm, dtype=np.uint8)
            try:
                hit |= find_needles(view, forms)
            finally:
                del view  # the mmap cannot close while numpy holds its buffer
    for i in sorted(hit):
        res.add_found(samples[i])
    return res


def search_tables(db: Database, samples: list[Sample]) -> SearchResult:
    """Search the samples as text in every cell of every remaining table (servers)."""
    res = SearchResult("sql-table-data")
    hit: set[int] = set()
    forms = [[s.value.encode("utf-8")] for s in samples]
    for table in db.tables():
        rows = 0
        for chunk in db.text_chunks(table):
            rows += 1
            hit |= find_needles(np.frombuffer(chunk.encode("utf-8"), dtype=np.uint8), forms)
        res.searched.append({"table": table, "chunks": rows})
    for i in sorted(hit):
        res.add_found(samples[i])
    return res
