"""Database sources: what SQLite, PostgreSQL and MySQL/MariaDB readers share.

Each streams Arrow RecordBatches whose schema follows the declared column types. Rows
are turned into Arrow column by column (``zip(*rows)`` then ``pa.array``), never cell by
cell in Python; the engine's own fast paths (PostgreSQL's ``COPY … TO STDOUT``, MariaDB's
server-built CSV, SQLite's ``sqlite3`` reads) are in its dialect module
(:mod:`handover.db.dialects`). The readers: :class:`~handover.sources.sqlite.SqliteSource`
and :class:`~handover.sources.server.SqlAlchemySource`.

Every SQL source also reads in key order from a given key (keyset pagination:
``WHERE (k1, k2) > (:last) ORDER BY k1, k2 LIMIT n``, one short statement per page), as
Arrow batches (``batches(order_by=…, after=…)``) or as the driver's own values
(:meth:`SqlSource.rows`, which ``handover.migrate`` converts with its own type rules).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from handover.db.adbc import faithful
from handover.db.dialects.base import Fetch
from handover.errors import BadInput
from handover.i18n import Msg
from handover.sources.base import DEFAULT_BATCH, Source, TableInfo

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from handover.db.dialects.base import Dialect

__all__ = [
    "ArrowRows",
    "Fetch",
    "SqlSource",
    "keyset_sql",
    "page_key",
    "rows_to_batch",
    "sample_fraction",
]


class ArrowRows:
    """A page of rows a driver handed over as Arrow columns (SQLite through ADBC), standing
    in for the list of DB-API rows: ``len``, ``not``, and ``[i]`` and iteration, which
    give the exact rows (:meth:`rows`; the readers that need speed take the columns).

    Arrow columns are typed by the first batch of a result, so a column whose values mix
    SQLite storage classes may arrive widened (an INTEGER 1 among REALs as the double
    1.0), and in a later batch (``first`` False) a text column takes any value as text.
    A reader that needs the exact values the ``sqlite3`` module gives uses a column only
    where its type leaves no doubt, and otherwise calls :meth:`rows`: the same page read
    again as DB-API rows.
    """

    __slots__ = ("_again", "_rows", "first", "table")

    def __init__(
        self, table: pa.Table, again: Callable[[], list[tuple[Any, ...]]], *, first: bool = True
    ) -> None:
        self.table = table
        self._again = again
        self.first = first
        self._rows: list[tuple[Any, ...]] | None = None

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        return self.rows()[i]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows())

    def column(self, i: int) -> pa.Array:
        """Column ``i`` as one Arrow array."""
        return self.table.column(i).combine_chunks()

    def exact(self, i: int, *, reals: bool = True) -> pa.Array | None:
        """Column ``i`` where it holds the values the DB-API driver gives (equal as numbers
        or text: :func:`handover.db.adbc.faithful`; ``reals=False`` where the column
        cannot hold a REAL), else None."""
        arr = self.column(i)
        if not self.first and pa.types.is_string(arr.type) and arr.null_count < len(arr):
            return None  # typed by an earlier batch: a BLOB or a REAL may be in it as text
        return arr if faithful(arr, reals=reals) else None

    def text(self, i: int, *, reals: bool = True) -> pa.Array | None:
        """Column ``i``, which SQLite cast to text, where it holds the text ``sqlite3``
        gives (no REAL's text: it differs between SQLite versions; ``reals=False``: the
        column cannot hold a REAL), else None."""
        arr = self.column(i)
        return arr if faithful(arr, reals=reals) else None

    def key(self, r: int, idx: Sequence[int]) -> tuple[Any, ...]:
        """The key (columns ``idx``) of row ``r`` as the DB-API driver gives it: from the
        Arrow columns where they hold integers (exact), else from :meth:`rows` (text in
        a column of numeric affinity may have been an INTEGER, which sorts apart)."""
        cols = [self.column(i) for i in idx]
        if all(pa.types.is_integer(c.type) for c in cols):
            return tuple(c[r].as_py() for c in cols)
        row = self.rows()[r]
        return tuple(row[i] for i in idx)

    def rows(self) -> list[tuple[Any, ...]]:
        """The page again, as the DB-API driver returns it (read once)."""
        if self._rows is None:
            self._rows = self._again()
        return self._rows


#: a page of rows: DB-API tuples, or Arrow columns (:class:`ArrowRows`)
Page = list[tuple[Any, ...]] | ArrowRows
#: runs one statement with its parameters and returns its rows
PageFetch = Callable[[str, Sequence[Any]], Page]


def sample_fraction(rows: int, n: int) -> float:
    return 1.0 if rows <= n else min(1.0, 1.3 * n / rows + 0.001)


def keyset_sql(
    select: str, keys: Sequence[str], placeholder: str, *, after: bool, limit: int
) -> str:
    """``select`` ordered by the SQL expressions ``keys``, at most ``limit`` rows, and (when
    ``after``) only rows whose key is greater than one placeholder per key."""
    where = ""
    if after:
        marks = ", ".join([placeholder] * len(keys))
        where = (
            f" WHERE {keys[0]} > {marks}"
            if len(keys) == 1
            else f" WHERE ({', '.join(keys)}) > ({marks})"
        )
    return f"{select}{where} ORDER BY {', '.join(keys)} LIMIT {int(limit)}"


def rows_to_batch(
    rows: Page,
    schema: pa.Schema,
    where: Msg,
    first_row: int | None = None,
    reals: Sequence[bool] | None = None,
) -> pa.RecordBatch:
    """Transpose DB-API rows into one RecordBatch of ``schema`` (column-wise conversion);
    values after the schema's columns (keys read for ordering) are left out.

    ``where`` names the table; ``first_row`` is the row number of ``rows[0]`` in the
    table's read (None for a sample, whose positions are no row numbers): a value that
    does not fit its column is refused naming its row. ``reals``: per column of
    ``schema``, whether it may hold a REAL (:meth:`SqlSource.reals`; None: any may)."""
    if not rows:
        return schema.empty_table().to_batches()[0] if schema else pa.record_batch([])
    if isinstance(rows, ArrowRows):
        # SQLite: the columns read as text are CAST, so they hold text only (a later
        # batch hides nothing in them); but a REAL's text depends on the SQLite version
        may = list(reals) if reals is not None else [True] * len(schema)
        exact = [
            rows.text(i, reals=may[i]) if pa.types.is_string(f.type) else rows.exact(i)
            for i, f in enumerate(schema)
        ]
        typed = [
            None if a is None else _exactly(a, f.type) for a, f in zip(exact, schema, strict=True)
        ]
        if all(a is not None and a.type == f.type for a, f in zip(typed, schema, strict=True)):
            return pa.RecordBatch.from_arrays(typed, schema=schema)
        rows = rows.rows()  # a column widened or mixed: its exact values, converted below
    cols = list(zip(*rows, strict=True))[: len(schema)]
    arrays = []
    for field, values in zip(schema, cols, strict=True):
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
            arrays.append(_coerce(values, field, where, first_row))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def page_key(rows: Page, r: int, idx: Sequence[int]) -> tuple[Any, ...]:
    """The key (columns ``idx``) of row ``r`` of a page, as the DB-API driver gives it."""
    if isinstance(rows, ArrowRows):
        return rows.key(r, idx)
    return tuple(rows[r][i] for i in idx)


def _exactly(arr: pa.Array, t: pa.DataType) -> pa.Array:
    """``arr`` where it holds ``t`` already or only NULLs (as ``t``), else ``arr`` as is."""
    if arr.type != t and arr.null_count == len(arr):
        return pa.nulls(len(arr), t)
    return arr


def _first_misfit(values: tuple[Any, ...], t: pa.DataType) -> int:
    """Index of the first value that does not convert to ``t`` (error path only)."""
    for i, v in enumerate(values):
        try:
            pa.array([v], type=t)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
            return i
    return 0


def _coerce(
    values: tuple[Any, ...], field: pa.Field, where: Msg, first_row: int | None = None
) -> pa.Array:
    # Slow path, only for a batch whose values do not fit the declared type.
    if pa.types.is_binary(field.type):
        # SQLite keeps numbers in BLOB columns too: their text form, as CAST(x AS BLOB) does.
        raw = [v if v is None or isinstance(v, bytes) else str(v).encode("utf-8") for v in values]
        return pa.array(raw, type=field.type)
    if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
        conv = [
            None
            if v is None
            else bytes(v).decode("utf-8", "replace")
            if isinstance(v, bytes | bytearray | memoryview)
            else str(v)
            for v in values
        ]
        return pa.array(conv, type=field.type)
    try:
        return pa.array(values).cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        row = None if first_row is None else first_row + _first_misfit(values, field.type)
        raise value_refused(where, field, row) from None


def value_refused(where: Msg, field: pa.Field, row: int | None = None) -> BadInput:
    """The one-line refusal of a value column ``field`` cannot hold (at ``row`` where the
    row is known), with what usually holds such a value."""
    return BadInput.msg(
        "sources.bad_value",
        where=where,
        row="" if row is None else Msg("sources.row_part", row=row),
        column=field.name,
        type=str(field.type),
        hint=_hint(field.type),
    )


def _hint(t: pa.DataType) -> Msg | str:
    """What usually holds a value a column of type ``t`` cannot: MariaDB's zero and
    impossible dates for temporal columns."""
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return Msg("sources.hint.dates")
    return ""


class SqlSource(Source):
    """What the SQLite, PostgreSQL and MySQL/MariaDB sources share: reads in key order from
    a given key, the driver's own row values, fresh row counts."""

    #: the engine's dialect: its quoting, parameter marker and read paths
    sql: Dialect

    @property
    def placeholder(self) -> str:
        """The DB-API parameter marker of the driver."""
        return self.sql.placeholder

    @property
    @abc.abstractmethod
    def engine(self) -> Engine:
        """A SQLAlchemy engine on this database (reflection goes through it)."""

    def _q(self, name: str) -> str:
        """``name`` quoted as an identifier."""
        return self.sql.quote(name)

    def _text_expr(self, quoted: str) -> str:
        """SQL that reads the column ``quoted`` as text."""
        return self.sql.text_expr(quoted)

    @abc.abstractmethod
    def column_names(self, table: str) -> list[str]:
        """The columns of ``table`` in order (cheap: no counting); BadInput if none."""

    @abc.abstractmethod
    def count(self, table: str) -> int:
        """``SELECT count(*)`` of ``table`` now (not the cached :attr:`TableInfo.rows`)."""

    @abc.abstractmethod
    def _pages(self, table: str) -> AbstractContextManager[PageFetch]:
        """A connection for one paged read: yields a function running one page query."""

    @abc.abstractmethod
    def _stream_rows(self, sql: str, table: str, batch_size: int) -> Iterator[Page]:
        """Every row of one statement, ``batch_size`` at a time, without holding them all."""

    def _stream(
        self, sql: str, schema: pa.Schema, table: str, batch_size: int, *, sampled: bool = False
    ) -> Iterator[pa.RecordBatch]:
        """The rows of ``sql`` streamed (:meth:`_stream_rows`) as batches of ``schema``
        (``sampled``: a sample, whose positions are not the table's row numbers)."""
        where = Msg("sources.at_table", source=self.display, table=table)
        reals = self.reals(table, schema.names)
        start = 0
        for rows in self._stream_rows(sql, table, batch_size):
            yield rows_to_batch(rows, schema, where, None if sampled else start + 1, reals)
            start += len(rows)

    def reals(self, table: str, columns: Sequence[str]) -> list[bool] | None:
        """Per column, whether it may hold a REAL whose text differs between SQLite
        versions (:func:`handover.db.adbc.faithful`); None: any may (only a SQLite source
        reads through ADBC and tells)."""
        return None

    def _key_names(self, table: str, columns: Sequence[str], order_by: Sequence[str]) -> None:
        known = set(self.column_names(table))
        for c in (*columns, *order_by):
            if c not in known and not (c == self.sql.row_id and c in order_by):
                raise BadInput.msg(
                    "sources.table_no_column", source=self.display, table=table, column=c
                )

    def rows(
        self,
        table: str,
        columns: Sequence[str],
        *,
        as_text: Sequence[str] = (),
        order_by: Sequence[str] = (),
        after: Sequence[Any] | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> Iterator[Page]:
        """The rows of ``table`` as the driver returns them, at most ``batch_size`` per list.

        Each row holds ``columns`` (those in ``as_text`` converted to text by the
        database), then the ``order_by`` columns that are not among them. With
        ``order_by`` (a unique, NOT NULL key; SQLite also takes ``rowid``) rows come in
        key order, one short statement per page, and only after the key ``after``:
        resuming after the last key a caller kept continues exactly there.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if after is not None and not order_by:
            raise ValueError("after= needs order_by=")
        self._key_names(table, columns, order_by)
        text = set(as_text)
        exprs = [self._text_expr(self._q(c)) if c in text else self._q(c) for c in columns]
        key_idx: list[int] = []
        for k in order_by:
            if k in columns:
                key_idx.append(list(columns).index(k))
            else:
                exprs.append(self._q(k))
                key_idx.append(len(exprs) - 1)
        base = f"SELECT {', '.join(exprs)} FROM {self._q(table)}"
        if not order_by:
            yield from self._stream_rows(base, table, batch_size)
            return
        keys = [self._q(k) for k in order_by]
        yield from self._keyset(base, keys, key_idx, after, batch_size, table)

    def _keyset(
        self,
        base: str,
        keys: list[str],
        key_idx: list[int],
        after: Sequence[Any] | None,
        batch_size: int,
        table: str,
    ) -> Iterator[Page]:
        # One statement per page: no read snapshot, lock or server-side result is held
        # while the caller works on a page (a migration writes it to its target).
        ph = self.placeholder
        first = keyset_sql(base, keys, ph, after=False, limit=batch_size)
        if ph == "%s":  # with parameters, a literal % (in a quoted name) must be doubled
            base, keys = base.replace("%", "%%"), [k.replace("%", "%%") for k in keys]
        nxt = keyset_sql(base, keys, ph, after=True, limit=batch_size)
        spread: Callable[[Sequence[Any]], tuple[Any, ...]] = tuple
        faster = self.sql.after_condition(keys)
        if faster is not None:
            cond, spread = faster
            nxt = f"{base} WHERE {cond} ORDER BY {', '.join(keys)} LIMIT {int(batch_size)}"
        last = None if after is None else tuple(after)
        with self._pages(table) as fetch:
            while True:
                rows = fetch(first, ()) if last is None else fetch(nxt, spread(last))
                if not rows:
                    return
                last = page_key(rows, -1, key_idx)
                yield rows
                if len(rows) < batch_size:
                    return

    def every(self, table: str, order_by: Sequence[str], step: int) -> list[tuple[Any, ...]]:
        """The key of every ``step``-th row of ``table`` in key order, but not the last row's
        (where a table is cut into ranges of ``step`` rows): one statement per key, the
        database skipping the rows between along its index (``LIMIT 1 OFFSET step - 1``)."""
        if step < 1:
            raise ValueError("step must be at least 1")
        self._key_names(table, [], order_by)
        keys = [self._q(k) for k in order_by]
        base = f"SELECT {', '.join(keys)} FROM {self._q(table)}"
        ph = self.placeholder
        skip = f" OFFSET {int(step) - 1}"
        first = keyset_sql(base, keys, ph, after=False, limit=1) + skip
        if ph == "%s":
            base, keys = base.replace("%", "%%"), [k.replace("%", "%%") for k in keys]
        nxt = keyset_sql(base, keys, ph, after=True, limit=1)
        spread: Callable[[Sequence[Any]], tuple[Any, ...]] = tuple
        faster = self.sql.after_condition(keys)
        if faster is not None:
            cond, spread = faster
            nxt = f"{base} WHERE {cond} ORDER BY {', '.join(keys)} LIMIT 1"
        out: list[tuple[Any, ...]] = []
        with self._pages(table) as fetch:
            rows = fetch(first, ())
            while rows:
                out.append(page_key(rows, 0, range(len(keys))))
                rows = fetch(nxt + skip, spread(out[-1]))
            if out and not fetch(nxt, spread(out[-1])):
                out.pop()  # the last row: nothing after it to make a range of
        return out

    def batches(
        self,
        table: str,
        columns: list[str] | None = None,
        batch_size: int = DEFAULT_BATCH,
        *,
        order_by: Sequence[str] = (),
        after: Sequence[Any] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Every row of ``table`` (only ``columns`` if given) in ``batch_size`` batches; with
        ``order_by`` in key order and only after the key ``after`` (see :meth:`rows`)."""
        if not order_by:
            if after is not None:
                raise ValueError("after= needs order_by=")
            yield from self._batches(table, columns, batch_size)
            return
        yield from self._ordered_batches(table, columns, batch_size, list(order_by), after)

    @abc.abstractmethod
    def _batches(
        self, table: str, columns: list[str] | None, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        """Every row of ``table`` in storage order."""

    def _ordered_batches(
        self,
        table: str,
        columns: list[str] | None,
        batch_size: int,
        order_by: list[str],
        after: Sequence[Any] | None,
    ) -> Iterator[pa.RecordBatch]:
        info = self.table(table)
        wanted = list(columns or info.column_names)
        schema = self._schema_of(info, wanted)
        text = [c for c in wanted if self._reads_as_text(schema.field(c).type)]
        where = Msg("sources.at_table", source=self.display, table=table)
        reals = self.reals(table, wanted)
        start = 0
        for rows in self.rows(
            table, wanted, as_text=text, order_by=order_by, after=after, batch_size=batch_size
        ):
            # after a key, positions count from there: not the table's row numbers
            yield rows_to_batch(rows, schema, where, start + 1 if after is None else None, reals)
            start += len(rows)

    def _schema_of(self, info: TableInfo, wanted: list[str]) -> pa.Schema:
        try:
            return pa.schema([info.schema.field(c) for c in wanted])
        except KeyError as exc:
            raise BadInput.msg(
                "sources.table_no_column",
                source=self.display,
                table=info.name,
                column=exc.args[0],
            ) from None

    def _reads_as_text(self, t: pa.DataType) -> bool:
        """True where the column is read as text by the database (SQLite: CAST)."""
        return False
