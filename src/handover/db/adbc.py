"""A SQLite file read as Arrow columns by ADBC's SQLite driver (``adbc-driver-sqlite``).

The ``sqlite3`` module hands over one Python object per value, and turning them into
Arrow costs as much as SQLite's own work; ADBC's driver builds the Arrow columns in C.
It types each column from the values it meets, so it refuses a result whose column
changes storage class (text among integers) and widens integers among reals to doubles.
A refusal is never an error here: :class:`~handover.sources.sqlite.SqliteSource` then
reads with ``sqlite3``, and readers that need exact values check the column types
(:class:`~handover.sources.sql.ArrowRows`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

#: rows per Arrow batch the driver builds (its default is 1,024)
BATCH_OPTION = "adbc.sqlite.query.batch_rows"
#: the largest page :meth:`ArrowReader.page` reads as one batch
PAGE_ROWS = 1 << 18
#: how the driver spells a REAL it puts in a text column (``printf("%e")``)
_REAL_AS_TEXT = r"^-?[0-9]\.[0-9]{6}e[+-][0-9]{2,3}$"
#: integers beyond this may have been rounded on their way into a double
_EXACT_INT = 1 << 53


def faithful(arr: pa.Array) -> bool:
    """True where the driver's column ``arr`` (the first batch of a result: the driver
    types a result by it) holds the values ``sqlite3`` gives, equal as numbers or text.
    Within a batch the driver widens a column to the widest storage
    class it meets: an INTEGER among REALs becomes a double (exact below 2**53), an
    INTEGER among TEXT its decimal text (what ``str`` gives), a REAL among TEXT the
    driver's own ``%e`` spelling (not Python's), anything among BLOBs bytes. So: integers
    always, doubles below 2**53, text without a ``%e``-spelt number; blobs never."""
    t = arr.type
    if arr.null_count == len(arr) or pa.types.is_integer(t):
        return True
    if pa.types.is_floating(t):
        top = pc.max(pc.abs(arr)).as_py()
        return top is None or top < _EXACT_INT
    if pa.types.is_string(t):
        return not pc.any(pc.match_substring_regex(arr, _REAL_AS_TEXT)).as_py()
    return False


class ArrowReader:
    """Read-only statements on one SQLite file, answered as Arrow (autocommit: no read
    transaction is held between statements). Each thread gets a connection of its own:
    an ADBC connection is not safe to share (migrate's lanes read two tables at once)."""

    def __init__(self, connect: Callable[[], Any], errors: tuple[type[BaseException], ...]) -> None:
        self._connect = connect
        self._errors = errors
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> ArrowReader | None:
        """The reader of ``path``, or None where the driver is not installed or does not
        open the file (``sqlite3`` reads it then, and names any problem)."""
        try:
            import adbc_driver_manager
            import adbc_driver_sqlite.dbapi as adbc
        except ImportError:
            return None
        errors = (adbc_driver_manager.Error, pa.ArrowException, OSError)
        reader = cls(lambda: adbc.connect(f"file:{path}?mode=ro", autocommit=True), errors)
        try:
            reader.conn  # noqa: B018 - opened here so that a file it cannot open is known now
        except errors:
            return None
        return reader

    @property
    def conn(self) -> Any:
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._lock:
                self._all.append(conn)
        return conn

    def page(self, sql: str, params: Sequence[Any]) -> pa.Table | None:
        """The result of one statement as one driver batch, or None if the driver refuses
        it or it takes more than one batch (:data:`PAGE_ROWS`): the types of a later
        batch are those of the first, and a text column then takes a BLOB or a REAL
        as text that no check can tell apart."""
        try:
            with self.conn.cursor() as cur:
                cur.adbc_statement.set_options(**{BATCH_OPTION: str(PAGE_ROWS)})
                cur.execute(sql, tuple(params) if params else None)
                table: pa.Table = cur.fetch_arrow_table()
            table.validate(full=True)  # text that is no UTF-8: sqlite3 names it
        except self._errors:
            return None
        if any(c.num_chunks > 1 for c in table.columns):
            return None
        return table

    def stream(self, sql: str, batch_size: int) -> Stream:
        """The result of ``sql`` in batches of ``batch_size`` rows, up to the first the
        driver refuses (:attr:`Stream.refused`)."""
        return Stream(self, sql, batch_size)

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(*self._errors):
                conn.close()
        self._local = threading.local()


class Stream:
    """Batches of one statement; ends early, with :attr:`refused` set, at the first batch
    the driver refuses."""

    def __init__(self, reader: ArrowReader, sql: str, batch_size: int) -> None:
        self.reader, self.sql, self.batch_size = reader, sql, batch_size
        self.refused = False

    def pages(self) -> Generator[pa.Table, None, None]:
        """The batches as one-batch tables (close the generator when done with it)."""
        errors = self.reader._errors
        try:
            cur = self.reader.conn.cursor()
        except errors:
            self.refused = True
            return
        try:
            try:
                cur.adbc_statement.set_options(**{BATCH_OPTION: str(int(self.batch_size))})
                cur.execute(self.sql)
                batches = cur.fetch_record_batch()
            except errors:
                self.refused = True
                return
            while True:
                try:
                    batch = batches.read_next_batch()
                    batch.validate(full=True)
                except StopIteration:
                    return
                except errors:
                    self.refused = True
                    return
                if batch.num_rows:
                    yield pa.Table.from_batches([batch])
        finally:
            with contextlib.suppress(*errors):
                cur.close()
