"""Target DDL out of engine-neutral table definitions.

A :class:`~handover.db.reflect.TableDef` (reflected by :mod:`handover.db.reflect`, or
carried by a package manifest) is what a target creates: names made unique and short
enough for every engine, then a SQLAlchemy Core ``Table`` whose column types come from
the target's dialect module.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from handover.db import dialects
from handover.db.dialects.base import Declared
from handover.db.reflect import ColumnDef, ForeignKeyDef, IndexDef, TableDef
from handover.db.spelling import column_comment
from handover.errors import HandoverError
from handover.i18n import Msg

#: the longest identifier every target accepts (PostgreSQL: 63 bytes)
MAX_NAME = 63


def target_type(col: ColumnDef, target: str, *, key: bool = False) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type of ``col`` on the ``target`` engine (its dialect module);
    ``key`` if indexed."""
    return dialects.get(target).column_type(col, key=key)


def target_type_name(col: ColumnDef, target: str) -> str:
    """The target's spelling of the column type (for reports and docs)."""
    d = dialects.get(target)
    return str(d.column_type(col).compile(dialect=d.sa_dialect()))


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


def build_table(
    meta: sa.MetaData, d: TableDef, target: str, *, with_fks: bool = False, with_key: bool = True
) -> sa.Table:
    """A Core ``Table`` for the target: columns, primary key (and FKs when ``with_fks``).
    Without ``with_key`` the key's columns are NOT NULL but not yet a key: the copy adds
    the key after the rows (``Dialect.keys_after_load``)."""
    dialect = dialects.get(target)
    keys = d.key_columns
    cols: list[Any] = []
    single_pk = len(d.primary_key) == 1
    for c in d.columns:
        typ = dialect.column_type(c, key=c.name in keys)
        auto = bool(c.autoincrement and single_pk and c.name in d.primary_key)
        declared = isinstance(typ, Declared)
        extra: list[Any] = []
        if auto and dialect.identity_keys:
            extra.append(sa.Identity(always=False))
        server_default = None
        if c.default is not None:
            server_default = sa.text(c.default)
        # A SQLite column declared as in its source keeps its NULL rule (SQLite allows NULL
        # in a primary key not declared NOT NULL); other engines need NOT NULL keys.
        nullable = c.nullable if c.name not in d.primary_key or declared else False
        comment = None
        if dialect.typed:
            kind = "text" if c.stored_text and c.spelling is None else c.kind
            comment = column_comment(c, kind)
        cols.append(
            sa.Column(
                c.name,
                typ,
                *extra,
                primary_key=with_key and c.name in d.primary_key,
                nullable=nullable,
                # "INTEGER PRIMARY KEY" is the rowid whatever SQLAlchemy is told
                autoincrement=False if declared else auto,
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
    return sa.Table(d.name, meta, *args, **dialect.table_options())


def plan_conflicts(engine: sa.Engine, defs: list[TableDef], existing: list[str]) -> list[Msg]:
    """Everything in the schema plan ``defs`` the target ``engine`` would refuse or
    silently change, found before anything is created: the account's write rights,
    names too long or of characters the engine refuses, names that collide once the
    engine folds case, foreign keys to tables neither copied nor in the target, and DDL
    the engine's compiler refuses. ``existing``: the tables the target holds."""
    dialect = dialects.get(engine.dialect.name)
    with engine.connect() as conn:
        out: list[Msg] = list(dialect.write_problems(conn))
        table_fold, column_fold = dialect.name_folds(conn)
    tables: dict[str, str] = {table_fold(n): n for n in existing}
    indexes: dict[str, str] = {}
    if not dialect.index_names_per_table:
        indexes = {column_fold(n): n for n in existing}
    planned = {table_fold(d.name) for d in defs}
    for d in defs:
        problem = dialect.name_problem(d.name)
        if problem is not None:
            out.append(Msg("migrate.plan.table_name", table=d.name, problem=problem))
        other = tables.get(table_fold(d.name))
        if other is not None and other != d.name:
            out.append(Msg("migrate.plan.table_clash", table=d.name, other=other))
        tables[table_fold(d.name)] = d.name
        columns: dict[str, str] = {}
        for c in d.column_names:
            problem = dialect.name_problem(c)
            if problem is not None:
                out.append(Msg("migrate.plan.column_name", table=d.name, column=c, problem=problem))
            other = columns.setdefault(column_fold(c), c)
            if other != c:
                out.append(Msg("migrate.plan.column_clash", table=d.name, column=c, other=other))
        scope = {} if dialect.index_names_per_table else indexes
        if not dialect.index_names_per_table:
            scope.setdefault(column_fold(d.name), d.name)
        named: list[IndexDef | ForeignKeyDef] = [*d.uniques, *d.indexes, *d.foreign_keys]
        for ix in named:
            if not ix.name:
                continue
            problem = dialect.name_problem(ix.name)
            if problem is not None:
                out.append(
                    Msg("migrate.plan.index_name", table=d.name, index=ix.name, problem=problem)
                )
            other = scope.setdefault(column_fold(ix.name), ix.name)
            if other != ix.name:
                out.append(
                    Msg("migrate.plan.index_clash", table=d.name, index=ix.name, other=other)
                )
        for fk in d.foreign_keys:
            if table_fold(fk.ref_table) not in planned and table_fold(fk.ref_table) not in {
                table_fold(n) for n in existing
            }:
                out.append(
                    Msg(
                        "migrate.plan.fk_outside",
                        table=d.name,
                        columns=", ".join(fk.columns),
                        ref=fk.ref_table,
                    )
                )
    if not out:
        out += _ddl_problems(engine, defs, existing)
    return out


def _ddl_problems(engine: sa.Engine, defs: list[TableDef], existing: list[str]) -> list[Msg]:
    """The CREATE TABLE statements compiled for the target (nothing is run)."""
    from sqlalchemy.schema import CreateTable

    dialect = dialects.get(engine.dialect.name)
    meta = sa.MetaData()
    fam = dialects.family(engine.dialect.name)
    out: list[Msg] = []
    built: list[tuple[TableDef, sa.Table]] = []
    for d in defs:
        try:
            built.append((d, build_table(meta, d, fam, with_fks=not dialect.alters_constraints)))
        except HandoverError as exc:
            out.append(Msg("migrate.plan.ddl", table=d.name, reason=str(exc)))
    stub_references(meta, defs, existing)
    for d, tbl in built:
        try:
            str(CreateTable(tbl).compile(dialect=engine.dialect))
        except (sa.exc.SQLAlchemyError, HandoverError) as exc:
            out.append(Msg("migrate.plan.ddl", table=d.name, reason=str(exc).splitlines()[0][:200]))
    return out


def stub_references(meta: sa.MetaData, defs: list[TableDef], existing: list[str]) -> None:
    """Tables of the target that foreign keys of ``defs`` point at, as bare stubs in
    ``meta`` (their columns only named), so that a ``CREATE TABLE`` carrying the keys
    compiles; never created."""
    planned = {d.name for d in defs}
    for d in defs:
        for fk in d.foreign_keys:
            if fk.ref_table in planned or fk.ref_table not in existing:
                continue
            stub = meta.tables.get(fk.ref_table)
            if stub is None:
                stub = sa.Table(fk.ref_table, meta)
            for c in fk.ref_columns:
                if c not in stub.c:
                    stub.append_column(sa.Column(c, sa.Integer))
