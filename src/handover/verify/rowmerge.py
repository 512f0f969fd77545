"""A SQLite file against PostgreSQL, row by row over Arrow: the keys whose rows differ.

The digest path (:mod:`handover.verify.arrow` on the SQLite side, the server's digest SQL
on the other) renders every row's digest text on both sides and hashes it, then narrows
the segments whose sums differ. Here the same texts are compared directly: the SQLite
side's values are read by ADBC's SQLite driver and rendered by
:func:`handover.verify.arrow.render_page` (the digest text of each value, proved equal to
the server's SQL by ``tests/test_verify_arrow.py``), PostgreSQL sends the texts of its
digest SQL (``x::text`` …, :meth:`~handover.db.dialects.base.Dialect.digest_value_expr`)
over ADBC's binary ``COPY``, both in key order, and the two ordered streams are merged
on the integer key. No text is joined into rows and nothing is hashed: on both sides
that was half the work, and PostgreSQL's ``md5()`` and ``||`` chains most of its share.

The result is a superset of the differences: a key on one side only, or a row with a
value whose text or nullness differs. The caller fetches exactly those rows from both
sides and decides with the reference comparison (:func:`handover.verify.normalize.
render_value`, NFC included), as it does for the digest path's leaves. Where the SQLite
side cannot be rendered here (a value :func:`~handover.verify.arrow.render` leaves to
SQLite, a key NULL or not stored as an integer) or a driver refuses, the answer is None
and the caller takes the digest path, which names such problems.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.db.adbc import ArrowReader
from handover.db.url import read_only_uri
from handover.verify.arrow import BATCH_ROWS, column_reals, render_page

#: a batch of rendered rows: their integer keys (ascending) and one text array per column
_Rows = tuple[np.ndarray, list[pa.Array]]


@dataclass(frozen=True)
class MergePlan:
    """One key range of one table: what a worker needs to read both sides in key order."""

    #: the SQLite file, and its ``select_sql`` of the range in key order
    path: str
    lite_sql: str
    #: the table and its columns as the file names them (which may hold a REAL)
    table: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    forms: tuple[tuple[bool, int | None], ...]
    #: ``SELECT key IS NULL`` probe of the file (a NULL key lies outside every range)
    null_key_sql: str
    #: PostgreSQL's libpq connection string (holds the password: never shown), its
    #: session statements and its select of the key and each value's digest text
    conninfo: str
    session: tuple[str, ...]
    server_sql: str


@dataclass(frozen=True)
class Merged:
    """The rows each side holds in the range and the keys that may differ (ascending)."""

    lite_rows: int
    server_rows: int
    keys: list[int]


class _Refused(Exception):
    """A batch this module cannot render exactly, or a driver's refusal."""


def differing(plan: MergePlan) -> Merged | None:
    """Both sides of ``plan`` merged on the key; None where the digest path must decide
    (see the module text)."""
    try:
        if _null_key(plan):
            return None
        reader = ArrowReader.open(Path(plan.path))
        if reader is None:
            return None
        try:
            with _server(plan) as server:
                return _merge(_lite_rows(reader, plan), server)
        finally:
            reader.close()
    except _Refused:
        return None


def _null_key(plan: MergePlan) -> bool:
    conn = sqlite3.connect(read_only_uri(plan.path), uri=True)
    try:
        return conn.execute(plan.null_key_sql).fetchone() is not None
    finally:
        conn.close()


def _lite_rows(reader: ArrowReader, plan: MergePlan) -> Iterator[_Rows]:
    reals = column_reals(plan.path, plan.table, plan.columns)
    stream = reader.stream(plan.lite_sql, BATCH_ROWS)
    pages = stream.pages()
    try:
        for page in pages:
            rendered = render_page(page, plan.kinds, plan.forms, reals)
            if rendered is None:
                raise _Refused
            keys, texts, _commas = rendered
            yield keys, texts
    finally:
        pages.close()
    if stream.refused:
        raise _Refused


@contextlib.contextmanager
def _server(plan: MergePlan) -> Iterator[Iterator[_Rows]]:
    try:
        import adbc_driver_manager
        import adbc_driver_postgresql.dbapi as adbc
    except ImportError:
        raise _Refused from None
    errors = (adbc_driver_manager.Error, pa.ArrowException)
    try:
        conn = adbc.connect(plan.conninfo, autocommit=True)
    except errors:
        raise _Refused from None
    try:
        cur = conn.cursor()
        for stmt in plan.session:
            cur.execute(stmt)
        cur.execute(plan.server_sql)
        yield _server_rows(cur.fetch_record_batch(), errors)
    except errors:
        raise _Refused from None
    finally:
        with contextlib.suppress(*errors):
            conn.close()


def _server_rows(
    batches: pa.RecordBatchReader, errors: tuple[type[Exception], ...]
) -> Iterator[_Rows]:
    try:
        for batch in batches:
            if not batch.num_rows:
                continue
            keys = batch.column(0)
            texts = [_text(batch.column(i)) for i in range(1, batch.num_columns)]
            yield keys.to_numpy(zero_copy_only=False).astype(np.int64), texts
    except errors:
        raise _Refused from None


def _text(arr: pa.Array) -> pa.Array:
    """A column of texts as plain strings (a NULL-only column may come typed otherwise)."""
    if pa.types.is_string(arr.type):
        return arr
    if isinstance(arr, pa.ExtensionArray):
        arr = arr.storage
    return arr.cast(pa.string())


def _merge(lite: Iterator[_Rows], server: Iterator[_Rows]) -> Merged:
    """Merge two streams of rows ascending by key, each key once per stream."""
    sides = [_Buffer(lite), _Buffer(server)]
    keys: list[np.ndarray] = []
    while True:
        for side in sides:
            side.fill()
        if all(side.empty and side.done for side in sides):
            break
        # every key up to the smaller of the two last keys read is final on both sides
        cut = min((side.last for side in sides if not side.done), default=None)
        a, b = (side.take(cut) for side in sides)
        keys.append(_differing(a, b))
    found = np.concatenate(keys) if keys else np.empty(0, np.int64)
    return Merged(sides[0].rows, sides[1].rows, np.unique(found).tolist())


class _Buffer:
    """Rows read from one stream and not yet merged."""

    def __init__(self, stream: Iterator[_Rows]) -> None:
        self.stream = stream
        self.keys = np.empty(0, np.int64)
        self.texts: list[pa.Array] = []
        self.done = False
        self.rows = 0

    @property
    def empty(self) -> bool:
        return not len(self.keys)

    @property
    def last(self) -> int:
        return int(self.keys[-1])

    def fill(self) -> None:
        """Read until the buffer holds a row or the stream ends."""
        while self.empty and not self.done:
            try:
                keys, texts = next(self.stream)
            except StopIteration:
                self.done = True
                return
            self.keys, self.texts = keys, texts
            self.rows += len(keys)

    def take(self, cut: int | None) -> _Rows:
        """The rows with a key up to ``cut`` (None: all), removed from the buffer."""
        n = len(self.keys) if cut is None else int(np.searchsorted(self.keys, cut, "right"))
        head = self.keys[:n], [t.slice(0, n) for t in self.texts]
        self.keys = self.keys[n:]
        self.texts = [t.slice(n) for t in self.texts]
        return head


def _differing(a: _Rows, b: _Rows) -> np.ndarray:
    """The keys of ``a`` or ``b`` (each ascending) on one side only, or whose texts
    differ in some column (a NULL equals only a NULL)."""
    ka, ta = a
    kb, tb = b
    if not len(kb):
        return ka
    if not len(ka):
        return kb
    pos = np.searchsorted(kb, ka)
    hit = pos < len(kb)
    hit[hit] = kb[pos[hit]] == ka[hit]
    ia, ib = np.flatnonzero(hit), pos[hit]
    on_b = np.zeros(len(kb), bool)
    on_b[ib] = True
    changed = np.zeros(len(ia), bool)
    if len(ia):
        take_a, take_b = pa.array(ia), pa.array(ib)
        for x, y in zip(ta, tb, strict=True):
            changed |= _unequal(x.take(take_a), y.take(take_b))
    return np.concatenate([ka[~hit], kb[~on_b], ka[ia[changed]]])


def _unequal(x: pa.Array, y: pa.Array) -> np.ndarray:
    """Per row, whether the texts differ: by bytes, or one is NULL and the other not."""
    same = pc.fill_null(pc.equal(x, y), False).to_numpy(zero_copy_only=False)
    both_null = pc.and_(pc.is_null(x), pc.is_null(y)).to_numpy(zero_copy_only=False)
    out: np.ndarray = ~(same | both_null)
    return out


def split(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    """``[lo, hi]`` (both included) as ``parts`` half-open key ranges of about equal width."""
    end = hi + 1
    cuts = [lo + (end - lo) * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in itertools.pairwise(cuts) if a < b]


__all__ = ["MergePlan", "Merged", "differing", "split"]
