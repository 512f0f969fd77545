"""Engine-neutral table definitions, reflection into them, and target DDL out of them.

A :class:`TableDef` is what a migration source describes and a target creates: columns
with a neutral :class:`ColumnDef` kind (``int32``, ``decimal(14,2)``, ``text`` …), the
primary key, unique constraints, indexes and foreign keys. It is JSON-serialisable so a
sealed package can carry it in its manifest. Reflection goes through SQLAlchemy's
Inspector; DDL is built with SQLAlchemy Core types adapted per target dialect.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from handover.errors import BadInput
from handover.migrate.spelling import column_comment, engine_spelling, from_comment, sqlite_native

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

#: MariaDB cannot index TEXT/BLOB without a prefix; key columns of those kinds get this length
MARIADB_KEY_LENGTH = 255
#: the longest identifier every target accepts (PostgreSQL: 63 bytes)
MAX_NAME = 63


@dataclass(frozen=True)
class ColumnDef:
    """One column in neutral form; ``declared`` is the source's own spelling of the type.

    ``sqlite_type`` is the declared type a SQLite target gives the column: a SQLite
    source's own text (``TIMESTAMP``, ``TEXT(18)``, ``NUMERIC(16,2)``), carried by packages
    and through PostgreSQL/MariaDB column comments. ``stored_text``: the values travel as
    the text a SQLite source stores (its dates and times, kept byte for byte); they are
    parsed only to check them and for a typed target. ``spelling``: how the date/time
    values are spelt as text (:mod:`handover.migrate.spelling`); for ``stored_text`` None
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
    k = col.kind
    if col.stored_text:
        return pa.string()
    if k == "bool":
        return pa.bool_()
    if k in ("int16", "int32", "int64"):
        return {"int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64()}[k]
    if k == "decimal":
        p, s = col.precision, col.scale or 0
        if p is None:
            return pa.string()  # unbounded NUMERIC: exact text, no rounding
        return pa.decimal128(p, s) if p <= 38 else pa.decimal256(p, s)
    if k == "float32":
        return pa.float32()
    if k == "float64":
        return pa.float64()
    if k == "date":
        return pa.date32()
    if k == "time":
        return pa.time64("us")
    if k == "timestamp":
        return pa.timestamp("us")
    if k == "timestamptz":
        return pa.timestamp("us", tz="UTC")
    if k == "binary":
        return pa.binary()
    return pa.string()


# --- reflection -------------------------------------------------------------------------


def neutral_column(
    table: str, info: dict[str, Any], dialect: str, *, sole_int_pk: bool = False
) -> ColumnDef:
    """The neutral form of one reflected column; :class:`BadInput` for an unsupported type."""
    t = info["type"]
    name = info["name"]
    declared = _declared(t)
    kind, length, precision, scale = _kind_of(t, dialect)
    if kind is None:
        raise BadInput.msg("migrate.unsupported_type", table=table, column=name, type=declared)
    auto = bool(info.get("autoincrement") is True or info.get("identity"))
    if dialect == "postgresql":
        default = str(info.get("default") or "")
        auto = auto or default.startswith("nextval(")
    if dialect == "sqlite":
        auto = sole_int_pk and kind.startswith("int")
    if auto and not kind.startswith("int"):
        auto = False
    nullable = bool(info.get("nullable", True))
    spelling = engine_spelling(kind, getattr(t, "fsp", None)) if dialect != "sqlite" else None
    sqlite_type = None
    carried = from_comment(info.get("comment"), kind) if dialect != "sqlite" else None
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
    try:
        return str(t.compile())
    except Exception:
        return type(t).__name__


def _kind_of(t: Any, dialect: str) -> tuple[str | None, int | None, int | None, int | None]:
    # Order matters: Boolean/BigInteger/SmallInteger/Float are subclasses of broader types.
    st = sa.types
    if isinstance(t, st.NullType):
        return "text", None, None, None
    if isinstance(t, st.Boolean):
        return "bool", None, None, None
    if dialect in ("mysql", "mariadb") and isinstance(t, mysql.TINYINT):
        if getattr(t, "display_width", None) == 1:
            return "bool", None, None, None
        return "int16", None, None, None
    if dialect in ("mysql", "mariadb") and isinstance(t, mysql.YEAR):
        return "int16", None, None, None
    if isinstance(t, st.Integer):
        unsigned = bool(getattr(t, "unsigned", False))
        if dialect == "sqlite" and not isinstance(t, st.SmallInteger):
            return "int64", None, None, None  # SQLite INTEGER is 64-bit whatever the spelling
        if isinstance(t, st.BigInteger):
            return ("decimal", None, 20, 0) if unsigned else ("int64", None, None, None)
        if isinstance(t, st.SmallInteger):
            return ("int32" if unsigned else "int16"), None, None, None
        if dialect in ("mysql", "mariadb") and isinstance(t, mysql.MEDIUMINT):
            return "int32", None, None, None
        return ("int64" if unsigned else "int32"), None, None, None
    if isinstance(t, st.Float):
        if dialect == "sqlite" or isinstance(t, st.Double):
            return "float64", None, None, None
        if isinstance(t, mysql.DOUBLE):
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
        return "time", None, None, None
    if isinstance(t, st.JSON):
        return "json", None, None, None
    if isinstance(t, st.Uuid):
        return "uuid", None, None, None
    if dialect in ("mysql", "mariadb") and isinstance(t, mysql.SET):
        # Its value is a comma-separated list of members, up to all of them.
        members = [str(v) for v in t.values]
        return "string", max(sum(len(v) for v in members) + len(members) - 1, 1), None, None
    if isinstance(t, st.Enum):
        longest = max((len(e) for e in t.enums), default=1)
        return "string", max(longest, 1), None, None
    if isinstance(t, st.Text):
        # SQLite "text(18)" and MySQL TEXT(n): the length is no limit there; drop it.
        return "text", None, None, None
    if isinstance(t, st.String):
        n = t.length
        if dialect == "sqlite" and isinstance(t, st.CHAR | st.NCHAR):
            # SQLite never pads CHAR(n); keep the limit but not the padding semantics.
            return ("string", n, None, None) if n else ("text", None, None, None)
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


def reflect(
    engine: sa.Engine, tables: list[str] | None = None, *, spellings: bool = True
) -> list[TableDef]:
    """Every (or each named) table of ``engine``'s default schema, parents before children.

    ``spellings=False``: do not scan SQLite tables for the spelling of their dates and
    times (only a copy into PostgreSQL/MariaDB or a package needs it).
    """
    insp = sa.inspect(engine)
    dialect = engine.dialect.name
    names = insp.get_table_names()
    names = [n for n in names if not n.startswith("_handover_migrate") and n != "sqlite_sequence"]
    if tables is not None:
        missing = sorted(set(tables) - set(names))
        if missing:
            raise BadInput.msg("migrate.no_source_table", table=missing[0])
        names = [n for n in names if n in tables]
    defs = [_reflect_table(insp, name, dialect) for name in names]
    if dialect == "sqlite":
        # declared types as written, and dates/times as the text the file holds
        with engine.connect() as conn:
            defs = [sqlite_native(conn, d, spellings=spellings) for d in defs]
    return dependency_order(defs)


def _reflect_table(insp: sa.Inspector, name: str, dialect: str) -> TableDef:
    cols_info = insp.get_columns(name)
    pk_info = insp.get_pk_constraint(name)
    pk = tuple(pk_info.get("constrained_columns") or ())
    int_pk = False
    if len(pk) == 1:
        pk_col = next((c for c in cols_info if c["name"] == pk[0]), None)
        # Only a column declared exactly INTEGER aliases SQLite's rowid (auto-assigned).
        int_pk = pk_col is not None and (
            type(pk_col["type"]) is sa.INTEGER
            if dialect == "sqlite"
            else isinstance(pk_col["type"], sa.Integer)
        )
    columns = [neutral_column(name, dict(c), dialect, sole_int_pk=int_pk) for c in cols_info]
    notes: list[str] = []
    uniques: list[IndexDef] = []
    for uc in insp.get_unique_constraints(name):
        cols = tuple(c for c in uc["column_names"] if c is not None)
        if cols and tuple(cols) != pk:
            uniques.append(IndexDef(uc.get("name") or "", cols, True))
    indexes: list[IndexDef] = []
    seen = {ix.columns for ix in uniques}
    for ix in insp.get_indexes(name):
        cols_raw = ix.get("column_names") or []
        if any(c is None for c in cols_raw) or ix.get("expressions"):
            notes.append(f"index {ix.get('name')} on an expression was not copied")
            continue
        cols = tuple(str(c) for c in cols_raw)
        if ix.get("duplicates_constraint") or (ix.get("unique") and cols in seen) or cols == pk:
            continue
        if ix.get("unique"):
            uniques.append(IndexDef(ix.get("name") or "", cols, True))
            seen.add(cols)
        else:
            indexes.append(IndexDef(ix.get("name") or "", cols, False))
    fks = [
        ForeignKeyDef(
            fk.get("name") or "",
            tuple(fk["constrained_columns"]),
            fk["referred_table"],
            tuple(fk["referred_columns"]),
            (fk.get("options") or {}).get("ondelete"),
            (fk.get("options") or {}).get("onupdate"),
        )
        for fk in insp.get_foreign_keys(name)
        if fk.get("referred_table")
    ]
    return TableDef(name, columns, pk, uniques, indexes, fks, notes)


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


# --- target DDL --------------------------------------------------------------------------


def family(dialect_name: str) -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` (MariaDB and MySQL share one family)."""
    return "mysql" if dialect_name in ("mysql", "mariadb") else dialect_name


def target_type(col: ColumnDef, target: str, *, key: bool = False) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type of ``col`` on the ``target`` family; ``key`` if indexed."""
    fam = family(target)
    if fam == "sqlite" and col.sqlite_type:
        return Declared(col.sqlite_type)  # the SQLite source's own text: same affinity
    if col.stored_text and col.spelling is None:
        col = replace(col, kind="text")  # SQLite text in several spellings: kept as text
    k = col.kind
    if k == "bool":
        return sa.Boolean(create_constraint=False)
    if k in ("int16", "int32", "int64"):
        if fam == "sqlite" and col.autoincrement:
            return sa.Integer()  # only "INTEGER PRIMARY KEY" aliases the rowid
        return {"int16": sa.SmallInteger(), "int32": sa.Integer(), "int64": sa.BigInteger()}[k]
    if k == "decimal":
        if col.precision is None:
            return mysql.DECIMAL(65, 30) if fam == "mysql" else sa.Numeric()
        return sa.Numeric(col.precision, col.scale or 0)
    if k == "float32":
        return mysql.FLOAT() if fam == "mysql" else sa.REAL()
    if k == "float64":
        if fam == "postgresql":
            return postgresql.DOUBLE_PRECISION()
        return mysql.DOUBLE() if fam == "mysql" else sa.REAL()
    if k == "date":
        return sa.Date()
    if k == "time":
        return mysql.TIME(fsp=6) if fam == "mysql" else sa.Time()
    if k in ("timestamp", "timestamptz"):
        if fam == "mysql":
            return mysql.DATETIME(fsp=6)  # MariaDB has no zone-aware type: values are UTC
        return sa.DateTime(timezone=k == "timestamptz" and fam == "postgresql")
    if k == "char":
        return sa.CHAR(col.length)
    if k == "string":
        if fam == "mysql" and (col.length or 0) > 16383:
            return mysql.LONGTEXT()
        return sa.String(col.length)
    if k == "text":
        if fam == "mysql":
            return sa.String(MARIADB_KEY_LENGTH) if key else mysql.LONGTEXT()
        return sa.Text()
    if k == "json":
        if fam == "postgresql":
            return postgresql.JSONB() if "JSONB" in col.declared.upper() else postgresql.JSON()
        return sa.JSON()
    if k == "uuid":
        return postgresql.UUID() if fam == "postgresql" else sa.CHAR(36)
    if k == "binary":
        if fam == "postgresql":
            return postgresql.BYTEA()
        if fam == "mysql":
            return mysql.VARBINARY(MARIADB_KEY_LENGTH) if key else mysql.LONGBLOB()
        return sa.LargeBinary()
    raise BadInput.msg("migrate.unknown_kind", column=col.name, kind=k)


class Declared(sa.types.UserDefinedType[Any]):
    """A column type spelt exactly as given (a SQLite declared type copied as written)."""

    cache_ok = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **_kw: Any) -> str:
        """The type text in ``CREATE TABLE``."""
        return self.spec


def target_type_name(col: ColumnDef, target: str) -> str:
    """The target's spelling of the column type (for reports and docs)."""
    from sqlalchemy.dialects import mysql as my_d
    from sqlalchemy.dialects import postgresql as pg_d
    from sqlalchemy.dialects import sqlite as sl_d

    d: dict[str, Any] = {
        "postgresql": pg_d.dialect(),  # type: ignore[no-untyped-call]
        "mysql": my_d.dialect(),
        "sqlite": sl_d.dialect(),
    }
    return str(target_type(col, target).compile(dialect=d[family(target)]))


def short_name(name: str) -> str:
    """``name`` if it fits every engine's identifier limit, else a truncated name + hash."""
    raw = name.encode("utf-8")
    if len(raw) <= MAX_NAME:
        return name
    from handover.crypto import sha256_hex

    digest = sha256_hex(raw)[:8]
    cut = raw[: MAX_NAME - 9].decode("utf-8", "ignore")
    return f"{cut}_{digest}"


def assign_names(defs: list[TableDef]) -> list[TableDef]:
    """Give every constraint/index a name unique across the schema (PostgreSQL needs that)."""
    used: set[str] = {d.name for d in defs}
    out: list[TableDef] = []

    def pick(preferred: str, fallback: str) -> str:
        for cand in (preferred, fallback):
            if cand:
                nm = short_name(cand)
                if nm not in used:
                    used.add(nm)
                    return nm
        n = 2
        while short_name(f"{fallback}_{n}") in used:
            n += 1
        nm = short_name(f"{fallback}_{n}")
        used.add(nm)
        return nm

    for d in defs:
        uniques = [
            IndexDef(pick(u.name, f"uq_{d.name}_{'_'.join(u.columns)}"), u.columns, True)
            for u in d.uniques
        ]
        indexes = [
            IndexDef(pick(i.name, f"ix_{d.name}_{'_'.join(i.columns)}"), i.columns, False)
            for i in d.indexes
        ]
        fks = [
            ForeignKeyDef(
                pick(f.name, f"fk_{d.name}_{'_'.join(f.columns)}_{f.ref_table}"),
                f.columns,
                f.ref_table,
                f.ref_columns,
                f.on_delete,
                f.on_update,
            )
            for f in d.foreign_keys
        ]
        out.append(TableDef(d.name, d.columns, d.primary_key, uniques, indexes, fks, list(d.notes)))
    return out


def build_table(meta: sa.MetaData, d: TableDef, target: str, *, with_fks: bool = False) -> sa.Table:
    """A Core ``Table`` for the target: columns, primary key (and FKs when ``with_fks``)."""
    fam = family(target)
    keys = d.key_columns
    cols: list[Any] = []
    single_pk = len(d.primary_key) == 1
    for c in d.columns:
        typ = target_type(c, target, key=c.name in keys)
        auto = bool(c.autoincrement and single_pk and c.name in d.primary_key)
        declared = isinstance(typ, Declared)
        extra: list[Any] = []
        if auto and fam == "postgresql":
            extra.append(sa.Identity(always=False))
        server_default = None
        if c.default is not None:
            server_default = sa.text(c.default)
        # A SQLite column declared as in its source keeps its NULL rule (SQLite allows NULL
        # in a primary key not declared NOT NULL); other engines need NOT NULL keys.
        nullable = c.nullable if c.name not in d.primary_key or declared else False
        comment = None
        if fam != "sqlite":
            kind = "text" if c.stored_text and c.spelling is None else c.kind
            comment = column_comment(c, kind)
        cols.append(
            sa.Column(
                c.name,
                typ,
                *extra,
                primary_key=c.name in d.primary_key,
                nullable=nullable,
                # "INTEGER PRIMARY KEY" is the rowid whatever SQLAlchemy is told
                autoincrement=False if declared else auto if fam != "postgresql" or auto else False,
                server_default=server_default,
                comment=comment,
            )
        )
    args: list[Any] = list(cols)
    if with_fks:
        for fk in d.foreign_keys:
            args.append(
                sa.ForeignKeyConstraint(
                    list(fk.columns),
                    [f"{fk.ref_table}.{c}" for c in fk.ref_columns],
                    name=fk.name or None,
                    ondelete=fk.on_delete,
                    onupdate=fk.on_update,
                    use_alter=False,
                )
            )
    kw: dict[str, Any] = {}
    if fam == "mysql":
        # Binary collation keeps the source's case-sensitive comparisons and unique keys.
        kw = {
            "mysql_charset": "utf8mb4",
            "mysql_collate": "utf8mb4_bin",
            "mysql_engine": "InnoDB",
        }
    return sa.Table(d.name, meta, *args, **kw)
