"""What every dialect module provides; defaults are standard SQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import sqlalchemy as sa

from handover.errors import BadInput

if TYPE_CHECKING:
    import pyarrow as pa

    from handover.db.reflect import ColumnDef, ForeignKeyDef, TableDef
    from handover.i18n import Msg

#: (kind, length, precision, scale) of a neutral column; kind None: unsupported
Kind = tuple[str | None, int | None, int | None, int | None]
#: runs one page query of a keyed read: (SQL, parameters) → rows
Fetch = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
#: a name as the server compares it (two names folding alike are the same name there)
Fold = Callable[[str], str]
#: the digest encoding's mark for NULL (``handover.verify.normalize`` renders the same)
NULL_MARK = "~"


class DigestSide(Protocol):
    """What one side of a compared column declares (``handover.verify.normalize.SideType``)."""

    @property
    def kind(self) -> str: ...

    @property
    def scale(self) -> int | None: ...

    @property
    def tz(self) -> bool: ...

    @property
    def fsp(self) -> int | None: ...


class Declared(sa.types.UserDefinedType[Any]):
    """A column type spelt exactly as given (a SQLite declared type copied as written)."""

    cache_ok = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **_kw: Any) -> str:
        """The type text in ``CREATE TABLE``."""
        return self.spec


class Unconvertible(Exception):
    """A value the Arrow type of its column (``field``) cannot hold, met by
    :meth:`Dialect.copy_batches` at position ``row`` of the result (from 0; None where
    unknown): the source names the column, and the row where it can, in its refusal."""

    def __init__(self, field: pa.Field, row: int | None = None) -> None:
        super().__init__(field.name)
        self.field = field
        self.row = row


class Dialect:
    """One engine family's SQL and protocols. Subclasses override what differs."""

    #: the family name: ``sqlite``, ``postgresql``, ``mysql``
    name: ClassVar[str] = ""
    #: how messages name the engine
    title: ClassVar[str] = ""
    #: the names SQLAlchemy gives engines of this family (another name is an alias)
    backends: ClassVar[tuple[str, ...]] = ()
    #: the SQLAlchemy driver handover connects with (None: SQLAlchemy's default)
    driver: ClassVar[str | None] = None
    #: URL query values every connection gets unless the URL sets them
    url_query: ClassVar[dict[str, str]] = {}
    #: the DB-API parameter marker of the driver
    placeholder: ClassVar[str] = "%s"
    #: statements every new connection of a use runs (see :meth:`session`)
    sessions: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: values are typed as declared (SQLite: dynamic typing, dates kept as text); dates and
    #: times then print in the engine's own spelling, and column comments may carry a
    #: SQLite column's description
    typed: ClassVar[bool] = True
    #: the integer division operator
    int_div: ClassVar[str] = "/"
    #: a clause that keeps the planner from inlining a subquery's rendered values (and
    #: computing each twice)
    fence: ClassVar[str] = ""
    #: digest kinds whose canonical text SQL turns NULL into a value (wrapped: NULL stays NULL)
    null_rendering_kinds: ClassVar[frozenset[str]] = frozenset({"bool"})
    #: a full scan whose values are cheap to name twice may go unfenced, so that the
    #: engine can run it in parallel (see :meth:`plain_text`)
    inlines: ClassVar[bool] = False

    def lacks(self, capability: str) -> BadInput:
        """The refusal of a step this engine cannot do (one line naming the engine and the
        capability); the callers ask the capability flags first, so a user sees it only
        for an engine added without them."""
        from handover.i18n import Msg

        return BadInput.msg(
            "db.lacks", engine=self.title, capability=Msg(f"db.capability.{capability}")
        )

    def quote(self, name: str) -> str:
        """``name`` quoted as an identifier, for SQL run without parameters (a ``%`` is
        not doubled: SQLAlchemy's preparer does that for its own parameter style)."""
        return '"' + name.replace('"', '""') + '"'

    def session(self, use: str) -> tuple[str, ...]:
        """The statements a connection made for ``use`` runs first: ``verify`` (what the
        digest SQL relies on), ``store`` (the platform store's durability)."""
        return self.sessions.get(use, ())

    # --- reflection ------------------------------------------------------------------

    def kind_of(self, t: Any) -> Kind | None:
        """The neutral kind of a reflected SQLAlchemy type where this engine differs from
        the standard reading (checked after NULL and BOOLEAN); None: the standard one."""
        return None

    def is_integer_key(self, t: Any) -> bool:
        """Whether a sole primary key column of type ``t`` may be auto-assigned."""
        return isinstance(t, sa.Integer)

    def autoincrement(self, info: dict[str, Any], auto: bool, *, sole_int_pk: bool) -> bool:
        """Whether the reflected column ``info`` is auto-assigned, given what SQLAlchemy
        says (``auto``) and whether it is the table's sole integer key."""
        return auto

    def native_tables(
        self, conn: sa.Connection, defs: list[TableDef], *, spellings: bool = True
    ) -> list[TableDef]:
        """``defs`` with what only this engine's own catalogue says (nothing by default)."""
        return defs

    # --- sources: reading -----------------------------------------------------------

    #: an unordered read of a table is exported by the server as CSV text
    #: (:meth:`copy_batches`) rather than streamed as driver rows
    copies_out: ClassVar[bool] = False
    #: keyed reads may come as server-built CSV pages (:meth:`text_pages`)
    builds_text_pages: ClassVar[bool] = False
    #: a column every table has that is no declared column (SQLite's rowid)
    row_id: ClassVar[str | None] = None
    #: neutral kinds whose values the driver hands over as text (parsed by Arrow)
    text_kinds: ClassVar[frozenset[str]] = frozenset()

    def asks_text(self, col: ColumnDef) -> bool:
        """Whether a keyed read asks the database for ``col`` as text: an unbounded decimal
        (exact digits, no rounding) by default."""
        return col.kind == "decimal" and col.precision is None

    def text_expr(self, quoted: str) -> str:
        """SQL reading the column ``quoted`` as text."""
        return f"CAST({quoted} AS TEXT)"

    def read_expr(self, quoted: str, t: pa.DataType, *, key: bool = False) -> str:
        """SQL reading the column ``quoted`` that streams as Arrow type ``t`` (``key``:
        it orders a keyed read)."""
        return quoted

    def sample_sql(self, fraction: float, seed: int) -> str:
        """A clause after ``FROM table`` keeping about ``fraction`` of the rows, the same
        ones for the same ``seed``."""
        raise self.lacks("sampling")

    def after_condition(
        self, keys: list[str]
    ) -> tuple[str, Callable[[Sequence[Any]], tuple[Any, ...]]] | None:
        """``keys > (…)`` spelt as the engine reads it fastest, and the function that
        spreads a key's values over its placeholders; None: the row comparison."""
        return None

    def begin_pages(self, raw: Any) -> None:
        """Prepare the raw connection ``raw`` for a keyed read, one statement per page."""

    def after_page(self, raw: Any) -> None:
        """After each page of a keyed read."""

    def end_pages(self, raw: Any) -> None:
        """After the last page of a keyed read."""

    def reread(self, raw: Any, exc: BaseException) -> bool:
        """After the driver failed to load a page's values (``exc``): whether the raw
        connection ``raw`` now loads them (as text) so that the page may be fetched again."""
        return False

    def server_cursor(self, raw: Any, batch_size: int) -> Any:
        """A cursor streaming a statement's rows without holding them all."""
        return raw.cursor()

    def copy_batches(
        self,
        raw: Any,
        sql: str,
        schema: pa.Schema,
        batch_size: int,
        where: Msg,
        params: Sequence[Any] = (),
    ) -> Iterator[pa.RecordBatch]:
        """The rows of ``sql`` exported by the server (where :attr:`copies_out`)."""
        raise self.lacks("copy_out")

    def charsets(self, conn: sa.Connection, table: str) -> dict[str, str]:
        """The character set of each text column of ``table`` (where it varies)."""
        return {}

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
        """Keyed pages as server-built text (where :attr:`builds_text_pages`); ``pages``,
        ``stream`` and ``connection`` (the raw connection a keyed read holds) read them."""
        raise self.lacks("text_pages")

    # --- migrate: the tables a copy creates ---------------------------------------------

    #: unique constraints and foreign keys are added after the data with ALTER TABLE
    #: (SQLite cannot: its foreign keys go into CREATE TABLE, its uniques are indexes)
    alters_constraints: ClassVar[bool] = True
    #: an auto-assigned key is declared an identity column
    identity_keys: ClassVar[bool] = False

    #: the longest identifier (None: no limit), counted in UTF-8 bytes or characters
    max_name: ClassVar[int | None] = None
    name_unit: ClassVar[str] = "bytes"
    #: index and constraint names are unique per table (else across the schema, with tables)
    index_names_per_table: ClassVar[bool] = False

    def name_problem(self, name: str) -> Msg | None:
        """Why ``name`` cannot name a table, column or index here (None: it can)."""
        from handover.i18n import Msg

        if not name or "\x00" in name:
            return Msg("db.name.nul")
        if self.max_name is not None:
            size = len(name.encode("utf-8")) if self.name_unit == "bytes" else len(name)
            if size > self.max_name:
                return Msg(
                    "db.name.too_long",
                    size=size,
                    max=self.max_name,
                    unit=Msg(f"db.name.unit.{self.name_unit}"),
                    engine=self.title,
                )
        return None

    def name_folds(self, conn: sa.Connection) -> tuple[Fold, Fold]:
        """How the server compares table names and column names: two names that fold
        alike are one name there (default: compared exactly)."""
        return _exact, _exact

    def write_problems(self, conn: sa.Connection) -> list[Msg]:
        """What keeps the connection's account from creating tables and writing rows
        (privileges, a read-only server); found before anything is created."""
        return []

    def sa_dialect(self) -> sa.engine.Dialect:
        """SQLAlchemy's dialect, to spell this engine's types without a connection."""
        dialect: sa.engine.Dialect = sa.dialects.registry.load(self.name)()
        return dialect

    def column_type(self, col: ColumnDef, *, key: bool = False) -> sa.types.TypeEngine[Any]:
        """The type ``col`` is created with here; ``key``: the column is indexed. SQLite
        text in several spellings is created as text."""
        if col.stored_text and col.spelling is None:
            col = replace(col, kind="text")
        return self.type_of(col, key=key)

    def type_of(self, col: ColumnDef, *, key: bool = False) -> sa.types.TypeEngine[Any]:
        """The standard type of each neutral kind; engines override what differs."""
        k = col.kind
        if k == "bool":
            return sa.Boolean(create_constraint=False)
        if k in ("int16", "int32", "int64"):
            return {"int16": sa.SmallInteger(), "int32": sa.Integer(), "int64": sa.BigInteger()}[k]
        if k == "decimal":
            if col.precision is None:
                return sa.Numeric()
            return sa.Numeric(col.precision, col.scale or 0)
        if k in ("float32", "float64"):
            return sa.REAL()
        if k == "date":
            return sa.Date()
        if k == "time":
            return sa.Time()
        if k in ("timestamp", "timestamptz"):
            return sa.DateTime(timezone=False)
        if k == "char":
            return sa.CHAR(col.length)
        if k == "string":
            return sa.String(col.length)
        if k == "text":
            return sa.Text()
        if k == "json":
            return sa.JSON()
        if k == "uuid":
            return sa.CHAR(36)
        if k == "binary":
            return sa.LargeBinary()
        raise BadInput.msg("db.unknown_kind", column=col.name, kind=k)

    def table_options(self, *, exact: bool = True) -> dict[str, Any]:
        """``sa.Table`` keyword options of a created table; ``exact``: it holds copied data
        (comparisons and unique keys as the source has them)."""
        return {}

    #: adding a foreign key builds an index on its columns where none starts with them
    #: (InnoDB, named as the key): the run builds those beside the other indexes first
    key_builds_index: ClassVar[bool] = False

    #: foreign keys are added unchecked (:meth:`unchecked_foreign_keys`) and their rows
    #: checked after, several tables at once (:meth:`unvalidated`, :meth:`check_foreign_key`)
    validates_apart: ClassVar[bool] = False

    @contextmanager
    def unchecked_foreign_keys(self, conn: sa.Connection) -> Iterator[str]:
        """A block in which ``conn`` adds foreign keys without checking the rows (with
        :attr:`validates_apart`); yields the clause an ``ADD CONSTRAINT`` ends with."""
        yield ""

    def unvalidated(self, conn: sa.Connection) -> list[tuple[str, str]]:
        """``(table, name)`` of each foreign key of the current schema whose rows may not
        have been checked yet (with :attr:`validates_apart`; none otherwise)."""
        return []

    def check_foreign_key(self, conn: sa.Connection, table: str, key: ForeignKeyDef) -> str | None:
        """Check the rows of ``table`` against its foreign ``key``, added unchecked: None
        when each has the row it references, else why not (values not yet masked); a
        failure of the server itself is raised (``sqlalchemy.exc.DBAPIError``). Ends any
        transaction it opens.

        Here: the rows that reference no row, counted by an anti-join with the SQL
        standard's default rule, ``MATCH SIMPLE`` (a row with a NULL in the key's columns
        is not checked), which InnoDB's own check follows."""
        from handover.i18n import Msg

        q, pairs = self.quote, list(zip(key.columns, key.ref_columns, strict=True))
        present = " AND ".join(f"c.{q(col)} IS NOT NULL" for col, _ref in pairs)
        match = " AND ".join(f"p.{q(ref)} = c.{q(col)}" for col, ref in pairs)
        orphans = conn.exec_driver_sql(
            f"SELECT COUNT(*) FROM {q(table)} AS c WHERE {present} AND NOT EXISTS "
            f"(SELECT 1 FROM {q(key.ref_table)} AS p WHERE {match})"
        ).scalar()
        conn.commit()
        if not orphans:
            return None
        return str(Msg("db.foreign_key_orphans", rows=int(orphans), parent=key.ref_table))

    def drop_foreign_key_sql(self, quoted: str) -> str:
        """The ``ALTER TABLE … `` clause dropping the foreign key named ``quoted``."""
        return f"DROP CONSTRAINT {quoted}"

    def add_primary_key_sql(self, table: str, quoted: list[str]) -> str:
        """The statement adding the primary key of the quoted ``quoted`` columns to the
        quoted ``table`` (named as the engine names the key of a ``CREATE TABLE``)."""
        return f"ALTER TABLE {table} ADD PRIMARY KEY ({', '.join(quoted)})"

    def is_duplicate_key(self, exc: BaseException) -> bool:
        """True if ``exc`` is a key refused because two rows share its value."""
        return False

    def reset_identity_sql(self, table: str, column: str, quoted: str) -> str | None:
        """After the data: the statement that moves the identity of ``column`` (quoted:
        ``quoted``) of the quoted ``table`` past the largest copied value (None: none)."""
        return None

    # --- migrate: bulk writes ------------------------------------------------------------

    #: transactions are opened and ended with SQL statements (the driver's own are off)
    explicit_transactions: ClassVar[bool] = False
    #: the non-finite floating-point values a float column keeps as they are (``nan``,
    #: ``inf`` for both infinities); others are refused before writing
    keeps_non_finite: ClassVar[frozenset[str]] = frozenset({"nan", "inf"})

    #: tables copied at once, each on its own connection (the engine ingests bulk
    #: streams in parallel and one table's load does not lock the others)
    copy_lanes: ClassVar[int] = 1
    #: tables whose indexes are built, or whose foreign keys are checked, at once after
    #: the data, each on its own connection (a server works on each in its own thread;
    #: an index build or a check locks nothing another table's needs)
    ddl_lanes: ClassVar[int] = 1
    #: a table's primary key is added after its rows are loaded (a btree built from
    #: sorted data instead of one maintained row by row); where False it is created with
    #: the table (SQLite cannot add one; InnoDB would rebuild the table around it)
    keys_after_load: ClassVar[bool] = False
    #: driver options a connection making bulk writes is opened with (``connect(writes=True)``)
    write_connect_args: ClassVar[dict[str, Any]] = {}

    def writes_connected(self, dbapi: Any) -> None:
        """Settle a new connection of an engine opened for bulk writes (nothing here)."""

    def prepare_writes(self, dbapi: Any) -> tuple[str, ...]:
        """Put the raw DB-API connection ``dbapi`` in the mode batched writes need; the
        statements to run then (committed at once)."""
        return ()

    def text_codec(self, rows: Callable[[str], list[tuple[Any, ...]]]) -> str | None:
        """The Python codec of the text the database stores, where it is not Unicode and
        so lacks characters (``rows`` runs a statement on the writer's connection); None
        for Unicode (the engine's own tables, created UTF-8) or an encoding Python lacks."""
        return None

    def bulk_connection(
        self, engine: sa.Engine, *, own_process: bool
    ) -> tuple[Any, Callable[[], None]] | None:
        """A DB-API connection of a faster bulk path than the engine's own driver, in
        autocommit mode (the writer issues BEGIN/COMMIT itself), and the function that
        closes it; None: the engine's connection writes (here). ``own_process``: the run
        has its process to itself (no other user of the engine in it)."""
        return None

    def arrow_reads(self, engine: sa.Engine) -> str | None:
        """The connection string of ADBC's driver for this engine, which answers a query
        as Arrow batches (verify reads a server's texts that way, in a worker process:
        ``handover.verify.rowmerge``); None: no such driver here. It may hold a
        password: never shown or logged."""
        return None

    def bulk_ok(self, table: TableDef) -> bool:
        """Whether :meth:`bulk_connection`'s connection can write ``table`` (every one of
        its columns' kinds); else the engine's own connection writes it."""
        return True

    def binds_typed(self, dbapi: Any) -> bool:
        """Whether :meth:`bulk_insert` on ``dbapi`` takes the values typed as the target
        column stores them (a binary bulk path), not as a DB-API driver binds them."""
        return False

    def params_sql(self, dbapi: Any, sql: str) -> str:
        """``sql`` written with :attr:`placeholder` marks as ``dbapi`` takes parameters."""
        return sql

    @contextmanager
    def page_cache(self, dbapi: Any, mib: int) -> Iterator[None]:
        """Let the connection ``dbapi`` keep up to ``mib`` MiB of pages in memory while a
        bulk write lands in random places of large indexes, then give it back (a server
        manages its own buffers: nothing here)."""
        yield

    @contextmanager
    def index_after(self, dbapi: Any, drop: str, create: str) -> Iterator[None]:
        """Inside the open transaction of ``dbapi``: an index dropped (``drop``) for the
        block and built again after it (``create``), where its engine sorts the entries
        faster than it inserts them one by one, and both statements roll back with the
        transaction. By default nothing: the index stays and is kept up to date."""
        yield

    def bulk_insert(
        self,
        dbapi: Any,
        table: str,
        columns: list[str],
        batch: pa.RecordBatch,
        kinds: list[str],
        bound: Callable[[pa.RecordBatch], list[pa.Array]],
    ) -> None:
        """Append ``batch`` to ``table`` (its ``columns`` of neutral ``kinds``; names as
        they are, quoted here) inside the open transaction: ``executemany`` of one INSERT
        over the columns ``bound(batch)`` gives (the values as the driver binds them
        fast; ``bound`` converts any slice of ``batch`` alike)."""
        head = f"INSERT INTO {self.quote(table)} ({', '.join(map(self.quote, columns))})"
        if self.placeholder == "%s":  # with parameters, a literal "%" (in a name) is doubled
            head = head.replace("%", "%%")
        marks = ", ".join([self.placeholder] * len(columns))
        rows = list(zip(*(a.to_pylist() for a in bound(batch)), strict=True))
        cur = dbapi.cursor()
        try:
            cur.executemany(f"{head} VALUES ({marks})", rows)
        finally:
            cur.close()

    def unstorable(self, table: TableDef, batch: pa.RecordBatch) -> dict[int, tuple[str, str]]:
        """Rows (index → (column, reason)) the engine would store but not exactly, or
        not at all: refused before writing. By default the NaN and infinite floats it does
        not keep (:attr:`keeps_non_finite`)."""
        return non_finite(table, batch, self.keeps_non_finite, self.name)

    def is_data_error(self, exc: BaseException) -> bool:
        """True if ``exc`` is the engine refusing the rows (bisect), not a lost connection."""
        return False

    def describe_error(self, exc: BaseException) -> tuple[str, str, str]:
        """(column, message, code) of a refused row, as the driver tells them (the caller
        masks the values out of the message)."""
        return "", str(exc), ""

    # --- verify: digests inside the database ----------------------------------------------

    def verify_connected(self, dbapi: Any) -> None:
        """Settle a new connection of an engine opened for verify: the rows it downloads
        render as :func:`handover.verify.normalize.render_value` (nothing here)."""

    def value_sql(self, col: str, kind: str, side: DigestSide) -> str:
        """SQL giving the canonical text of quoted column ``col`` rendered as ``kind``
        (``handover.verify.normalize.render_value`` without NFC), given what this side
        declares; may turn NULL into a value (see :meth:`value_expr`)."""
        raise self.lacks("render_values")

    def value_expr(self, col: str, kind: str, side: DigestSide) -> str:
        """:meth:`value_sql` with NULL kept NULL."""
        expr = self.value_sql(col, kind, side)
        if kind in self.null_rendering_kinds:
            return f"CASE WHEN {col} IS NULL THEN NULL ELSE {expr} END"
        return expr

    def row_expr(self, values: list[str]) -> str:
        """SQL concatenating value expressions prefix-free (``normalize.encode_row``)."""
        raise self.lacks("encode_rows")

    def digest_value_expr(self, col: str, kind: str, side: DigestSide, scale: int | None) -> str:
        """SQL for ``normalize.render_digest``: the cheaper text two typed engines agree on."""
        return self.value_expr(col, kind, side)

    def digest_row_expr(self, values: list[str], compact: list[bool]) -> str:
        """SQL for ``normalize.encode_digest_row`` (typed engines only)."""
        raise self.lacks("digest_text")

    def hash60_expr(self, text_sql: str) -> str:
        """SQL for the 60-bit row hash of ``text_sql`` (the first 15 hex digits of its MD5)."""
        raise self.lacks("row_hash")

    def hash32_expr(self, text_sql: str) -> str:
        """SQL for the 32-bit segment key of a non-integer primary key."""
        raise self.lacks("key_hash")

    def digest_sql(self, row_sql: str) -> str:
        """The aggregate that sums the 60-bit hashes of a segment's rows (exact)."""
        return f"sum({self.hash60_expr(row_sql)})"

    def segment_int(self, seg: str) -> str:
        """``seg`` (a segment key) as a signed 64-bit integer."""
        return seg

    def key_ranges(self, table: str, seg: str, ranges: Sequence[tuple[int, int]]) -> str:
        """A FROM clause reading only the rows of ``table`` whose ``seg`` lies in one of
        ``ranges`` ([start, end)): a small joined list, so each range is an index range
        scan (a long OR list would test every range on every row)."""
        rows = ", ".join(f"({a}, {b})" for a, b in ranges)
        sel = f"SELECT * FROM (VALUES {rows}) v (ho__lo, ho__hi)"
        on = f"{seg} >= ho__r.ho__lo AND {seg} < ho__r.ho__hi"
        return f" FROM {table} JOIN ({sel}) ho__r ON {on}"

    def non_integer_key(self, conn: sa.Connection, table: str, column: str) -> bool:
        """Whether the integer key ``column`` of ``table`` holds a value stored as
        something else (never, on an engine that types its columns)."""
        return False

    def split_scans(self, inline: bool) -> bool:
        """Whether a full scan is worth reading as concurrent key ranges (the engine does
        not parallelise the one query itself); ``inline``: its values may be inlined."""
        return False

    def native_digest_ok(self, *engines: sa.Engine) -> bool:
        """Whether rows can be hashed as stored on every one of ``engines`` (this engine on
        both sides), without rendering them as text (:meth:`native_digest`)."""
        return False

    def native_ok(self, kind: str, a: DigestSide, b: DigestSide) -> bool:
        """Whether a column declared ``a`` and ``b`` may be hashed as stored."""
        return False

    def native_digest(self, columns: list[str]) -> str:
        """The segment digest over stored values (where :meth:`native_digest_ok`)."""
        raise self.lacks("native_digest")

    def native_segment(self, key_text: str) -> str:
        """The 32-bit segment key of a non-integer key, hashed natively."""
        raise self.lacks("native_digest")

    def plain_text(self, value_sql: str, col: str) -> bool:
        """Whether ``value_sql`` is cheap to evaluate twice (``col`` itself or its text)."""
        return value_sql == col

    #: two databases of this engine may be compared by one connection that opens both
    #: (SQLite: ATTACH, then a join on the key; see :meth:`pair_sql`)
    compares_attached: ClassVar[bool] = False

    def main_file(self, raw: Any) -> str:
        """The file a raw connection's main database lives in ('' if none)."""
        raise self.lacks("attached")

    def attach(self, raw: Any, path: str, *, uri: bool) -> bool:
        """Open the database file ``path`` beside the raw connection's own (False: the
        engine refused)."""
        raise self.lacks("attached")

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions the driver raises on a raw connection."""
        raise self.lacks("attached")

    def detach(self, raw: Any) -> None:
        """Close what :meth:`attach` opened."""
        raise self.lacks("attached")

    def interrupt(self, raw: Any) -> None:
        """End the statement a raw connection runs (from another thread) with an error."""
        raise self.lacks("attached")

    def cancel(self, engine: sa.Engine, raw: Any) -> None:
        """Ask the server to end the statement the driver connection ``raw`` of ``engine``
        runs now (from another thread; it then fails with the driver's error)."""
        raise self.lacks("cancel")

    def pair_sql(
        self, raw: Any, tables: tuple[str, str], columns: tuple[list[str], list[str]], pk: list[int]
    ) -> Any:
        """The statements comparing a table with its namesake in the attached database,
        or None when this pair cannot be compared that way."""
        raise self.lacks("attached")

    # --- erase: sanitization -------------------------------------------------------------

    #: the key of the sanitization method (``handover.erase.methods.METHODS``)
    sanitization: ClassVar[str] = ""
    #: the method when every table of the database goes (None: ``sanitization``)
    sanitization_whole: ClassVar[str | None] = None
    #: queries for the server's version and the schema a connection works in
    identity_sql: ClassVar[tuple[str, str]] = ("SELECT version()", "SELECT current_schema()")
    #: statements around the change, inside its transaction (e.g. foreign key checks off/on)
    change_guard: ClassVar[tuple[tuple[str, ...], tuple[str, ...]]] = ((), ())
    #: a statement that writes changed pages to disk now (None: nothing to ask for)
    flush_sql: ClassVar[str | None] = None

    def storage_class(self, quoted: str) -> str:
        """SQL naming how the engine stores a value of column ``quoted`` (its type name)."""
        return "'text'"

    def drop_sql(self, quoted: list[str]) -> list[str]:
        """Statements that drop the tables ``quoted``."""
        return [f"DROP TABLE {', '.join(quoted)}"] if quoted else []

    def reclaim_sql(self, quoted: list[str]) -> list[str]:
        """Statements (outside a transaction) that rewrite the tables ``quoted`` so that
        deleted rows leave the engine's data files."""
        return []

    def freeze_sql(self, quoted: str) -> str | None:
        """A statement withdrawing general access to a retained table (None: none)."""
        return None

    def __repr__(self) -> str:
        return f"<dialect {self.name}>"


def _exact(name: str) -> str:
    return name


def ascii_fold(name: str) -> str:
    """``name`` with only the ASCII letters lower-cased (SQLite's rule)."""
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def non_finite(
    table: TableDef, batch: pa.RecordBatch, keeps: frozenset[str], engine: str
) -> dict[int, tuple[str, str]]:
    """Rows (index → (column, reason)) of ``batch`` holding a NaN or infinite float that
    ``engine`` does not keep (``keeps``: ``nan``, ``inf``); vectorised per column."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    out: dict[int, tuple[str, str]] = {}
    if {"nan", "inf"} <= keeps:
        return out
    for i, col in enumerate(table.columns):
        arr = batch.column(i)
        if not pa.types.is_floating(arr.type) or arr.null_count == len(arr):
            continue
        for what, test in (("nan", pc.is_nan), ("inf", pc.is_inf)):
            if what in keeps:
                continue
            hit = pc.fill_null(test(arr), False)
            if not pc.any(hit).as_py():
                continue
            name = "NaN" if what == "nan" else "an infinite value"
            reason = f"{name} in a float column: {engine} cannot store it"
            for r in np.flatnonzero(hit.to_numpy(zero_copy_only=False)):
                out.setdefault(int(r), (col.name, reason))
    return out


def is_adbc(dbapi: Any) -> bool:
    """Whether ``dbapi`` is an ADBC connection (a dialect's :meth:`Dialect.bulk_connection`)."""
    import sys

    module = sys.modules.get("adbc_driver_manager.dbapi")  # imported if one was opened
    return module is not None and isinstance(dbapi, module.Connection)


def is_adbc_error(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by an ADBC driver."""
    import sys

    module = sys.modules.get("adbc_driver_manager")
    return module is not None and isinstance(exc, module.Error)
