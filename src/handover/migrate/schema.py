"""Target DDL out of engine-neutral table definitions.

A :class:`~handover.db.reflect.TableDef` (reflected by :mod:`handover.db.reflect`, or
carried by a package manifest) is what a target creates: names made unique and short
enough for every engine, then a SQLAlchemy Core ``Table`` whose column types come from
the target's dialect module.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

import handover.migrate.messages  # noqa: F401  (registers the texts)
from handover.db.dialects import family
from handover.db.reflect import ColumnDef, ForeignKeyDef, IndexDef, TableDef
from handover.db.spelling import column_comment
from handover.errors import BadInput

#: MariaDB cannot index TEXT/BLOB without a prefix; key columns of those kinds get this length
MARIADB_KEY_LENGTH = 255
#: the longest identifier every target accepts (PostgreSQL: 63 bytes)
MAX_NAME = 63


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
