"""What verify compares: both databases connected read-only (their statements under way
cancelled when a comparison stops), each table's plan (columns, kinds, key, the SQL of
both sides), and the reference comparison of the rows fetched from both sides
(:func:`diff_rows`: every value rendered by :mod:`handover.verify.normalize`)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from handover.db import dialects
from handover.db.connect import Wording, error_detail
from handover.db.connect import connect as connect_db
from handover.db.reflect import Catalog
from handover.db.url import is_url, mask, parse
from handover.errors import BadInput
from handover.verify import sql as q
from handover.verify.normalize import (
    SideType,
    classify,
    digest_form,
    normalisations,
    padded,
    render_value,
    resolve_kind,
)
from handover.verify.results import KEY_CAP, TableResult, json_key, sort_key

if TYPE_CHECKING:
    from handover.db.dialects.base import Dialect


# --- connections ------------------------------------------------------------------------


#: how a database verify cannot use or reach is told
WORDING = Wording("verify.bad_url", "verify.unreachable")


def _functions(dbapi_conn: Any, dialect: Dialect) -> None:
    if dialect.name == "sqlite":
        q.register_sqlite(dbapi_conn)
    dialect.verify_connected(dbapi_conn)


def connect(spec: str) -> Engine:
    """An engine for a SQLite file (opened read-only) or a database URL, with the session
    settings the digest SQL relies on; BadInput if unusable."""
    shown = mask(spec)
    if not is_url(spec):
        if not Path(spec).is_file():
            raise BadInput.msg("verify.no_sqlite", spec=shown)
    else:
        url = parse(spec)
        backend = url.get_backend_name()
        if (
            backend == "sqlite"
            and url.database
            and url.database != ":memory:"
            and not Path(url.database).is_file()
        ):
            raise BadInput.msg("verify.no_sqlite", spec=shown)
        if dialects.find(backend) is None:
            raise BadInput.msg("verify.unsupported", spec=shown)
    engine = connect_db(
        spec, wording=WORDING, session="verify", on_connect=_functions, read_only=True, threads=True
    )
    Running.watch(engine)
    return engine


#: the statements under way of each engine :func:`connect` made
_RUNNING: weakref.WeakKeyDictionary[Engine, Running] = weakref.WeakKeyDictionary()


class Running:
    """The driver connections of an engine that run a statement now (on the comparison's
    threads): when the comparison stops (Ctrl-C, a failure), each is cancelled through
    its dialect, so that the threads end now instead of after their statements."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[int, Any] = {}

    @classmethod
    def watch(cls, engine: Engine) -> None:
        running = cls()
        _RUNNING[engine] = running
        sa.event.listen(engine, "before_cursor_execute", running._started)
        sa.event.listen(engine, "after_cursor_execute", running._ended)
        sa.event.listen(engine, "handle_error", running._failed)

    def _started(self, conn: sa.Connection, *_: Any) -> None:
        raw = conn.connection.driver_connection
        with self.lock:
            self.now[id(raw)] = raw

    def _ended(self, conn: sa.Connection, *_: Any) -> None:
        with self.lock:
            self.now.pop(id(conn.connection.driver_connection), None)

    def _failed(self, context: Any) -> None:
        if context.connection is not None:
            self._ended(context.connection)

    @staticmethod
    def cancel(engine: Engine) -> None:
        """Cancel every statement ``engine``'s connections run now (errors ignored: a
        statement may end meanwhile)."""
        running = _RUNNING.get(engine)
        if running is None:
            return
        with running.lock:
            raws = list(running.now.values())
        d = dialects.get(engine.dialect.name)
        for raw in raws:
            with suppress(Exception):
                d.cancel(engine, raw)


class LinkFailed(Exception):
    """A statement on a raw connection failed (its reason: the driver error's
    :func:`~handover.db.connect.error_detail`)."""


class TableFailed(Exception):
    """A database statement comparing one table failed."""

    def __init__(self, table: str, exc: BaseException) -> None:
        super().__init__(table)
        self.table, self.exc = table, exc


@contextmanager
def on_table(name: str) -> Iterator[None]:
    """A database failure inside is :class:`TableFailed` naming the table ``name``."""
    try:
        yield
    except (SQLAlchemyError, LinkFailed) as exc:
        raise TableFailed(name, exc) from None


def reason(exc: BaseException) -> str:
    """The reason told for a failed statement: a link's own, or the driver error's."""
    return str(exc) if isinstance(exc, LinkFailed) else error_detail(exc)


# --- table plans ------------------------------------------------------------------------


@dataclass
class Side:
    """One side of one table: its engine, quoted names and the SQL built for it."""

    engine: Engine
    table: str
    columns: list[str]
    types: list[SideType]
    pk: list[str]
    row_sql: str = ""
    seg_sql: str = ""
    value_sqls: list[str] = field(default_factory=list)
    #: the kind each column is rendered as (both sides alike)
    kinds: list[str] = field(default_factory=list)
    #: a SQLite file against a server engine: (compact, scale) of each column of the
    #: server's digest text, which :mod:`handover.verify.arrow` renders for this side
    arrow_forms: list[tuple[bool, int | None]] | None = None
    int_key: bool = True
    #: PostgreSQL on both sides: digest these expressions with ``pg_native_digest``
    native_sqls: list[str] | None = None
    #: PostgreSQL/MariaDB on both sides: digest these values with ``digest_row_expr``
    digest_sqls: list[str] | None = None
    compact: list[bool] = field(default_factory=list)
    #: PostgreSQL: a full scan may inline the values (no fence), so it can run in parallel
    inline: bool = False
    #: which key columns may hold NULL (not declared NOT NULL); key ranges never read a
    #: row whose first key is NULL
    nullable_key: list[bool] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sql(self) -> Dialect:
        """The engine's dialect: the digest SQL of this side."""
        return dialects.get(self.engine.dialect.name)

    def quote(self, name: str) -> str:
        """``name`` quoted by the engine's dialect (:meth:`Dialect.quote`): a ``%`` stays
        single, as the raw driver statements (ADBC) need it and as ``sa.text`` doubles it
        once for the driver's parameter style (SQLAlchemy's preparer doubles it too)."""
        return self.sql.quote(name)


@dataclass
class Plan:
    name: str
    kinds: list[str]
    pk_idx: list[int]
    int_key: bool
    src: Side
    dst: Side
    normalisations: list[str] = field(default_factory=list)
    #: per column, source then target: a server's blank-padded CHAR(n), whose values are
    #: compared without trailing spaces
    padded: list[tuple[bool, bool]] = field(default_factory=list)


def arrow_pair(
    engines: tuple[Engine, Engine],
    sqls: tuple[Dialect, Dialect],
    kinds: list[str],
    *,
    int_key: bool,
) -> bool:
    """Whether a SQLite file is compared with a server engine by the server's cheaper
    digest text (:func:`~handover.verify.normalize.digest_form`), the SQLite side
    rendering it over Arrow in its workers: an integer key and kinds Arrow renders."""
    typed = [d.typed for d in sqls]
    if typed.count(False) != 1 or not int_key or any(k not in q.ARROW_KINDS for k in kinds):
        return False
    lite = engines[typed.index(False)]
    return lite.url.database not in (None, "", ":memory:")


def reflect(engine: Engine, shown: str) -> dict[str, tuple[str, list[Any], list[str]]]:
    """Every table: lower-cased name → (real name, columns, primary key)."""
    try:
        catalog = Catalog(engine)
        names = catalog.table_names()
    except SQLAlchemyError as exc:
        raise BadInput.msg("verify.no_tables", spec=shown, kind=type(exc).__name__) from None
    out: dict[str, tuple[str, list[Any], list[str]]] = {}
    for name in names:
        try:
            out[name.lower()] = (name, catalog.columns(name), catalog.primary_key(name))
        except SQLAlchemyError as exc:  # a virtual table whose module is missing …
            raise BadInput.msg(
                "sources.table_unreadable", source=shown, table=name, detail=error_detail(exc)
            ) from None
    return out


def plan_table(
    name: str,
    src_engine: Engine,
    dst_engine: Engine,
    src_meta: tuple[str, list[Any], list[str]],
    dst_meta: tuple[str, list[Any], list[str]],
    shown: tuple[str, str],
    *,
    native: bool = False,
    server: bool | None = None,
    stored: bool | None = None,
) -> Plan:
    """The SQL of both sides of one table; ``native``: both are PostgreSQL (faster digest).

    ``server`` (default: neither side is SQLite) digests the cheaper digest text of
    :func:`~handover.verify.normalize.digest_form` instead of the canonical row text.
    ``stored`` (default: both sides are SQLite) compares every value as the engine
    stores it — storage class and bytes — instead of its canonical rendering: what
    SQLite's own queries see (``'2019-03-02 12:57:46'`` is not ``'….000000'``).
    """
    s_name, s_cols, s_pk = src_meta
    d_name, d_cols, d_pk = dst_meta
    d_by = {c["name"].lower(): c for c in d_cols}
    s_by = {c["name"].lower(): c for c in s_cols}
    for c in s_cols:
        if c["name"].lower() not in d_by:
            raise BadInput.msg("verify.source_only_column", table=s_name, column=c["name"])
    for c in d_cols:
        if c["name"].lower() not in s_by:
            raise BadInput.msg("verify.target_only_column", table=s_name, column=c["name"])
    pk = s_pk or [d_by_name["name"] for d_by_name in d_cols if d_by_name["name"] in d_pk]
    if not pk:
        raise BadInput.msg("verify.no_primary_key", table=s_name)
    names = [c["name"] for c in s_cols]
    lower = [n.lower() for n in names]
    s_types = [classify(c["type"], src_engine.dialect.name) for c in s_cols]
    d_types = [classify(d_by[n]["type"], dst_engine.dialect.name) for n in lower]
    s_sql, d_sql = dialects.get(src_engine.dialect.name), dialects.get(dst_engine.dialect.name)
    if stored is None:
        stored = not s_sql.typed and not d_sql.typed
    if stored:
        kinds = ["stored"] * len(s_types)
    else:
        kinds = [resolve_kind(a, b) for a, b in zip(s_types, d_types, strict=True)]
    sqlite = (not s_sql.typed, not d_sql.typed)
    pk_idx = [lower.index(p.lower()) for p in pk]
    first = pk_idx[0]
    int_key = s_types[first].kind == "int" and d_types[first].kind == "int"
    if server is None:
        server = (s_sql.typed and d_sql.typed) or arrow_pair(
            (src_engine, dst_engine), (s_sql, d_sql), kinds, int_key=int_key
        )
    forms = [digest_form(k, a, b) for k, a, b in zip(kinds, s_types, d_types, strict=True)]
    src = Side(src_engine, s_name, names, s_types, [names[i] for i in pk_idx])
    dst = Side(dst_engine, d_name, [d_by[n]["name"] for n in lower], d_types, [])
    dst.pk = [dst.columns[i] for i in pk_idx]
    src.nullable_key = [bool(s_cols[i].get("nullable", True)) for i in pk_idx]
    dst.nullable_key = [bool(d_by[lower[i]].get("nullable", True)) for i in pk_idx]
    for side in (src, dst):
        d = side.sql
        qcols = [side.quote(c) for c in side.columns]
        vals = [d.value_expr(qc, k, st) for qc, k, st in zip(qcols, kinds, side.types, strict=True)]
        side.row_sql = d.row_expr(vals)
        side.value_sqls = vals
        side.kinds = kinds
        if server and not native and not d.typed:
            # a SQLite file against a server: its digest text rendered over Arrow
            side.arrow_forms = forms
        elif server and not native:
            side.digest_sqls = [
                d.digest_value_expr(qc, k, st, scale)
                for qc, k, st, (_c, scale) in zip(qcols, kinds, side.types, forms, strict=True)
            ]
            side.compact = [c for c, _s in forms]
        side.int_key = int_key
        key_text = d.row_expr([vals[i] for i in pk_idx])
        if native:
            # same-typed columns are hashed as stored; the others as canonical text
            side.native_sqls = [
                qc if d.native_ok(k, a, b) else v
                for qc, v, k, a, b in zip(qcols, vals, kinds, s_types, d_types, strict=True)
            ]
        if d.inlines:
            # every value a digest names twice (length prefix + text) must be cheap
            if native:
                side.inline = True
            elif side.digest_sqls is not None:
                pairs = zip(side.digest_sqls, side.compact, qcols, strict=True)
                side.inline = all(d.plain_text(v, qc) for v, c, qc in pairs if not c)
            else:
                side.inline = all(d.plain_text(v, qc) for v, qc in zip(vals, qcols, strict=True))
        if int_key:
            side.seg_sql = qcols[first]
        elif native:
            side.seg_sql = d.native_segment(key_text)
        else:
            side.seg_sql = d.hash32_expr(key_text)
    del shown
    found = normalisations(kinds, s_types, d_types, sqlite)
    pads = [padded(k, a, b, sqlite) for k, a, b in zip(kinds, s_types, d_types, strict=True)]
    return Plan(s_name, kinds, pk_idx, int_key, src, dst, found, pads)


def diff_rows(
    plan: Plan, src_rows: list[tuple[Any, ...]], dst_rows: list[tuple[Any, ...]], res: TableResult
) -> None:
    kinds = plan.kinds

    def index(
        rows: list[tuple[Any, ...]], twins: list[Any], side: int
    ) -> dict[tuple[str | None, ...], tuple[Any, ...]]:
        # a server's char(n) padding is not data: its digest text has none (normalize.padded)
        trims = [i for i, p in enumerate(plan.padded) if p[side]]
        # Two stored keys may render alike (a SQLite TIME '03:03:03' and '03:03:03.000000'):
        # the second has no row of its own on the other side, and goes to ``twins``.
        out: dict[tuple[str | None, ...], tuple[Any, ...]] = {}
        for row in rows:
            texts = tuple(render_value(v, k, nfc=True) for v, k in zip(row, kinds, strict=True))
            if trims:
                cut = list(texts)
                for i in trims:
                    text = cut[i]
                    cut[i] = None if text is None else text.rstrip(" ")
                texts = tuple(cut)
            key = tuple(texts[i] for i in plan.pk_idx)
            if key in out:
                twins.append(json_key([row[i] for i in plan.pk_idx]))
            else:
                out[key] = (texts, row)
        return out

    missing: list[Any] = []
    extra: list[Any] = []
    changed: list[Any] = []
    a, b = index(src_rows, missing, 0), index(dst_rows, extra, 1)
    for key, (texts, row) in a.items():
        other = b.get(key)
        if other is None:
            missing.append(json_key([row[i] for i in plan.pk_idx]))
        elif other[0] != texts:
            changed.append(json_key([row[i] for i in plan.pk_idx]))
    for key, (_texts, row) in b.items():
        if key not in a:
            extra.append(json_key([row[i] for i in plan.pk_idx]))
    for name, keys in (("missing", missing), ("extra", extra), ("changed", changed)):
        keys.sort(key=sort_key)
        setattr(res, "n_" + name, len(keys))
        setattr(res, name, keys[:KEY_CAP])
