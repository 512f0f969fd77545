"""Reflection: the one place a database's tables are read from its catalogue.

:class:`Catalog` is the only user of SQLAlchemy's Inspector: table names, columns (with
their SQLAlchemy types), primary keys and the names of constraints, and every table as
one engine-neutral :class:`TableDef`: columns of a neutral :class:`ColumnDef` kind
(``int32``, ``decimal(14,2)``, ``text`` …), the primary key, unique constraints,
indexes and foreign keys. A TableDef is JSON-serialisable, so a sealed package carries
it in its manifest; migrate, package, deid, verify and erase all describe tables with
it. What differs per engine (type names, auto-increment, SQLite's declared types and
date/time text) comes from the engine's dialect module.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from handover.db import dialects
from handover.db.spelling import engine_spelling, from_comment
from handover.errors import BadInput

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa
    import sqlalchemy as sa
    from sqlalchemy.engine.interfaces import ReflectedColumn

    from handover.db.dialects.base import Dialect, Kind

KINDS = (
    "bool",
    "int16",
    "int32",
    "int64",
    "decimal",
    "float32",
    "float64",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "char",
    "string",
    "text",
    "json",
    "uuid",
    "binary",
)


@dataclass(frozen=True)
class ColumnDef:
    """One column in neutral form; ``declared`` is the source's own spelling of the type.

    ``sqlite_type`` is the declared type a SQLite target gives the column: a SQLite
    source's own text (``TIMESTAMP``, ``TEXT(18)``, ``NUMERIC(16,2)``), carried by packages
    and through PostgreSQL/MariaDB column comments. ``stored_text``: the values travel as
    the text a SQLite source stores (its dates and times, kept byte for byte); they are
    parsed only to check them and for a typed target. ``spelling``: how the date/time
    values are spelt as text (:mod:`handover.db.spelling`); for ``stored_text`` None
    means they share no one spelling.
    """

    name: str
    kind: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    nullable: bool = True
    autoincrement: bool = False
    default: str | None = None
    declared: str = ""
    sqlite_type: str | None = None
    stored_text: bool = False
    spelling: str | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type this column's values travel as between reader and writer."""
        return arrow_type(self)


@dataclass(frozen=True)
class IndexDef:
    """A unique constraint or an index on plain columns."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
class ForeignKeyDef:
    """A foreign key ``columns`` → ``ref_table(ref_columns)``."""

    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None


@dataclass
class TableDef:
    """A table as a source describes it and a target creates it."""

    name: str
    columns: list[ColumnDef]
    primary_key: tuple[str, ...] = ()
    uniques: list[IndexDef] = field(default_factory=list)
    indexes: list[IndexDef] = field(default_factory=list)
    foreign_keys: list[ForeignKeyDef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnDef:
        """The column called ``name`` (KeyError if none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def arrow_schema(self) -> pa.Schema:
        """The schema of every RecordBatch a source yields for this table."""
        import pyarrow as pa

        return pa.schema([pa.field(c.name, c.arrow_type, c.nullable) for c in self.columns])

    @property
    def key_columns(self) -> set[str]:
        """Columns used by the primary key, a unique constraint, an index or a foreign key."""
        keys = set(self.primary_key)
        for ix in (*self.uniques, *self.indexes):
            keys.update(ix.columns)
        for fk in self.foreign_keys:
            keys.update(fk.columns)
        return keys

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (for a package manifest)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableDef:
        """The inverse of :meth:`to_json`."""
        return cls(
            name=data["name"],
            columns=[ColumnDef(**c) for c in data["columns"]],
            primary_key=tuple(data.get("primary_key", ())),
            uniques=[_index(i) for i in data.get("uniques", [])],
            indexes=[_index(i) for i in data.get("indexes", [])],
            foreign_keys=[_fk(f) for f in data.get("foreign_keys", [])],
            notes=list(data.get("notes", [])),
        )


def _index(d: dict[str, Any]) -> IndexDef:
    return IndexDef(d["name"], tuple(d["columns"]), bool(d.get("unique", False)))


def _fk(d: dict[str, Any]) -> ForeignKeyDef:
    return ForeignKeyDef(
        d["name"],
        tuple(d["columns"]),
        d["ref_table"],
        tuple(d["ref_columns"]),
        d.get("on_delete"),
        d.get("on_update"),
    )


def arrow_type(col: ColumnDef) -> pa.DataType:
    """Arrow type of a neutral column (exact: decimals keep precision and scale)."""
    import pyarrow as pa

    if col.stored_text:
        return pa.string()
    if col.kind == "decimal":
        p, s = col.precision, col.scale or 0
        if p is None:
            return pa.string()  # unbounded NUMERIC: exact text, no rounding
        return pa.decimal128(p, s) if p <= 38 else pa.decimal256(p, s)
    return kind_arrow_type(col.kind) or pa.string()


@functools.cache
def kind_arrow_type(kind: str) -> pa.DataType | None:
    """The Arrow type every column of neutral ``kind`` travels as; None where it depends
    on the column (a decimal's precision) or is text."""
    import pyarrow as pa

    return {
        "bool": pa.bool_(),
        "int16": pa.int16(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float32": pa.float32(),
        "float64": pa.float64(),
        "date": pa.date32(),
        "time": pa.time64("us"),
        "timestamp": pa.timestamp("us"),
        "timestamptz": pa.timestamp("us", tz="UTC"),
        "binary": pa.binary(),
    }.get(kind)


# --- the catalogue ----------------------------------------------------------------------


class Catalog:
    """What a database holds, as its catalogue says. Reflection is cached per Catalog:
    make a new one to see tables created since."""

    def __init__(self, bind: sa.Engine | sa.Connection) -> None:
        import sqlalchemy as sa

        self._insp = sa.inspect(bind)
        self.dialect: Dialect = dialects.get(bind.dialect.name)
        #: the engine's own dialect name (``mariadb`` where the family is ``mysql``)
        self.engine_name: str = bind.dialect.name
        #: SQLAlchemy's MySQL reflection reads column, key and constraint names out of
        #: ``SHOW CREATE TABLE`` and leaves a backtick in them doubled (``col``b``)
        self._doubled = self.dialect.name == "mysql"

    def _real(self, name: str) -> str:
        """``name`` as the catalogue holds it (a doubled backtick made single on MySQL)."""
        return name.replace("``", "`") if self._doubled else name

    def _reals(self, names: Sequence[str | None]) -> list[str]:
        return [self._real(n) for n in names if n is not None]

    def table_names(self, schema: str | None = None) -> list[str]:
        """The tables of ``schema`` (default: the connection's own), in catalogue order;
        BadInput naming the file for a SQLite file SQLite cannot read as a database."""
        import sqlite3

        from sqlalchemy.exc import DBAPIError

        from handover.db.connect import error_detail

        try:
            return list(self._insp.get_table_names(schema=schema))
        except DBAPIError as exc:
            # not the file's fault: locked, busy … (OperationalError), or a server's error
            orig = exc.orig
            if not isinstance(orig, sqlite3.DatabaseError) or isinstance(
                orig, sqlite3.OperationalError
            ):
                raise
            path = self._insp.bind.engine.url.database
            raise BadInput.msg("sources.bad_sqlite", path=path, detail=error_detail(exc)) from None

    def columns(self, table: str, schema: str | None = None) -> list[ReflectedColumn]:
        """The columns of ``table`` as SQLAlchemy reflects them (name, type, nullable,
        default, comment …); ``NoSuchTableError`` if there is no such table."""
        out = []
        for c in self._insp.get_columns(table, schema=schema):
            c = c.copy()  # the inspector caches its answer: not changed in place
            c["name"] = self._real(c["name"])
            out.append(c)
        return out

    def column_names(self, table: str, schema: str | None = None) -> list[str]:
        """The names of the columns of ``table``, in order."""
        return [str(c["name"]) for c in self.columns(table, schema)]

    def primary_key(self, table: str) -> list[str]:
        """The primary key columns of ``table`` (empty if it has none)."""
        return self._reals(self._insp.get_pk_constraint(table).get("constrained_columns") or [])

    def constraint_names(self, table: str, *, foreign_keys: bool = True) -> set[str]:
        """The names of the indexes and unique constraints of ``table``, and of its
        foreign keys when ``foreign_keys``."""
        found = [ix["name"] for ix in self._insp.get_indexes(table)]
        found += [u["name"] for u in self._insp.get_unique_constraints(table)]
        names = {self._real(str(n)) for n in found if n}
        if foreign_keys:
            names |= {f.name for f in self.foreign_keys(table) if f.name}
        return names

    def foreign_keys(self, table: str) -> list[ForeignKeyDef]:
        """The foreign keys of ``table``."""
        if self.dialect.name == "mysql":
            return self._mysql_foreign_keys(table)
        return [
            ForeignKeyDef(
                self._real(fk.get("name") or ""),
                tuple(self._reals(fk["constrained_columns"])),
                fk["referred_table"],
                tuple(self._reals(fk["referred_columns"])),
                (fk.get("options") or {}).get("ondelete"),
                (fk.get("options") or {}).get("onupdate"),
            )
            for fk in self._insp.get_foreign_keys(table)
            if fk.get("referred_table")
        ]

    def _mysql_foreign_keys(self, table: str) -> list[ForeignKeyDef]:
        """The foreign keys of a MySQL or MariaDB ``table`` from ``information_schema``.

        SQLAlchemy reads them out of ``SHOW CREATE TABLE`` with a pattern that does not
        take a backtick inside a name: such a key was dropped with only a warning, and a
        migration lost it. The catalogue's own tables hold the names as they are. A rule
        of ``RESTRICT`` or ``NO ACTION`` (the same in InnoDB) is the server's default,
        which ``SHOW CREATE TABLE`` leaves out: None, as SQLAlchemy gives it."""
        import sqlalchemy as sa

        sql = (
            "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
            "k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE "
            "FROM information_schema.KEY_COLUMN_USAGE k "
            "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
            "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
            "AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME "
            "WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = :t "
            "AND k.REFERENCED_TABLE_NAME IS NOT NULL "
            "ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
        )
        bind = self._insp.bind
        with bind.connect() if isinstance(bind, sa.Engine) else nullcontext(bind) as conn:
            rows = conn.execute(sa.text(sql), {"t": table}).all()

        def rule(value: Any) -> str | None:
            return None if value in (None, "RESTRICT", "NO ACTION") else str(value)

        keys = [list(key) for _, key in itertools.groupby(rows, key=lambda r: r[0])]
        return [
            ForeignKeyDef(
                str(key[0][0]),
                tuple(str(r[1]) for r in key),
                str(key[0][2]),
                tuple(str(r[3]) for r in key),
                rule(key[0][4]),
                rule(key[0][5]),
            )
            for key in keys
        ]

    def _sqlite_unique_columns(self, table: str) -> list[tuple[str, ...]]:
        """The columns of each UNIQUE constraint of a SQLite ``table``, as SQLite keeps
        them (its automatic indexes of origin ``u``): a column's own ``UNIQUE`` too, which
        SQLAlchemy's reflection misses after a type with parentheses (``VARCHAR(8)``) or
        without a type."""
        import sqlalchemy as sa

        bind = self._insp.bind
        quote = self.dialect.quote
        out: list[tuple[str, ...]] = []
        with bind.connect() if isinstance(bind, sa.Engine) else nullcontext(bind) as conn:
            for row in conn.exec_driver_sql(f"PRAGMA index_list({quote(table)})").all():
                if not row[2] or row[3] != "u":
                    continue
                info = conn.exec_driver_sql(f"PRAGMA index_info({quote(str(row[1]))})").all()
                cols = tuple(r[2] for r in sorted(info))
                if cols and all(c is not None for c in cols):
                    out.append(tuple(str(c) for c in cols))
        return out

    def table(self, name: str) -> TableDef:
        """``name`` as a neutral :class:`TableDef` (without engine-native refinements,
        see :func:`reflect`); :class:`BadInput` for a column of an unsupported type."""
        insp = self._insp
        cols_info = self.columns(name)
        pk = tuple(self.primary_key(name))
        int_pk = False
        if len(pk) == 1:
            pk_col = next((c for c in cols_info if c["name"] == pk[0]), None)
            int_pk = pk_col is not None and self.dialect.is_integer_key(pk_col["type"])
        columns = [
            neutral_column(name, dict(c), self.engine_name, sole_int_pk=int_pk) for c in cols_info
        ]
        notes: list[str] = []
        uniques: list[IndexDef] = []
        for uc in insp.get_unique_constraints(name):
            cols = tuple(self._reals(uc["column_names"]))
            if cols and tuple(cols) != pk:
                uniques.append(IndexDef(self._real(uc.get("name") or ""), cols, True))
        indexes: list[IndexDef] = []
        seen = {ix.columns for ix in uniques}
        for ix in insp.get_indexes(name):
            cols_raw = ix.get("column_names") or []
            if any(c is None for c in cols_raw) or ix.get("expressions"):
                notes.append(
                    f"index {self._real(ix.get('name') or '')} on an expression was not copied"
                )
                continue
            cols = tuple(self._reals([str(c) for c in cols_raw]))
            if ix.get("duplicates_constraint") or (ix.get("unique") and cols in seen) or cols == pk:
                continue
            ix_name = self._real(ix.get("name") or "")
            if ix.get("unique"):
                uniques.append(IndexDef(ix_name, cols, True))
                seen.add(cols)
            else:
                indexes.append(IndexDef(ix_name, cols, False))
        if self.engine_name == "sqlite":  # SQLAlchemy reads no column-level UNIQUE there
            # after the named unique indexes: one on the same columns keeps its name
            for cols in self._sqlite_unique_columns(name):
                if cols not in seen and cols != pk:
                    uniques.append(IndexDef("", cols, True))
                    seen.add(cols)
        return TableDef(name, columns, pk, uniques, indexes, self.foreign_keys(name), notes)


# --- a SQLite file held open with sqlite3 ------------------------------------------------

#: the first bytes of every SQLite database file (SQLite's file format, 1.3)
SQLITE_HEADER = b"SQLite format 3\x00"


def check_sqlite_file(spec: str | Path) -> None:
    """BadInput naming the file when ``spec`` (a path or a URL) names an existing file
    that is no SQLite database (a spreadsheet, a CSV file): a target is checked so before
    anything is read or written. An empty file is a new database to SQLite."""
    from handover.db.url import sqlite_path

    path = sqlite_path(spec)
    if path is None or not path.is_file():
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise BadInput.msg("sources.bad_sqlite", path=path, detail=type(exc).__name__) from None
    if head and head != SQLITE_HEADER:
        raise BadInput.msg("sources.bad_sqlite", path=path, detail="file is not a database")


class SqliteColumn(NamedTuple):
    """One column as ``PRAGMA table_info`` gives it: the declared type as written."""

    cid: int
    name: str
    declared: str
    notnull: bool
    default: Any
    #: position in the primary key, 0 if not in it
    pk: int


def sqlite_tables(conn: Any) -> list[str]:
    """The user tables of a SQLite file by name, read through its DB-API connection
    ``conn`` (readers that hold a ``sqlite3`` connection reflect without SQLAlchemy)."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [str(r[0]) for r in rows]


def sqlite_columns(conn: Any, table: str) -> list[SqliteColumn]:
    """The columns of ``table`` in a SQLite file (empty if there is no such table)."""
    quoted = dialects.get("sqlite").quote(table)
    rows = conn.execute(f"PRAGMA table_info({quoted})").fetchall()
    return [
        SqliteColumn(int(r[0]), str(r[1]), str(r[2] or ""), bool(r[3]), r[4], int(r[5]))
        for r in rows
    ]


#: the statement of a virtual table, as ``sqlite_master`` keeps it
_VIRTUAL = re.compile(r"\s*CREATE\s+VIRTUAL\s", re.IGNORECASE)


def sqlite_reals(conn: Any, table: str, columns: Sequence[str]) -> list[bool] | None:
    """Per column of ``table`` (by name), whether it may hold a REAL: a column of TEXT
    affinity cannot, since SQLite stores a number written to it as its text (its datatype
    documentation, 3.1). None for a virtual table, whose module decides what it returns
    whatever the declared types (or for no such table)."""
    from handover.db.dialects.sqlite import storage_affinity

    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    if row is None or _VIRTUAL.match(str(row[0] or "")):
        return None
    declared = {c.name: c.declared for c in sqlite_columns(conn, table)}
    return [storage_affinity(declared.get(c, "")) != "TEXT" for c in columns]


def reflect(
    engine: sa.Engine, tables: list[str] | None = None, *, spellings: bool = True
) -> list[TableDef]:
    """Every (or each named) table of ``engine``'s default schema, parents before children,
    with what the engine's dialect adds (SQLite: declared types as written, dates and
    times as the text the file holds). Tables handover keeps its own state in are left
    out; :class:`BadInput` naming a table in ``tables`` that is not there.

    ``spellings=False``: do not scan SQLite tables for the spelling of their dates and
    times (only a copy into PostgreSQL/MariaDB or a package needs it).
    """
    catalog = Catalog(engine)
    names = catalog.table_names()
    names = [n for n in names if not n.startswith("_handover_migrate") and n != "sqlite_sequence"]
    if tables is not None:
        missing = sorted(set(tables) - set(names))
        if missing:
            raise BadInput.msg("db.no_source_table", table=missing[0])
        names = [n for n in names if n in tables]
    defs = [_table(catalog, name) for name in names]
    with engine.connect() as conn:
        defs = catalog.dialect.native_tables(conn, defs, spellings=spellings)
    return dependency_order(defs)


def _table(catalog: Catalog, name: str) -> TableDef:
    """``catalog.table(name)``; a table the database cannot describe (a SQLite virtual
    table whose module is missing, damaged pages) is one line naming it."""
    from sqlalchemy.exc import DBAPIError

    from handover.db.connect import error_detail

    try:
        return catalog.table(name)
    except DBAPIError as exc:
        raise BadInput.msg("db.table_unreadable", table=name, detail=error_detail(exc)) from None


# --- one column ----------------------------------------------------------------------------


def neutral_column(
    table: str, info: dict[str, Any], dialect: str, *, sole_int_pk: bool = False
) -> ColumnDef:
    """The neutral form of one reflected column on the engine ``dialect`` (SQLAlchemy's
    name); :class:`BadInput` for an unsupported type."""
    d = dialects.get(dialect)
    t = info["type"]
    name = info["name"]
    declared = _declared(t)
    kind, length, precision, scale = _kind_of(t, d)
    if kind is None:
        raise BadInput.msg("db.unsupported_type", table=table, column=name, type=declared)
    auto = bool(info.get("autoincrement") is True or info.get("identity"))
    auto = d.autoincrement(info, auto, sole_int_pk=sole_int_pk and kind.startswith("int"))
    if auto and not kind.startswith("int"):
        auto = False
    nullable = bool(info.get("nullable", True))
    typed = d.typed
    spelling = engine_spelling(kind, getattr(t, "fsp", None)) if typed else None
    sqlite_type = None
    carried = from_comment(info.get("comment"), kind) if typed else None
    if carried is not None:
        # the column came from SQLite: its declared type, spelling and NULLs (a primary key
        # may hold NULL there) for a copy back
        sqlite_type = carried["sqlite_type"]
        spelling = carried["spelling"] or spelling
        nullable = nullable or carried["nullable"]
    return ColumnDef(
        name=name,
        kind=kind,
        length=length,
        precision=precision,
        scale=scale,
        nullable=nullable,
        autoincrement=auto,
        default=None if auto else portable_default(info.get("default")),
        declared=declared,
        sqlite_type=sqlite_type,
        spelling=spelling,
    )


def _declared(t: Any) -> str:
    import sqlalchemy as sa

    if isinstance(t, sa.types.Time) and getattr(t, "timezone", False):
        return "TIME WITH TIME ZONE"  # the generic compiler would drop the zone
    try:
        return str(t.compile())
    except Exception:
        return type(t).__name__


def _kind_of(t: Any, d: Dialect) -> Kind:
    # Order matters: Boolean/BigInteger/SmallInteger/Float are subclasses of broader types.
    import sqlalchemy as sa

    st = sa.types
    if isinstance(t, st.NullType):
        return "text", None, None, None
    if isinstance(t, st.Boolean):
        return "bool", None, None, None
    own = d.kind_of(t)
    if own is not None:
        return own
    if isinstance(t, st.Integer):
        unsigned = bool(getattr(t, "unsigned", False))
        if isinstance(t, st.BigInteger):
            return ("decimal", None, 20, 0) if unsigned else ("int64", None, None, None)
        if isinstance(t, st.SmallInteger):
            return ("int32" if unsigned else "int16"), None, None, None
        return ("int64" if unsigned else "int32"), None, None, None
    if isinstance(t, st.Float):
        if isinstance(t, st.Double):
            return "float64", None, None, None
        prec = getattr(t, "precision", None)
        if prec is not None and prec > 24:
            return "float64", None, None, None
        return "float32", None, None, None
    if isinstance(t, st.Numeric):
        p, s = t.precision, t.scale
        if p is None or p <= 0:
            return "decimal", None, None, None
        if p > 65:
            return "decimal", None, None, None
        return "decimal", None, p, s or 0
    if isinstance(t, st.DateTime):
        return ("timestamptz" if getattr(t, "timezone", False) else "timestamp"), None, None, None
    if isinstance(t, st.Date):
        return "date", None, None, None
    if isinstance(t, st.Time):
        # a time of day with a zone (PostgreSQL timetz): no neutral kind keeps the offset,
        # so its text does ("03:03:03.5+08"); as "time" the offset was dropped unsaid
        return ("text" if getattr(t, "timezone", False) else "time"), None, None, None
    if isinstance(t, st.JSON):
        return "json", None, None, None
    if isinstance(t, st.Uuid):
        return "uuid", None, None, None
    if isinstance(t, st.Enum):
        longest = max((len(e) for e in t.enums), default=1)
        return "string", max(longest, 1), None, None
    if isinstance(t, st.Text):
        # SQLite "text(18)" and MySQL TEXT(n): the length is no limit there; drop it.
        return "text", None, None, None
    if isinstance(t, st.String):
        n = t.length
        if isinstance(t, st.CHAR | st.NCHAR) and n:
            return "char", n, None, None
        if n:
            return "string", n, None, None
        return "text", None, None, None
    if isinstance(t, st._Binary):
        return "binary", getattr(t, "length", None), None, None
    return None, None, None, None


_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_QUOTED = re.compile(r"^'((?:[^']|'')*)'$")


def portable_default(raw: Any) -> str | None:
    """A server default every engine reads the same way (a number or a quoted string), or None."""
    if raw is None:
        return None
    s = str(raw).strip()
    # PostgreSQL renders defaults with casts ('x'::character varying); MySQL may wrap in quotes.
    s = re.sub(r"::[\w\s\"\[\]]+(\([\d,\s]+\))?$", "", s).strip()
    while s.startswith("(") and s.endswith(")"):
        s = s[1:-1].strip()
    if _NUMBER.match(s) or _QUOTED.match(s):
        return s
    if s.upper() in ("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP()", "NOW()"):
        return "CURRENT_TIMESTAMP"
    return None


def dependency_order(defs: list[TableDef]) -> list[TableDef]:
    """Tables sorted so every referenced table comes before its referrers (cycles: stable)."""
    by_name = {d.name: d for d in defs}
    order: list[TableDef] = []
    state: dict[str, int] = {}

    def visit(d: TableDef) -> None:
        mark = state.get(d.name, 0)
        if mark:
            return  # done, or on the current path (a cycle: FKs are added after data anyway)
        state[d.name] = 1
        for fk in d.foreign_keys:
            parent = by_name.get(fk.ref_table)
            if parent is not None and parent.name != d.name:
                visit(parent)
        state[d.name] = 2
        order.append(d)

    for d in sorted(defs, key=lambda x: x.name):
        visit(d)
    return order
