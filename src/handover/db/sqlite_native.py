"""A SQLite file's rows as Arrow batches, stepped in C (``handover.db._sqlite_arrow``).

ADBC's SQLite driver costs about 1.35 µs a row of the loan book (its per-value appends
and its bundled SQLite's mutex), where SQLite itself steps through the rows in 0.08 µs:
the read was the floor of scan, seal, migrate, verify and dd-extract alike. The C module
steps the statement on the system's libsqlite3 (the one ``sqlite3`` links, so its values
and its SQL are exactly those ``sqlite3`` gives) and hands each batch over as column
buffers, which become Arrow arrays without a copy per value.

A result is typed as ADBC's driver types it, so :class:`~handover.db.adbc.ArrowReader`
answers the same either way: each column by its first batch's values (only INTEGER or
NULL: int64; INTEGER and REAL: double; TEXT, with INTEGERs as their decimal text:
string; BLOB: binary); a later batch fits that type or the stream stops
(:class:`Mismatch`: the caller reads on with ``sqlite3``). Where the driver would have
converted (a REAL among TEXT spelt ``%e``, anything among BLOBs as bytes, a REAL after
integers), this refuses instead: the ``sqlite3`` reading then gives the exact values.
Built when a C compiler and SQLite's headers are present (``make install``); without it
ADBC's driver reads.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

try:
    from handover.db import _sqlite_arrow as _native
except ImportError:  # no compiler at install: ADBC's driver reads
    _native = None  # type: ignore[assignment]

#: integers from here on may be rounded on their way into a double
_EXACT_INT = 1 << 53


class Mismatch(Exception):
    """A batch whose values the result's types (its first batch's) cannot hold exactly."""


def built() -> bool:
    """Whether the C module was built at install."""
    return _native is not None


def errors() -> tuple[type[BaseException], ...]:
    """What a statement may raise that means "read with ``sqlite3`` instead"."""
    return (Mismatch,) if _native is None else (_native.Error, Mismatch)


def connect(uri: str) -> Any:
    """A read-only connection to the SQLite URI file name ``uri`` (``_native.Error`` when
    it cannot be opened). Only with :func:`built`."""
    from handover.db.dialects.sqlite import BUSY_MS  # sqlite3's wait, as the writer's

    assert _native is not None
    return _native.connect(uri, BUSY_MS)


def version() -> str | None:
    """The linked SQLite's version, None without the module."""
    return None if _native is None else str(_native.sqlite_version())


def batches(
    conn: Any, sql: str, params: Sequence[Any] | None, batch_size: int
) -> Generator[pa.RecordBatch, None, None]:
    """The result of ``sql`` (one statement, ``params`` bound by position) in batches of
    up to ``batch_size`` rows, typed by the first batch (an empty result: one empty
    batch of int64 columns, as the driver gives). Raises :class:`Mismatch` at the first
    batch that does not fit, ``_native.Error`` for SQLite's errors."""
    assert _native is not None
    stmt = conn.execute(sql, tuple(params) if params else None)
    try:
        names: list[str] = stmt.names
        types: list[pa.DataType] | None = None
        while True:
            rows, done, cols = stmt.fetch(batch_size)
            if rows == 0 and types is not None:
                return
            arrays = [_array(rows, *col) for col in cols]
            if types is None:
                types = [a.type for a in arrays]
            else:
                arrays = [_fit(a, t) for a, t in zip(arrays, types, strict=True)]
            yield pa.RecordBatch.from_arrays(arrays, names=names)
            if done:
                return
    finally:
        stmt.close()


def _array(
    rows: int, kind: int, valid: bytes | None, offsets: bytes | None, data: bytes | None
) -> pa.Array:
    """One column of a batch from the module's buffers."""
    assert _native is not None
    bitmap = None if valid is None else pa.py_buffer(valid)
    if kind == _native.NULL:
        return pa.nulls(rows, pa.int64())
    if kind == _native.MIXED:
        raise Mismatch("a column mixes storage classes the driver would convert")
    if kind == _native.HUGE:
        raise Mismatch("a column's text or bytes in one batch exceed 2 GiB")
    assert data is not None
    if kind in (_native.INT, _native.REAL):
        t = pa.int64() if kind == _native.INT else pa.float64()
        return pa.Array.from_buffers(t, rows, [bitmap, pa.py_buffer(data)])
    assert offsets is not None
    t = pa.string() if kind == _native.TEXT else pa.binary()
    return pa.Array.from_buffers(t, rows, [bitmap, pa.py_buffer(offsets), pa.py_buffer(data)])


def _fit(arr: pa.Array, want: pa.DataType) -> pa.Array:
    """A later batch's column as the result's type ``want``: all NULL, the same type, or
    integers widened as the driver widens them (to exact doubles, to their decimal text);
    anything else is a :class:`Mismatch`."""
    if arr.type == want:
        return arr
    if arr.null_count == len(arr):
        return pa.nulls(len(arr), want)
    if pa.types.is_int64(arr.type):
        if pa.types.is_float64(want):
            span = pc.min_max(arr).as_py()
            if span["min"] > -_EXACT_INT and span["max"] < _EXACT_INT:
                return pc.cast(arr, want)
        elif pa.types.is_string(want):
            return pc.cast(arr, want)
    raise Mismatch(f"a column of {want} met {arr.type}")
