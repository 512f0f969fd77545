"""The scan kernel: discover and classify every column of a source.

Sampled by default (a seeded sample of ``sample`` rows per table); ``full`` then reads
every row of the columns that can hold PII and counts exact shares and free-text hits.
The result is an :class:`Inventory` (machine form ``to_json``); the ``handover scan``
flow (:mod:`handover.flows.scan`) stores it, renders the report and records it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.db.url import mask
from handover.detect.classify import (
    ColumnResult,
    classify_column,
    context_types,
    finish_table,
    table_hints,
)
from handover.detect.messages import SCREEN_NOTES, Note
from handover.detect.names import GROUPS, name_evidence
from handover.detect.profile import ColumnProfile, Plan, profile_column
from handover.detect.recognizers import RECOGNIZERS, VALUE_TYPES
from handover.i18n import Msg
from handover.prefetch import prefetch
from handover.progress import Progress
from handover.sources import PLAIN, FileReading, Source, TableInfo, open_source
from handover.sources.base import DEFAULT_BATCH

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_SAMPLE = 10_000
DEFAULT_SEED = 2026
#: batches of a full pass profiled at once (one per core of the machine issue 21 measures)
PROFILE_THREADS = 2


@dataclass
class TableResult:
    """One table: its row count, its columns' verdicts, and problems found reading it."""

    name: str
    rows: int
    columns: list[ColumnResult] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # the source's, then the scan's
    scanned_rows: int = 0

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` form of the table."""
        return {
            "name": self.name,
            "rows": self.rows,
            "columns": [c.to_json() for c in self.columns],
        }


@dataclass
class Inventory:
    """The result of one scan."""

    source: str  # masked
    kind: str
    mode: str  # "sample" | "full"
    sample: int
    seed: int
    tables: list[TableResult] = field(default_factory=list)
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    seconds: float = 0.0
    scan_id: int | None = None
    reports: list[Path] = field(default_factory=list)
    #: where the source is, however commands later spell it (:func:`handover.db.url.place`;
    #: "" when unknown)
    located: str = ""
    #: whether its CSV files were read with a header row (``--no-header``: False); the
    #: columns are named by it, so an inventory serves only a command reading the same way
    header: bool = True
    #: whether its CSV files were read with MySQL's escapes (``--mysql-escapes``)
    escapes: str = ""

    def to_json(self) -> dict[str, Any]:
        """Exactly the ``--json`` contract of docs/scan.md."""
        return {"source": self.source, "tables": [t.to_json() for t in self.tables]}

    def counts(self) -> dict[str, Any]:
        """Counts only (for the ledger and summaries): never a value."""
        cols = [c for t in self.tables for c in t.columns]
        by_type: dict[str, int] = {}
        for c in cols:
            for p in c.pii:
                by_type[p.type] = by_type.get(p.type, 0) + 1
        return {
            "mode": self.mode,
            "tables": len(self.tables),
            "rows": sum(t.rows for t in self.tables),
            "columns": len(cols),
            "pii_columns": sum(1 for c in cols if c.pii),
            "sensitive_columns": sum(1 for c in cols if c.sensitive),
            "free_text_columns": sum(1 for c in cols if c.free_text),
            "c3_columns": sum(1 for c in cols if c.tier == "C3"),
            "c2_columns": sum(1 for c in cols if c.tier == "C2"),
            "mangled_columns": sum(1 for c in cols if c.mangled),
            "by_type": dict(sorted(by_type.items())),
        }

    def screen_notes(self) -> list[tuple[str, Note]]:
        """``(where, note)`` of the problems worth a line after a scan: empty tables,
        mangled numbers, cut cells, and the source's ragged rows (the report has all)."""
        out: list[tuple[str, Note]] = []
        for t in self.tables:
            out.extend((t.name, n) for n in t.notes if _on_screen(n))
            for c in t.columns:
                out.extend((f"{t.name}.{c.name}", n) for n in c.notes if _on_screen(n))
        return out


def _on_screen(note: Note) -> bool:
    if isinstance(note, Msg):
        return note.key in SCREEN_NOTES
    # Plain English text: a note of an older version (ragged rows had no key then).
    return "ragged" in note


#: a table this wide reports its columns as they are profiled (a 10,000-column CSV takes
#: minutes); every WIDE_STEP columns
WIDE = 200
WIDE_STEP = 50


def scan_source(
    spec: str | Path,
    *,
    full: bool = False,
    sample: int = DEFAULT_SAMPLE,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
    reading: FileReading = PLAIN,
    batch_rows: int = DEFAULT_BATCH,
) -> Inventory:
    """Scan every table of ``spec`` and classify every column (no store, no report).

    A source without tables is refused; so is a file table with more unreadable rows
    than ``reading`` allows (see :class:`handover.sources.FileReading`).
    """
    t0 = time.perf_counter()
    with opened(spec, full, sample, seed, progress, reading) as (src, inv, infos):
        for info in infos:
            inv.tables.append(
                scan_table(
                    src,
                    info,
                    full=full,
                    sample=sample,
                    seed=seed,
                    progress=progress,
                    batch_rows=batch_rows,
                )
            )
            if progress is not None:
                progress.advance(info.name, info.rows or 0)
    inv.seconds = time.perf_counter() - t0
    return inv


@contextmanager
def opened(
    spec: str | Path,
    full: bool,
    sample: int,
    seed: int,
    progress: Progress | None,
    reading: FileReading,
) -> Iterator[tuple[Source, Inventory, list[TableInfo]]]:
    """The source of a scan, its (empty) inventory and its tables, each a task of
    ``progress``; BadInput for a sample below 1 or a source without tables."""
    from handover.errors import BadInput

    if sample < 1:
        raise BadInput.msg("scan.bad_sample", sample=sample)
    with open_source(spec, reading=reading) as src:
        inv = Inventory(mask(spec), src.kind, "full" if full else "sample", sample, seed)
        infos = src.tables()
        if not infos:
            raise BadInput.msg("scan.no_tables", source=mask(spec))
        for info in infos:
            if progress is not None:
                progress.task(info.name, info.rows)
        yield src, inv, infos


def scan_table(
    src: Source,
    info: TableInfo,
    *,
    full: bool,
    sample: int,
    seed: int,
    progress: Progress | None = None,
    batch_rows: int = DEFAULT_BATCH,
) -> TableResult:
    """Classify the columns of one table from a sample (and, with ``full``, every row).

    A table of :data:`WIDE` columns or more is also a task of ``progress`` of its own,
    ``TABLE.*``, counting columns profiled (its rows are few, its columns the work).
    ``batch_rows``: rows per batch of the full pass (a sharded scan cuts its shards at
    multiples of it, so that both profile the same batches)."""
    sampled = sample_table(src, info, full=full, sample=sample, seed=seed, progress=progress)
    rows = None
    if sampled.todo:
        batches = src.batches(info.name, columns=list(sampled.todo), batch_size=batch_rows)
        rows = profile_rows(prefetch(batches), sampled.todo)
    return conclude_table(info, sampled, rows)


@dataclass
class Sampled:
    """A table after its sample: the result so far, the sampled profiles, and what a full
    pass still reads (``todo``: column → plan; empty when nothing is re-read)."""

    result: TableResult
    profiles: dict[str, ColumnProfile]
    hints: dict[str, int]
    todo: dict[str, Plan] = field(default_factory=dict)


def sample_table(
    src: Source,
    info: TableInfo,
    *,
    full: bool,
    sample: int,
    seed: int,
    progress: Progress | None = None,
) -> Sampled:
    """The sample stage of :func:`scan_table`: profiles of a seeded sample of the table and,
    with ``full``, the plan of the full pass (see :func:`_full_pass_plan`)."""
    res = TableResult(info.name, info.rows, notes=list(info.notes))
    names = info.column_names
    hints = table_hints(names)
    plans = {c: Plan(None, context_types(c)) for c in names}
    if info.rows == 0:
        res.notes.append(Msg("detect.note.empty_table"))
        return Sampled(res, {c: ColumnProfile() for c in names}, hints)
    data = src.sample(info.name, sample, seed)
    res.scanned_rows = data.num_rows
    wide = progress if progress is not None and len(names) >= WIDE else None
    if wide is not None:
        wide.task(f"{info.name}.*", len(names))
    profiles = {}
    with ThreadPoolExecutor(PROFILE_THREADS, thread_name_prefix="scan-profile") as pool:
        # the columns on two threads (Arrow's kernels leave the interpreter lock)
        done = pool.map(lambda c: profile_column(data.column(c), plans[c]), names)
        try:
            for i, (c, prof) in enumerate(zip(names, done, strict=True), 1):
                profiles[c] = prof
                if wide is not None and (i % WIDE_STEP == 0 or i == len(names)):
                    step = WIDE_STEP if i % WIDE_STEP == 0 else i % WIDE_STEP
                    wide.advance(f"{info.name}.*", step)
        except BaseException:  # Ctrl-C, a failed column: the columns not begun are dropped
            pool.shutdown(cancel_futures=True)
            raise
    todo: dict[str, Plan] = {}
    if full and info.rows > data.num_rows:
        todo = _full_pass_plan(profiles, plans, _classify(info, profiles, hints))
    return Sampled(res, profiles, hints, todo)


def profile_rows(
    batches: Iterable[pa.RecordBatch], todo: dict[str, Plan]
) -> dict[str, ColumnProfile]:
    """The full pass over ``batches`` (rows in order): one merged profile per column of
    ``todo``. Profiles of consecutive parts merge with :func:`merge_rows` into the
    profile of the whole, batch for batch the same."""
    merged = {c: ColumnProfile() for c in todo}

    def profiled(batch: pa.RecordBatch) -> dict[str, ColumnProfile]:
        return {name: profile_column(batch.column(name), plan) for name, plan in todo.items()}

    # Arrow's kernels leave the interpreter lock: two batches are profiled at once, on
    # two threads, and merged in row order (the same profile as one after the other).
    pending: deque[Future[dict[str, ColumnProfile]]] = deque()
    with ThreadPoolExecutor(PROFILE_THREADS, thread_name_prefix="scan-profile") as pool:
        try:
            for batch in batches:
                pending.append(pool.submit(profiled, batch))
                if len(pending) >= PROFILE_THREADS:
                    _merge_into(merged, pending.popleft().result())
            while pending:
                _merge_into(merged, pending.popleft().result())
        finally:
            for job in pending:
                job.cancel()
    return merged


def _merge_into(merged: dict[str, ColumnProfile], part: dict[str, ColumnProfile]) -> None:
    for name, prof in part.items():
        merged[name] = merged[name].merge(prof)


def merge_rows(parts: Iterable[dict[str, ColumnProfile]]) -> dict[str, ColumnProfile]:
    """Profiles of consecutive parts of a table (in row order) as the profile of all."""
    out: dict[str, ColumnProfile] = {}
    for part in parts:
        for name, prof in part.items():
            out[name] = out.get(name, ColumnProfile()).merge(prof)
    return out


def conclude_table(
    info: TableInfo, sampled: Sampled, rows: dict[str, ColumnProfile] | None
) -> TableResult:
    """Classify the table from its sample and, when given, its full-pass profiles."""
    res = sampled.result
    profiles = sampled.profiles
    if rows is not None:
        profiles = _with_full_pass(profiles, rows)
        res.scanned_rows = info.rows
    results = _classify(info, profiles, sampled.hints)
    finish_table(results)
    res.columns = results
    return res


def _classify(
    info: TableInfo, profiles: dict[str, ColumnProfile], hints: dict[str, int]
) -> list[ColumnResult]:
    first = {
        c.name: classify_column(c.name, c.db_type, profiles[c.name], hints, set())
        for c in info.columns
    }
    neighbours = {p.type for r in first.values() for p in r.pii if not r.free_text}
    if not neighbours & {"cn_resident_id", "cn_mobile"}:
        return list(first.values())
    # Second pass: columns undecided on their own, seen beside IDs/phones.
    out = []
    for c in info.columns:
        r = first[c.name]
        if not r.pii and not r.free_text:
            r = classify_column(c.name, c.db_type, profiles[c.name], hints, neighbours)
        out.append(r)
    return out


def _full_pass_plan(
    sampled: dict[str, ColumnProfile],
    plans: dict[str, Plan],
    first: list[ColumnResult],
) -> dict[str, Plan]:
    """What the full pass reads: every row of the columns the sample found value-identified
    PII in, for exact shares of the types found (and every span in free text). Columns
    without PII in the sample, or only context-only types, are not re-read: a type needs
    at least half of the values to fire, which a sample decides."""
    todo: dict[str, Plan] = {}
    for r in first:
        prof = sampled[r.name]
        if r.free_text:
            todo[r.name] = Plan((), frozenset(), free_text=True, stats=False)
        elif r.pii and {p.type for p in r.pii} & VALUE_TYPES:
            # Context-only types (amounts, loan terms, PIN …) are decided by the name;
            # their values only have to fit, which the sample measured: not re-read.
            # The types found, and their siblings named by the column (证件号码 may hold
            # any identity document, 电话 a mobile or a landline) even if the sample
            # happened to miss a rare one.
            types = {p.type for p in r.pii} | _sibling_types(r.name)
            keys = tuple(
                rec.key
                for rec in RECOGNIZERS
                if rec.type in types and (rec.key in prof.by_key or not rec.needs_context)
            )
            todo[r.name] = Plan(keys, plans[r.name].context_types, free_text=False, stats=False)
    return todo


def _with_full_pass(
    sampled: dict[str, ColumnProfile], merged: dict[str, ColumnProfile]
) -> dict[str, ColumnProfile]:
    out = dict(sampled)
    for name, full in merged.items():
        # Text statistics decide "free text"; the sample measured them, the full pass
        # keeps their ratios.
        prof = ColumnProfile().merge(full)
        s = sampled[name]
        scale = prof.considered / s.considered if s.considered else 0.0
        prof.distinct = max(prof.distinct, s.distinct)
        prof.han = round(s.han * scale)
        prof.sentence_like = round(s.sentence_like * scale)
        out[name] = prof
    return out


def _sibling_types(column: str) -> set[str]:
    out: set[str] = set()
    for hit in name_evidence(column):
        out.update(GROUPS.get(hit.hint, ()))
    return out


__all__ = [
    "Inventory",
    "Sampled",
    "TableResult",
    "conclude_table",
    "merge_rows",
    "opened",
    "profile_rows",
    "sample_table",
    "scan_source",
    "scan_table",
]
