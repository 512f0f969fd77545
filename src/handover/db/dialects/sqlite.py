"""SQLite: what handover does differently on SQLite files.

Reflection: declared types as written and dates/times as the text the file stores, with
the one spelling a column's values share (:func:`native`, one aggregate query per table).
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from handover.db.dialects.base import (
    NULL_MARK,
    Declared,
    Dialect,
    DigestSide,
    Fold,
    Kind,
    ascii_fold,
    is_adbc,
    is_adbc_error,
)
from handover.db.spelling import DEFAULT, TEMPORAL, Spelling, sqlite_type

if TYPE_CHECKING:
    import pyarrow as pa

    from handover.db.reflect import ColumnDef, TableDef
    from handover.i18n import Msg


#: significant digits a REAL keeps exactly; SQLite's NUMERIC affinity stores a decimal
#: that is not a 64-bit integer as a REAL
EXACT_DIGITS = 15
INEXACT = "SQLite would keep only 15 significant digits of this decimal (REAL)"
_INT64_MAX = str(2**63 - 1)
_INT64_MIN_ABS = str(2**63)
_INT53 = str(2**53)


class SQLite(Dialect):
    """SQLite through the standard ``sqlite3`` module."""

    name: ClassVar[str] = "sqlite"
    title: ClassVar[str] = "SQLite"
    backends: ClassVar[tuple[str, ...]] = ("sqlite",)
    placeholder: ClassVar[str] = "?"
    typed: ClassVar[bool] = False
    sessions: ClassVar[dict[str, tuple[str, ...]]] = {
        # the platform store: concurrent readers, waits instead of "database is locked",
        # enforced foreign keys, and a commit that survives a power cut
        "store": (
            "PRAGMA journal_mode=WAL",
            "PRAGMA busy_timeout=30000",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=FULL",
        ),
    }

    # --- reflection ------------------------------------------------------------------

    def kind_of(self, t: Any) -> Kind | None:
        """SQLite INTEGER is 64-bit whatever the spelling, REAL is 8 bytes, and CHAR(n) is
        never padded (its limit is kept, not the padding)."""
        st = sa.types
        if isinstance(t, st.Integer) and not isinstance(t, st.SmallInteger):
            return "int64", None, None, None
        if isinstance(t, st.Float):
            return "float64", None, None, None
        if isinstance(t, st.CHAR | st.NCHAR):
            n = t.length
            return ("string", n, None, None) if n else ("text", None, None, None)
        return None

    def is_integer_key(self, t: Any) -> bool:
        """Only a column declared exactly INTEGER aliases the rowid (auto-assigned)."""
        return type(t) is sa.INTEGER

    def autoincrement(self, info: dict[str, Any], auto: bool, *, sole_int_pk: bool) -> bool:
        """The rowid alias is the only auto-assigned column."""
        return sole_int_pk

    def native_tables(
        self, conn: sa.Connection, defs: list[TableDef], *, spellings: bool = True
    ) -> list[TableDef]:
        """Each table with its declared types as written and its dates and times as the
        text the file stores (see :func:`native`); the spellings of a file's tables are
        profiled on two read-only connections at once (each profile is a full scan)."""
        profiles: dict[str, Sequence[Any]] = {}
        if spellings:
            profiles = _profiles(conn, [d for d in defs if _profile_query(d)])
        return [native(conn, d, spellings=spellings, profile=profiles.get(d.name)) for d in defs]

    # --- sources: reading -----------------------------------------------------------

    row_id: ClassVar[str | None] = "rowid"
    # dates and times are stored text; DECIMAL(p,s) comes as stored (REAL/INTEGER/TEXT)
    text_kinds: ClassVar[frozenset[str]] = frozenset(
        {"date", "timestamp", "timestamptz", "decimal"}
    )

    def affinity(self, declared: str) -> str:
        """How a column declared ``declared`` is read: ``integer``, ``real``, ``blob`` or
        ``text`` (SQLite's type affinity rules, section 3.1 of its datatype documentation;
        NUMERIC affinity and no declared type are read as text)."""
        decl = declared.upper()
        if "INT" in decl:
            return "integer"
        if "BLOB" in decl:
            return "blob"
        if decl and any(k in decl for k in ("REAL", "FLOA", "DOUB")):
            return "real"
        return "text"

    def misfits_sql(self, table: str, column: str, affinity: str) -> str:
        """How many values of the quoted ``column`` are stored in a class its numeric
        ``affinity`` does not read (SQLite keeps text in an INTEGER column as text)."""
        want = ("integer",) if affinity == "integer" else ("integer", "real")
        allowed = ",".join(f"'{w}'" for w in (*want, "null"))
        return f"SELECT count(*) FROM {table} WHERE typeof({column}) NOT IN ({allowed})"

    def sample_where(self, seed: int, fraction: float, n: int) -> str:
        """About ``fraction`` of the rows, at most ``n``, chosen by a seeded hash of the
        rowid, filtered inside SQLite (a WITHOUT ROWID table has none: an error)."""
        thr = int(fraction * 2_147_483_648)
        return (
            f" WHERE ((((rowid + {int(seed) % 1_000_003}) * 1103515245 + 12345) "
            f"% 2147483648) * 48271 % 2147483648) < {thr} LIMIT {int(n)}"
        )

    # --- migrate: the tables a copy creates ---------------------------------------------

    # foreign keys cannot be added later (and are not checked on load); uniques are indexes
    alters_constraints: ClassVar[bool] = False

    def name_problem(self, name: str) -> Msg | None:
        """Names starting ``sqlite_`` are reserved for SQLite itself."""
        from handover.i18n import Msg

        if ascii_fold(name).startswith("sqlite_"):
            return Msg("db.name.sqlite_reserved")
        return super().name_problem(name)

    def name_folds(self, conn: sa.Connection) -> tuple[Fold, Fold]:
        """Table, index and column names compare without case (ASCII letters only)."""
        return ascii_fold, ascii_fold

    def write_problems(self, conn: sa.Connection) -> list[Msg]:
        """The file (or, for a new file, its folder: the journal goes beside it) must be
        writable."""
        import os
        from pathlib import Path

        from handover.i18n import Msg

        file = conn.engine.url.database
        if not file or file == ":memory:":
            return []
        path = Path(file)
        out: list[Msg] = []
        if path.exists() and not os.access(path, os.W_OK):
            out.append(Msg("db.write.file_read_only", path=path))
        if not os.access(path.parent, os.W_OK | os.X_OK):
            out.append(Msg("db.write.folder_read_only", path=path.parent))
        return out

    def column_type(self, col: ColumnDef, *, key: bool = False) -> sa.types.TypeEngine[Any]:
        """A SQLite source's own declared type as written (the same affinity); only
        ``INTEGER PRIMARY KEY`` aliases the rowid."""
        if col.sqlite_type:
            return Declared(col.sqlite_type)
        if col.autoincrement and col.kind in ("int16", "int32", "int64"):
            return sa.Integer()
        return super().column_type(col, key=key)

    # --- migrate: bulk writes ------------------------------------------------------------

    explicit_transactions: ClassVar[bool] = True
    # SQLite stores a NaN as NULL; infinities are kept
    keeps_non_finite: ClassVar[frozenset[str]] = frozenset({"inf"})

    @contextmanager
    def page_cache(self, dbapi: Any, mib: int) -> Iterator[None]:
        """``PRAGMA cache_size`` raised to ``mib`` MiB for the block, then set back (the
        pages above the old size are freed). With the default 2 MiB an index keyed by a
        hash misses the cache on almost every row once it outgrows it."""
        cur = dbapi.cursor()
        try:
            before = int(cur.execute("PRAGMA cache_size").fetchone()[0])
            cur.execute(f"PRAGMA cache_size={-1024 * int(mib)}")
            try:
                yield
            finally:
                cur.execute(f"PRAGMA cache_size={before}")
        finally:
            cur.close()

    @contextmanager
    def index_after(self, dbapi: Any, drop: str, create: str) -> Iterator[None]:
        """``CREATE INDEX`` sorts its entries once; a million keyed hashes inserted one by
        one each land in a random page. SQLite's DDL is transactional: only inside an
        open transaction (``sqlite3`` opens one at the first write), where a failure
        rolls the drop back too; otherwise nothing is changed."""
        if not dbapi.in_transaction:
            yield
            return
        cur = dbapi.cursor()
        try:
            cur.execute(drop)
            yield
            cur.execute(create)
        finally:
            cur.close()

    def prepare_writes(self, dbapi: Any) -> tuple[str, ...]:
        """BEGIN/COMMIT are issued as statements; tables load in any order."""
        if not is_adbc(dbapi):  # ADBC's connection is opened in autocommit mode
            dbapi.isolation_level = None
        return ("PRAGMA foreign_keys=OFF",)

    def bulk_connection(
        self, engine: sa.Engine, *, own_process: bool
    ) -> tuple[Any, Callable[[], None]] | None:
        """ADBC's connection to the target file, which appends an Arrow batch in C
        (``adbc_ingest``: about 2.4× ``executemany`` of Python rows), and its closing.

        ADBC links its own copy of the SQLite library. Two copies in one process must never
        have the same file open at once: each keeps its POSIX locks apart, and a copy
        closing its handle drops the other's locks (SQLite's "How To Corrupt", 2.2). So the
        engine's pooled connections are closed first, and the engine refuses to connect
        until this connection is closed. None (``sqlite3`` writes then): the driver is not
        installed, the target is no file, one of the engine's connections is in use, or
        the driver cannot open it, or the run shares its process (another user of the file
        there would not see the engine's refusal).
        """
        if not own_process:
            return None
        path = engine.url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        checkedout = getattr(engine.pool, "checkedout", None)  # QueuePool's count
        if checkedout is None or checkedout():  # held elsewhere: dispose() would not close it
            return None
        try:
            import adbc_driver_manager
            import adbc_driver_sqlite.dbapi as adbc
        except ImportError:
            return None

        def refuse(*_args: Any) -> None:
            # before the driver opens the file ("do_connect"): a handle opened and closed
            # again would drop ADBC's locks on it all the same
            raise RuntimeError("the SQLite target is open by ADBC's bulk writer")

        engine.dispose()
        sa.event.listen(engine, "do_connect", refuse)
        conn: Any = None
        try:
            conn = adbc.connect(str(Path(path)), autocommit=True)
            cur = conn.cursor()
            try:  # wait for another process's reader as sqlite3 does (its 5 s default)
                cur.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            finally:
                cur.close()
        except BaseException as exc:
            if conn is not None:
                conn.close()
            sa.event.remove(engine, "do_connect", refuse)
            if isinstance(exc, adbc_driver_manager.Error):
                return None
            raise

        def close() -> None:
            try:
                conn.close()
            finally:
                sa.event.remove(engine, "do_connect", refuse)

        return conn, close

    def bulk_insert(
        self,
        dbapi: Any,
        table: str,
        columns: list[str],
        batch: pa.RecordBatch,
        kinds: list[str],
        bound: Callable[[pa.RecordBatch], list[pa.Array]],
    ) -> None:
        """On ADBC's connection (:meth:`bulk_connection`) the columns ``bound(batch)`` gives are
        bound from Arrow in C (``adbc_ingest``, which quotes the names itself); on
        ``sqlite3``'s, ``executemany`` of Python rows."""
        if not is_adbc(dbapi):
            super().bulk_insert(dbapi, table, columns, batch, kinds, bound)
            return
        import pyarrow as pa

        rows = pa.RecordBatch.from_arrays(bound(batch), names=columns)
        cur = dbapi.cursor()
        try:
            cur.adbc_ingest(table, rows, mode="append")
        finally:
            cur.close()

    def unstorable(self, table: TableDef, batch: pa.RecordBatch) -> dict[int, tuple[str, str]]:
        """Decimals SQLite would round (see :func:`inexact`) and NaN (stored as NULL)."""
        out = {r: (c, INEXACT) for r, c in inexact(table, batch).items()}
        for r, found in super().unstorable(table, batch).items():
            out.setdefault(r, found)
        return out

    def is_data_error(self, exc: BaseException) -> bool:
        """sqlite3's IntegrityError and DataError; from ADBC's driver, which tells no
        error class, an error with the text SQLite gives those (a constraint failed, a
        datatype mismatch, a value too big)."""
        if isinstance(exc, sqlite3.IntegrityError | sqlite3.DataError):
            return True
        return is_adbc_error(exc) and _REFUSED.search(str(exc).split("\n")[0]) is not None

    def describe_error(self, exc: BaseException) -> tuple[str, str, str]:
        """The column a constraint failure names (``… failed: table.column``); SQLite's
        own message (ADBC's prefix and its copy of the statement left out)."""
        msg = str(exc)
        if is_adbc_error(exc):
            msg = _ADBC_PREFIX.sub("", msg.split("\n")[0])
        m = re.search(r"failed: [^.]+\.(\S+)", msg)
        return (m.group(1) if m else ""), msg, ""

    # --- verify: digests inside the database ----------------------------------------------

    fence: ClassVar[str] = " LIMIT -1 OFFSET 0"
    # hex(NULL) = '' and quote(NULL) = 'NULL'
    null_rendering_kinds: ClassVar[frozenset[str]] = frozenset({"bool", "bytes", "stored"})

    def value_sql(self, col: str, kind: str, side: DigestSide) -> str:
        """See :meth:`Dialect.value_sql`; ``stored`` is the value exactly as SQLite stores
        it (storage class and every byte)."""
        return _value(col, kind, side)

    def row_expr(self, values: list[str]) -> str:
        """See :meth:`Dialect.row_expr`."""
        return _encode(values)

    def hash32_expr(self, text_sql: str) -> str:
        """SQLite has no hash function: ``ho_h32``, registered on the connection by verify."""
        return f"ho_h32({text_sql})"

    def digest_sql(self, row_sql: str) -> str:
        """``ho_sum60``, the aggregate verify registers on the connection."""
        return f"ho_sum60({row_sql})"

    def non_integer_key(self, conn: sa.Connection, table: str, column: str) -> bool:
        """SQLite keeps a TEXT, REAL or BLOB in an INTEGER (or BIGINT …) key column of a
        table that has its own rowid, where key ranges cannot find it and its segment
        arithmetic names another segment. A rowid alias holds integers only: no scan."""
        pk = conn.exec_driver_sql(
            "SELECT name, upper(type) FROM pragma_table_info(?) WHERE pk > 0", (table,)
        ).all()
        listed = conn.exec_driver_sql(
            "SELECT wr FROM pragma_table_list WHERE name = ?", (table,)
        ).first()
        if len(pk) == 1 and tuple(pk[0]) == (column, "INTEGER") and not (listed and listed[0]):
            return False
        q = self.quote
        found = conn.exec_driver_sql(
            f"SELECT 1 FROM {q(table)} WHERE typeof({q(column)}) NOT IN ('integer', 'null') LIMIT 1"
        ).first()
        return found is not None

    def split_scans(self, inline: bool) -> bool:
        """A query runs on one thread and its digest aggregate holds the GIL only for the
        hashing: two halves of the key, on two connections, use both cores."""
        return True

    def key_ranges(self, table: str, seg: str, ranges: Sequence[tuple[int, int]]) -> str:
        """SQLite names the columns of a VALUES list ``column1``, ``column2``."""
        rows = ", ".join(f"({a}, {b})" for a, b in ranges)
        sel = f"SELECT column1 AS ho__lo, column2 AS ho__hi FROM (VALUES {rows})"
        on = f"{seg} >= ho__r.ho__lo AND {seg} < ho__r.ho__hi"
        return f" FROM {table} JOIN ({sel}) ho__r ON {on}"

    # --- verify: two SQLite files compared in one statement -------------------------------

    compares_attached: ClassVar[bool] = True

    def main_file(self, raw: Any) -> str:
        """The file of the raw connection's main database ('' for a memory database)."""
        for _seq, name, file in raw.execute("PRAGMA database_list").fetchall():
            if name == "main":
                return str(file or "")
        return ""

    def attach(self, raw: Any, path: str, *, uri: bool) -> bool:
        """Open the file ``path`` beside the main database as :data:`PAIR` (read-only when
        the connection takes URI file names); False if SQLite refuses (e.g. the files
        differ in text encoding). Both files are then read through memory maps of up to
        :data:`PAIR_MMAP` bytes each: a join reads every page of both, and a mapped page
        costs no system call (6 % of the 1 M-customer book's join CPU)."""
        from handover.db.url import read_only_uri

        target = read_only_uri(path) if uri else path
        try:
            raw.execute(f"ATTACH DATABASE ? AS {PAIR}", (target,))
        except sqlite3.Error:
            return False
        for schema in ("main", PAIR):
            raw.execute(f"PRAGMA {schema}.mmap_size = {PAIR_MMAP}")
        return True

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        """What the sqlite3 module raises."""
        return (sqlite3.Error,)

    def interrupt(self, raw: Any) -> None:
        """``sqlite3_interrupt``: the statement under way ends with an error."""
        raw.interrupt()

    def cancel(self, engine: sa.Engine, raw: Any) -> None:
        """A file has no server: the statement is interrupted in this process."""
        self.interrupt(raw)

    def detach(self, raw: Any) -> None:
        """Close what :meth:`attach` opened (and the main file's map)."""
        raw.execute(f"DETACH DATABASE {PAIR}")
        raw.execute("PRAGMA main.mmap_size = 0")

    def pair_sql(
        self, raw: Any, tables: tuple[str, str], columns: tuple[list[str], list[str]], pk: list[int]
    ) -> PairSQL | None:
        """The statements comparing ``tables`` (main's, then the attached file's) column by
        column, or None when their keys cannot be joined one to one (see :class:`PairSQL`)."""
        return pair_sql(raw, tables, columns, pk)

    # --- erase: sanitization -------------------------------------------------------------

    sanitization: ClassVar[str] = "sqlite.secure_delete"
    sanitization_whole: ClassVar[str | None] = "sqlite.overwrite"
    change_guard: ClassVar[tuple[tuple[str, ...], tuple[str, ...]]] = (
        ("BEGIN IMMEDIATE",),
        ("COMMIT",),
    )

    def storage_class(self, quoted: str) -> str:
        """``typeof()``: SQLite keeps each value in its own storage class."""
        return f"typeof({quoted})"

    def drop_sql(self, quoted: list[str]) -> list[str]:
        """One DROP TABLE per table."""
        return [f"DROP TABLE {q}" for q in quoted]

    def reclaim_sql(self, quoted: list[str]) -> list[str]:
        """VACUUM rebuilds the file without the freed pages; the checkpoint then empties
        the WAL (which held the zeroed pages)."""
        return ["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"]

    def secure_delete_sql(self, journal_mode: str) -> list[str]:
        """Before the change: freed cells and pages are overwritten with zeros as they are
        freed; in WAL mode the next frames overwrite the old ones from the WAL's start; a
        rollback journal would hold the ORIGINAL pages of every changed page, so the change
        runs in WAL mode (only the new, zeroed versions go to the WAL)."""
        if journal_mode == "wal":
            return ["PRAGMA secure_delete=ON", "PRAGMA wal_checkpoint(RESTART)"]
        return ["PRAGMA secure_delete=ON", "PRAGMA journal_mode=WAL"]

    def restore_journal_sql(self, journal_mode: str) -> list[str]:
        """After the change: the journal mode the file had."""
        return [] if journal_mode == "wal" else [f"PRAGMA journal_mode={journal_mode.upper()}"]


DIALECT = SQLite()


# --- verify: the canonical text in SQLite's SQL ----------------------------------------------


#: how long ADBC's writer waits for another connection's lock (``sqlite3``'s default)
BUSY_MS = 5000
#: SQLite's messages of SQLITE_CONSTRAINT, SQLITE_MISMATCH and SQLITE_TOOBIG, the errors
#: ``sqlite3`` raises as IntegrityError or DataError
_REFUSED = re.compile(r"constraint failed|datatype mismatch|string or blob too big")
#: what ADBC's driver puts before SQLite's message
_ADBC_PREFIX = re.compile(r"^[A-Z_]+: (?:failed to execute|Failed to step query): ")


def _plain(g: str, col: str) -> str:
    """The plain decimal text of the REAL ``col`` whose ``%.15g`` text ``g`` has an
    exponent (``2.5e-05`` → ``0.000025``, ``1e+20`` → ``100000000000000000000``), as
    PostgreSQL prints it and :func:`handover.verify.normalize.render_value` renders it;
    ``%g`` leaves no trailing zero in the digits."""
    at = f"instr({g}, 'e')"
    digits = f"replace(replace(substr({g}, 1, {at} - 1), '-', ''), '.', '')"
    ex = f"CAST(substr({g}, {at} + 1) AS INTEGER)"

    def zeros(n: str) -> str:
        return f"replace(hex(zeroblob({n})), '00', '0')"

    return (
        f"(CASE WHEN {col} < 0 THEN '-' ELSE '' END || CASE WHEN {ex} < 0 "
        f"THEN '0.' || {zeros(f'-{ex} - 1')} || {digits} "
        f"ELSE {digits} || {zeros(f'{ex} + 1 - length({digits})')} END)"
    )


def _strip(v: str) -> str:
    """Drop trailing zeros (and a bare '.') of a plain decimal literal."""
    return (
        f"CASE WHEN instr({v}, '.') > 0 AND instr(lower({v}), 'e') = 0 "
        f"THEN rtrim(rtrim({v}, '0'), '.') ELSE {v} END"
    )


#: 'YYYY-MM-DD HH:MM:SS' in ASCII digits: nothing to trim or replace, 19 characters
_STAMP_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"


#: kinds whose text a BLOB must never share with any value a server holds
_NOT_BYTES = frozenset({"int", "decimal", "float", "date", "timestamp"})


def _value(col: str, kind: str, side: DigestSide) -> str:
    expr = _value_of(col, kind, side)
    if kind in _NOT_BYTES:
        # a BLOB: NUL and its hex, which no server's number, date or time text is (its
        # CAST to text would be its bytes: X'35' would pass for the number 5)
        return f"CASE WHEN typeof({col}) = 'blob' THEN char(0) || hex({col}) ELSE {expr} END"
    return expr


def _value_of(col: str, kind: str, side: DigestSide) -> str:
    if kind == "stored":
        # storage class and every byte (a REAL exactly: 15 digits, or 20 when needed)
        return f"quote({col})"
    if kind == "int":
        return (
            f"CASE WHEN typeof({col}) = 'real' AND {col} = CAST({col} AS INTEGER) "
            f"THEN CAST(CAST({col} AS INTEGER) AS TEXT) ELSE CAST({col} AS TEXT) END"
        )
    if kind in ("decimal", "float"):
        # REAL prints with 15 significant digits ('%!.15g'); text and real get their
        # trailing zeros dropped; integers are already canonical. Where '%g' prints a REAL
        # in plain notation (10^-3 ≤ |x| ≤ 10^14), '%.15g' is that text already stripped,
        # and formats the value once instead of four times (SQLite's float printing is
        # most of a decimal column's cost)
        t = f"CAST({col} AS TEXT)"
        g = f"printf('%.15g', {col})"
        return (
            f"CASE typeof({col}) WHEN 'integer' THEN {t} "
            f"WHEN 'real' THEN CASE WHEN abs({col}) BETWEEN 1e-3 AND 1e14 "
            f"THEN {g} WHEN instr({g}, 'e') > 0 THEN {_plain(g, col)} ELSE {_strip(t)} END "
            f"ELSE {_strip(t)} END"
        )
    if kind == "bool":
        return (
            f"CASE WHEN typeof({col}) IN ('integer', 'real') THEN "
            f"(CASE WHEN {col} <> 0 THEN '1' ELSE '0' END) "
            f"WHEN lower(trim({col})) IN ('1','t','true','y','yes','on') THEN '1' ELSE '0' END"
        )
    if kind == "timestamp":
        # the usual spelling first: one GLOB instead of trimming and replacing four times
        v = f"replace(trim({col}), 'T', ' ')"
        return (
            f"CASE WHEN typeof({col}) <> 'text' THEN CAST({col} AS TEXT) "
            f"WHEN {col} GLOB '{_STAMP_GLOB}' THEN {col} || '.000000' "
            f"WHEN length({v}) = 10 THEN {v} || ' 00:00:00.000000' "
            f"WHEN length({v}) = 19 THEN {v} || '.000000' "
            f"WHEN length({v}) > 26 THEN {v} "
            f"ELSE substr({v} || '000000', 1, 26) END"
        )
    if kind == "date":
        return f"CASE WHEN typeof({col}) = 'text' THEN substr({col}, 1, 10) ELSE CAST({col} AS TEXT) END"
    if kind == "bytes":
        return f"lower(hex({col}))"
    if kind == "time":
        # normalize.clock_trim: the fraction's trailing zeros, and a bare point, dropped
        t = f"CAST({col} AS TEXT)"
        fraction_last = f"{t} GLOB '*.*' AND {t} NOT GLOB '*.*[^0-9]*'"
        return f"CASE WHEN {fraction_last} THEN rtrim(rtrim({t}, '0'), '.') ELSE {t} END"
    return f"CAST({col} AS TEXT)"


def _encode(values: list[str]) -> str:
    enc = [f"coalesce(length({v}) || ':' || {v}, '{NULL_MARK}')" for v in values]
    return " || ".join(enc) if enc else "''"


# --- verify: SQLite against SQLite, joined by key ------------------------------------------

#: the schema name of the attached (target) file
PAIR = "ho__dst"
#: the memory map of each file a pair's join reads (SQLite caps it at its build's
#: SQLITE_MAX_MMAP_SIZE, 2 GB by default; the rest of a larger file is read as usual).
#: Verify compares files at rest (docs/verify.md): a file cut short under a map would
#: end the process, where a read would fail
PAIR_MMAP = 1 << 31
#: the smallest 64-bit integer: the one integer that a REAL of equal value may face in a
#: column of INTEGER or NUMERIC affinity (SQLite keeps that REAL: ticket #3922)
_INT64_MIN = -(2**63)


def storage_affinity(declared: str) -> str:
    """SQLite's column affinity of a declared type (its datatype documentation, 3.1):
    ``INTEGER``, ``TEXT``, ``BLOB``, ``REAL`` or ``NUMERIC``. ``ANY`` (kept as given in a
    STRICT table) counts as ``BLOB``: any storage class."""
    decl = declared.upper()
    if "INT" in decl:
        return "INTEGER"
    if any(k in decl for k in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not decl.strip() or "BLOB" in decl or decl.strip() == "ANY":
        return "BLOB"
    if any(k in decl for k in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _differs(a: str, b: str, aff: tuple[str, str]) -> str:
    """SQL true when the values ``a`` and ``b`` differ in storage class or bytes, as
    ``quote()`` would tell them apart (NULL is equal only to NULL).

    Unary ``+`` drops the columns' affinities, so text never equals a number, and
    ``COLLATE BINARY`` compares text byte by byte. What is left is :func:`_class_differs`.
    """
    base = f"+{a} IS NOT +{b} COLLATE BINARY"
    rest = _class_differs(a, b, aff)
    return base if rest is None else f"{base} OR {rest}"


def _key_differs(a: str, b: str, aff: str, *, rowid: bool) -> str | None:
    """SQL true when key values the join found equal (same affinity, BINARY collation)
    still differ as ``quote()`` tells them apart: :func:`_class_differs` (None: never). A
    rowid is always an INTEGER."""
    return None if rowid else _class_differs(a, b, (aff, aff))


def _class_differs(a: str, b: str, aff: tuple[str, str]) -> str | None:
    """SQL true when values that compare equal differ in storage class (None: they never
    can): an INTEGER against a REAL of equal value. A column of the same TEXT or REAL
    affinity on both sides cannot hold that pair (SQLite converts every number stored
    there), one of INTEGER or NUMERIC affinity only at -2^63; any other pair compares the
    storage classes."""
    if aff[0] == aff[1] and aff[0] in ("TEXT", "REAL"):
        return None
    if aff[0] == aff[1] and aff[0] in ("INTEGER", "NUMERIC"):
        return f"(+{a} = {_INT64_MIN} AND typeof({a}) <> typeof({b}))"
    return f"typeof({a}) <> typeof({b})"


@dataclass(frozen=True)
class PairSQL:
    """The statements comparing a table of the main database with its namesake in the
    attached file, joined on the primary key.

    The join is one to one because each key column has the same affinity on both sides
    and compares with BINARY collation: two keys one side holds apart are never equal to
    one key of the other side. :meth:`changed` gives every source row without a partner
    and every pair that differs in some column; :meth:`extra` the target rows without a
    partner. Both take a condition on the first key column, ``{k}`` standing for it.
    """

    source: str
    target: str
    #: quoted columns of each side, in the order of the comparison
    a_cols: tuple[str, ...]
    b_cols: tuple[str, ...]
    on: str
    diff: str
    #: position of the first key column (split into ranges when it holds integers)
    first: int
    #: the key is the rowid on both sides (an integer, never NULL)
    rowid: bool
    #: the key is not the rowid, but both tables have one (``{r}`` in a condition)
    rowids: bool = False

    def _both_cols(self) -> str:
        """Every column of the source row, then of its partner."""
        return ", ".join([f"a.{x}" for x in self.a_cols] + [f"b.{y}" for y in self.b_cols])

    @staticmethod
    def _rowid_in(side: str, rowids: Sequence[int]) -> str:
        return f"{side}._rowid_ IN ({', '.join(str(int(r)) for r in rowids)})"

    def _cond(self, where: str, side: str) -> str:
        """``where`` on one side: ``{k}`` its first key column, ``{r}`` its rowid."""
        cols = self.a_cols if side == "a" else self.b_cols
        names = {"{k}": f"{side}.{cols[self.first]}", "{r}": f"{side}._rowid_"}
        return re.sub(r"\{[kr]\}", lambda m: names[m.group(0)], where)

    def changed(self, where: str = "1") -> str:
        """Source rows (then their partners' columns, NULL without one) missing from the
        target or differing, of the source rows ``where``."""
        return (
            f"SELECT {self._both_cols()} FROM {self.source} AS a "
            f"LEFT JOIN {self.target} AS b ON {self.on} WHERE ({self._cond(where, 'a')}) AND (b.{self.b_cols[self.first]} IS NULL "
            f"OR {self.diff})"
        )

    def extra(self, where: str = "1") -> str:
        """Target rows without a source row, of the target rows ``where``."""
        cols = ", ".join(f"b.{y}" for y in self.b_cols)
        return (
            f"SELECT {cols} FROM {self.target} AS b WHERE ({self._cond(where, 'b')}) "
            f"AND NOT EXISTS (SELECT 1 FROM {self.source} AS a WHERE {self.on})"
        )

    # --- by rowid: where the copy kept the rowids, a row's partner is one seek away -----
    #
    # A key that is not the rowid costs two seeks a row (the key's index, then the row).
    # Where the target kept the source's rowids (a copy of the file, a restored backup),
    # the row at the same rowid is the partner whenever its key is equal: keys are unique
    # on each side, so no other row can be. The rows whose rowid partner has another key
    # (or none) are few there, and are looked up by key; everywhere else they are many,
    # and the caller stops at ``cap`` and joins by key instead.

    def _keys_equal(self) -> str:
        return f"({self.on}) IS 1"

    def _keys_differ(self) -> str:
        return f"({self.on}) IS NOT 1"

    def changed_by_rowid(self, where: str, cap: int) -> str:
        """Like :meth:`changed`, the partner sought by rowid: source rows whose partner
        there differs, and those whose row there has another key or none (the last column
        says which: 1 = partner), at most ``cap`` + 1 rows; then the source's rowid."""
        return (
            f"SELECT {self._both_cols()}, a._rowid_, {self._keys_equal()} FROM {self.source} AS a "
            f"LEFT JOIN {self.target} AS b ON b._rowid_ = a._rowid_ "
            f"WHERE ({self._cond(where, 'a')}) AND ({self._keys_differ()} OR {self.diff}) "
            f"LIMIT {cap + 1}"
        )

    def changed_of(self, rowids: Sequence[int]) -> str:
        """:meth:`changed`'s rows (partner or not, equal or not) of the source rows
        ``rowids``, joined by key."""
        return (
            f"SELECT {self._both_cols()} FROM {self.source} AS a "
            f"LEFT JOIN {self.target} AS b ON {self.on} WHERE {self._rowid_in('a', rowids)}"
        )

    def extra_by_rowid(self, where: str, cap: int) -> str:
        """The rowids of target rows ``where`` whose row at the same rowid in the source
        has another key or none (a superset of :meth:`extra`'s rows), at most ``cap`` + 1."""
        return (
            f"SELECT b._rowid_ FROM {self.target} AS b "
            f"LEFT JOIN {self.source} AS a ON a._rowid_ = b._rowid_ "
            f"WHERE ({self._cond(where, 'b')}) AND {self._keys_differ()} LIMIT {cap + 1}"
        )

    def extra_of(self, rowids: Sequence[int]) -> str:
        """:meth:`extra`'s rows among the target rows ``rowids``."""
        return self.extra(self._rowid_in("b", rowids))

    def rowid_bounds(self) -> tuple[str, str]:
        """The smallest and the largest rowid of the source table (one statement each:
        only a lone ``min()`` or ``max()`` is read from the end of the table)."""
        return f"SELECT min(_rowid_) FROM {self.source}", f"SELECT max(_rowid_) FROM {self.source}"

    def counts(self, where: str = "1") -> tuple[str, str]:
        """The number of source rows and of target rows ``where`` (a bare ``count(*)``
        for every row: SQLite counts a whole table without reading its rows)."""
        if where == "1":
            return f"SELECT count(*) FROM {self.source}", f"SELECT count(*) FROM {self.target}"
        return (
            f"SELECT count(*) FROM {self.source} AS a WHERE {self._cond(where, 'a')}",
            f"SELECT count(*) FROM {self.target} AS b WHERE {self._cond(where, 'b')}",
        )

    def bounds(self, where: str = "1") -> tuple[str, str]:
        """The smallest and the largest first key of the source rows ``where`` (one
        statement each: only a lone ``min()`` or ``max()`` is read from the end of the
        index, or of the index range ``where`` names)."""
        k, t = f"a.{self.a_cols[self.first]}", self.source
        cond = self._cond(where, "a")
        return (
            f"SELECT min({k}) FROM {t} AS a WHERE {cond}",
            f"SELECT max({k}) FROM {t} AS a WHERE {cond}",
        )

    def beyond(self, where: str, lo: int, hi: int) -> tuple[str, str]:
        """The number of target rows ``where`` whose first key lies outside ``[lo, hi]``
        (the source's bounds: no source row holds that key), and those rows (a range of
        the key's index each side). Where the number is the target's unmatched rows, they
        are those rows, and the anti-join of :meth:`extra` is not needed."""
        k = f"b.{self.b_cols[self.first]}"
        cond = f"({self._cond(where, 'b')}) AND ({k} < {lo} OR {k} > {hi})"
        cols = ", ".join(f"b.{y}" for y in self.b_cols)
        return (
            f"SELECT count(*) FROM {self.target} AS b WHERE {cond}",
            f"SELECT {cols} FROM {self.target} AS b WHERE {cond}",
        )

    def split(self, cuts: Sequence[int], by: str = "{k}") -> list[str]:
        """Conditions on ``by`` (``{k}``: the first key; ``{r}``: the rowid) that part the
        rows at each of ``cuts`` (ascending): every non-NULL value is below the first,
        between two, or not below the last; a key that is not the rowid may also be NULL."""
        parts = [f"{by} < {cuts[0]}"]
        parts += [f"{by} >= {a} AND {by} < {b}" for a, b in itertools.pairwise(cuts)]
        parts.append(f"{by} >= {cuts[-1]}")
        return parts if self.rowid or by == "{r}" else [*parts, f"{by} IS NULL"]


def _key_collations(raw: Any, schema: str, table: str) -> list[str] | None:
    """The collation of each primary-key column of ``schema.table`` (None: the key is the
    rowid, an integer)."""
    d = SQLite()
    for row in raw.execute(f"PRAGMA {schema}.index_list({d.quote(table)})").fetchall():
        if row[3] == "pk":
            info = raw.execute(f"PRAGMA {schema}.index_xinfo({d.quote(row[1])})").fetchall()
            return [str(r[4]) for r in info if r[5]]
    return None


def pair_sql(
    raw: Any, tables: tuple[str, str], columns: tuple[list[str], list[str]], pk: list[int]
) -> PairSQL | None:
    """See :meth:`SQLite.pair_sql`."""
    d = SQLite()
    declared = []
    for schema, table, cols in (("main", tables[0], columns[0]), (PAIR, tables[1], columns[1])):
        rows = raw.execute(f"PRAGMA {schema}.table_info({d.quote(table)})").fetchall()
        declared.append({str(r[1]).lower(): str(r[2] or "") for r in rows})
        # each side's own primary key must be the compared key: the joins seek by it
        keys = sorted((int(r[5]), str(r[1]).lower()) for r in rows if r[5])
        if [n for _i, n in keys] != [cols[i].lower() for i in pk]:
            return None
    affs = [
        (storage_affinity(declared[0][a.lower()]), storage_affinity(declared[1][b.lower()]))
        for a, b in zip(columns[0], columns[1], strict=True)
    ]
    if any(affs[i][0] != affs[i][1] for i in pk):
        return None
    rowid = True
    for schema, table in (("main", tables[0]), (PAIR, tables[1])):
        colls = _key_collations(raw, schema, table)
        rowid = rowid and colls is None
        if colls is not None and any(c.upper() != "BINARY" for c in colls):
            return None
    qa = tuple(d.quote(c) for c in columns[0])
    qb = tuple(d.quote(c) for c in columns[1])
    # BINARY, as the key's index compares: a column's own collation (NOCASE, RTRIM) would
    # pair keys that differ, and the key columns are not compared again below
    binary = "" if rowid else " COLLATE BINARY"
    on = " AND ".join(f"a.{qa[i]} = b.{qb[i]}{binary}" for i in pk)
    tests = [
        _key_differs(f"a.{x}", f"b.{y}", aff[0], rowid=rowid)
        if i in pk
        else _differs(f"a.{x}", f"b.{y}", aff)
        for i, (x, y, aff) in enumerate(zip(qa, qb, affs, strict=True))
    ]
    diff = " OR ".join(t for t in tests if t) or "0"
    source, target = f"main.{d.quote(tables[0])}", f"{PAIR}.{d.quote(tables[1])}"
    rowids = not rowid and all(
        _has_rowid(raw, name, cols) for name, cols in ((source, columns[0]), (target, columns[1]))
    )
    return PairSQL(source, target, qa, qb, on, diff, pk[0], rowid, rowids)


def _has_rowid(raw: Any, table: str, columns: list[str]) -> bool:
    """Whether ``table`` (schema-qualified, quoted) keeps its rows by a rowid that
    ``_rowid_`` names: not a WITHOUT ROWID table, no column of that name."""
    if any(c.lower() == "_rowid_" for c in columns):
        return False
    try:
        raw.execute(f"SELECT _rowid_ FROM {table} LIMIT 0").fetchall()
    except sqlite3.Error:  # a WITHOUT ROWID table has no such column
        return False
    return True


# --- declared types and the spelling of dates and times -----------------------------------

_DIGITS = "[0-9][0-9]"
_HEAD = {
    "date": (10, f"{_DIGITS}{_DIGITS}-{_DIGITS}-{_DIGITS}"),
    "timestamp": (19, f"{_DIGITS}{_DIGITS}-{_DIGITS}-{_DIGITS}[ T]{_DIGITS}:{_DIGITS}:{_DIGITS}"),
    "time": (8, f"{_DIGITS}:{_DIGITS}:{_DIGITS}"),
}


#: a misfit's weight in the profile's sum (a value counts 1 when its separator is ``T``)
_MISFIT = 1 << 32


def _profile_sql(q: str, kind: str) -> list[str]:
    """Five aggregates over column ``q``: misfits (any value not text in one of the shapes)
    times 2^32 plus the values with a ``T``; the values; and, from one length per value
    with 100 added when its fraction ends in 0, the largest and smallest such number and
    the smallest with the 100 subtracted. Each costs one expression per row: SQLite does
    not share work between aggregates."""
    head, glob = _HEAD["timestamp" if kind == "timestamptz" else kind]
    if kind == "date":
        shaped = f"length({q}) = {head} AND {q} GLOB '{glob}'"
    else:
        shaped = (
            f"CASE WHEN length({q}) = {head} THEN {q} GLOB '{glob}' "
            f"ELSE length({q}) BETWEEN {head + 2} AND {head + 7} AND {q} GLOB '{glob}.[0-9]*' "
            f"AND substr({q}, {head + 2}) NOT GLOB '*[^0-9]*' END"
        )
    tee = f"substr({q}, 11, 1) = 'T'" if kind in ("timestamp", "timestamptz") else "0"
    code = (
        f"CASE WHEN {q} IS NULL THEN 0 WHEN typeof({q}) = 'text' AND ({shaped}) THEN {tee} "
        f"ELSE {_MISFIT} END"
    )
    zero = f"100 * (length({q}) > {head} AND substr({q}, -1) = '0')"
    return [
        f"sum({code})",
        f"count({q})",
        f"max(length({q}) + {zero})",
        f"min(length({q}) - {zero})",
        f"min(length({q}) + {zero})",
    ]


def _decide(kind: str, agg: Sequence[Any]) -> str | None:
    """The one spelling the profiled values share, or None."""
    total, values, high, low_zero, low = (int(x or 0) for x in agg)
    tees = total % _MISFIT
    if total >= _MISFIT or (tees and tees != values):
        return None
    if kind == "date":
        return DEFAULT["date"]
    head = _HEAD["timestamp" if kind == "timestamptz" else kind][0]

    def digits(length: int) -> int:
        return max(length - head - 1, 0)

    if high >= 100:
        # a fraction ending in 0 shows exactly the spelling's digits, the others at least
        zeros = (digits(low_zero + 100), digits(high - 100))
        if zeros[0] != zeros[1] or (low < 100 and digits(low) < zeros[0]):
            return None
        n = zeros[0]
    else:
        n = digits(low) if values else 0
    return Spelling(kind != "time", True, "T" if tees else " ", n).text


def _profile_query(d: TableDef) -> str | None:
    """The one query finding the spellings of ``d``'s dates and times (None: it has none)."""
    exprs: list[str] = []
    for c in d.columns:
        if c.kind in TEMPORAL:
            exprs += _profile_sql('"' + c.name.replace('"', '""') + '"', c.kind)
    if not exprs:
        return None
    return f"SELECT {', '.join(exprs)} FROM {DIALECT.quote(d.name)}"


def _profiles(conn: sa.Connection, defs: list[TableDef]) -> dict[str, Sequence[Any]]:
    """The profile row of each table of ``defs`` (:func:`_profile_query`), two tables at
    once when there are several. Each is computed from the date/time columns read as
    Arrow (:func:`_arrow_profile`) where ADBC's driver reads them as text, else by the
    profile query on a read-only connection (SQLite leaves the interpreter lock while it
    scans)."""
    from concurrent.futures import ThreadPoolExecutor

    from handover.db.adbc import ArrowReader
    from handover.db.url import read_only_uri

    path = DIALECT.main_file(conn.connection.driver_connection)
    if not path:
        return {d.name: conn.exec_driver_sql(str(_profile_query(d))).one() for d in defs}
    arrow = ArrowReader.open(Path(path))
    uri = read_only_uri(path)
    links = [sqlite3.connect(uri, uri=True, check_same_thread=False) for _ in range(2)]
    free: list[sqlite3.Connection] = list(links)

    def one(d: TableDef) -> Sequence[Any]:
        got = _arrow_profile(arrow, d) if arrow is not None else None
        if got is not None:
            return got
        link = free.pop()  # list.pop is atomic; two workers, two links
        try:
            row: Sequence[Any] = link.execute(str(_profile_query(d))).fetchone()
            return row
        finally:
            free.append(link)

    try:
        with ThreadPoolExecutor(max_workers=len(links)) as pool:
            # the largest scans first, so that the two workers end together
            order = sorted(defs, key=lambda d: -_rows_hint(conn, d.name))
            rows = {d.name: r for d, r in zip(order, pool.map(one, order), strict=True)}
    finally:
        for link in links:
            link.close()
        if arrow is not None:
            arrow.close()
    return rows


#: rows per Arrow batch of a profile read
PROFILE_BATCH = 65536
#: the shape of a date/time text, as the profile query's GLOBs (ASCII digits only)
_SHAPES = {
    "date": f"^{_DIGITS}{_DIGITS}-{_DIGITS}-{_DIGITS}$",
    "timestamp": (
        f"^{_DIGITS}{_DIGITS}-{_DIGITS}-{_DIGITS}[ T]{_DIGITS}:{_DIGITS}:{_DIGITS}"
        r"(\.[0-9]{1,6})?$"
    ),
    "time": f"^{_DIGITS}:{_DIGITS}:{_DIGITS}" + r"(\.[0-9]{1,6})?$",
}


def _arrow_profile(arrow: Any, d: TableDef) -> list[Any] | None:
    """The row :func:`_profile_query` gives for ``d``, computed from its date/time columns
    read as Arrow; None where a page holds anything but text and NULLs (or the driver
    refuses one): the query then runs.

    Text is all the driver can hide other values in, so each page of rows is read by a
    statement of its own (:func:`_own_pages`), which the driver types by that page's
    values alone: a BLOB makes the column bytes (the query decides), an INTEGER or a REAL
    among text comes as its text, which no date/time shape matches, a misfit here as in
    the query; and one misfit decides the column (no spelling) whatever the lengths. A
    table without rowids is read as one statement, each value's ``typeof`` beside it
    (a later batch takes any value as text)."""
    cols = [c for c in d.columns if c.kind in TEMPORAL]
    names = [DIALECT.quote(c.name) for c in cols]
    # per column: sum(code), count, max(len + zero), min(len - zero), min(len + zero)
    acc: list[list[Any]] = [[None, 0, None, None, None] for _ in cols]
    pages = _own_pages(arrow, d, names)
    if pages is None:
        return _typed_profile(arrow, d, cols, names, acc)
    try:
        for page in pages:
            if page is None:
                return None
            for i, c in enumerate(cols):
                if not _profile_column(acc[i], c.kind, page.column(i).combine_chunks(), None):
                    return None
    finally:
        pages.close()
    return [v for a in acc for v in a]


def _own_pages(arrow: Any, d: TableDef, names: list[str]) -> Generator[Any, None, None] | None:
    """The columns ``names`` of ``d``'s rows, :data:`PROFILE_BATCH` rows in rowid order
    at a time, each page by a statement of its own: the rowid ending the page first (read
    from the table's tree, no value decoded), then the page's values. None where the
    table has no rowid, or columns named ``rowid``, ``_rowid_`` and ``oid`` hide it (or
    the driver refuses the first statement); a page the driver refuses is None."""
    # a column may be named rowid (or _rowid_, oid) and then hides the real one
    taken = {c.name.lower() for c in d.columns}
    rowid = next((a for a in ("rowid", "_rowid_", "oid") if a not in taken), None)
    if rowid is None:
        return None
    table = DIALECT.quote(d.name)
    step = f"SELECT {rowid} FROM {table} WHERE {rowid} > ? ORDER BY {rowid} LIMIT 1 OFFSET ?"
    first = arrow.page(
        f"SELECT {rowid} FROM {table} ORDER BY {rowid} LIMIT 1 OFFSET ?", (PROFILE_BATCH - 1,)
    )
    if first is None:
        return None
    select = f"SELECT {', '.join(names)} FROM {table}"

    def pages() -> Generator[Any, None, None]:
        low: int | None = None
        end = first
        while True:
            high = end.column(0)[0].as_py() if end.num_rows else None
            if high is not None and type(high) is not int:
                yield None  # no rowid after all: the query decides
                return
            bounds = [(f"{rowid} > ?", low), (f"{rowid} <= ?", high)]
            kept = [(cond, v) for cond, v in bounds if v is not None]
            where = " AND ".join(cond for cond, _ in kept)
            sql = f"{select} WHERE {where}" if where else select
            yield arrow.page(sql, tuple(v for _, v in kept))
            if high is None:
                return
            low = high
            end = arrow.page(step, (low, PROFILE_BATCH - 1))
            if end is None:
                yield None
                return

    return pages()


def _typed_profile(
    arrow: Any, d: TableDef, cols: list[ColumnDef], names: list[str], acc: list[list[Any]]
) -> list[Any] | None:
    """:func:`_arrow_profile` for a table without rowids: one statement, each value's
    ``typeof`` read beside it (the driver may turn a BLOB or a number into text in a
    batch after the first)."""
    exprs = [f"{q}, typeof({q}) NOT IN ('text', 'null')" for q in names]
    stream = arrow.stream(f"SELECT {', '.join(exprs)} FROM {DIALECT.quote(d.name)}", PROFILE_BATCH)
    pages = stream.pages()
    try:
        for page in pages:
            for i, c in enumerate(cols):
                arr = page.column(2 * i).combine_chunks()
                other = page.column(2 * i + 1).combine_chunks()
                if not _profile_column(acc[i], c.kind, arr, other):
                    return None
    finally:
        pages.close()
    if stream.refused:
        return None
    return [v for a in acc for v in a]


def _profile_column(a: list[Any], kind: str, arr: Any, other: Any) -> bool:
    """Add one page of a column (``other``: 1 where a value is stored as other than
    text, None where the page's type tells) to its figures ``a``; False where the page
    holds other than text (or a NUL: SQLite's length() and GLOB stop there), which the
    query decides.

    One regex pass over the text finds the shaped values; the rest is read off the
    offsets and bytes of the array: a shaped value is ASCII, so its length in bytes is
    the query's length in characters, and its separator and last character are the
    bytes at those places (a misfit's length decides nothing: one misfit decides the
    column)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(arr)
    if n:
        a[0] = a[0] or 0  # sum(code): a NULL counts 0, NULL only without rows
    if arr.null_count == n:
        return True
    if not pa.types.is_string(arr.type):
        return False
    kind = "timestamp" if kind == "timestamptz" else kind
    head = _HEAD[kind][0]
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    raw = arr.buffers()[2]
    data = np.frombuffer(raw, dtype=np.uint8) if raw is not None else np.zeros(0, np.uint8)
    if not data[offsets[0] : offsets[-1]].all():
        return False  # a NUL
    valid = (
        np.ones(n, dtype=bool)
        if arr.null_count == 0
        else arr.is_valid().to_numpy(zero_copy_only=False)
    )
    shaped = pc.fill_null(pc.match_substring_regex(arr, _SHAPES[kind]), False)
    shaped = shaped.to_numpy(zero_copy_only=False)
    if other is not None:
        shaped &= pc.fill_null(other, 0).to_numpy(zero_copy_only=False) == 0
    starts, lengths = offsets[:-1], np.diff(offsets)
    tees = 0
    if kind == "timestamp":
        at = starts[shaped] + 10  # a shaped timestamp has 19 characters or more
        tees = int(np.count_nonzero(data[at] == ord("T")))
    misfits = int(np.count_nonzero(valid & ~shaped))
    last = data[np.maximum(offsets[1:] - 1, 0)] if data.size else np.zeros(n, np.uint8)
    zero = (lengths > head) & (last == ord("0"))
    up = lengths[valid] + 100 * zero[valid]
    down = lengths[valid] - 100 * zero[valid]
    a[0] += misfits * _MISFIT + tees
    a[1] += int(up.size)
    a[2] = _max(a[2], int(up.max()))
    a[3] = _min(a[3], int(down.min()))
    a[4] = _min(a[4], int(up.min()))
    return True


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _rows_hint(conn: sa.Connection, table: str) -> int:
    """About how many rows ``table`` holds: its largest rowid (read from the end of the
    table's tree), 0 without one."""
    try:
        value = conn.exec_driver_sql(f"SELECT max(rowid) FROM {DIALECT.quote(table)}").scalar()
    except sa.exc.SQLAlchemyError:
        return 0
    return int(value or 0)


def native(
    conn: sa.Connection,
    d: TableDef,
    *,
    spellings: bool = True,
    profile: Sequence[Any] | None = None,
) -> TableDef:
    """``d`` (reflected from SQLite) with each column's declared type as written and its
    date/time values carried as their stored text, with the spelling they share if any.

    ``spellings=False`` skips the one query per table that finds the spellings (a full
    scan): for a copy into SQLite, which writes the stored text as it is. ``profile``: that
    query's row, already read.
    """
    from handover.db.reflect import sqlite_columns

    raw = conn.connection.driver_connection
    declared = {c.name: c.declared for c in sqlite_columns(raw, d.name)}
    temporal = [c for c in d.columns if c.kind in TEMPORAL]
    found: dict[str, str | None] = {}
    if temporal and spellings:
        row = profile
        if row is None:
            sql = _profile_query(d)
            assert sql is not None
            row = conn.exec_driver_sql(sql).one()
        for i, c in enumerate(temporal):
            found[c.name] = _decide(c.kind, row[5 * i : 5 * i + 5])
    columns = []
    for c in d.columns:
        change: dict[str, Any] = {"sqlite_type": sqlite_type(declared.get(c.name))}
        if c.kind in TEMPORAL:
            change.update(stored_text=True, spelling=found.get(c.name))
        columns.append(replace(c, **change))
    return replace(d, columns=columns)


# --- decimals SQLite would not keep exactly ---------------------------------------------


def inexact(table: TableDef, batch: pa.RecordBatch) -> dict[int, str]:
    """Rows (index → column) holding a decimal that SQLite would not store exactly.

    A decimal bound as text lands in a NUMERIC column as an INTEGER when it is an
    integer literal within 64 bits, or a literal with a point whose value is an integer
    a double holds exactly (|v| ≤ 2^53); otherwise as a REAL, which keeps 15
    significant digits. A row that would be rounded is refused instead.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    out: dict[int, str] = {}
    for i, col in enumerate(table.columns):
        arr = batch.column(i)
        if col.kind != "decimal" or arr.null_count == len(arr):
            continue
        if pa.types.is_decimal(arr.type) and arr.type.precision <= EXACT_DIGITS:
            continue  # no value of this type has more digits than a REAL keeps
        text = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
        if not pc.any(pc.greater(pc.utf8_length(text), EXACT_DIGITS)).as_py():
            continue  # a text of 15 characters or fewer holds at most 15 digits
        parts = pc.extract_regex(text, r"^[-+]?(?P<i>\d*)(?P<p>\.?)(?P<f>\d*)$")
        whole, point, frac = (pc.struct_field(parts, n) for n in ("i", "p", "f"))
        digits = pc.utf8_rtrim(
            pc.utf8_ltrim(pc.binary_join_element_wise(whole, frac, ""), "0"), "0"
        )
        many = pc.greater(pc.utf8_length(digits), EXACT_DIGITS)
        if not pc.any(many).as_py():
            continue
        whole = pc.utf8_ltrim(whole, "0")
        size = pc.utf8_length(whole)
        limit = pc.if_else(pc.starts_with(text, "-"), _INT64_MIN_ABS, _INT64_MAX)
        int64 = pc.and_(
            pc.equal(point, ""),
            pc.or_(pc.less(size, 19), pc.and_(pc.equal(size, 19), pc.less_equal(whole, limit))),
        )
        int53 = pc.and_(
            pc.equal(pc.utf8_rtrim(frac, "0"), ""),
            pc.or_(pc.less(size, 16), pc.and_(pc.equal(size, 16), pc.less_equal(whole, _INT53))),
        )
        lossy = pc.fill_null(pc.and_(many, pc.invert(pc.or_(int64, int53))), False)
        for r in np.flatnonzero(lossy.to_numpy(zero_copy_only=False)):
            out.setdefault(int(r), col.name)
    return out
