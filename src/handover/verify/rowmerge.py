"""A SQLite file against PostgreSQL, row by row over Arrow: the keys whose rows differ.

The digest path (:mod:`handover.verify.arrow` on the SQLite side, the server's digest SQL
on the other) builds every row's digest text on both sides and hashes it, then narrows
the segments whose sums differ. Here the texts themselves are compared: the SQLite side's
values are read by ADBC's SQLite driver and each row's digest text built over Arrow
(:func:`handover.verify.arrow.render_page` and ``digest_texts``, proved equal to the
server's SQL by ``tests/test_verify_arrow.py``); PostgreSQL sends the digest text of each
row its digest statement would hash (the dialect's ``digest_row_expr``), with the key's
columns, over ADBC's binary ``COPY``; both in key order, and the two ordered streams are
merged on the key. Nothing is hashed on either side, and PostgreSQL sends one text a row
(a text a column cost the client three times as much to decode).

Equal texts are what equal digests stand for (a text SQLite holds where a server holds
none is marked so that it never matches, as in the digest path), so the result names a
superset of the differences: a key on one side only, or a row whose text differs. The
caller fetches exactly those rows from both sides and decides with the reference
comparison (:func:`handover.verify.normalize.render_value`, NFC included), as it does
for the digest path's leaves. Where the SQLite side cannot be rendered here (a value
:func:`~handover.verify.arrow.render` leaves to SQLite, a key NULL or not stored as an
integer), a side's keys do not rise strictly, or a driver refuses, the answer is None and
the caller takes the digest path, which names such problems.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.db.adbc import ArrowReader
from handover.verify.arrow import BATCH_ROWS, column_reals, digest_texts, render_page

#: rows one buffer may hold while they all share one first key (see :meth:`_Buffer.fill`)
GROUP_ROWS = 1 << 18
#: a batch of rows: their integer keys, one row of key columns each (ascending in that
#: order), and each row's digest text
_Rows = tuple[np.ndarray, pa.Array]


@dataclass(frozen=True)
class MergePlan:
    """One key range of one table: what a worker needs to read both sides in key order."""

    #: the SQLite file, and its ``select_sql`` of the range in key order
    path: str
    lite_sql: str
    #: the key's columns after the first, by their place among ``columns``
    more_keys: tuple[int, ...]
    #: the table and its columns as the file names them (which may hold a REAL)
    table: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    forms: tuple[tuple[bool, int | None], ...]
    #: PostgreSQL's libpq connection string (holds the password: never shown), its
    #: session statements and its select of the key's columns and each row's digest
    #: text, in key order
    conninfo: str = field(repr=False)
    session: tuple[str, ...]
    server_sql: str


@dataclass(frozen=True)
class Merged:
    """The rows each side holds in the range and the first key column of the rows that
    may differ (ascending, each once)."""

    lite_rows: int
    server_rows: int
    keys: list[int]


class _Refused(Exception):
    """A batch this module cannot render exactly, or a driver's refusal."""


def differing(plan: MergePlan) -> Merged | None:
    """Both sides of ``plan`` merged on the key; None where the digest path must decide
    (see the module text)."""
    reader = ArrowReader.open(Path(plan.path))
    if reader is None:
        return None
    try:
        with _server(plan) as server:
            return _merge(_lite_rows(reader, plan), server)
    except _Refused:
        return None
    finally:
        reader.close()


def _lite_rows(reader: ArrowReader, plan: MergePlan) -> Iterator[_Rows]:
    reals = column_reals(plan.path, plan.table, plan.columns)
    stream = reader.stream(plan.lite_sql, BATCH_ROWS)
    pages = stream.pages()
    try:
        for page in pages:
            rendered = render_page(page, plan.kinds, plan.forms, reals)
            if rendered is None:
                raise _Refused
            first, texts, commas = rendered
            more = [page.column(1 + i).chunk(0) for i in plan.more_keys]
            if any(not pa.types.is_integer(k.type) or k.null_count for k in more):
                raise _Refused  # a key column holding NULL or no integer
            rows = digest_texts(texts, plan.forms, page.num_rows, commas)
            yield _keys([first, *(_ints(k) for k in more)]), rows
    finally:
        pages.close()
    if stream.refused:
        raise _Refused


def _ints(arr: pa.Array) -> np.ndarray:
    out: np.ndarray = arr.to_numpy(zero_copy_only=False).astype(np.int64)
    return out


def _keys(columns: list[np.ndarray]) -> np.ndarray:
    """The key columns as one row of integers per row."""
    return np.stack(columns, axis=1)


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
        yield _server_rows(cur.fetch_record_batch(), 1 + len(plan.more_keys), errors)
    except errors:
        raise _Refused from None
    finally:
        with contextlib.suppress(*errors):
            conn.close()


def _server_rows(
    batches: pa.RecordBatchReader, width: int, errors: tuple[type[Exception], ...]
) -> Iterator[_Rows]:
    try:
        for batch in batches:
            if not batch.num_rows:
                continue
            if any(batch.column(i).null_count for i in range(width)):
                raise _Refused  # a key column holding NULL (a target without its key)
            text = batch.column(width)
            if not pa.types.is_string(text.type):
                raise _Refused  # the row text as some other type: not compared here
            yield _keys([_ints(batch.column(i)) for i in range(width)]), text
    except errors:
        raise _Refused from None


def _merge(lite: Iterator[_Rows], server: Iterator[_Rows]) -> Merged:
    """Merge two streams of rows ascending by key, each key once per stream."""
    sides = [_Buffer(lite), _Buffer(server)]
    found: list[np.ndarray] = []
    while True:
        for side in sides:
            side.fill()
        if all(side.empty and side.done for side in sides):
            break
        # a side still reading holds rows of two first keys at least: every row below
        # the smaller of their last first keys is in, on both sides
        cut = min((side.last for side in sides if not side.done), default=None)
        a, b = (side.take(cut) for side in sides)
        found.append(_differing(a, b))
    keys = np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)
    return Merged(sides[0].rows, sides[1].rows, keys.tolist())


class _Buffer:
    """Rows read from one stream and not yet merged."""

    def __init__(self, stream: Iterator[_Rows]) -> None:
        self.stream = stream
        self.keys = np.empty((0, 1), np.int64)
        self.texts = pa.array([], pa.string())
        self.done = False
        self.rows = 0

    @property
    def empty(self) -> bool:
        return not len(self.keys)

    @property
    def last(self) -> int:
        """The last first key read."""
        return int(self.keys[-1, 0])

    def fill(self) -> None:
        """Read until the buffer holds rows of two first keys (the rows of the last may
        go on in the next batch) or the stream ends."""
        while not self.done and (self.empty or self.keys[0, 0] == self.keys[-1, 0]):
            try:
                keys, texts = next(self.stream)
            except StopIteration:
                self.done = True
                return
            if len(self.keys) > GROUP_ROWS:
                # one first key over this many rows: its rows would all sit here, copied
                # again with each batch; the digests read such a table in constant memory
                raise _Refused
            before = self.keys[-1:] if len(self.keys) else keys[:0]
            if not _ascending(np.concatenate([before, keys])):
                # a key twice (a target without its key declared), or another order
                raise _Refused
            self.rows += len(keys)
            if self.empty:
                self.keys, self.texts = keys, texts
            else:
                self.keys = np.concatenate([self.keys, keys])
                self.texts = pa.concat_arrays([self.texts, texts])

    def take(self, cut: int | None) -> _Rows:
        """The rows whose first key is below ``cut`` (None: all), removed from here."""
        n = len(self.keys) if cut is None else int(np.searchsorted(self.keys[:, 0], cut))
        head = self.keys[:n], self.texts.slice(0, n)
        self.keys, self.texts = self.keys[n:], self.texts.slice(n)
        return head


def _ascending(keys: np.ndarray) -> bool:
    """Whether each row of key columns comes strictly after the one before it."""
    after, before = keys[1:], keys[:-1]
    ok = np.zeros(len(after), bool)
    open_ = np.ones(len(after), bool)  # equal in every column so far
    for j in range(keys.shape[1]):
        ok |= open_ & (after[:, j] > before[:, j])
        open_ &= after[:, j] == before[:, j]
    return bool(ok.all())


def _differing(a: _Rows, b: _Rows) -> np.ndarray:
    """The first key column of the rows of ``a`` or ``b`` on one side only, or whose
    texts differ (a NULL equals only a NULL)."""
    ka, ta = a
    kb, tb = b
    if not len(kb) or not len(ka):
        return np.concatenate([ka[:, 0], kb[:, 0]])
    if ka.shape == kb.shape and np.array_equal(ka, kb):
        # the usual case: the same keys on both sides, row for row (no sort to pair them)
        out: np.ndarray = ka[_unequal(ta, tb), 0]
        return out
    # both sides' keys in one order, a row of ``a`` before its twin of ``b``
    both = np.concatenate([ka, kb])
    side = np.repeat(np.array([0, 1], np.int8), [len(ka), len(kb)])
    order = np.lexsort((side, *both.T[::-1]))
    ranked = both[order]
    twin = np.flatnonzero((ranked[1:] == ranked[:-1]).all(axis=1))
    ia, ib = order[twin], order[twin + 1] - len(ka)
    only_a = np.ones(len(ka), bool)
    only_a[ia] = False
    only_b = np.ones(len(kb), bool)
    only_b[ib] = False
    changed = _unequal(ta.take(pa.array(ia)), tb.take(pa.array(ib)))
    return np.concatenate([ka[only_a, 0], kb[only_b, 0], ka[ia[changed], 0]])


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
