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
PER_COLUMN = 16
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


def draw_samples(
    db: Database,
    columns: list[tuple[str, str, str]],
    keep_filters: dict[str, str | None],
    *,
    per_column: int = PER_COLUMN,
    seed: int = 0,
) -> SampleSet:
    """Draw up to ``per_column`` valid identifiers per column from the rows to destroy."""
    from handover.detect import validate

    rng = np.random.default_rng(seed)
    out = SampleSet()
    seen: set[str] = set()
    for table, column, pii_type in columns:
        pool = db.sample(table, column, keep_filters.get(table), POOL)
        values = [str(v).strip() for v, _ in pool]
        as_seen: list[str | None] = list(values)
        ok = validate(pii_type, as_seen) if values else np.zeros(0, dtype=np.bool_)
        idx = np.flatnonzero(ok)
        if len(idx) > per_column:
            idx = np.sort(rng.choice(idx, size=per_column, replace=False))
        taken = 0
        for i in idx:
            value = values[int(i)]
            if value in seen:
                continue
            seen.add(value)
            raw, storage = pool[int(i)]
            if isinstance(db, SQLiteDatabase):
                needles = db.needles(raw, storage)
            else:
                needles = [value.encode("utf-8")]
            out.samples.append(Sample(pii_type, table, column, value, needles))
            taken += 1
        out.columns.append({"table": table, "column": column, "type": pii_type, "samples": taken})
    return out


def exclude_kept(db: Database, samples: SampleSet, kept: dict[str, str | None]) -> None:
    """Set aside samples that also occur in data that stays (kept tables or kept rows).

    A value kept under a retention rule would otherwise be "found" after destruction.
    """
    if not samples.samples or not kept:
        return
    remaining = list(samples.samples)
    for table, keep in kept.items():
        for chunk in db.text_chunks(table, keep):
            remaining = [s for s in remaining if s.value not in chunk]
            if not remaining:
                break
    gone = len(samples.samples) - len(remaining)
    samples.samples = remaining
    samples.excluded += gone


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
    for path in paths:
        if not path.exists():
            res.searched.append({"path": str(path), "bytes": 0, "exists": False})
            continue
        size = path.stat().st_size
        res.searched.append({"path": str(path), "bytes": size, "exists": True})
        if size == 0:
            continue
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            for i, s in enumerate(samples):
                if i not in hit and any(mm.find(n) != -1 for n in s.needles):
                    hit.add(i)
    for i in sorted(hit):
        res.add_found(samples[i])
    return res


def search_tables(db: Database, samples: list[Sample]) -> SearchResult:
    """Search the samples as text in every cell of every remaining table (servers)."""
    res = SearchResult("sql-table-data")
    hit: set[int] = set()
    for table in db.tables():
        rows = 0
        for chunk in db.text_chunks(table):
            rows += 1
            for i, s in enumerate(samples):
                if i not in hit and s.value in chunk:
                    hit.add(i)
        res.searched.append({"table": table, "chunks": rows})
    for i in sorted(hit):
        res.add_found(samples[i])
    return res
