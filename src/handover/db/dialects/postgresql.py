"""PostgreSQL: COPY in and out, session settings, types, digests and sanitization."""

from __future__ import annotations

import io
import itertools
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from handover.db import pgcopy
from handover.db.dialects.base import NULL_MARK, Dialect, DigestSide, is_adbc, is_adbc_error
from handover.errors import BadInput
from handover.i18n import Msg

if TYPE_CHECKING:
    import pyarrow as pa

    from handover.db.reflect import ColumnDef, ForeignKeyDef, TableDef


def adbc_conninfo(engine: sa.Engine) -> str:
    """The libpq connection string of ``engine``: the parameters psycopg gets (ADBC's
    driver is libpq too). It holds the password: never shown or logged."""
    from psycopg.conninfo import make_conninfo

    _, kwargs = engine.dialect.create_connect_args(engine.url)
    plain = {k: str(v) for k, v in kwargs.items() if isinstance(v, str | int)}
    return str(make_conninfo("", **plain))


#: the verify session: the digest SQL renders dates as ISO text (YYYY-MM-DD); JIT
#: compilation costs more than it saves on one-pass queries whose row estimates are
#: inflated
_VERIFY = ("SET DateStyle = 'ISO'", "SET jit = off")


class PostgreSQL(Dialect):
    """PostgreSQL through psycopg 3."""

    name: ClassVar[str] = "postgresql"
    title: ClassVar[str] = "PostgreSQL"
    backends: ClassVar[tuple[str, ...]] = ("postgresql",)
    driver: ClassVar[str | None] = "psycopg"
    sessions: ClassVar[dict[str, tuple[str, ...]]] = {
        "verify": _VERIFY,
        # verify reading a table in key order (handover.verify.rowmerge): by its key's
        # index rather than a sort of every row, which a table without statistics (just
        # loaded) gets: 7 M rows of the 1 M-customer book's hkls, 2.3 → 1.4 s
        "verify_ordered": (*_VERIFY, "SET enable_sort = off"),
    }

    # --- reflection ------------------------------------------------------------------

    def autoincrement(self, info: dict[str, Any], auto: bool, *, sole_int_pk: bool) -> bool:
        """An identity column, or a ``serial`` one (its default draws from a sequence)."""
        return auto or str(info.get("default") or "").startswith("nextval(")

    # --- sources: reading -----------------------------------------------------------

    copies_out: ClassVar[bool] = True

    def asks_text(self, col: ColumnDef) -> bool:
        """JSON and UUID values too (psycopg would parse them), and a ``timetz``, kept as
        its text (``03:03:03.5+08``: no neutral kind holds a time of day's offset)."""
        timetz = col.kind == "text" and col.declared.upper() == "TIME WITH TIME ZONE"
        return col.kind in ("json", "uuid") or timetz or super().asks_text(col)

    def text_expr(self, quoted: str) -> str:
        """See :meth:`Dialect.text_expr`."""
        return f"({quoted})::text"

    def read_expr(self, quoted: str, t: pa.DataType, *, key: bool = False) -> str:
        """Zone-aware timestamps in UTC (COPY then writes them without a zone); bytea as
        hex whatever the server's ``bytea_output`` (not a key: keys compare as stored)."""
        import pyarrow as pa

        if pa.types.is_timestamp(t) and t.tz:
            return f"({quoted} AT TIME ZONE 'UTC')"
        if pa.types.is_binary(t) and not key:
            return f"encode({quoted}, 'hex')"
        return quoted

    def sample_sql(self, fraction: float, seed: int) -> str:
        """``TABLESAMPLE BERNOULLI … REPEATABLE``: the same rows for the same seed."""
        return f" TABLESAMPLE BERNOULLI ({fraction * 100:.6f}) REPEATABLE ({int(seed)})"

    def begin_pages(self, raw: Any) -> None:
        """A consistent snapshot per page is enough; no transaction is held open."""
        raw.driver_connection.autocommit = True

    def end_pages(self, raw: Any) -> None:
        """The driver's transactions again."""
        raw.driver_connection.autocommit = False

    def reread(self, raw: Any, exc: BaseException) -> bool:
        """A date/time psycopg cannot hold (``infinity``, BC, after 9999, the time
        ``24:00:00``): from now on the
        connection loads such values as their text (then refused as rejects, never changed);
        True: the page is worth reading again."""
        import psycopg

        if not isinstance(exc, psycopg.DataError) or getattr(exc, "sqlstate", None):
            return False
        if not re.search(r"(date|timestamp) too (large|small)|can't parse time", str(exc)):
            return False
        _lenient_dates(raw.driver_connection)
        return True

    def server_cursor(self, raw: Any, batch_size: int) -> Any:
        """A named (server-side) cursor: rows arrive batch by batch, never all at once;
        dates/times outside Python's range arrive as text (see :meth:`reread`)."""
        _lenient_dates(raw.driver_connection)
        cur = raw.driver_connection.cursor(name=f"ho_read_{secrets.token_hex(4)}")
        cur.itersize = batch_size
        return cur

    def copy_batches(
        self,
        raw: Any,
        sql: str,
        schema: pa.Schema,
        batch_size: int,
        where: Msg,
        params: Sequence[Any] = (),
    ) -> Iterator[pa.RecordBatch]:
        """``COPY (sql) TO STDOUT (FORMAT csv)`` streamed straight into pyarrow's CSV
        reader, as batches of ``schema`` (bytea arrives as hex and is decoded in bulk);
        ``where``: the table, named by errors."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        from handover.db.arrow import IterReader, unhex

        read_types = {f.name: _copy_read_type(f.type) for f in schema}
        try:
            cur = raw.cursor()
            # COPY takes no server-side parameters: psycopg binds ``params`` client-side.
            statement = f"COPY ({sql}) TO STDOUT (FORMAT csv)"
            with cur.copy(statement, tuple(params) if params else None) as copy:
                stream = IterReader(iter(copy))
                reader = pcsv.open_csv(
                    stream,
                    read_options=pcsv.ReadOptions(
                        column_names=[f"c{i}" for i in range(len(schema))],
                        block_size=max(1 << 20, batch_size * 64),
                    ),
                    parse_options=pcsv.ParseOptions(newlines_in_values=True),
                    convert_options=pcsv.ConvertOptions(
                        column_types={f"c{i}": read_types[f.name] for i, f in enumerate(schema)},
                        strings_can_be_null=True,
                        quoted_strings_can_be_null=False,
                        null_values=[""],
                        true_values=["t"],
                        false_values=["f"],
                    ),
                )
                for batch in reader:
                    arrays = [
                        unhex(col, Msg("db.at_column", where=where, column=f.name))
                        if pa.types.is_binary(f.type)
                        else col.cast(f.type)
                        if col.type != f.type
                        else col
                        for col, f in zip(batch.columns, schema, strict=True)
                    ]
                    b = pa.RecordBatch.from_arrays(arrays, schema=schema)
                    for off in range(0, b.num_rows, batch_size):
                        yield b.slice(off, batch_size)
            cur.close()
        except pa.ArrowInvalid as exc:
            # pyarrow's message may quote the value: name the column only.
            m = re.search(r"column #(\d+)", str(exc))
            col = Msg("db.column_part", column=schema.field(int(m.group(1))).name) if m else ""
            raise BadInput.msg("db.no_convert", where=where, column=col) from None

    # --- migrate: the tables a copy creates ---------------------------------------------

    identity_keys: ClassVar[bool] = True

    def type_of(self, col: ColumnDef, *, key: bool = False) -> sa.types.TypeEngine[Any]:
        """DOUBLE PRECISION, zone-aware timestamps, JSON/JSONB as declared, UUID, BYTEA."""
        k = col.kind
        if k == "float64":
            return postgresql.DOUBLE_PRECISION()
        if k == "timestamptz":
            return sa.DateTime(timezone=True)
        if k == "json":
            return postgresql.JSONB() if "JSONB" in col.declared.upper() else postgresql.JSON()
        if k == "uuid":
            return postgresql.UUID()
        if k == "binary":
            return postgresql.BYTEA()
        return super().type_of(col, key=key)

    # NAMEDATALEN - 1: a longer name is cut silently (into another table's name, maybe)
    max_name: ClassVar[int | None] = 63

    def write_problems(self, conn: sa.Connection) -> list[Msg]:
        """A read-only transaction (a standby, ``default_transaction_read_only``), no
        schema to create in, or no CREATE on it."""
        out: list[Msg] = []
        ro, schema, create = conn.execute(
            sa.text(
                "SELECT current_setting('transaction_read_only'), current_schema(), "
                "CASE WHEN current_schema() IS NULL THEN false "
                "ELSE has_schema_privilege(current_schema(), 'CREATE') END"
            )
        ).one()
        if ro == "on":
            out.append(Msg("db.write.read_only", engine=self.title))
        if schema is None:
            out.append(Msg("db.write.no_schema"))
        elif not create:
            out.append(Msg("db.write.no_privilege", privileges="CREATE", on=f"schema {schema}"))
        return out

    def reset_identity_sql(self, table: str, column: str, quoted: str) -> str | None:
        """``setval`` of the column's sequence to one past the largest value. The names
        go in as string literals (``'`` doubled); the column's ``%`` is doubled like the
        quoted names' (the statement runs through the driver's parameter style)."""
        tlit = table.replace("'", "''")
        clit = column.replace("'", "''").replace("%", "%%")
        return (
            f"SELECT setval(pg_get_serial_sequence('{tlit}', '{clit}'), "
            f"COALESCE((SELECT max({quoted}) FROM {table}), 0) + 1, false)"
        )

    # --- migrate: bulk writes ------------------------------------------------------------

    #: two COPY streams at once: each has its own server process, the two cores both work
    copy_lanes: ClassVar[int] = 2
    ddl_lanes: ClassVar[int] = 2
    #: the key built once per table after the COPY: less server CPU and WAL than a btree
    #: maintained row by row (docs/migrate.md, "Keys after the rows")
    keys_after_load: ClassVar[bool] = True

    #: a foreign key added ``NOT VALID`` takes a moment; ``VALIDATE CONSTRAINT`` then
    #: locks only its own table against other validations (SHARE UPDATE EXCLUSIVE; ROW
    #: SHARE on the referenced one), so two tables' checks run at once
    validates_apart: ClassVar[bool] = True

    @contextmanager
    def unchecked_foreign_keys(self, conn: sa.Connection) -> Iterator[str]:
        """``NOT VALID``: ``ADD CONSTRAINT`` then locks the referenced table only
        briefly, and ``VALIDATE CONSTRAINT`` locks nothing the other tables' checks need."""
        yield " NOT VALID"

    def check_foreign_key(self, conn: sa.Connection, table: str, key: ForeignKeyDef) -> str | None:
        """``VALIDATE CONSTRAINT``; the server's refusal (a row without its referenced
        row: an integrity error; any other error is raised)."""
        try:
            conn.exec_driver_sql(
                f"ALTER TABLE {self.quote(table)} VALIDATE CONSTRAINT {self.quote(key.name)}"
            )
            conn.commit()
        except sa.exc.IntegrityError as exc:
            conn.rollback()
            return str(exc.orig)
        except BaseException:
            conn.rollback()
            raise
        return None

    def unvalidated(self, conn: sa.Connection) -> list[tuple[str, str]]:
        """The foreign keys of the current schema still ``NOT VALID``, from
        ``pg_constraint``."""
        rows = conn.exec_driver_sql(
            "SELECT c.relname, k.conname FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid "
            "WHERE k.contype = 'f' AND NOT k.convalidated "
            "AND c.relnamespace = current_schema()::regnamespace ORDER BY 1, 2"
        ).all()
        return [(str(r[0]), str(r[1])) for r in rows]

    def prepare_writes(self, dbapi: Any) -> tuple[str, ...]:
        """A server crash loses at most the last transactions, batch and checkpoint
        together, so the state stays consistent: waiting for the WAL flush buys nothing."""
        if not is_adbc(dbapi):  # ADBC's connection stays in autocommit: BEGIN is a statement
            dbapi.autocommit = False
        # Arrow's text, pyarrow's CSV and ADBC's parameters are UTF-8 bytes: the server
        # converts them into the database's encoding (or refuses a character it lacks)
        return ("SET synchronous_commit = off", "SET client_encoding = 'UTF8'")

    def text_codec(self, rows: Callable[[str], list[tuple[Any, ...]]]) -> str | None:
        """The database's ``server_encoding`` as a Python codec (LATIN1 ``latin1``,
        WIN1252 ``cp1252``, EUC_CN ``euc_cn``, KOI8R ``koi8_r`` …); None for UTF8 and
        SQL_ASCII (which stores any byte); ASCII for one Python lacks (EUC_TW,
        MULE_INTERNAL): every other character escaped, never a failed insert."""
        import codecs

        name = str(rows("SELECT current_setting('server_encoding')")[0][0]).upper()
        if name in ("UTF8", "SQL_ASCII"):
            return None
        spelled = "cp" + name[3:] if name.startswith("WIN") else name.lower()
        spelled = {"koi8r": "koi8_r", "koi8u": "koi8_u"}.get(spelled, spelled)
        try:
            return codecs.lookup(spelled).name
        except LookupError:
            return "ascii"

    def bulk_connection(
        self, engine: sa.Engine, *, own_process: bool
    ) -> tuple[Any, Callable[[], None]] | None:
        """None where handover's own C module builds the binary ``COPY`` (psycopg's
        connection writes it, :meth:`bulk_insert`); else ADBC's PostgreSQL driver,
        connected with the parameters psycopg gets: it sends an Arrow batch as a binary
        ``COPY`` built in C++, so the server parses no text (on ``hkls``, 1.4 M rows: 2.4 s
        of server CPU as CSV, 1.2 s binary; docs/migrate.md). None also when the driver is
        not installed or cannot connect (a CSV ``COPY`` then)."""
        if pgcopy.built():
            return None
        try:
            import adbc_driver_manager
            import adbc_driver_postgresql.dbapi as adbc
        except ImportError:
            return None
        try:
            conn = adbc.connect(adbc_conninfo(engine), autocommit=True)
        except adbc_driver_manager.Error:
            return None
        return conn, conn.close

    def arrow_reads(self, engine: sa.Engine) -> str | None:
        """libpq's connection string of ``engine`` where ADBC's driver is installed."""
        try:
            import adbc_driver_postgresql  # noqa: F401
        except ImportError:
            return None
        return adbc_conninfo(engine)

    def bulk_ok(self, table: TableDef) -> bool:
        """Binary COPY sends each value in its column's own format, which ADBC builds from
        the Arrow type: not for JSON, UUID or a decimal beyond 38 digits or without a
        declared precision (they travel as text)."""
        return all(_binary_kind(c) for c in table.columns)

    def binds_typed(self, dbapi: Any) -> bool:
        """A binary COPY (handover's or ADBC's) takes the values typed (see
        :meth:`bulk_insert`)."""
        return pgcopy.built() or is_adbc(dbapi)

    def params_sql(self, dbapi: Any, sql: str) -> str:
        """libpq's numbered parameters (``$1``, ``$2`` …) for ADBC's connection in place of
        psycopg's marks, read as psycopg reads them: every ``%s`` a parameter, ``%%`` a
        ``%`` (a name holding ``%`` comes doubled)."""
        if not is_adbc(dbapi):
            return sql
        count = itertools.count(1)
        return re.sub(r"%%|%s", lambda m: "%" if m.group(0) == "%%" else f"${next(count)}", sql)

    def bulk_insert(
        self,
        dbapi: Any,
        table: str,
        columns: list[str],
        batch: pa.RecordBatch,
        kinds: list[str],
        bound: Callable[[pa.RecordBatch], list[pa.Array]],
    ) -> None:
        """A binary ``COPY`` of the typed columns ``bound(batch)`` gives, each in its
        column's Arrow type: built by handover's C module (:mod:`handover.db.pgcopy`) on
        psycopg's connection, or by ADBC's driver on its own (:meth:`bulk_connection`;
        ADBC quotes the names). Otherwise, and for a table with a column no binary form is
        built for (JSON, UUID, a decimal beyond 38 digits), ``COPY … FROM STDIN (FORMAT
        csv)`` fed by pyarrow's CSV writer (vectorised; BYTEA as ``\\x`` hex built with
        numpy)."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        quoted = ", ".join(map(self.quote, columns))
        if not is_adbc(dbapi) and pgcopy.built() and all(k in _CODES for k in kinds):
            typed = [_binary_values(a, k) for a, k in zip(bound(batch), kinds, strict=True)]
            if all(pgcopy.code_of(a.type) in _CODES[k] for a, k in zip(typed, kinds, strict=True)):
                body = pgcopy.rows(typed)
                cur = dbapi.cursor()
                try:
                    sql = f"COPY {self.quote(table)} ({quoted}) FROM STDIN (FORMAT binary)"
                    with cur.copy(sql) as cp:
                        cp.write(pgcopy.HEADER)
                        cp.write(memoryview(body))
                        cp.write(pgcopy.TRAILER)
                finally:
                    cur.close()
                return
        if is_adbc(dbapi):
            typed = [_binary_values(a, k) for a, k in zip(bound(batch), kinds, strict=True)]
            ingest = dbapi.cursor()
            try:
                ingest.adbc_ingest(
                    table, pa.RecordBatch.from_arrays(typed, names=columns), mode="append"
                )
            finally:
                ingest.close()
            return

        from handover.db.arrow import bytea_hex

        arrays = [
            bytea_hex(batch.column(i)) if k == "binary" else batch.column(i)
            for i, k in enumerate(kinds)
        ]
        names = [f"c{i}" for i in range(len(arrays))]
        buf = io.BytesIO()
        pcsv.write_csv(
            pa.RecordBatch.from_arrays(arrays, names=names),
            buf,
            pcsv.WriteOptions(include_header=False, quoting_style="needed"),
        )
        cur = dbapi.cursor()
        try:
            with cur.copy(f"COPY {self.quote(table)} ({quoted}) FROM STDIN (FORMAT csv)") as cp:
                cp.write(buf.getbuffer())
        finally:
            cur.close()

    def is_duplicate_key(self, exc: BaseException) -> bool:
        """psycopg's UniqueViolation, or ADBC's error of that SQLSTATE (23505)."""
        import psycopg

        if is_adbc_error(exc):
            return _sqlstate(exc) == "23505"
        return isinstance(exc, psycopg.errors.UniqueViolation)

    def is_data_error(self, exc: BaseException) -> bool:
        """psycopg's DataError and IntegrityError; from ADBC's driver an error of those
        SQLSTATE classes (22, 23), except a binary value the server cannot read (22P03:
        handover's own fault, never the rows')."""
        import psycopg

        if is_adbc_error(exc):
            code = _sqlstate(exc)
            return code[:2] in ("22", "23") and code != "22P03"
        return isinstance(exc, psycopg.errors.DataError | psycopg.errors.IntegrityError)

    def describe_error(self, exc: BaseException) -> tuple[str, str, str]:
        """The diagnostics' column (or the one its context names) and primary message:
        psycopg's ``diag``, or the same libpq fields ADBC's error carries (``details``)."""
        msg = str(exc)
        column = ""
        diag = getattr(exc, "diag", None)
        code = _sqlstate(exc)
        ctx = ""
        if is_adbc_error(exc):
            # libpq's fields, as psycopg's diag has them (not the message's text, which
            # the server may write in another language)
            fields = {
                k.decode(): v.decode("utf-8", "replace")
                for k, v in getattr(exc, "details", None) or ()
                if isinstance(k, bytes) and isinstance(v, bytes)
            }
            column = fields.get("PG_DIAG_COLUMN_NAME", "")
            msg = fields.get("PG_DIAG_MESSAGE_PRIMARY") or msg
            ctx = fields.get("PG_DIAG_CONTEXT", "")
        elif diag is not None:
            column = diag.column_name or ""
            msg = diag.message_primary or msg
            ctx = diag.context or ""
        m = re.search(r"column ([^\s:,]+)", ctx)
        if not column and m:
            column = m.group(1).strip('"')
        return column, msg, code

    # --- verify: digests inside the database ----------------------------------------------

    fence: ClassVar[str] = " OFFSET 0"
    inlines: ClassVar[bool] = True

    def verify_connected(self, dbapi: Any) -> None:
        """An interval arrives as PostgreSQL's text (``1 day 02:00:00``, ``1 mon``), the
        text its digest SQL hashes: psycopg's timedelta cannot tell ``1 mon`` from
        ``30 days``, and ``str()`` of it is ``1 day, 2:00:00``. A date or time Python
        cannot hold (``infinity``, ``24:00:00``: a row migrate refused) arrives as its
        text, so that verify reports its row instead of failing (the lenient loaders
        cost only the rows verify downloads)."""
        from psycopg.types.string import TextLoader

        dbapi.adapters.register_loader("interval", TextLoader)
        _lenient_dates(dbapi)

    def value_sql(self, col: str, kind: str, side: DigestSide) -> str:
        """See :meth:`Dialect.value_sql`."""
        return _value(col, kind, side)

    def row_expr(self, values: list[str]) -> str:
        """See :meth:`Dialect.row_expr`."""
        return _encode(values)

    def digest_value_expr(self, col: str, kind: str, side: DigestSide, scale: int | None) -> str:
        """A decimal of the compared scale prints every digit of it; a timestamp as
        PostgreSQL prints it (see :func:`_stamp`)."""
        if scale is not None and side.kind == "decimal" and side.scale == scale:
            return f"({col})::text"
        if kind == "timestamp" and side.kind in ("timestamp", "date"):
            return _stamp(col, side)
        return self.value_expr(col, kind, side)

    def digest_row_expr(self, values: list[str], compact: list[bool]) -> str:
        """A chain of ``||``: ``concat()`` looks up each argument's output function on every
        row."""
        parts = [
            f"coalesce({v}, '') || ','"
            if c
            else f"coalesce(char_length({v})::text || ':' || {v}, ':')"
            for v, c in zip(values, compact, strict=True)
        ]
        return " || ".join(parts) if parts else "''"

    def hash60_expr(self, text_sql: str) -> str:
        """See :meth:`Dialect.hash60_expr`."""
        return f"('x' || substr(md5({text_sql}), 1, 15))::bit(60)::bigint"

    def hash32_expr(self, text_sql: str) -> str:
        """See :meth:`Dialect.hash32_expr`."""
        return f"('x' || substr(md5({text_sql}), 1, 8))::bit(32)::bigint"

    def segment_int(self, seg: str) -> str:
        """See :meth:`Dialect.segment_int`."""
        return f"{seg}::bigint"

    def cancel(self, engine: sa.Engine, raw: Any) -> None:
        """psycopg's cancel request, on a connection of its own (waits at most 5 s)."""
        if hasattr(raw, "cancel_safe"):
            raw.cancel_safe(timeout=5.0)
        else:
            raw.cancel()

    def split_scans(self, inline: bool) -> bool:
        """PostgreSQL runs a full scan in parallel workers when the values may be inlined."""
        return not inline

    def native_digest_ok(self, *engines: sa.Engine) -> bool:
        """PostgreSQL ≥ 14 everywhere (``hash_record_extended``)."""
        return all((e.dialect.server_version_info or (0,)) >= (14,) for e in engines)

    def native_ok(self, kind: str, a: DigestSide, b: DigestSide) -> bool:
        """Whether a column may be hashed as stored on two PostgreSQL sides (same declared
        type): equal stored values then have equal canonical texts; a rare hash difference
        for values the text deems equal (e.g. floats beyond 15 digits) only costs a row
        fetch, since the final comparison renders both rows in Python."""
        return _native_ok(kind, a, b)

    def native_digest(self, columns: list[str]) -> str:
        """PostgreSQL↔PostgreSQL segment digest: XOR of 64-bit ``hash_record_extended`` row
        hashes — per-type hash functions over the stored values, no text rendering and no
        MD5 per row. ``bit_xor`` costs about a fifth less than ``sum``, which accumulates in
        128 bits; rows are unique by key, so none cancels another."""
        return f"bit_xor(hash_record_extended(ROW({', '.join(columns)}), 0))"

    def native_segment(self, key_text: str) -> str:
        """The 32-bit segment key of a non-integer key hashed natively."""
        return f"(hashtextextended({key_text}, 0) & 4294967295)"

    def plain_text(self, value_sql: str, col: str) -> bool:
        """Whether ``value_sql`` is ``col`` itself or its ``::text`` (cheap to evaluate twice)."""
        return value_sql in (col, f"({col})::text")

    # --- erase: sanitization -------------------------------------------------------------

    sanitization: ClassVar[str] = "postgresql.vacuum_full"
    flush_sql: ClassVar[str | None] = "CHECKPOINT"

    def drop_sql(self, quoted: list[str]) -> list[str]:
        """One DROP; CASCADE drops foreign keys (and views) of kept tables that point at them."""
        return [f"DROP TABLE {', '.join(quoted)} CASCADE"] if quoted else []

    def reclaim_sql(self, quoted: list[str]) -> list[str]:
        """``VACUUM FULL`` rewrites each table without its dead tuples."""
        return [f"VACUUM FULL {q}" for q in quoted]

    def freeze_sql(self, quoted: str) -> str | None:
        """``REVOKE ALL … FROM PUBLIC``."""
        return f"REVOKE ALL ON {quoted} FROM PUBLIC"


DIALECT = PostgreSQL()


# --- sources: reading --------------------------------------------------------------------


def _lenient_dates(conn: Any) -> None:
    """Load the dates and times of ``conn`` that Python cannot hold (``infinity``,
    ``-infinity``, BC, after 9999, the end of day ``24:00:00``) as their text instead of
    failing the whole page.
    Python loaders are slower than psycopg's C ones: used only after such a value was
    met (or for an unordered stream, which cannot reread a page)."""
    from psycopg.types.datetime import (
        DateLoader,
        TimeLoader,
        TimestampLoader,
        TimestamptzLoader,
        TimetzLoader,
    )

    def lenient(base: Any) -> Any:
        class Lenient(base):  # type: ignore[misc]
            def load(self, data: Any) -> Any:
                try:
                    return super().load(data)
                except Exception:
                    return bytes(data).decode("ascii", "replace")

        return Lenient

    for name, base in (
        ("date", DateLoader),
        ("time", TimeLoader),
        ("timetz", TimetzLoader),
        ("timestamp", TimestampLoader),
        ("timestamptz", TimestamptzLoader),
    ):
        conn.adapters.register_loader(name, lenient(base))


def _sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a psycopg or ADBC error ("" if it carries none)."""
    return str(getattr(exc, "sqlstate", None) or "")


#: the binary forms handover's COPY writes for each kind (``pgcopy.code_of``): the kind's
#: own type, or a date/time's source text into a text column (``spelling.as_text``); a
#: JSON or UUID column (jsonb's form starts with a version, a UUID's is 16 bytes) and any
#: other array go through a CSV COPY
_CODES = {
    "bool": ("b",),
    "int16": ("h",),
    "int32": ("i",),
    "int64": ("q",),
    "float32": ("f",),
    "float64": ("d",),
    "decimal": ("N",),
    "date": ("D", "s", "S"),
    "time": ("t", "s", "S"),
    "timestamp": ("T", "s", "S"),
    "timestamptz": ("T", "s", "S"),
    "char": ("s", "S"),
    "string": ("s", "S"),
    "text": ("s", "S"),
    "binary": ("s", "S"),
}


def _binary_kind(col: ColumnDef) -> bool:
    if col.kind in ("json", "uuid"):
        return False
    return col.kind != "decimal" or (col.precision is not None and col.precision <= 38)


def _binary_values(arr: pa.Array, kind: str) -> pa.Array:
    """``arr`` in the Arrow type whose binary form is the column's (an integer of its
    width, a float of its size: the kind's own type); text (a date/time kept as the
    source's text) and decimals (their precision is the array's) as they are."""
    import pyarrow as pa

    from handover.db.reflect import kind_arrow_type

    want = kind_arrow_type(kind)
    if want is None or pa.types.is_string(arr.type) or arr.type == want:
        return arr
    return arr.cast(want)


def _copy_read_type(t: pa.DataType) -> pa.DataType:
    # COPY writes timestamptz converted to UTC without a zone (see read_expr).
    import pyarrow as pa

    if pa.types.is_timestamp(t) and t.tz:
        return pa.timestamp(t.unit)
    return pa.string() if pa.types.is_binary(t) else t


# --- verify: the canonical text in PostgreSQL's SQL ------------------------------------------


def _value(col: str, kind: str, side: DigestSide) -> str:
    """PostgreSQL's SQL for the canonical text of ``col`` (see :meth:`Dialect.value_expr`)."""
    if kind == "int":
        return f"({col})::text" if side.kind != "bool" else f"(({col})::int)::text"
    if kind in ("decimal", "float"):
        if side.kind in ("decimal", "float", "int"):
            return f"trim_scale(({col})::numeric)::text"
        return f"({col})::text"
    if kind == "bool":
        if side.kind == "bool":
            return f"CASE WHEN {col} THEN '1' ELSE '0' END"
        if side.kind in ("int", "decimal", "float"):
            return f"CASE WHEN {col} <> 0 THEN '1' ELSE '0' END"
        return (
            f"CASE WHEN lower(btrim(({col})::text)) IN ('1','t','true','y','yes','on') "
            "THEN '1' ELSE '0' END"
        )
    if kind == "timestamp":
        if side.kind == "timestamp":
            src = f"({col} AT TIME ZONE 'UTC')" if side.tz else col
            return f"to_char({src}, 'YYYY-MM-DD HH24:MI:SS.US')"
        if side.kind == "date":
            return f"({col})::text || ' 00:00:00.000000'"
        return f"({col})::text"
    if kind == "date":
        # a date prints as YYYY-MM-DD under DateStyle ISO (the "verify" session), about
        # four times cheaper than to_char
        if side.kind == "date":
            return f"({col})::text"
        if side.kind == "timestamp":
            return f"to_char({col}, 'YYYY-MM-DD')"
        return f"({col})::text"
    if kind == "bytes":
        if side.kind == "bytes":
            return f"encode({col}, 'hex')"
        return f"encode(convert_to(({col})::text, 'UTF8'), 'hex')"
    if kind == "time" and side.kind != "time":
        # text held against a time: normalize.clock_trim (a time prints so already)
        t = f"({col})::text"
        return f"CASE WHEN {t} ~ '^[^.]*[.][0-9]*$' THEN rtrim(rtrim({t}, '0'), '.') ELSE {t} END"
    return f"({col})::text"


#: native types whose PostgreSQL hash agrees with equality of the canonical text
_PG_NATIVE_TEXT = frozenset({"text", "varchar", "char", "string", "unicode", "unicodetext"})


def _native_ok(kind: str, a: Any, b: Any) -> bool:
    # ``native``: the declared type's class name (``other:…`` for a type verify reads as text)
    if a != b or a.kind != kind or a.native.startswith("other:"):
        return False
    return kind != "text" or a.native in _PG_NATIVE_TEXT


def _encode(values: list[str]) -> str:
    enc = [f"coalesce(char_length({v})::text || ':' || {v}, '{NULL_MARK}')" for v in values]
    return " || ".join(enc) if enc else "''"


def _stamp(col: str, side: DigestSide) -> str:
    """A timestamp's digest text on PostgreSQL: its ISO text, fraction without zeros."""
    if side.kind == "date":
        return f"({col})::text || ' 00:00:00'"
    # under DateStyle ISO a timestamp prints its fraction without trailing zeros: half
    # the cost of to_char
    return f"(({col} AT TIME ZONE 'UTC'))::text" if side.tz else f"({col})::text"
