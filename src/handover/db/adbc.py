"""A SQLite file read as Arrow columns: by handover's C reader
(:mod:`handover.db.sqlite_native`) where it was built, else by ADBC's SQLite driver
(``adbc-driver-sqlite``).

The ``sqlite3`` module hands over one Python object per value, and turning them into
Arrow costs as much as SQLite's own work; both readers build the Arrow columns in C.
The C reader types a result as the driver does and refuses where the driver would
convert, on the SQLite ``sqlite3`` links; what follows is the driver's behaviour.
It types a result by its first batch (widening within it) and links a newer SQLite than
Python does, so its values are not always those ``sqlite3`` gives: :func:`faithful` says
where they are. A refusal or a doubt is never an error here:
:class:`~handover.sources.sqlite.SqliteSource` then reads with ``sqlite3``
(:class:`~handover.sources.sql.ArrowRows`). docs/scan.md, "SQLite as Arrow", has the rules.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from handover.db.url import read_only_uri

#: rows per Arrow batch the driver builds (its default is 1,024)
BATCH_OPTION = "adbc.sqlite.query.batch_rows"
#: the largest page :meth:`ArrowReader.page` reads as one batch
PAGE_ROWS = 1 << 18
#: text a REAL may have become: the driver's ``%e`` spelling of a REAL among text, or
#: SQLite's own text of one (``CAST(x AS TEXT)``). Where SQLite gives a column a numeric
#: affinity it keeps no such text as TEXT, so a match may be a REAL.
_REAL_AS_TEXT = r"(?i)^[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(\.[0-9]*)?e[-+]?[0-9]+)$|^-?inf$|^nan$"
#: a REAL's text both SQLite versions spell alike: plain notation, at most 15
#: significant digits, 10^-4 <= |x| < 10^15 (or 0). Python's ``sqlite3`` links a SQLite
#: that prints 15 digits (``%!.15g``); this driver's newer one prints the shortest text
#: that reads back exactly (``0.30000000000000004``, ``10000000000000000.0``).
_PLAIN = r"^-?(?P<i>[0-9]{1,15})\.(?P<f>[0-9]+)$"
#: integers from here on may have been rounded on their way into a double
EXACT_INT = 1 << 53


def faithful(arr: pa.Array, *, reals: bool = True) -> bool:
    """True where the driver's column ``arr`` (the first batch of a result: the driver
    types a result by it) holds the values ``sqlite3`` gives, equal as numbers or text.
    ``reals=False``: the column holds no REAL (SQLite converts a number stored in a
    column of TEXT affinity to text, once, when it is written), so its text is the
    stored text whatever the SQLite version.
    Within a batch the driver widens a column to the widest storage
    class it meets: an INTEGER among REALs becomes a double (exact below 2**53), an
    INTEGER among TEXT its decimal text (what ``str`` gives), a REAL among TEXT the
    driver's own ``%e`` spelling (not Python's), anything among BLOBs bytes. So: integers
    always, doubles below 2**53, text whose numbers with a point or an exponent
    (:data:`_REAL_AS_TEXT`) both SQLite versions spell alike (:func:`_same_in_both`);
    blobs never."""
    t = arr.type
    if arr.null_count == len(arr) or pa.types.is_integer(t):
        return True
    if pa.types.is_floating(t):
        top = pc.max(pc.abs(arr)).as_py()
        return top is None or top < EXACT_INT
    if pa.types.is_string(t):
        if not reals:
            return True
        real = pc.match_substring_regex(arr, _REAL_AS_TEXT)
        if not pc.any(real).as_py():
            return True
        return bool(pc.all(pc.or_kleene(pc.invert(real), _same_in_both(arr))).as_py())
    return False


def _same_in_both(arr: pa.Array) -> pa.Array:
    """Which texts read as a REAL's are spelt alike by both SQLite versions (:data:`_PLAIN`)."""
    parts = pc.extract_regex(arr, _PLAIN)
    whole, frac = pc.struct_field(parts, "i"), pc.struct_field(parts, "f")
    digits = pc.utf8_rtrim(pc.utf8_ltrim(pc.binary_join_element_wise(whole, frac, ""), "0"), "0")
    few = pc.less_equal(pc.utf8_length(digits), 15)
    # below 1 the text starts 0.: at most three zeros after the point (|x| >= 10^-4), or 0.0
    big = pc.not_equal(pc.utf8_ltrim(whole, "0"), "")
    small = pc.or_(pc.match_substring_regex(frac, r"^0{0,3}[1-9]"), pc.equal(digits, ""))
    out = pc.and_(few, pc.or_(big, small))
    return pc.fill_null(out, False)


class ArrowReader:
    """Read-only statements on one SQLite file, answered as Arrow (autocommit: no read
    transaction is held between statements). An ADBC connection is not safe to share
    (migrate's lanes read two tables at once): each statement takes a free connection
    and gives it back when done, so there are as many as statements run at once."""

    def __init__(
        self,
        connect: Callable[[], Any],
        errors: tuple[type[BaseException], ...],
        *,
        native: bool = False,
    ) -> None:
        self._connect = connect
        self._errors = errors
        #: the connections are :mod:`handover.db.sqlite_native`'s, not the driver's
        self.native = native
        self._free: list[Any] = []
        self._all: list[Any] = []
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> ArrowReader | None:
        """The reader of ``path``: the C module's (:mod:`handover.db.sqlite_native`)
        where it was built, else ADBC's driver; None where neither is there or opens the
        file (``sqlite3`` reads it then, and names any problem)."""
        from handover.db import sqlite_native

        uri = read_only_uri(path)
        connect: Callable[[], Any]
        native = sqlite_native.built()
        if native:
            errors = sqlite_native.errors()
            connect = functools.partial(sqlite_native.connect, uri)
        else:
            try:
                import adbc_driver_manager
                import adbc_driver_sqlite.dbapi as adbc
            except ImportError:
                return None
            errors = (adbc_driver_manager.Error,)
            connect = functools.partial(adbc.connect, uri, autocommit=True)
        reader = cls(connect, (*errors, pa.ArrowException, OSError), native=sqlite_native.built())
        try:
            reader._give(reader._take())  # opened now: a file it cannot open is known now
        except reader._errors:
            return None
        return reader

    def _take(self) -> Any:
        with self._lock:
            if self._free:
                return self._free.pop()
        conn = self._connect()
        with self._lock:
            self._all.append(conn)
        return conn

    def _give(self, conn: Any) -> None:
        with self._lock:
            if conn in self._all:
                self._free.append(conn)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        conn = self._take()
        try:
            yield conn
        finally:
            self._give(conn)

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._connection() as conn, conn.cursor() as cur:
            yield cur

    def _native_batches(
        self, sql: str, params: Sequence[Any] | None, batch_size: int
    ) -> Generator[pa.RecordBatch, None, None]:
        """:func:`handover.db.sqlite_native.batches` on a connection of its own, given
        back once the statement is finished (or the generator closed)."""
        from handover.db import sqlite_native

        with self._connection() as conn:
            got = sqlite_native.batches(conn, sql, params, batch_size)
            try:
                yield from got
            finally:
                got.close()

    def page(self, sql: str, params: Sequence[Any]) -> pa.Table | None:
        """The result of one statement as one driver batch, or None if the driver refuses
        it or it takes more than one batch (:data:`PAGE_ROWS`): the types of a later
        batch are those of the first, and a text column then takes a BLOB or a REAL
        as text that no check can tell apart."""
        try:
            if self.native:
                table = self._native_page(sql, params)
                if table is None:
                    return None
            else:
                with self._cursor() as cur:
                    cur.adbc_statement.set_options(**{BATCH_OPTION: str(PAGE_ROWS)})
                    cur.execute(sql, tuple(params) if params else None)
                    table = cur.fetch_arrow_table()
            table.validate(full=True)  # text that is no UTF-8: sqlite3 names it
        except self._errors:
            return None
        if any(c.num_chunks > 1 for c in table.columns):
            return None
        return table

    def _native_page(self, sql: str, params: Sequence[Any]) -> pa.Table | None:
        got = self._native_batches(sql, params, PAGE_ROWS)
        try:
            first = next(got)  # an empty result is one empty batch
            return None if next(got, None) is not None else pa.Table.from_batches([first])
        finally:
            got.close()

    def stream(self, sql: str, batch_size: int) -> Stream:
        """The result of ``sql`` in batches of ``batch_size`` rows, up to the first the
        driver refuses (:attr:`Stream.refused`)."""
        return Stream(self, sql, batch_size)

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            conns, self._all, self._free = self._all, [], []
        for conn in conns:
            with contextlib.suppress(*self._errors):
                conn.close()


class Stream:
    """Batches of one statement; ends early, with :attr:`refused` set, at the first batch
    the driver refuses."""

    def __init__(self, reader: ArrowReader, sql: str, batch_size: int) -> None:
        self.reader, self.sql, self.batch_size = reader, sql, batch_size
        self.refused = False

    def pages(self) -> Generator[pa.Table, None, None]:
        """The batches as one-batch tables (close the generator when done with it)."""
        try:
            for batch in self._batches():
                batch.validate(full=True)  # text that is no UTF-8: sqlite3 names it
                if batch.num_rows:
                    yield pa.Table.from_batches([batch])
        except self.reader._errors:
            self.refused = True

    def _batches(self) -> Iterator[pa.RecordBatch]:
        if self.reader.native:
            yield from self.reader._native_batches(self.sql, None, int(self.batch_size))
            return
        with self.reader._cursor() as cur:
            cur.adbc_statement.set_options(**{BATCH_OPTION: str(int(self.batch_size))})
            cur.execute(self.sql)
            yield from cur.fetch_record_batch()
