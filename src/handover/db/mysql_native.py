"""A MySQL/MariaDB result's rows as Arrow arrays, parsed in C from the text protocol
(``handover.db._mysql_rows``).

PyMySQL builds a Python object for every packet and every value. Without this module
MariaDB renders each page as CSV text for pyarrow to split (``CONCAT`` and
``GROUP_CONCAT``: the server's CPU for a read about doubles, measured in
docs/benchmarks.md). Here PyMySQL sends the query and reads the column definitions;
the row packets that follow are read from its socket in large pieces and split by the C
module into the three buffers of an Arrow binary array per column, the values exactly as
the server sent them (numbers and temporals as text, text in the connection's character
set, binary strings as they are). The result's last packet or the server's error hands
the connection back to PyMySQL in the state its own reading would have left it. Built
when a C compiler is present (``make install``); without it the CSV pages are read.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

try:
    from handover.db import _mysql_rows as _native
except ImportError:  # no compiler at install: MariaDB builds CSV pages
    _native = None  # type: ignore[assignment]

#: bytes asked of the socket at a time
READ_BYTES = 1 << 20
#: values in one batch at most (Arrow's int32 offsets hold 2 GiB a column)
BATCH_BYTES = 64 << 20
#: the C reader's states after a call (0, more rows to come, is the loop's default)
_END, _FAILED = 1, 2
#: the server status bit of a result followed by another (a multi-statement query)
_MORE_RESULTS = 8


def built() -> bool:
    """Whether the C module was built at install."""
    return _native is not None


def _lost(conn: Any, why: str) -> BaseException:
    """The connection closed, and PyMySQL's own error for a connection lost mid-result
    (the dialect tells it as transient)."""
    from pymysql import err
    from pymysql.constants import CR

    result = conn._result
    if result is not None:  # nothing more of it can be read
        result.unbuffered_active = False
        result.connection = None
    conn._force_close()
    return err.OperationalError(CR.CR_SERVER_LOST, f"Lost connection to MySQL server ({why})")


def _arrays(cols: list[tuple[bytes | None, bytes, bytes, int]], n: int) -> list[pa.Array]:
    import pyarrow as pa

    return [
        pa.Array.from_buffers(
            pa.binary(),
            n,
            [
                None if valid is None else pa.py_buffer(valid),
                pa.py_buffer(offs),
                pa.py_buffer(data),
            ],
            null_count=nulls,
        )
        for valid, offs, data, nulls in cols
    ]


def batches(
    conn: Any, sql: str, columns: int, batch_rows: int
) -> Generator[list[pa.Array], None, None]:
    """The rows of the query ``sql`` (``columns`` columns) on the PyMySQL connection
    ``conn``, in batches of at most ``batch_rows`` rows (fewer where 64 MB of values fill
    one): each a list of ``columns`` Arrow binary arrays, NULL as null. Only with
    :func:`built`.

    The server's error is raised as PyMySQL raises it, and the connection stays usable. A
    packet that does not parse, or a connection lost, closes the connection and raises
    PyMySQL's ``OperationalError`` (2013). Closing the generator before the result's end
    closes the connection: the rest of the result is never read.
    """
    import pyarrow as pa
    from pymysql import err

    assert _native is not None
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    conn.query(sql, unbuffered=True)
    result = conn._result
    if result is None or not result.unbuffered_active:
        raise ValueError("the query returns no rows")
    if result.field_count != columns:
        raise _lost(conn, f"{result.field_count} columns, not {columns}")
    rfile = conn._rfile
    buf = bytearray()
    start, seq, done = 0, conn._next_seq_id, False
    try:
        while not done:
            parts: list[list[pa.Array]] = []
            got = size = 0
            while got < batch_rows and size < BATCH_BYTES and not done:
                try:
                    start, seq, n, state, extra, cols = _native.rows(
                        buf, start, seq, columns, batch_rows - got, BATCH_BYTES - size
                    )
                except ValueError as exc:
                    raise _lost(conn, str(exc)) from None
                if n:
                    parts.append(_arrays(cols, n))
                    got += n
                    size += sum(len(c[2]) for c in cols)
                if state == _END:
                    done = True
                    assert isinstance(extra, tuple)
                    result.warning_count, status = extra
                    result.has_next = bool(status & _MORE_RESULTS)
                    result.unbuffered_active = False
                    result.connection = None
                elif state == _FAILED:
                    done = True
                    result.unbuffered_active = False
                    result.connection = None
                    assert isinstance(extra, bytes)
                    err.raise_mysql_exception(extra)
                elif n == 0:  # the next packet is not all here yet
                    if start:
                        del buf[:start]
                        start = 0
                    try:
                        chunk = rfile.read1(READ_BYTES)
                    except OSError as exc:
                        raise _lost(conn, type(exc).__name__) from None
                    if not chunk:
                        raise _lost(conn, "the result ended early")
                    buf += chunk
            if parts:
                yield (
                    parts[0]
                    if len(parts) == 1
                    else [pa.concat_arrays([p[i] for p in parts]) for i in range(columns)]
                )
    finally:
        if not done and conn._sock is not None:
            _lost(conn, "closed")  # the rest of the result would have to be read first
