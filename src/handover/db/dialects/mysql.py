"""MySQL and MariaDB: server-built CSV pages, session settings, types, digests, sanitization."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager, suppress
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from handover.db import mysql_native
from handover.db.dialects.base import (
    NULL_MARK,
    Dialect,
    DigestSide,
    Fetch,
    Fold,
    Kind,
    Unconvertible,
)
from handover.errors import BadInput
from handover.i18n import Msg

if TYPE_CHECKING:
    import pyarrow as pa

    from handover.db.reflect import ColumnDef

#: MariaDB cannot index TEXT/BLOB without a prefix; key columns of those kinds get this length
KEY_LENGTH = 255
# errors that say nothing about the row: retrying later can help
_TRANSIENT = {1040, 1053, 1205, 1213, 1317, 2002, 2003, 2006, 2013, 2014, 2055}


class MySQL(Dialect):
    """MySQL/MariaDB through PyMySQL, always in utf8mb4."""

    name: ClassVar[str] = "mysql"
    title: ClassVar[str] = "MariaDB/MySQL"
    backends: ClassVar[tuple[str, ...]] = ("mysql", "mariadb")
    driver: ClassVar[str | None] = "pymysql"
    url_query: ClassVar[dict[str, str]] = {"charset": "utf8mb4"}
    sessions: ClassVar[dict[str, tuple[str, ...]]] = {
        # temporal values compare and print in UTC, as every other engine holds them
        "verify": ("SET time_zone = '+00:00'",),
    }

    def quote(self, name: str) -> str:
        """``name`` quoted with backticks."""
        return "`" + name.replace("`", "``") + "`"

    # --- reflection ------------------------------------------------------------------

    def kind_of(self, t: Any) -> Kind | None:
        """TINYINT(1) is MariaDB's BOOLEAN; YEAR and MEDIUMINT are small integers; a SET
        holds a comma-separated list of its members, up to all of them."""
        if isinstance(t, mysql.TINYINT):
            if getattr(t, "display_width", None) == 1:
                return "bool", None, None, None
            return "int16", None, None, None
        if isinstance(t, mysql.YEAR):
            return "int16", None, None, None
        if isinstance(t, mysql.MEDIUMINT):
            return "int32", None, None, None
        if isinstance(t, mysql.DOUBLE):
            return "float64", None, None, None
        if isinstance(t, mysql.SET):
            members = [str(v) for v in t.values]
            return "string", max(sum(len(v) for v in members) + len(members) - 1, 1), None, None
        return None

    # --- sources: reading -----------------------------------------------------------

    builds_text_pages: ClassVar[bool] = True
    #: tables and keyed pages are read through the C module where it was built
    copies_out: ClassVar[bool] = mysql_native.built()
    text_kinds: ClassVar[frozenset[str]] = frozenset(
        {"date", "timestamp", "timestamptz", "decimal"}
    )

    def asks_text(self, col: ColumnDef) -> bool:
        """Nothing: every value arrives as text in server-built pages."""
        return False

    def text_expr(self, quoted: str) -> str:
        """See :meth:`Dialect.text_expr`."""
        return f"CAST({quoted} AS CHAR)"

    def sample_sql(self, fraction: float, seed: int) -> str:
        """``RAND(seed)``: the same rows for the same seed."""
        return f" WHERE RAND({int(seed)}) < {fraction:.8f}"

    def after_page(self, raw: Any) -> None:
        """End the read snapshot, so that the next page sees a fresh view."""
        raw.commit()

    def copy_batches(
        self,
        raw: Any,
        sql: str,
        schema: pa.Schema,
        batch_size: int,
        where: Msg,
        params: Sequence[Any] = (),
    ) -> Iterator[pa.RecordBatch]:
        """The rows of ``sql`` through the C module (:mod:`handover.db.mysql_native`), as
        batches of ``schema``: each value the server's text, cast by Arrow (see
        :func:`_typed_batch`). ``params`` are bound by PyMySQL's escaping."""
        conn = raw.driver_connection
        if params:
            sql = conn.cursor().mogrify(sql, tuple(params))
        done = 0
        try:
            with closing(mysql_native.batches(conn, sql, len(schema), batch_size)) as it:
                for arrays in it:
                    try:
                        batch = _typed_batch(arrays, schema)
                    except Unconvertible as exc:
                        raise Unconvertible(exc.field, done + (exc.row or 0)) from None
                    done += batch.num_rows
                    yield batch
        finally:
            if not conn.open:  # closed mid-result: the pool must not take it back
                raw.invalidate()

    def server_cursor(self, raw: Any, batch_size: int) -> Any:
        """An unbuffered cursor: rows arrive as they are read, never all at once."""
        import pymysql.cursors

        return raw.cursor(pymysql.cursors.SSCursor)

    def after_condition(
        self, keys: list[str]
    ) -> tuple[str, Callable[[Sequence[Any]], tuple[Any, ...]]] | None:
        """MariaDB scans the whole index for ``(k1, k2) > (…)``: spelt out as nested
        comparisons it reads one index range."""
        return _after(keys) if len(keys) > 1 else None

    def charsets(self, conn: sa.Connection, table: str) -> dict[str, str]:
        """The character set of each text column of ``table``."""
        rows = conn.execute(
            sa.text(
                "SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t"
            ),
            {"t": table},
        ).all()
        return {str(r[0]): str(r[1]) for r in rows if r[1] is not None}

    def text_pages(
        self,
        table: str,
        columns: Sequence[str],
        *,
        order_by: Sequence[str],
        after: Sequence[Any] | None,
        batch_size: int,
        types: dict[str, Any],
        charsets: dict[str, str],
        pages: Callable[[], AbstractContextManager[Fetch]],
        stream: Callable[[str], Iterator[list[tuple[Any, ...]]]],
        connection: Callable[[], AbstractContextManager[Any]],
        where: Msg,
    ) -> Iterator[tuple[pa.Table, tuple[Any, ...] | None]]:
        """The rows of ``table`` as Arrow, each value as the server's own text.

        Where the C module :mod:`handover.db.mysql_native` was built, each page is a
        plain ``SELECT … ORDER BY key LIMIT n`` on ``connection()``, its row packets split
        into Arrow buffers in C, every value exactly as the text protocol sends it.
        Otherwise the server renders every row as one CSV line (``CONCAT``: numbers and
        temporals as its text protocol sends them, text quoted, blobs as hex) and joins
        the lines of up to a few MB of rows into one value (``GROUP_CONCAT`` in key
        order), so the driver unpacks one value per chunk instead of one per cell and
        pyarrow's CSV reader splits the columns. Yields ``(page, key)``: ``columns`` (then the
        ``order_by`` columns that are not among them) as strings, binary columns as
        bytes, and the greatest key of the page (typed as the driver binds its own
        values: int, Decimal, datetime, bytes; the text if it does not parse), None
        without ``order_by``. With ``order_by`` pages come in key order after the key
        ``after`` (``pages()``: one connection, a function running one page query);
        without, the table is streamed (``stream(sql)``), one line per row. ``types``:
        the reflected SQLAlchemy type of each column; ``charsets``: the character set of
        each text column.
        """
        import pyarrow as pa

        names = list(columns) + [k for k in order_by if k not in columns]
        kinds = [_text_kind(types[n]) for n in names]
        fields = [
            pa.field(n, pa.binary() if k == "binary" else pa.string())
            for n, k in zip(names, kinds, strict=True)
        ]
        schema = pa.schema(fields)
        if mysql_native.built():
            yield from self._protocol_pages(
                table,
                names,
                schema,
                order_by=order_by,
                after=after,
                batch_size=batch_size,
                types=types,
                connection=connection,
                where=where,
            )
            return
        qt = self.quote(table)
        # CONCAT, not CONCAT_WS: a part too long for max_allowed_packet is NULL, and must
        # make the whole line NULL (CONCAT_WS would drop it and shift the columns).
        line = "CONVERT(CONCAT({}) USING binary)".format(
            ", ',', ".join(
                _line_expr(self.quote(n), k, charsets.get(n))
                for n, k in zip(names, kinds, strict=True)
            )
        )
        if not order_by:
            for rows in stream(f"SELECT {line} FROM {qt}"):
                if any(r[0] is None for r in rows):
                    raise BadInput.msg("db.too_long", where=where)
                yield _csv_table([r[0] for r in rows], len(rows), schema, where), None
            return
        keys = [self.quote(k) for k in order_by]
        aliases = [f"_ho_k{i}" for i in range(len(keys))]
        inner = "SELECT {} AS _ho_l, {} FROM {}".format(
            line, ", ".join(f"{k} AS {a}" for k, a in zip(keys, aliases, strict=True)), qt
        )
        # A literal newline as separator: '\n' would depend on NO_BACKSLASH_ESCAPES. With
        # one key column its MAX is the next page's start (in the key's own collation and
        # as the driver types it) and the lines need no order: a batch is a set of rows.
        # A composite key is taken from the last line, so the lines are sorted.
        single = len(keys) == 1
        chunk_head = (
            "SELECT COUNT(*), SUM(LENGTH(_ho_l)), "
            + ("MAX(_ho_k0), GROUP_CONCAT(_ho_l " if single else "NULL, GROUP_CONCAT(_ho_l ")
            + ("" if single else f"ORDER BY {', '.join(aliases)} ")
            + "SEPARATOR '\n') FROM ("
        )
        native = "SELECT {} FROM {}".format(
            ", ".join(
                f"CAST({self.quote(n)} AS CHAR)" if k == "plain" else self.quote(n)
                for n, k in zip(names, kinds, strict=True)
            ),
            qt,
        )

        # MariaDB scans a whole index for (k1, k2) > (…): spell the comparison out so a
        # page is a range read (otherwise every page rereads the table up to its start).
        # With parameters, a literal % (in a quoted name) must be doubled.
        esc = [k.replace("%", "%%") for k in keys]
        cond, spread = _after(esc)

        def page_sql(base: str, start: bool, limit: int) -> str:
            if start:
                return f"{base} ORDER BY {', '.join(keys)} LIMIT {int(limit)}"
            tail = f"ORDER BY {', '.join(esc)} LIMIT {int(limit)}"
            return f"{base.replace('%', '%%')} WHERE {cond} {tail}"

        key_idx = [names.index(k) for k in order_by]
        key_types = [types[k] for k in order_by]
        last = None if after is None else tuple(after)
        with pages() as fetch:
            ((packet,),) = fetch("SELECT @@max_allowed_packet", ())
            # One chunk stays well under the largest value the server may send.
            target = max(1 << 16, min(int(packet) // 2, CHUNK_BYTES))
            fetch(f"SET SESSION group_concat_max_len = {int(packet)}", ())
            size = min(batch_size, 1000)  # rows per chunk, adapted to the bytes per row
            while True:
                parts: list[pa.Table] = []
                got = 0
                done = False
                while got < batch_size:
                    want = min(size, batch_size - got)
                    params = () if last is None else spread(last)
                    sql = chunk_head + page_sql(inner, last is None, want) + ") AS _ho_chunk"
                    ((count, length, top, data),) = fetch(sql, params)
                    count = int(count)
                    if count == 0:
                        done = True
                        break
                    if data is None or length is None or len(data) != int(length) + count - 1:
                        # Longer than group_concat_max_len: fewer rows, down to one row,
                        # which is then read with the driver's own values.
                        if want > 1:
                            size = max(1, want // 4)
                            continue
                        part = _native_table(
                            fetch(page_sql(native, last is None, 1), params), schema
                        )
                    else:
                        part = _csv_table([bytes(data)], count, schema, where)
                        size = max(1, min(batch_size, int(target * count / max(len(data), 1))))
                    if part.num_rows == 0:
                        done = True
                        break
                    parts.append(part)
                    got += part.num_rows
                    n = part.num_rows
                    if single and top is not None:
                        last = (top,)
                    else:
                        last = tuple(
                            _key_value(part.column(i)[n - 1].as_py(), t)
                            for i, t in zip(key_idx, key_types, strict=True)
                        )
                    if n < want:
                        done = True
                        break
                if parts:
                    yield pa.concat_tables(parts), last
                if done or not parts:
                    return

    def _protocol_pages(
        self,
        table: str,
        names: list[str],
        schema: pa.Schema,
        *,
        order_by: Sequence[str],
        after: Sequence[Any] | None,
        batch_size: int,
        types: dict[str, Any],
        connection: Callable[[], AbstractContextManager[Any]],
        where: Msg,
    ) -> Iterator[tuple[pa.Table, tuple[Any, ...] | None]]:
        """:meth:`text_pages` through the C module: one plain statement per page (the
        whole table in one without ``order_by``), a fresh read view for each."""
        select = "SELECT {} FROM {}".format(
            ", ".join(self.quote(n) for n in names), self.quote(table)
        )
        with connection() as raw:
            conn = raw.driver_connection
            try:
                if not order_by:
                    with closing(mysql_native.batches(conn, select, len(names), batch_size)) as it:
                        for arrays in it:
                            yield _protocol_table(arrays, schema, where), None
                    return
                keys = [self.quote(k) for k in order_by]
                tail = f" ORDER BY {', '.join(keys)} LIMIT {int(batch_size)}"
                # with parameters, a literal % (in a quoted name) must be doubled
                cond, spread = _after([k.replace("%", "%%") for k in keys])
                after_sql = "{} WHERE {}{}".format(
                    select.replace("%", "%%"), cond, tail.replace("%", "%%")
                )
                key_idx = [names.index(k) for k in order_by]
                key_types = [types[k] for k in order_by]
                last = None if after is None else tuple(after)
                while True:
                    sql = (
                        select + tail
                        if last is None
                        else conn.cursor().mogrify(after_sql, spread(last))
                    )
                    got = 0
                    with closing(mysql_native.batches(conn, sql, len(names), batch_size)) as it:
                        for arrays in it:
                            page = _protocol_table(arrays, schema, where)
                            n = page.num_rows
                            got += n
                            last = tuple(
                                _key_value(page.column(i)[n - 1].as_py(), t)
                                for i, t in zip(key_idx, key_types, strict=True)
                            )
                            yield page, last
                    self.after_page(raw)
                    if got < batch_size:
                        return
            finally:
                if not conn.open:  # closed mid-result: the pool must not take it back
                    raw.invalidate()

    # --- migrate: the tables a copy creates ---------------------------------------------

    def type_of(self, col: ColumnDef, *, key: bool = False) -> sa.types.TypeEngine[Any]:
        """Unbounded decimals as DECIMAL(65,30); FLOAT/DOUBLE; TIME(6) and DATETIME(6) (no
        zone-aware type: values are UTC); long text and blobs as LONGTEXT/LONGBLOB, or a
        255-character prefix where the column is indexed."""
        k = col.kind
        if k == "decimal" and col.precision is None:
            return mysql.DECIMAL(65, 30)
        if k == "float32":
            return mysql.FLOAT()
        if k == "float64":
            return mysql.DOUBLE()
        if k == "time":
            return mysql.TIME(fsp=6)
        if k in ("timestamp", "timestamptz"):
            return mysql.DATETIME(fsp=6)
        if k == "string" and (col.length or 0) > 16383:
            return mysql.LONGTEXT()
        if k == "text":
            return sa.String(KEY_LENGTH) if key else mysql.LONGTEXT()
        if k == "binary":
            return mysql.VARBINARY(KEY_LENGTH) if key else mysql.LONGBLOB()
        return super().type_of(col, key=key)

    max_name: ClassVar[int | None] = 64
    name_unit: ClassVar[str] = "chars"
    index_names_per_table: ClassVar[bool] = True

    def name_problem(self, name: str) -> Msg | None:
        """Identifiers are stored as utf8mb3: characters beyond the Basic Multilingual
        Plane (emoji, rare CJK ideographs) are refused, as is a trailing space."""
        bad = next((c for c in name if ord(c) > 0xFFFF), None)
        if bad is not None:
            return Msg("db.name.not_bmp", char=f"U+{ord(bad):X}", engine=self.title)
        if name.endswith(" "):
            return Msg("db.name.trailing_space", engine=self.title)
        return super().name_problem(name)

    def name_folds(self, conn: sa.Connection) -> tuple[Fold, Fold]:
        """Column (and index) names compare without case or accents (utf8mb3_general_ci);
        table names too when the server's ``lower_case_table_names`` is not 0."""
        lower = int(conn.execute(sa.text("SELECT @@lower_case_table_names")).scalar() or 0)
        return (_general_ci if lower else _same), _general_ci

    def write_problems(self, conn: sa.Connection) -> list[Msg]:
        """A read-only server, or privileges missing on the database: those granted to
        the account and to its current role, globally or on this database."""
        out: list[Msg] = []
        if str(conn.execute(sa.text("SELECT @@read_only")).scalar()) not in ("0", "OFF"):
            out.append(Msg("db.write.read_only", engine=self.title))
        me, role, database = conn.execute(
            sa.text("SELECT CURRENT_USER(), CURRENT_ROLE(), DATABASE()")
        ).one()
        user, _, host = str(me).rpartition("@")
        grantees = [f"'{user}'@'{host}'"] + ([f"'{role}'"] if role else [])
        rows = conn.execute(
            sa.text(
                "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES "
                "WHERE GRANTEE IN :who UNION "
                "SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES "
                "WHERE GRANTEE IN :who AND :db LIKE TABLE_SCHEMA"
            ).bindparams(sa.bindparam("who", expanding=True)),
            {"who": grantees, "db": database},
        ).all()
        have = {str(r[0]).upper() for r in rows}
        missing = [p for p in _WRITE_PRIVILEGES if p not in have]
        if missing:
            out.append(
                Msg("db.write.no_privilege", privileges=", ".join(missing), on=f"{database}.*")
            )
        return out

    def drop_foreign_key_sql(self, quoted: str) -> str:
        """MariaDB's spelling: ``DROP FOREIGN KEY``."""
        return f"DROP FOREIGN KEY {quoted}"

    #: InnoDB adds a foreign key checked by copying the whole table (``ALGORITHM=COPY``);
    #: unchecked it only records it (and builds its index in place). The rows are
    #: checked by one anti-join each instead (``Dialect.check_foreign_key``): 3.84 s
    #: against 0.01 + 0.42 s for ``hkls`` of the 100,000-customer book (717,020 rows).
    validates_apart: ClassVar[bool] = True
    key_builds_index: ClassVar[bool] = True
    ddl_lanes: ClassVar[int] = 2
    #: two LOAD DATA streams at once, each lane its own connection, pipe and (for a large
    #: table) reading process: the server loads one table per core. The 100,000-customer
    #: book from SQLite: 14.3 s with one lane, 12.6 s with two (three alternating pairs).
    #: One lane had been faster while both lanes read in threads of one interpreter.
    copy_lanes: ClassVar[int] = 2

    @contextmanager
    def unchecked_foreign_keys(self, conn: sa.Connection) -> Iterator[str]:
        """``foreign_key_checks = 0`` for the block (set back after it)."""
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
        try:
            yield ""
        finally:
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 1")

    def unvalidated(self, conn: sa.Connection) -> list[tuple[str, str]]:
        """Every foreign key of the current database: InnoDB keeps no mark of a key
        added unchecked, so a run (or its ``--resume``) checks them all."""
        rows = conn.exec_driver_sql(
            "SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1, 2"
        ).all()
        conn.commit()
        return [(str(r[0]), str(r[1])) for r in rows]

    def table_options(self, *, exact: bool = True) -> dict[str, Any]:
        """utf8mb4 InnoDB tables; binary collation for copied data keeps the source's
        case-sensitive comparisons and unique keys."""
        opts = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}
        if exact:
            opts["mysql_collate"] = "utf8mb4_bin"
        return opts

    # --- migrate: bulk writes ------------------------------------------------------------

    #: FLOAT/DOUBLE hold neither NaN nor an infinity
    keeps_non_finite: ClassVar[frozenset[str]] = frozenset()

    def prepare_writes(self, dbapi: Any) -> tuple[str, ...]:
        """Strict SQL mode (a misfit is an error, never a silent change), UTC, and no
        foreign key checks while tables load in any order. ``executemany`` of one INSERT
        is rewritten by PyMySQL into multi-row INSERTs of up to ~1 MB each."""
        dbapi.autocommit(False)
        return (
            "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
            "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'",
            "SET SESSION time_zone = '+00:00'",
            "SET SESSION foreign_key_checks = 0",
        )

    #: PyMySQL offers the server the rows of ``LOAD DATA LOCAL INFILE`` (bulk_insert)
    write_connect_args: ClassVar[dict[str, Any]] = {"local_infile": True}

    def writes_connected(self, dbapi: Any) -> None:
        """The LOCAL capability stays announced, but the driver answers a server's request
        for a file only while our own ``LOAD DATA`` runs (:meth:`bulk_insert`): a hostile
        server asking for one in answer to any other query of any connection is refused."""
        if hasattr(dbapi, "_local_infile"):
            dbapi._local_infile = False

    def bulk_insert(
        self,
        dbapi: Any,
        table: str,
        columns: list[str],
        batch: pa.RecordBatch,
        kinds: list[str],
        bound: Callable[[pa.RecordBatch], list[pa.Array]],
    ) -> None:
        """``LOAD DATA LOCAL INFILE`` of the batch as tab-separated text built by Arrow
        (:func:`load_text`), handed to the driver through a named pipe (the rows never
        touch the disk). LOCAL makes the server turn a refused value or a duplicate key
        into a warning and carry on (the value cut or the row skipped), so a load with
        any warning, or fewer rows than sent, raises the first warning as the server's
        error: the caller rolls the batch back and bisects it as for a refused INSERT.
        Without the driver's LOCAL option, or named pipes: ``executemany``."""
        import pymysql
        from pymysql.constants import CLIENT

        local = (
            hasattr(dbapi, "_local_infile")
            and getattr(dbapi, "client_flag", 0) & CLIENT.LOCAL_FILES
        )
        if not local or not hasattr(os, "mkfifo"):
            super().bulk_insert(dbapi, table, columns, batch, kinds, bound)
            return

        targets, sets = [], []
        for i, (c, k) in enumerate(zip(map(self.quote, columns), kinds, strict=True)):
            if k == "binary":  # sent as hex
                targets.append(f"@b{i}")
                sets.append(f"{c} = UNHEX(@b{i})")
            else:
                targets.append(c)
        rows = batch.num_rows
        # converted and built a piece at a time on the feeding thread: Arrow converts and
        # writes the next piece's text while the server loads the one before (the kernels
        # leave the GIL)
        pieces = (
            load_text(bound(batch.slice(at, LOAD_PIECE)), kinds)
            for at in range(0, rows, LOAD_PIECE)
        )
        cur = dbapi.cursor()
        try:
            with _piped(pieces) as path:
                # the driver sends a file the server asks for only while this statement runs
                dbapi._local_infile = True
                try:
                    cur.execute(
                        f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE {self.quote(table)} CHARACTER SET "
                        "utf8mb4 FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\' "
                        f"LINES TERMINATED BY '\\n' ({', '.join(targets)})"
                        + (f" SET {', '.join(sets)}" if sets else "")
                    )
                finally:
                    dbapi._local_infile = False
            loaded, warned = cur.rowcount, cur.warning_count
            if warned or loaded != batch.num_rows:
                cur.execute("SHOW WARNINGS LIMIT 1")
                first = cur.fetchone()
                if first is not None:
                    raise pymysql.err.DataError(int(first[1]), str(first[2]))
                raise pymysql.err.DataError(_TOO_FEW, f"{loaded} of {batch.num_rows} rows loaded")
        finally:
            cur.close()

    def is_data_error(self, exc: BaseException) -> bool:
        """A server error about the row, not one retrying later can help."""
        import pymysql

        if not isinstance(exc, pymysql.err.MySQLError):
            return False
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        if code in _TRANSIENT or code >= 2000 or code == 0:
            return False
        return isinstance(
            exc,
            pymysql.err.DataError
            | pymysql.err.IntegrityError
            | pymysql.err.InternalError
            | pymysql.err.OperationalError,
        )

    def describe_error(self, exc: BaseException) -> tuple[str, str, str]:
        """The error number, its message and the column it names."""
        msg, code = str(exc), ""
        if exc.args and isinstance(exc.args[0], int):
            code = str(exc.args[0])
            msg = str(exc.args[1]) if len(exc.args) > 1 else msg
        m = re.search(r"column [`']([^`']+)[`']", msg)
        return (m.group(1) if m else ""), msg, code

    # --- verify: digests inside the database ----------------------------------------------

    int_div: ClassVar[str] = "DIV"

    def value_sql(self, col: str, kind: str, side: DigestSide) -> str:
        """See :meth:`Dialect.value_sql`."""
        return _value(col, kind, side)

    def row_expr(self, values: list[str]) -> str:
        """See :meth:`Dialect.row_expr`."""
        return _encode(values)

    def digest_value_expr(self, col: str, kind: str, side: DigestSide, scale: int | None) -> str:
        """A decimal of the compared scale prints every digit of it; a timestamp as its
        DATETIME text (see :func:`_stamp`); MariaDB converts a number or date inside
        CONCAT_WS exactly as CAST(… AS CHAR) does, and pure ASCII hashes alike in every
        charset: those casts (a fifth of the query) are left out."""
        if scale is not None and side.kind == "decimal" and side.scale == scale:
            return col
        if kind == "timestamp" and side.kind in ("timestamp", "date"):
            return _stamp(col, side)
        if kind == side.kind and kind in ("int", "date"):
            return col
        return self.value_expr(col, kind, side)

    def digest_row_expr(self, values: list[str], compact: list[bool]) -> str:
        """One CONCAT_WS (it skips NULL arguments)."""
        args = [
            f"{v}, ','" if c else f"CHAR_LENGTH({v}), ':', {v}"
            for v, c in zip(values, compact, strict=True)
        ]
        return f"CONCAT_WS('', {', '.join(args)})" if args else "''"

    def hash60_expr(self, text_sql: str) -> str:
        """See :meth:`Dialect.hash60_expr`."""
        return f"CAST(CONV(SUBSTRING(MD5({text_sql}), 1, 15), 16, 10) AS UNSIGNED)"

    def hash32_expr(self, text_sql: str) -> str:
        """See :meth:`Dialect.hash32_expr`."""
        return f"CAST(CONV(SUBSTRING(MD5({text_sql}), 1, 8), 16, 10) AS UNSIGNED)"

    def segment_int(self, seg: str) -> str:
        """See :meth:`Dialect.segment_int`."""
        return f"CAST({seg} AS SIGNED)"

    def key_ranges(self, table: str, seg: str, ranges: Sequence[tuple[int, int]]) -> str:
        """MariaDB's range optimiser turns an OR of key ranges into one index range scan;
        joined to a derived table of ranges it scans the whole table instead."""
        ors = " OR ".join(f"({seg} >= {a} AND {seg} < {b})" for a, b in ranges)
        return f" FROM {table} WHERE {ors}"

    def cancel(self, engine: sa.Engine, raw: Any) -> None:
        """``KILL QUERY`` of the connection's thread, from another connection (a user may
        end its own threads' statements)."""
        thread = int(raw.thread_id())
        with engine.connect() as conn:
            conn.exec_driver_sql(f"KILL QUERY {thread}")

    def split_scans(self, inline: bool) -> bool:
        """MariaDB runs each query on one thread: two halves use both cores."""
        return True

    # --- erase: sanitization -------------------------------------------------------------

    sanitization: ClassVar[str] = "mariadb.optimize"
    identity_sql: ClassVar[tuple[str, str]] = ("SELECT VERSION()", "SELECT DATABASE()")
    # rows that dropped tables refer to may go in any order
    change_guard: ClassVar[tuple[tuple[str, ...], tuple[str, ...]]] = (
        ("SET FOREIGN_KEY_CHECKS=0",),
        ("SET FOREIGN_KEY_CHECKS=1",),
    )

    def reclaim_sql(self, quoted: list[str]) -> list[str]:
        """``OPTIMIZE TABLE`` rebuilds each table's tablespace."""
        return [f"OPTIMIZE TABLE {q}" for q in quoted]


#: what a copy does in the target database: create, fill, index, constrain, drop its
#: bookkeeping tables
_WRITE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "INDEX", "ALTER")


def load_text(arrays: list[pa.Array], kinds: list[str]) -> memoryview:
    """Columns (as :func:`handover.migrate.writer.bound_values` gives them) as the text
    ``LOAD DATA`` reads with ``FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\'``: one line
    per row, NULL as ``\\N``, backslash, tab, newline, carriage return and NUL escaped,
    binary as hex, booleans as 0/1, floats in their shortest exact spelling. Built by
    Arrow, column by column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from handover.db.arrow import bytea_hex

    texts = []
    for arr, kind in zip(arrays, kinds, strict=True):
        t = arr.type
        if kind == "binary" or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            s = bytea_hex(arr, b"")
        elif pa.types.is_boolean(t):
            s = pc.cast(pc.cast(arr, pa.int8()), pa.large_string())
        else:
            s = pc.cast(arr, pa.large_string())
            text = pa.types.is_string(t) or pa.types.is_large_string(t)
            # one scan finds the columns needing escapes; most need none
            if text and pc.any(pc.match_substring_regex(s, _NEEDS_ESCAPE)).as_py():
                for raw, escaped in _ESCAPES:
                    s = pc.replace_substring(s, raw, escaped)
        texts.append(pc.fill_null(s, "\\N"))
    tab, empty, newline = (pa.scalar(c, pa.large_string()) for c in ("\t", "", "\n"))
    row = pc.binary_join_element_wise(*texts, tab) if len(texts) > 1 else texts[0]
    lines = pc.binary_join_element_wise(row, empty, newline)
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    lines = pc.cast(lines, pa.large_string())
    import numpy as np

    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    data = lines.buffers()[2]
    return memoryview(data)[start:end] if data is not None else memoryview(b"")


#: what LOAD DATA would read as structure or as an escape, in the order they are escaped
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"), ("\0", "\\0"))
#: any character of _ESCAPES
_NEEDS_ESCAPE = r"[\\\t\n\r\x00]"
#: ER_WARN_TOO_FEW_RECORDS: the load left rows out without saying why
_TOO_FEW = 1261


#: rows of a batch per piece of LOAD DATA text built and fed at a time
LOAD_PIECE = 16_384


@contextmanager
def _piped(pieces: Iterable[memoryview]) -> Iterator[str]:
    """The path of a named pipe (in a directory only this user can read) that yields
    the ``pieces``, each built as the one before is read, once to whoever opens it: the
    driver reading a ``LOAD DATA LOCAL`` file. A statement that fails before the driver
    opens the pipe, or stops reading, ends the feeding thread (its open is answered, its
    write breaks). An error building a piece is raised here once the statement is over
    (the server then saw a file cut short: that is not the reason)."""
    where = tempfile.mkdtemp(prefix="handover-load-")
    path = os.path.join(where, "rows")
    os.mkfifo(path, 0o600)
    failed: list[BaseException] = []

    def feed() -> None:
        try:
            with open(path, "wb") as fh:
                # _built raises nothing: an OSError here is the reader gone (or never come)
                for piece in _built(pieces, failed):
                    fh.write(piece)
        except OSError:  # the statement failed, and says why
            pass

    th = threading.Thread(target=feed, name="load-data-feed", daemon=True)
    th.start()
    try:
        yield path
    finally:
        # Until the feeder is done, answer its open (it may not have reached it yet when
        # the statement failed fast): its write then breaks and it ends.
        while th.is_alive():
            with suppress(OSError):
                os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
            th.join(0.05)
        shutil.rmtree(where, ignore_errors=True)
    if failed:
        raise failed[0]


def _built(pieces: Iterable[memoryview], failed: list[BaseException]) -> Iterator[memoryview]:
    """``pieces``, with an error building one (whatever its class: pyarrow's IO errors are
    OSErrors too) put in ``failed`` instead of raised, so that only a failed write reads
    as the reader having gone."""
    it = iter(pieces)
    while True:
        try:
            piece = next(it)
        except StopIteration:
            return
        except BaseException as exc:
            failed.append(exc)
            return
        yield piece


def _same(name: str) -> str:
    return name


def _general_ci(name: str) -> str:
    """``name`` as utf8mb3_general_ci compares it: case and accents ignored."""
    import unicodedata

    base = unicodedata.normalize("NFKD", name)
    return "".join(c for c in base if not unicodedata.combining(c)).casefold()


DIALECT = MySQL()


# --- sources: rows as server-built CSV text ------------------------------------------------


#: bytes of CSV text the server joins into one value (MySQL/MariaDB text_pages)
CHUNK_BYTES = 4 << 20


def _csv_table(blobs: list[bytes], rows: int, schema: pa.Schema, where: Msg) -> pa.Table:
    """CSV lines (NULL an empty field, text quoted, blobs as quoted hex) → ``schema``."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from handover.db.arrow import unhex

    names = [f"c{i}" for i in range(len(schema))]
    data = b"\n".join(blobs) + b"\n"
    try:
        t = pcsv.read_csv(
            pa.BufferReader(data),
            # One block: a row must not straddle two (a chunk is a few MB at most).
            read_options=pcsv.ReadOptions(column_names=names, block_size=len(data) + 1),
            parse_options=pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid:
        raise BadInput.msg("db.bad_server_csv", where=where) from None
    if t.num_rows != rows:
        raise BadInput.msg("db.rows_parsed", where=where, rows=rows, parsed=t.num_rows)
    arrays = [
        unhex(col, Msg("db.at_column", where=where, column=f.name))
        if pa.types.is_binary(f.type)
        else col
        for col, f in zip(t.columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _protocol_table(arrays: list[pa.Array], schema: pa.Schema, where: Msg) -> pa.Table:
    """A page's binary arrays (:func:`handover.db.mysql_native.batches`) → ``schema``:
    text checked to be UTF-8, the connection's character set."""
    import pyarrow as pa

    out = []
    for arr, f in zip(arrays, schema, strict=True):
        if not pa.types.is_binary(f.type):
            try:
                arr = arr.cast(f.type)
            except pa.ArrowInvalid:
                at = Msg("db.at_column", where=where, column=f.name)
                raise BadInput.msg("db.not_utf8", where=at) from None
        out.append(arr)
    return pa.Table.from_arrays(out, schema=schema)


def _typed_batch(arrays: list[pa.Array], schema: pa.Schema) -> pa.RecordBatch:
    """A result's binary arrays (the server's text of each value) → ``schema``: binary
    as it is; text checked to be UTF-8 (bytes that are not, a BIT's say, decoded with
    U+FFFD as the driver's reading decodes them); numbers, decimals, dates and times cast
    by Arrow. A value its type cannot hold (a zero date) is :class:`Unconvertible`, which
    the source refuses naming the column, as the driver's reading refuses it."""
    import pyarrow as pa

    out = []
    for arr, f in zip(arrays, schema, strict=True):
        if pa.types.is_binary(f.type):
            out.append(arr)
            continue
        try:
            text = arr.cast(pa.string())
        except pa.ArrowInvalid:
            text = pa.array(
                [None if v is None else v.decode("utf-8", "replace") for v in arr.to_pylist()],
                pa.string(),
            )
        if pa.types.is_string(f.type):
            out.append(text)
            continue
        try:
            out.append(text.cast(f.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise Unconvertible(f, _first_unconvertible(text, f.type)) from None
    return pa.RecordBatch.from_arrays(out, schema=schema)


def _first_unconvertible(text: pa.Array, t: pa.DataType) -> int:
    """The position of the first value of ``text`` that does not cast to ``t`` (one that
    does not is known to be there): halves cast until one value is left."""
    import pyarrow as pa

    lo, hi = 0, len(text)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            text.slice(lo, mid - lo).cast(t)
            lo = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            hi = mid
    return lo


def _native_table(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.Table:
    """Rows read with the driver's own values (text as str, blobs as bytes) → ``schema``."""
    import pyarrow as pa

    if not rows:
        return schema.empty_table()
    cols = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(v, type=f.type) for f, v in zip(schema, cols, strict=True)], schema=schema
    )


def _after(keys: list[str]) -> tuple[str, Callable[[Sequence[Any]], tuple[Any, ...]]]:
    """``keys > (…)`` as nested comparisons MySQL/MariaDB read as one index range, and the
    function that spreads a key's values over its placeholders."""
    n = len(keys)
    cond = f"{keys[-1]} > %s"
    for k in reversed(keys[:-1]):
        cond = f"({k} > %s OR ({k} = %s AND {cond}))"
    if n > 1:
        cond = f"{keys[0]} >= %s AND {cond}"

    def spread(values: Sequence[Any]) -> tuple[Any, ...]:
        out: list[Any] = [values[0]] if n > 1 else []
        for v in values[:-1]:
            out += [v, v]
        return (*out, values[-1])

    return cond, spread


def _text_kind(sa_type: Any) -> str:
    """How a MySQL column travels in a CSV line: ``plain`` (numbers and temporals, never a
    comma or quote), ``binary`` (hex) or ``text`` (quoted)."""
    st = sa.types
    if isinstance(sa_type, st._Binary):
        return "binary"
    if isinstance(sa_type, st.Integer | st.Numeric | st.Date | st.DateTime | st.Time | mysql.YEAR):
        return "plain"
    return "text"


def _line_expr(quoted: str, kind: str, charset: str | None) -> str:
    """One column of a CSV line: NULL is an empty field, an empty string ``""``."""
    if kind == "plain":
        return f"IFNULL({quoted}, '')"
    if kind == "binary":
        return f"IF({quoted} IS NULL, '', CONCAT('\"', HEX({quoted}), '\"'))"
    # One character set and collation for every text column, whatever each declares
    # (two collations in one CONCAT are an error); converted only when not utf8mb4.
    text = quoted if charset == "utf8mb4" else f"CONVERT({quoted} USING utf8mb4)"
    return (
        f"IF({quoted} IS NULL, '', "
        f"CONCAT('\"', REPLACE({text} COLLATE utf8mb4_bin, '\"', '\"\"'), '\"'))"
    )


def _key_value(value: Any, sa_type: Any) -> Any:
    """The text of a key value as the driver binds its own values (exact comparisons:
    an int or a Decimal, not a string the server would compare as a double)."""
    import datetime as dt
    from decimal import Decimal, InvalidOperation

    from sqlalchemy import types as st

    if not isinstance(value, str):
        return value
    try:
        if isinstance(sa_type, st.Integer):
            return int(value)
        if isinstance(sa_type, st.Float):
            return float(value)
        if isinstance(sa_type, st.Numeric):
            return Decimal(value)
        if isinstance(sa_type, st.DateTime):
            return dt.datetime.fromisoformat(value)
        if isinstance(sa_type, st.Date):
            return dt.date.fromisoformat(value)
    except (ValueError, InvalidOperation):
        pass
    return value  # a zero date, a TIME, a YEAR: the server converts the text itself


# --- verify: the canonical text in MariaDB's SQL ---------------------------------------------

_MY_TEXT = "CHAR CHARACTER SET utf8mb4"


def _value(col: str, kind: str, side: DigestSide) -> str:
    if kind == "int":
        return f"CAST({col} AS {_MY_TEXT})"
    if kind in ("decimal", "float"):
        if side.kind == "decimal" and (side.scale or 0) > 0:
            return f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST({col} AS {_MY_TEXT})))"
        if side.kind == "float":
            v = f"CAST(CAST({col} AS DECIMAL(65,30)) AS {_MY_TEXT})"
            return f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {v}))"
        return f"CAST({col} AS {_MY_TEXT})"
    if kind == "bool":
        if side.kind in ("bool", "int", "decimal", "float"):
            return f"CASE WHEN {col} <> 0 THEN '1' ELSE '0' END"
        return (
            f"CASE WHEN LOWER(TRIM(CAST({col} AS {_MY_TEXT}))) IN ('1','t','true','y','yes','on') "
            "THEN '1' ELSE '0' END"
        )
    if kind == "timestamp":
        if side.kind == "timestamp":
            # a DATETIME(p) prints with exactly p fractional digits, cheaper than DATE_FORMAT
            fsp = side.fsp or 0
            if fsp == 6:
                return f"CAST({col} AS {_MY_TEXT})"
            pad = ("." if fsp == 0 else "") + "0" * (6 - fsp)
            return f"CONCAT(CAST({col} AS {_MY_TEXT}), '{pad}')"
        if side.kind == "date":
            return f"CONCAT(CAST({col} AS {_MY_TEXT}), ' 00:00:00.000000')"
        return f"CAST({col} AS {_MY_TEXT})"
    if kind == "date":
        if side.kind == "date":
            return f"CAST({col} AS {_MY_TEXT})"
        if side.kind == "timestamp":
            return f"DATE_FORMAT({col}, '%Y-%m-%d')"
        return f"CAST({col} AS {_MY_TEXT})"
    if kind == "bytes":
        return f"LOWER(HEX({col}))"
    text = f"CAST({col} AS {_MY_TEXT})"
    if side.kind == "time":
        # a TIME(p) prints exactly p fractional digits: without trailing zeros, as
        # PostgreSQL prints a time (normalize.clock_text), compared as a time or as text
        whole = f"SUBSTRING_INDEX({text}, '.', 1)"
        return f"IF(MICROSECOND({col}), TRIM(TRAILING '0' FROM {text}), {whole})"
    if kind == "time":
        # text held against a time: normalize.clock_trim
        trimmed = f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {text}))"
        return f"IF({text} REGEXP '^[^.]*[.][0-9]*$', {trimmed}, {text})"
    return text


def _encode(values: list[str]) -> str:
    enc = [f"IFNULL(CONCAT(CHAR_LENGTH({v}), ':', {v}), '{NULL_MARK}')" for v in values]
    return f"CONCAT({', '.join(enc)})" if enc else "''"


def _stamp(col: str, side: DigestSide) -> str:
    """A timestamp's digest text on MariaDB: DATETIME(p) text, fraction without zeros."""
    if side.kind == "date":
        return f"CONCAT({col}, ' 00:00:00')"
    if not side.fsp:
        return col
    # DATETIME(p) prints exactly p fractional digits: drop the trailing zeros of a
    # fraction that is not zero, and the whole fraction of one that is
    return f"IF(MICROSECOND({col}), TRIM(TRAILING '0' FROM {col}), LEFT({col}, 19))"
