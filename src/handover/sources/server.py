"""A database server named by a URL (PostgreSQL, MySQL/MariaDB), read through its dialect.

The engine's fast paths come from its dialect module (:mod:`handover.db.dialects`):
PostgreSQL exports whole tables and keyed pages with ``COPY … TO STDOUT (FORMAT csv)``
straight into pyarrow's CSV reader; MariaDB's result rows are split into Arrow in C
(:mod:`handover.db.mysql_native`, where it was built; an unbuffered cursor's rows
otherwise), and migrate's keyed pages come the same way or as CSV text the server builds
(:meth:`SqlAlchemySource.text_pages`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from handover.db import dialects
from handover.db.connect import Wording
from handover.db.dialects.base import Fetch, Unconvertible
from handover.errors import BadInput
from handover.i18n import Msg
from handover.sources.base import DEFAULT_BATCH, ColumnInfo, TableInfo
from handover.sources.sql import SqlSource, keyset_sql, sample_fraction, value_refused

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: how a database source that does not answer is told
WORDING = Wording("sources.unreachable", "sources.unreachable")


def arrow_type_of(sa_type: Any) -> pa.DataType:
    """The Arrow type a reflected SQLAlchemy column type streams as."""
    from sqlalchemy import types as st

    if isinstance(sa_type, st.Boolean):
        return pa.bool_()
    if isinstance(sa_type, st.Integer):
        # MariaDB's BIGINT UNSIGNED holds up to 2**64 - 1
        unsigned = isinstance(sa_type, st.BigInteger) and getattr(sa_type, "unsigned", False)
        return pa.uint64() if unsigned else pa.int64()
    if isinstance(sa_type, st.Float):
        return pa.float64()
    if isinstance(sa_type, st.Numeric):
        p, s = sa_type.precision, sa_type.scale
        if p and 0 < p <= 38:
            return pa.decimal128(p, s or 0)
        return pa.string()
    if isinstance(sa_type, st.DateTime):
        return pa.timestamp("us", tz="UTC" if getattr(sa_type, "timezone", False) else None)
    if isinstance(sa_type, st.Date):
        return pa.date32()
    if isinstance(sa_type, st._Binary):
        return pa.binary()  # PostgreSQL: COPY sends hex, decoded back in bulk
    return pa.string()


class SqlAlchemySource(SqlSource):
    """A PostgreSQL or MySQL/MariaDB database named by a SQLAlchemy URL."""

    def __init__(self, url: str, wording: Wording | None = None) -> None:
        """Connect to ``url``; a database that does not answer is told with ``wording``
        (default: ``sources.unreachable``)."""
        from sqlalchemy.exc import SQLAlchemyError

        from handover.db.connect import connect, failure
        from handover.db.reflect import Catalog
        from handover.db.url import backend, mask

        self.display = mask(url)
        kind = backend(url)
        if kind not in ("postgresql", "mysql"):
            raise BadInput.msg("sources.unsupported_db", source=self.display)
        self.kind = kind
        self.sql = dialects.get(kind)
        words = wording or WORDING
        self._engine = connect(url, wording=words)
        try:
            self._catalog = Catalog(self.engine)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise failure(exc, url, words) from None
        self._tables: list[TableInfo] | None = None
        self._columns: dict[str, list[str]] = {}

    @property
    def engine(self) -> Engine:
        """The engine this source reads through."""
        return self._engine

    def column_names(self, table: str) -> list[str]:
        """The columns of ``table`` (reflected once); BadInput if there is no table."""
        from sqlalchemy.exc import NoSuchTableError

        if table not in self._columns:
            try:
                self._columns[table] = self._catalog.column_names(table)
            except NoSuchTableError:
                raise BadInput.msg("sources.no_table", source=self.display, table=table) from None
        return self._columns[table]

    def count(self, table: str) -> int:
        """``SELECT count(*)`` of ``table``."""
        from sqlalchemy import text

        self.column_names(table)
        with self.engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {self._q(table)}")).scalar_one())

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A raw connection from the pool, prepared for a keyed read."""
        raw = self.engine.raw_connection()
        try:
            self.sql.begin_pages(raw)
            yield raw
        finally:
            try:
                self.sql.end_pages(raw)
            finally:
                raw.close()

    @contextmanager
    def _pages(self, table: str) -> Iterator[Fetch]:
        with self._connection() as raw:
            curs = [raw.cursor()]

            def run(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
                cur = curs[0]
                if params:
                    cur.execute(sql, tuple(params))
                else:
                    cur.execute(sql)
                return list(cur.fetchall())

            def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
                try:
                    rows = run(sql, params)
                except Exception as exc:
                    if not self.sql.reread(raw, exc):
                        raise
                    # values the driver cannot hold now come as text (a new cursor takes
                    # the connection's loaders)
                    curs[0].close()
                    curs[0] = raw.cursor()
                    rows = run(sql, params)
                self.sql.after_page(raw)
                return rows

            try:
                yield fetch
            finally:
                curs[0].close()

    def _stream_rows(
        self, sql: str, table: str, batch_size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        raw = self.engine.raw_connection()
        try:
            cur = self.sql.server_cursor(raw, batch_size)
            cur.execute(sql)
            while rows := cur.fetchmany(batch_size):
                yield list(rows)
            cur.close()
        finally:
            raw.close()

    def text_pages(
        self,
        table: str,
        columns: Sequence[str],
        *,
        order_by: Sequence[str] = (),
        after: Sequence[Any] | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> Iterator[tuple[pa.Table, tuple[Any, ...] | None]]:
        """MySQL/MariaDB: :meth:`rows` as Arrow, each value as the server's own text.

        Yields ``(page, key)``: ``columns`` (then the ``order_by`` columns that are not
        among them) as strings, binary columns as bytes, and the greatest key of the page
        (typed as the driver binds its own values), None without ``order_by``. Paging and
        ``after`` are those of :meth:`rows`; see :func:`handover.db.dialects.mysql.text_pages`.
        """
        if not self.sql.builds_text_pages:
            raise ValueError("text_pages reads MySQL/MariaDB only")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if after is not None and not order_by:
            raise ValueError("after= needs order_by=")
        self._key_names(table, columns, order_by)
        types = {str(c["name"]): c["type"] for c in self._catalog.columns(table)}
        with self.engine.connect() as conn:
            charsets = self.sql.charsets(conn, table)
        yield from self.sql.text_pages(
            table,
            columns,
            order_by=order_by,
            after=after,
            batch_size=batch_size,
            types=types,
            charsets=charsets,
            pages=lambda: self._pages(table),
            stream=lambda sql: self._stream_rows(sql, table, batch_size),
            connection=self._connection,
            where=Msg("sources.at_table", source=self.display, table=table),
        )

    def tables(self) -> list[TableInfo]:
        """Every table of the default schema with types, primary key and exact row count."""
        if self._tables is not None:
            return self._tables
        from sqlalchemy import text

        catalog = self._catalog
        out = []
        with self.engine.connect() as conn:
            for name in sorted(catalog.table_names()):
                cols = [
                    ColumnInfo(
                        c["name"],
                        str(c["type"].compile(dialect=self.engine.dialect)),
                        arrow_type_of(c["type"]),
                        bool(c.get("nullable", True)),
                    )
                    for c in catalog.columns(name)
                ]
                pk = catalog.primary_key(name)
                rows = conn.execute(text(f"SELECT count(*) FROM {self._q(name)}")).scalar_one()
                out.append(TableInfo(name, cols, pk, int(rows)))
        self._tables = out
        return out

    def _expr(self, f: pa.Field, *, key: bool = False) -> str:
        return self.sql.read_expr(self._q(f.name), f.type, key=key)

    def _select(self, table: str, columns: list[str] | None) -> tuple[str, pa.Schema]:
        info = self.table(table)
        schema = self._schema_of(info, list(columns or info.column_names))
        exprs = [self._expr(f) for f in schema]
        return f"SELECT {', '.join(exprs)} FROM {self._q(table)}", schema

    def _batches(
        self, table: str, columns: list[str] | None, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        """Every row of ``table``: exported by the server where it can (COPY TO), else
        through the dialect's streaming cursor."""
        sql, schema = self._select(table, columns)
        yield from self._run(sql, schema, table, batch_size)

    def _ordered_batches(
        self,
        table: str,
        columns: list[str] | None,
        batch_size: int,
        order_by: list[str],
        after: Sequence[Any] | None,
    ) -> Iterator[pa.RecordBatch]:
        if not self.sql.copies_out:
            yield from super()._ordered_batches(table, columns, batch_size, order_by, after)
            return
        # One export per page, the next page's key taken from the last row.
        info = self.table(table)
        wanted = list(columns or info.column_names)
        self._key_names(table, wanted, order_by)
        read = wanted + [k for k in order_by if k not in wanted]
        sql, schema = self._select(table, read)
        keys = [self._expr(schema.field(k), key=True) for k in order_by]
        idx = [read.index(k) for k in order_by]
        ph = self.placeholder
        first = keyset_sql(sql, keys, ph, after=False, limit=batch_size)
        nxt = keyset_sql(
            sql.replace("%", "%%"),
            [k.replace("%", "%%") for k in keys],
            ph,
            after=True,
            limit=batch_size,
        )
        last = None if after is None else tuple(after)
        # rows are numbered in a refusal only where they count from the table's start
        done: int | None = 0 if after is None else None
        while True:
            query, params = (first, ()) if last is None else (nxt, last)
            start = None if done is None else done + 1
            parts = [
                b for b in self._copy(query, schema, table, batch_size, params, start) if b.num_rows
            ]
            if not parts:
                return
            if done is not None:
                done += sum(b.num_rows for b in parts)
            tail = parts[-1]
            last = tuple(tail.column(i)[tail.num_rows - 1].as_py() for i in idx)
            for b in parts:
                yield b.select(list(range(len(wanted)))) if len(read) > len(wanted) else b
            if sum(b.num_rows for b in parts) < batch_size:
                return

    def sample(self, table: str, n: int, seed: int, columns: list[str] | None = None) -> pa.Table:
        """About ``n`` rows, filtered on the server with the dialect's seeded sample."""
        info = self.table(table)
        sql, schema = self._select(table, columns)
        if info.rows > n:
            sql += self.sql.sample_sql(sample_fraction(info.rows, n), seed)
            sql += f" LIMIT {int(n)}"
        parts = list(self._run(sql, schema, table, DEFAULT_BATCH, sampled=info.rows > n))
        return pa.Table.from_batches(parts, schema=schema) if parts else schema.empty_table()

    def _run(
        self, sql: str, schema: pa.Schema, table: str, batch_size: int, *, sampled: bool = False
    ) -> Iterator[pa.RecordBatch]:
        if self.sql.copies_out:
            yield from self._copy(sql, schema, table, batch_size, first_row=None if sampled else 1)
            return
        yield from self._stream(sql, schema, table, batch_size, sampled=sampled)

    def _copy(
        self,
        sql: str,
        schema: pa.Schema,
        table: str,
        batch_size: int,
        params: Sequence[Any] = (),
        first_row: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The batches of ``sql`` exported by the server; ``first_row``: the row number of
        the result's first row in the table (None: not a row number), which a refusal of
        a value names."""
        where = Msg("sources.at_table", source=self.display, table=table)
        raw = self.engine.raw_connection()
        try:
            yield from self.sql.copy_batches(raw, sql, schema, batch_size, where, params)
        except Unconvertible as exc:
            row = None if first_row is None or exc.row is None else first_row + exc.row
            raise value_refused(where, exc.field, row) from None
        finally:
            raw.close()

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self.engine.dispose()
