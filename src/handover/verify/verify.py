"""Row-exact comparison of tables across SQLite, PostgreSQL and MariaDB.

Each side hashes its rows inside the database (canonical text → MD5 prefix, summed per
primary-key segment). Segments whose (count, digest) differ are split and compared
again, level by level, until they are small; only those rows are fetched from both
sides and compared value by value with the Python reference normaliser.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from handover.db import dialects
from handover.db.connect import Wording, error_detail
from handover.db.connect import connect as connect_db
from handover.db.reflect import Catalog
from handover.db.url import is_url, mask, parse
from handover.errors import BadInput
from handover.i18n import t
from handover.progress import NoProgress, Progress
from handover.verify import sql as q
from handover.verify.normalize import (
    NORMALISATIONS,
    SideType,
    classify,
    digest_form,
    normalisations,
    padded,
    render_value,
    resolve_kind,
)
from handover.verify.sql import ArrowDigest, select_sql

if TYPE_CHECKING:
    from handover.db.dialects.base import Dialect
    from handover.verify import rowmerge

_T = TypeVar("_T")

#: rows per leaf segment: the unit that is fetched from both sides when it differs
LEAF_ROWS = 4
#: rows per segment of a level that reads the whole table
SCAN_ROWS = 32
#: segments of the first (full-table) level — at least FIRST_FANOUT, about SCAN_ROWS rows
#: each up to FIRST_MAX, so that scattered differences need no second full scan — and the
#: split factor of later levels
FIRST_FANOUT = 512
FIRST_MAX = 1 << 16
FANOUT = 64
#: how many keys each list of the JSON result keeps at most
KEY_CAP = 1000
#: ranges per WHERE clause
RANGES_PER_QUERY = 800
#: concurrent range queries of a full scan on an engine without parallel query, and the
#: fewest segments per part worth a split
SCAN_PARTS = 2
SPLIT_MIN_SEGMENTS = 64


# --- results ----------------------------------------------------------------------------


@dataclass
class TableResult:
    """The verdict on one table and the cost of reaching it."""

    name: str
    source_rows: int
    target_rows: int
    missing: list[Any] = field(default_factory=list)
    extra: list[Any] = field(default_factory=list)
    changed: list[Any] = field(default_factory=list)
    n_missing: int = 0
    n_extra: int = 0
    n_changed: int = 0
    rows_fetched: int = 0
    queries: int = 0
    levels: int = 0
    segment_key: str = "int"
    seconds: float = 0.0
    #: what the comparison normalised (codes of ``normalize.NORMALISATIONS``)
    normalisations: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        # the counts too: rows whose keys compare equal once normalised are never "equal"
        # by vanishing into one another
        differences = self.n_missing or self.n_extra or self.n_changed
        return not differences and self.source_rows == self.target_rows

    @property
    def truncated(self) -> bool:
        return (
            self.n_missing > len(self.missing)
            or self.n_extra > len(self.extra)
            or self.n_changed > len(self.changed)
        )

    def to_json(self) -> dict[str, Any]:
        """The machine form: name, row counts, key lists, equal (+ truncated if capped)."""
        out: dict[str, Any] = {
            "name": self.name,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "missing": self.missing,
            "extra": self.extra,
            "changed": self.changed,
            "equal": self.equal,
            "normalisations": self.normalisations,
        }
        if self.truncated:
            out["truncated"] = True
        return out

    def stats(self) -> dict[str, Any]:
        """Counts and costs without any key value (safe for the ledger)."""
        return {
            "name": self.name,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "missing": self.n_missing,
            "extra": self.n_extra,
            "changed": self.n_changed,
            "equal": self.equal,
            "rows_fetched": self.rows_fetched,
            "queries": self.queries,
            "levels": self.levels,
            "segment_key": self.segment_key,
            "seconds": round(self.seconds, 3),
            "normalisations": self.normalisations,
        }


@dataclass
class VerifyResult:
    """The verdict on every compared table."""

    source: str
    target: str
    tables: list[TableResult]
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        return all(x.equal for x in self.tables)

    @property
    def rows_fetched(self) -> int:
        return sum(x.rows_fetched for x in self.tables)

    @property
    def normalisations(self) -> list[str]:
        """Every normalisation some table's comparison applied, in a fixed order."""
        used = {c for x in self.tables for c in x.normalisations}
        return [c for c in NORMALISATIONS if c in used]

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """``{"equal", "normalisations", "tables"}`` as documented in docs/verify.md; each
        normalisation's ``text`` is in ``lang``."""
        return {
            "equal": self.equal,
            "normalisations": [
                {"code": c, "text": t(f"verify.norm.{c}", lang)} for c in self.normalisations
            ],
            "tables": [x.to_json() for x in self.tables],
        }

    @property
    def details(self) -> dict[str, Any]:
        """Per-table counts, flags and costs, never a key value."""
        return {
            "source": self.source,
            "target": self.target,
            "equal": self.equal,
            "rows_fetched": self.rows_fetched,
            "seconds": round(self.seconds, 3),
            "tables": [x.stats() for x in self.tables],
        }


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
    _Running.watch(engine)
    return engine


#: the statements under way of each engine :func:`connect` made
_RUNNING: weakref.WeakKeyDictionary[Engine, _Running] = weakref.WeakKeyDictionary()


class _Running:
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


# --- table plans ------------------------------------------------------------------------


@dataclass
class _Side:
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
        return str(self.engine.dialect.identifier_preparer.quote(name))


@dataclass
class _Plan:
    name: str
    kinds: list[str]
    pk_idx: list[int]
    int_key: bool
    src: _Side
    dst: _Side
    normalisations: list[str] = field(default_factory=list)
    #: per column, source then target: a server's blank-padded CHAR(n), whose values are
    #: compared without trailing spaces
    padded: list[tuple[bool, bool]] = field(default_factory=list)


def _arrow_pair(
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


def _reflect(engine: Engine, shown: str) -> dict[str, tuple[str, list[Any], list[str]]]:
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


def _plan(
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
) -> _Plan:
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
        server = (s_sql.typed and d_sql.typed) or _arrow_pair(
            (src_engine, dst_engine), (s_sql, d_sql), kinds, int_key=int_key
        )
    forms = [digest_form(k, a, b) for k, a, b in zip(kinds, s_types, d_types, strict=True)]
    src = _Side(src_engine, s_name, names, s_types, [names[i] for i in pk_idx])
    dst = _Side(dst_engine, d_name, [d_by[n]["name"] for n in lower], d_types, [])
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
    return _Plan(s_name, kinds, pk_idx, int_key, src, dst, found, pads)


# --- queries ----------------------------------------------------------------------------

#: aliases chosen not to clash with user columns
SEG = "ho__seg"
Range = tuple[int, int]  # [start, end) in segment-key space


def _merge(ranges: Iterable[Range]) -> list[Range]:
    out: list[Range] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass(frozen=True)
class _Sel:
    """Dirty segments ``(key - origin) div width`` in ``buckets``, also as merged ranges."""

    origin: int
    width: int
    buckets: tuple[int, ...]
    #: keys from here on are another part's (a part of a table, see :class:`Part`)
    end: int | None = None

    @property
    def ranges(self) -> list[Range]:
        o, w = self.origin, self.width
        stop = self.end
        if stop is None:
            return _merge((o + b * w, o + (b + 1) * w) for b in self.buckets)
        return _merge((o + b * w, min(o + (b + 1) * w, stop)) for b in self.buckets)

    def chunks(self, int_key: bool) -> list[_Sel | list[Range]]:
        """Pieces small enough for one statement each."""
        if int_key:
            r = self.ranges
            return [r[i : i + RANGES_PER_QUERY] for i in range(0, len(r), RANGES_PER_QUERY)]
        b = self.buckets
        step = RANGES_PER_QUERY * 8
        return [
            _Sel(self.origin, self.width, b[i : i + step], self.end) for i in range(0, len(b), step)
        ]


def _from(side: _Side, piece: _Sel | list[Range] | None) -> tuple[str, str]:
    """(FROM … clause reading only ``piece``, outer WHERE on the segment alias)."""
    t = side.quote(side.table)
    if piece is None:
        return f" FROM {t}", ""
    if isinstance(piece, list):
        # an integer key: only its ranges, each an index range scan
        return side.sql.key_ranges(t, side.seg_sql, piece), ""
    # a hashed key has no index: test its segment number against a (hashed) IN list
    div = side.sql.int_div
    ids = ", ".join(str(b) for b in piece.buckets)
    return f" FROM {t}", f" WHERE ({SEG} - {piece.origin}) {div} {piece.width} IN ({ids})"


def _bounds(side: _Side, int_key: bool) -> tuple[int | None, int | None, int | None]:
    """Row count (None for an integer key) and the smallest and largest segment key.

    An integer key's bounds come from its index; its rows are counted by the first
    level of digests, which reads the whole table anyway.
    """
    t = side.quote(side.table)
    seg = side.seg_sql
    stmt = f"SELECT min({seg}), max({seg}) FROM {t}" if int_key else f"SELECT count(*) FROM {t}"
    with side.engine.connect() as conn:
        if int_key:
            _integer_key(side, conn)
        row = conn.execute(sa.text(stmt)).one()
    if not int_key:
        return int(row[0]), 0, 2**32 - 1
    lo, hi = row
    return None, (None if lo is None else int(lo)), (None if hi is None else int(hi))


def _integer_key(side: _Side, conn: sa.Connection) -> None:
    """BadInput where an integer key holds a value its engine keeps otherwise (SQLite):
    key ranges would never find that row and its segment would stand for another."""
    if side.sql.non_integer_key(conn, side.table, side.pk[0]):
        raise BadInput.msg("verify.key_not_integer", table=side.table, key=side.pk[0])


def _counted_bounds(side: _Side) -> tuple[int, int | None, int | None]:
    """Row count and the smallest and largest integer key (one index scan)."""
    t = side.quote(side.table)
    seg = side.seg_sql
    with side.engine.connect() as conn:
        _integer_key(side, conn)
        n, lo, hi = conn.execute(sa.text(f"SELECT count(*), min({seg}), max({seg}) FROM {t}")).one()
    return int(n), (None if lo is None else int(lo)), (None if hi is None else int(hi))


def _segment_digests(
    side: _Side, origin: int, width: int, sel: _Sel | None
) -> dict[int, tuple[int, int]]:
    """(count, digest) of each segment ``(key - origin) div width`` inside ``sel``."""
    d = side.sql
    s_cast = d.segment_int(SEG)
    if side.native_sqls is not None:
        values = side.native_sqls
    elif side.digest_sqls is not None:
        values = side.digest_sqls
    else:
        values = side.value_sqls
    names = [f"ho__c{i}" for i in range(len(values))]
    cols = ", ".join(f"{v} AS {c}" for v, c in zip(values, names, strict=True))
    if side.native_sqls is not None:
        digest = d.native_digest(names)
    elif side.digest_sqls is not None:
        digest = d.digest_sql(d.digest_row_expr(names, side.compact))
    else:
        digest = d.digest_sql(d.row_expr(names))
    out: dict[int, tuple[int, int]] = {}
    pieces: list[_Sel | list[Range] | None] = (
        [None] if sel is None else list(sel.chunks(side.int_key))
    )
    with side.engine.connect() as conn:
        # SQLite digests in Python, a row at a time: in a worker process (verify.sql)
        path = d.main_file(conn.connection.driver_connection) if d.name == "sqlite" else None
        for piece in pieces:
            # each value is rendered once in the inner query, fenced so that the planner
            # does not inline it twice (length prefix + text)
            src, where = _from(side, piece)
            # the fence also keeps PostgreSQL from joining the key ranges by a full scan;
            # without it a full scan may run in parallel workers
            fence = "" if piece is None and side.inline else d.fence
            inner = f"SELECT {side.seg_sql} AS {SEG}, {cols}{src}{fence}"
            stmt = (
                f"SELECT ({s_cast} - {origin}) {d.int_div} {width} AS ho__b, count(*), {digest} "
                f"FROM ({inner}) z{where} GROUP BY ho__b"
            )
            rows = _sqlite_rows(path, stmt, _arrow(side, src, origin, width)) if path else None
            if rows is None:
                rows = list(conn.execute(sa.text(stmt)))
            for b, cnt, h in rows:
                if b is None:  # SQLite lets a non-INTEGER primary key hold NULL
                    raise BadInput.msg("verify.null_key", table=side.table, key=", ".join(side.pk))
                out[int(b)] = (int(cnt), int(Decimal(h)))
    return out


def _arrow(side: _Side, source: str, origin: int, width: int) -> ArrowDigest | None:
    """The digest rows of a SQLite file's side against a server, over Arrow
    (:mod:`handover.verify.arrow`); None for any other side (its statement runs)."""
    if side.arrow_forms is None:
        return None
    qcols = [side.quote(c) for c in side.columns]
    sql = select_sql(side.seg_sql, qcols, side.kinds, source)
    d = side.sql
    seg = f"({d.segment_int(side.seg_sql)} - {origin}) {d.int_div} {width}"
    canonical = f"SELECT {seg}, {', '.join(side.value_sqls)}{source}"
    forms = tuple(side.arrow_forms)
    return ArrowDigest(
        sql, tuple(side.kinds), origin, width, forms, canonical, side.table, tuple(side.columns)
    )


def _sqlite_rows(path: str, stmt: str, arrow: ArrowDigest | None) -> list[tuple[Any, ...]] | None:
    """:func:`handover.verify.sql.sqlite_rows`, a SQLite error raised as SQLAlchemy
    raises it on a connection (told as one line by :func:`_planned`)."""
    with _worker_errors():
        return q.sqlite_rows(path, stmt, arrow)


@contextmanager
def _worker_errors() -> Iterator[None]:
    """A SQLite error of a worker process raised as SQLAlchemy raises it on a connection
    (told as one line by :func:`_planned`)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise sa.exc.OperationalError(None, None, exc) from None


def _fetch(side: _Side, sel: _Sel) -> list[tuple[Any, ...]]:
    """Every stored row of the segments in ``sel`` (all columns, as the driver gives them)."""
    cols = ", ".join(side.quote(c) for c in side.columns)
    rows: list[tuple[Any, ...]] = []
    with side.engine.connect() as conn:
        for piece in sel.chunks(side.int_key):
            src, where = _from(side, piece)
            stmt = f"SELECT * FROM (SELECT {side.seg_sql} AS {SEG}, {cols}{src}) z{where}"
            rows.extend(tuple(r[1:]) for r in conn.execute(sa.text(stmt)))
    return rows


def _json_key(values: Sequence[Any]) -> Any:
    def one(v: Any) -> Any:
        if isinstance(v, bool | int | str) or v is None:
            return v
        if isinstance(v, float):
            return v
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, dt.date | dt.datetime):
            return v.isoformat()
        if isinstance(v, bytes | bytearray | memoryview):
            return bytes(v).hex()
        return str(v)

    return one(values[0]) if len(values) == 1 else [one(v) for v in values]


def _sort_key(k: Any) -> tuple[str, str]:
    return (type(k).__name__, repr(k)) if not isinstance(k, int) else ("", f"{k:+030d}")


def _diff_rows(
    plan: _Plan, src_rows: list[tuple[Any, ...]], dst_rows: list[tuple[Any, ...]], res: TableResult
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
                twins.append(_json_key([row[i] for i in plan.pk_idx]))
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
            missing.append(_json_key([row[i] for i in plan.pk_idx]))
        elif other[0] != texts:
            changed.append(_json_key([row[i] for i in plan.pk_idx]))
    for key, (_texts, row) in b.items():
        if key not in a:
            extra.append(_json_key([row[i] for i in plan.pk_idx]))
    for name, keys in (("missing", missing), ("extra", extra), ("changed", changed)):
        keys.sort(key=_sort_key)
        setattr(res, "n_" + name, len(keys))
        setattr(res, name, keys[:KEY_CAP])


def _both(pool: ThreadPoolExecutor, fn: Any, plan: _Plan, *args: Any) -> tuple[Any, Any]:
    fa = pool.submit(fn, plan.src, *args)
    fb = pool.submit(fn, plan.dst, *args)
    return fa.result(), fb.result()


def _scan_parts(side: _Side, segments: int) -> int:
    """How many concurrent range queries read ``side`` in a full scan.

    MariaDB runs each query on one thread: two halves of an integer key use both cores
    while the other side's database waits for I/O or finishes early. PostgreSQL does
    this itself with parallel workers when the values may be inlined.
    """
    if not side.int_key or segments < 2 * SPLIT_MIN_SEGMENTS:
        return 1
    if side.sql.split_scans(side.inline):
        return SCAN_PARTS
    return 1


def _full_digests(
    pool: ThreadPoolExecutor, plan: _Plan, origin: int, width: int, segments: int
) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """(count, digest) of every segment of both sides, each side in one or more parts."""
    futures = []
    for side in (plan.src, plan.dst):
        parts = _scan_parts(side, segments)
        if parts > 1:
            # one scan names a NULL key (its segment is NULL); key ranges would skip it
            _no_null_key(side)
        if parts == 1:
            futures.append([pool.submit(_segment_digests, side, origin, width, None)])
            continue
        cuts = [segments * i // parts for i in range(parts + 1)]
        sels = [_Sel(origin, width, tuple(range(a, b))) for a, b in itertools.pairwise(cuts)]
        futures.append([pool.submit(_segment_digests, side, origin, width, x) for x in sels])
    out = []
    for side_futures in futures:
        merged: dict[int, tuple[int, int]] = {}
        for f in side_futures:
            merged.update(f.result())
        out.append(merged)
    return out[0], out[1]


def _merge_plans(plan: _Plan, lo: int, hi: int) -> list[rowmerge.MergePlan] | None:
    """The key ranges of a SQLite file against PostgreSQL merged row by row over Arrow
    (:mod:`handover.verify.rowmerge`); None for any other pair, or where the file's key
    holds a NULL (the digest path, which names it). BadInput where PostgreSQL's does (a
    target that does not declare its key): key ranges would never read that row."""
    # Arrow's modules load only where a file meets a server (not for a SQLite pair)
    from handover.verify import rowmerge

    lite, server = (
        (plan.src, plan.dst) if plan.src.arrow_forms is not None else (plan.dst, plan.src)
    )
    if lite.arrow_forms is None or server.digest_sqls is None:
        return None
    if not plan.int_key or any(plan.kinds[i] != "int" for i in plan.pk_idx):
        return None  # the merge orders both sides by integer keys
    conninfo = server.sql.arrow_reads(server.engine)
    if conninfo is None:
        return None
    qcols = [lite.quote(c) for c in lite.columns]
    lkeys = [qcols[i] for i in plan.pk_idx]
    skeys = [server.quote(server.columns[i]) for i in plan.pk_idx]
    with lite.engine.connect() as conn:
        path = lite.sql.main_file(conn.connection.driver_connection)
    # the merge orders both sides by every key column: a NULL in any is the digests'
    if not path or _null_key(lite, every=True):
        return None
    _no_null_key(server, every=True)
    d = server.sql
    knames = [f"ho__k{i}" for i in range(len(skeys))]
    vnames = [f"ho__c{i}" for i in range(len(server.digest_sqls))]
    inner = ", ".join(
        [f"{k} AS {n}" for k, n in zip(skeys, knames, strict=True)]
        + [f"{v} AS {n}" for v, n in zip(server.digest_sqls, vnames, strict=True)]
    )
    row = d.digest_row_expr(vnames, server.compact)
    # the server's digest text of each row, as its digest statement hashes it; each value
    # rendered once (fenced) unless naming it twice is cheap. Both orders are by the bare
    # key columns, so the outer one follows the inner one's index scan (a cast would not)
    fence = "" if server.inline else d.fence
    lk, sk = lite.seg_sql, server.seg_sql
    lt, st = lite.quote(lite.table), server.quote(server.table)
    plans = []
    for a, b in rowmerge.split(lo, hi, SCAN_PARTS):
        server_sql = (
            f"SELECT {', '.join(d.segment_int(n) for n in knames)}, {row} AS ho__row"
            f" FROM (SELECT {inner} FROM {st} WHERE {sk} >= {a} AND {sk} < {b}"
            f" ORDER BY {', '.join(skeys)}{fence}) z ORDER BY {', '.join(knames)}"
        )
        where = f" FROM {lt} WHERE {lk} >= {a} AND {lk} < {b} ORDER BY {', '.join(lkeys)}"
        plans.append(
            rowmerge.MergePlan(
                path=path,
                lite_sql=q.select_sql(lk, qcols, lite.kinds, where),
                more_keys=tuple(plan.pk_idx[1:]),
                table=lite.table,
                columns=tuple(lite.columns),
                kinds=tuple(lite.kinds),
                forms=tuple(lite.arrow_forms),
                conninfo=conninfo,
                session=d.session("verify_ordered"),
                server_sql=server_sql,
            )
        )
    return plans


def _no_null_key(side: _Side, *, every: bool = False) -> None:
    """BadInput where the first key column of ``side`` (``every``: any key column) holds
    a NULL: no key range reads that row."""
    if _null_key(side, every=every):
        raise BadInput.msg("verify.null_key", table=side.table, key=", ".join(side.pk))


def _null_key(side: _Side, *, every: bool = False) -> bool:
    """Whether the first key column of ``side`` (``every``: any key column) holds a NULL;
    a column declared NOT NULL is not read. Key ranges part the first key only: a NULL
    in a later key column lies inside them."""
    if every:
        keys = [k for k, null in zip(side.pk, side.nullable_key, strict=True) if null]
    else:
        keys = side.pk[:1] if side.nullable_key[0] else []
    if not keys:
        return False
    cond = " OR ".join(f"{side.quote(k)} IS NULL" for k in keys)
    stmt = f"SELECT 1 FROM {side.quote(side.table)} WHERE {cond} LIMIT 1"
    with side.engine.connect() as conn:
        return conn.execute(sa.text(stmt)).first() is not None


def _row_merge(plan: _Plan, pool: ThreadPoolExecutor, lo: int, hi: int) -> _MergedTable | None:
    """The whole table's row merge, its key ranges at once in the worker processes; None:
    the digest path decides."""
    plans = _merge_plans(plan, lo, hi)
    if plans is None:
        return None
    from handover.verify import rowmerge

    futures = [pool.submit(q.in_worker, rowmerge.differing, p) for p in plans]
    with _worker_errors():
        parts = [f.result() for f in futures]
    done = [p for p in parts if p is not None]
    if len(done) < len(parts):
        return None
    lite_rows = sum(p.lite_rows for p in done)
    server_rows = sum(p.server_rows for p in done)
    keys = sorted(k for p in done for k in p.keys)
    if plan.src.arrow_forms is None:
        lite_rows, server_rows = server_rows, lite_rows
    return _MergedTable(lite_rows, server_rows, keys, 2 * len(plans))


@dataclass(frozen=True)
class _MergedTable:
    """A row merge's counts, the first key of each row it names, its statements."""

    source_rows: int
    target_rows: int
    keys: list[int]
    queries: int


def _merged(
    plan: _Plan, pool: ThreadPoolExecutor, res: TableResult, merged: _MergedTable, lo: int
) -> None:
    """The result of a row merge: its counts, and the rows it names fetched from both
    sides and compared by the reference (:func:`_diff_rows`)."""
    res.source_rows, res.target_rows = merged.source_rows, merged.target_rows
    res.segment_key = "row-merge"
    res.queries += merged.queries
    if not merged.keys:
        return
    sel = _Sel(lo, 1, tuple(k - lo for k in merged.keys))
    ra, rb = _both(pool, _fetch, plan, sel)
    res.queries += 2 * len(sel.chunks(plan.int_key))
    res.rows_fetched = len(ra) + len(rb)
    _diff_rows(plan, ra, rb, res)


def _compare_table(
    plan: _Plan, pool: ThreadPoolExecutor, span: tuple[int, int] | None = None
) -> TableResult:
    """Compare one table, or only its integer keys in ``span`` (both ends included)."""
    t0 = time.perf_counter()
    res = TableResult(plan.name, 0, 0, segment_key="int" if plan.int_key else "md5-32")
    res.normalisations = list(plan.normalisations)
    end: int | None = None
    if span is not None and plan.int_key:
        na = nb = None
        lo, hi = span
        end = hi + 1
    else:
        span = None
        (na, loa, hia), (nb, lob, hib) = _both(pool, _bounds, plan, plan.int_key)
        res.queries += 2
        res.source_rows, res.target_rows = na or 0, nb or 0
        los = [v for v in (loa, lob) if v is not None]
        his = [v for v in (hia, hib) if v is not None]
        if not los or (na == 0 and nb == 0):
            res.seconds = time.perf_counter() - t0
            return res
        lo, hi = min(los), max(his)
    width_span = hi - lo + 1
    # an integer key holds at most ``width_span`` rows; a hashed key was counted
    rows = width_span if na is None or nb is None else max(na, nb)
    first = min(FIRST_MAX, max(FIRST_FANOUT, rows // SCAN_ROWS))
    width = max(1, math.ceil(width_span / first))
    sel: _Sel | None = None
    while True:
        res.levels += 1
        if sel is None and span is not None:
            # a part of the table: every segment of its key range, by index range scans
            whole = _Sel(lo, width, tuple(range(math.ceil(width_span / width))), end)
            da, db = _both(pool, _segment_digests, plan, lo, width, whole)
            res.queries += 2 * len(whole.chunks(plan.int_key))
        elif sel is None:
            merged = _row_merge(plan, pool, lo, hi) if res.levels == 1 else None
            if merged is not None:
                _merged(plan, pool, res, merged, lo)
                break
            segments = math.ceil(width_span / width)
            da, db = _full_digests(pool, plan, lo, width, segments)
            res.queries += _scan_parts(plan.src, segments) + _scan_parts(plan.dst, segments)
        else:
            da, db = _both(pool, _segment_digests, plan, lo, width, sel)
            res.queries += 2 * len(sel.chunks(plan.int_key))
        if res.levels == 1:
            # the first level reads every row of both sides
            res.source_rows = sum(c for c, _h in da.values())
            res.target_rows = sum(c for c, _h in db.values())
        dirty = sorted(b for b in set(da) | set(db) if da.get(b) != db.get(b))
        if not dirty:
            break
        dirty_sel = _Sel(lo, width, tuple(dirty), end)
        # the counts say exactly how many rows the dirty segments hold
        dirty_rows = sum(max(da.get(b, (0, 0))[0], db.get(b, (0, 0))[0]) for b in dirty)
        if width == 1 or dirty_rows <= LEAF_ROWS * max(4, len(dirty)):
            ra, rb = _both(pool, _fetch, plan, dirty_sel)
            res.queries += 2 * len(dirty_sel.chunks(plan.int_key))
            res.rows_fetched = len(ra) + len(rb)
            _diff_rows(plan, ra, rb, res)
            break
        # rows per key unit where the differences are
        density = dirty_rows / (len(dirty) * width)
        leaf = max(1, int(LEAF_ROWS / density))
        segments = max(1, math.ceil(width_span / width))
        if len(dirty) > segments / 2:
            # most segments differ: the next level reads everything anyway; make it fine
            # (SCAN_ROWS a segment) but not so fine that the result set is huge
            width = max(leaf, int(SCAN_ROWS / density))
            sel = None
        else:
            width = max(leaf, width // FANOUT)
            sel = dirty_sel
    res.seconds = time.perf_counter() - t0
    return res


# --- SQLite against SQLite: one connection reads both files ---------------------------------

#: a table with at least this many source rows may be compared as key ranges
PAIR_SPLIT_ROWS = 50_000
#: the joins of all tables are cut into about this many pieces of equal cost, run
#: costliest first, so that the links finish together (no large range runs alone last)
PAIR_PIECES = 8
#: connections that read both files at once (each runs one range query at a time)
PAIR_LINKS = 2


class _Links:
    """Raw connections of the source engine, each with the target file attached; a task
    borrows one for a statement. :meth:`submit` queues a statement: one thread per
    connection runs the queue in order."""

    def __init__(self, engine: Engine, path: str, *, uri: bool) -> None:
        self.sql = dialects.get(engine.dialect.name)
        self.free: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.runners = ThreadPoolExecutor(max_workers=PAIR_LINKS, thread_name_prefix="ho-link")
        self.held: list[Any] = []
        self.ok = True
        # statements under way, and whether the links are closing (no statement starts)
        self.lock = threading.Lock()
        self.busy = 0
        self.closing = False
        try:
            for _ in range(PAIR_LINKS):
                proxy = engine.raw_connection()
                if not self.sql.attach(proxy.driver_connection, path, uri=uri):
                    proxy.close()
                    self.ok = False
                    break
                self.held.append(proxy)
                self.free.put(proxy.driver_connection)
        except BaseException:
            self.close()
            raise

    def call(self, fn: Callable[[Any], _T]) -> _T:
        """``fn(raw connection)`` on a free connection; a driver error is :class:`_LinkFailed`."""
        raw = self.free.get()
        with self.lock:
            self.busy += 1
            closing = self.closing
        try:
            if closing:
                raise _LinkFailed(t("verify.pair_closed"))
            return fn(raw)
        except self.sql.driver_errors() as exc:
            raise _LinkFailed(error_detail(exc)) from None
        finally:
            with self.lock:
                self.busy -= 1
            self.free.put(raw)

    def run(self, stmt: str) -> list[tuple[Any, ...]]:
        """Every row of ``stmt`` on a free connection."""
        return self.call(lambda raw: list(raw.execute(stmt).fetchall()))

    def submit(self, stmt: str) -> Future[list[tuple[Any, ...]]]:
        """:meth:`run` of ``stmt`` once the statements queued before it have started."""
        return self.later(self.run, stmt)

    def later(self, fn: Callable[..., _T], *args: Any) -> Future[_T]:
        """``fn(*args)`` (which runs statements on this) in :meth:`submit`'s queue."""
        return self.runners.submit(fn, *args)

    def close(self) -> None:
        """Drop the statements queued and interrupt those under way (after a failure
        elsewhere, or Ctrl-C: a range can take seconds), then close the connections. No
        statement starts once closing; one that started between two interrupts meets
        the next (a connection with no statement ignores them)."""
        with self.lock:
            self.closing = True
        self.runners.shutdown(wait=False, cancel_futures=True)
        while True:
            with self.lock:
                if not self.busy:
                    break
            for proxy in self.held:
                with suppress(Exception):
                    self.sql.interrupt(proxy.driver_connection)
            time.sleep(0.01)
        self.runners.shutdown(wait=True)
        for proxy in self.held:
            with suppress(Exception):
                self.sql.detach(proxy.driver_connection)
            proxy.close()
        self.held = []


def _links(src: Engine, dst: Engine) -> _Links | None:
    """Connections reading both files when source and target are files of an engine that
    compares attached databases (SQLite), else None."""
    d = dialects.get(src.dialect.name)
    if not d.compares_attached or dialects.get(dst.dialect.name) is not d:
        return None
    with src.connect() as a, dst.connect() as b:
        if not d.main_file(a.connection.driver_connection):
            return None
        path = d.main_file(b.connection.driver_connection)
    if not path:
        return None
    links = _Links(src, path, uri=src.url.query.get("uri") == "true")
    if not links.ok:
        links.close()
        return None
    return links


class _LinkFailed(Exception):
    """A statement on a raw connection failed (its reason: the driver error's
    :func:`~handover.db.connect.error_detail`)."""


class _TableFailed(Exception):
    """A database statement comparing one table failed."""

    def __init__(self, table: str, exc: BaseException) -> None:
        super().__init__(table)
        self.table, self.exc = table, exc


@contextmanager
def _on_table(name: str) -> Iterator[None]:
    """A database failure inside is :class:`_TableFailed` naming the table ``name``."""
    try:
        yield
    except (SQLAlchemyError, _LinkFailed) as exc:
        raise _TableFailed(name, exc) from None


def _reason(exc: BaseException) -> str:
    """The reason told for a failed statement: a link's own, or the driver error's."""
    return str(exc) if isinstance(exc, _LinkFailed) else error_detail(exc)


@dataclass
class _PairJob:
    """One table compared by a join: the queries under way."""

    plan: _Plan
    pair: Any
    counts: tuple[int, int]
    parts: list[str]
    changed: list[Future[list[tuple[Any, ...]]]]
    queries: int
    t0: float
    #: the rows compared (a condition on the first key, ``{k}``), and the smallest and the
    #: largest first key of the source among them (None: not integers, or no row)
    where: str = "1"
    bounds: tuple[int, int] | None = None
    #: the source's smallest and largest rowid (a key that is not the rowid, whole table)
    rowids: tuple[int, int] | None = None
    #: statements the parts ran beyond one each (the lookups of :func:`_by_rowid`)
    more: list[int] = field(default_factory=list)


def _pair_start(plan: _Plan, links: _Links, where: str = "1") -> _PairJob | None:
    """Count both sides of a table and find its source's key bounds (None: the table's
    keys cannot be joined one to one; the digests compare it instead). ``where``: only
    the rows whose first key meets it (``{k}`` stands for the key; a part of the table a
    cluster's worker compares), joined as one range. :func:`_pair_run` starts the joins."""
    t0 = time.perf_counter()
    tables = (plan.src.table, plan.dst.table)
    pair = links.call(
        lambda raw: links.sql.pair_sql(
            raw, tables, (plan.src.columns, plan.dst.columns), plan.pk_idx
        )
    )
    if pair is None:
        return None
    queries = list(pair.counts(where))
    if plan.int_key:
        queries += pair.bounds(where)
    found = [row[0] for (row,) in (links.run(q) for q in queries)]
    bounds = None
    if plan.int_key and type(found[2]) is int and type(found[3]) is int:
        bounds = (found[2], found[3])
    counts = (int(found[0]), int(found[1]))
    job = _PairJob(plan, pair, counts, [where], [], len(queries), t0, where, bounds)
    if pair.rowids and where == "1":
        lo, hi = (links.run(q)[0][0] for q in pair.rowid_bounds())
        job.queries += 2
        if lo is not None:
            job.rowids = (int(lo), int(hi))
    return job


def _pair_started(plan: _Plan, links: _Links) -> _PairJob | None:
    """:func:`_pair_start` of a whole table, a failure told with the table's name."""
    with _on_table(plan.name):
        return _pair_start(plan, links)


def _pair_cost(job: _PairJob) -> int:
    """The join's cost in units of about 35 ns of SQLite's time (measured on the 1 M
    book: a row 0.2 µs, a compared column 0.035 µs, the seeks of a key that is not the
    rowid 0.15 µs)."""
    seeks = 0 if job.pair.rowid or job.pair.rowids else 4
    return job.counts[0] * (6 + len(job.plan.kinds) + seeks)


def _pair_run(jobs: Sequence[_PairJob], links: _Links) -> None:
    """Start the joins of ``jobs``: a large table of the whole comparison as key ranges
    of about equal cost, every range of every table costliest first (the longest jobs
    first: the links end together)."""
    total = sum(_pair_cost(j) for j in jobs)
    piece = max(1, total // PAIR_PIECES)
    tasks = []
    for i, job in enumerate(jobs):
        cost = _pair_cost(job)
        n = min(PAIR_PIECES, -(-cost // piece))
        # a key that is not the rowid: the rowids part the rows (no index range per part)
        ends, by = (job.rowids, "{r}") if job.rowids is not None else (job.bounds, "{k}")
        if ends is not None and job.where == "1" and job.counts[0] >= PAIR_SPLIT_ROWS:
            lo, hi = ends
            n = min(n, hi - lo + 1)
            if n > 1:
                cuts = [lo + (hi - lo + 1) * j // n for j in range(1, n)]
                job.parts = job.pair.split(cuts, by)
        job.queries += len(job.parts)
        tasks += [(cost // len(job.parts), i, job, k) for k in range(len(job.parts))]
    futures: dict[tuple[int, int], Future[list[tuple[Any, ...]]]] = {}
    for _cost, i, job, k in sorted(tasks, key=lambda t: (-t[0], t[1], t[3])):
        if job.pair.rowids:
            futures[i, k] = links.later(_by_rowid, job, links, job.parts[k])
        else:
            futures[i, k] = links.submit(job.pair.changed(job.parts[k]))
    for i, job in enumerate(jobs):
        job.changed = [futures[i, k] for k in range(len(job.parts))]


#: rows looked up by key in one statement (the rowids listed in it)
LOOKUP_ROWS = 500
#: rows of a part the rowids may fail to pair (at least; or a fiftieth of the part)
ROWID_CAP = 1_000


def _rowid_cap(job: _PairJob) -> int:
    """How many rows of a part the rowids may fail to pair before the part is joined by
    key instead (a copy that renumbered its rows: the first rows tell)."""
    return max(ROWID_CAP, job.counts[0] // len(job.parts) // 50)


def _by_rowid(job: _PairJob, links: _Links, where: str) -> list[tuple[Any, ...]]:
    """:meth:`changed`'s rows of the source rows ``where``, each partner sought at the
    same rowid first (one seek instead of two) and by key where the row there has
    another key or none; joined by key throughout where more than the cap do."""
    pair, n = job.pair, 2 * len(job.plan.kinds)
    cap = _rowid_cap(job)
    rows = links.run(pair.changed_by_rowid(where, cap))
    if len(rows) > cap:
        job.more.append(1)
        return links.run(pair.changed(where))
    out = [r[:n] for r in rows if r[n + 1] == 1]
    lost = [r[n] for r in rows if r[n + 1] != 1]
    for i in range(0, len(lost), LOOKUP_ROWS):
        out += links.run(pair.changed_of(lost[i : i + LOOKUP_ROWS]))
        job.more.append(1)
    return out


def _pair_finish(job: _PairJob, links: _Links) -> TableResult:
    """The verdict on a table from its join.

    Every source row without a partner or differing in a column came back with its
    partner; when the target holds more rows than were matched, its rows without a
    partner are read too. Those rows, and only those, go to the Python comparison.
    """
    plan = job.plan
    na, nb = job.counts
    res = TableResult(plan.name, na, nb, segment_key="sqlite-join", levels=1, queries=job.queries)
    res.normalisations = list(plan.normalisations)
    n, first = len(plan.src.columns), plan.pk_idx[0]
    rows = [r for f in job.changed for r in f.result()]
    src_rows = [r[:n] for r in rows]
    dst_rows = [r[n:] for r in rows if r[n + first] is not None]
    # the joins are one to one: the target rows matched are the source rows matched
    unmatched = nb - (na - (len(rows) - len(dst_rows)))
    if unmatched > 0:
        dst_rows += _unmatched(job, links, unmatched, res)
    res.queries += len(job.more)
    res.rows_fetched = len(src_rows) + len(dst_rows)
    _diff_rows(plan, src_rows, dst_rows, res)
    res.seconds = time.perf_counter() - job.t0
    return res


def _unmatched(
    job: _PairJob, links: _Links, unmatched: int, res: TableResult
) -> list[tuple[Any, ...]]:
    """The target rows no source row matched (``unmatched`` of them). Rows added after
    the source's last key (or before its first) are found by the key's index: where
    those are all, no anti-join reads the whole target."""
    pair = job.pair
    if job.bounds is not None:
        count, rows = pair.beyond(job.where, *job.bounds)
        res.queries += 1
        if links.run(count)[0][0] == unmatched:
            res.queries += 1
            return links.run(rows)
    if pair.rowids:
        # the target rows whose row at the same rowid has another key hold them all
        cap = _rowid_cap(job)
        maybe = [r for (r,) in links.run(pair.extra_by_rowid(job.where, cap))]
        res.queries += 1
        if len(maybe) <= cap:
            found = []
            for i in range(0, len(maybe), LOOKUP_ROWS):
                found += links.run(pair.extra_of(maybe[i : i + LOOKUP_ROWS]))
                res.queries += 1
            if len(found) == unmatched:  # else a file changed meanwhile: the anti-join
                return found
    futures = [links.submit(pair.extra(w)) for w in job.parts]
    res.queries += len(job.parts)
    return [r for f in futures for r in f.result()]


def compare(
    source: str,
    target: str,
    tables: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
) -> VerifyResult:
    """Compare ``tables`` (default: every table of the source) row by row by primary key;
    each table is a task of ``progress`` (its source rows once compared).

    Returns the verdict (``result.equal``); raises BadInput for an unreachable database,
    a table or column on one side only, or a table without a primary key.
    """
    prog: Progress = progress or NoProgress()
    t0 = time.perf_counter()
    shown = (mask(source), mask(target))
    with ThreadPoolExecutor(max_workers=2 * SCAN_PARTS) as pool:
        results = []
        with _planned(pool, source, target, tables) as (plans, src, dst):
            links = _links(src, dst) if all(k == "stored" for p in plans for k in p.kinds) else None
            try:
                # every table counted (two at a time), then all joins started at once
                jobs: list[_PairJob | None] = [None] * len(plans)
                if links is not None:
                    started = [pool.submit(_pair_started, p, links) for p in plans]
                    wait(started)  # all of them, before a failure closes the links
                    jobs = [f.result() for f in started]
                    _pair_run([j for j in jobs if j is not None], links)
                for p, job in zip(plans, jobs, strict=True):
                    prog.task(p.name, None)
                    with _on_table(p.name):
                        if job is None or links is None:
                            results.append(_compare_table(p, pool))
                        else:
                            results.append(_pair_finish(job, links))
                    prog.advance(p.name, results[-1].source_rows)
            finally:
                if links is not None:
                    links.close()
    return VerifyResult(shown[0], shown[1], results, time.perf_counter() - t0)


@dataclass(frozen=True)
class Part:
    """A primary-key range ``[lo, hi]`` of one table (None, None: the whole table)."""

    table: str
    lo: int | None = None
    hi: int | None = None


def parts(source: str, target: str, tables: Sequence[str] | None, rows: int) -> list[Part]:
    """Every table to compare cut into integer-key ranges of about ``rows`` keys (in
    table order, ranges in key order); a table whose key is not one integer is one part."""
    out: list[Part] = []
    with (
        ThreadPoolExecutor(max_workers=2) as pool,
        _planned(pool, source, target, tables) as (plans, _, _),
    ):
        for p in plans:
            if not p.int_key or any(_both(pool, _null_key, p)):
                # a NULL key lies in no key range: the whole table decides (a SQLite pair
                # compares it, the digests name it)
                out.append(Part(p.name))
                continue
            (na, loa, hia), (nb, lob, hib) = _both(pool, _counted_bounds, p)
            los = [v for v in (loa, lob) if v is not None]
            his = [v for v in (hia, hib) if v is not None]
            if not los:
                out.append(Part(p.name))
                continue
            lo, hi = min(los), max(his)
            # even key ranges, as many as parts of ``rows`` rows the larger side needs
            n = max(1, min(hi - lo + 1, math.ceil(max(na, nb) / max(1, rows))))
            cuts = [lo + (hi - lo + 1) * i // n for i in range(n + 1)]
            out += [Part(p.name, a, b - 1) for a, b in itertools.pairwise(cuts) if b > a]
    return out


def compare_part(source: str, target: str, part: Part) -> TableResult:
    """Compare one part of a table: two SQLite files by one join over the part's keys;
    otherwise the digests of its segments on both sides first, then only the segments
    that differ are split and compared again (see :func:`compare`)."""
    with (
        ThreadPoolExecutor(max_workers=2 * SCAN_PARTS) as pool,
        _planned(pool, source, target, [part.table]) as (plans, src, dst),
    ):
        plan = plans[0]
        span = None if part.lo is None or part.hi is None else (part.lo, part.hi)
        # the files' connections are the databases', not the table's (as in compare)
        links = _links(src, dst) if all(k == "stored" for k in plan.kinds) else None
        with _on_table(plan.name):
            if links is not None:
                try:
                    where = (
                        "1"
                        if span is None
                        else f"{{k}} >= {int(span[0])} AND {{k}} <= {int(span[1])}"
                    )
                    job = _pair_start(plan, links, where)
                    if job is not None:
                        _pair_run([job], links)
                        return _pair_finish(job, links)
                finally:
                    links.close()
            return _compare_table(plan, pool, span)


def merge_parts(results: Sequence[TableResult]) -> TableResult:
    """The verdict on a table from the verdicts on its parts (in key order)."""
    first = results[0]
    out = TableResult(first.name, 0, 0, segment_key=first.segment_key)
    out.normalisations = list(first.normalisations)
    for r in results:
        out.source_rows += r.source_rows
        out.target_rows += r.target_rows
        out.rows_fetched += r.rows_fetched
        out.queries += r.queries
        out.levels = max(out.levels, r.levels)
        out.seconds = max(out.seconds, r.seconds)
        for name in ("missing", "extra", "changed"):
            setattr(out, "n_" + name, getattr(out, "n_" + name) + getattr(r, "n_" + name))
    for name in ("missing", "extra", "changed"):
        keys = [k for r in results for k in getattr(r, name)]
        keys.sort(key=_sort_key)
        setattr(out, name, keys[:KEY_CAP])
    return out


@contextmanager
def _planned(
    pool: ThreadPoolExecutor, source: str, target: str, tables: Sequence[str] | None
) -> Iterator[tuple[list[_Plan], Engine, Engine]]:
    """Both databases connected (at once) and reflected: the plan of every table and the
    two engines. A database failure inside is one line naming both (masked)."""
    shown = (mask(source), mask(target))
    # both sides connect and are reflected at once: each costs a few round trips
    f_src, f_dst = pool.submit(connect, source), pool.submit(connect, target)
    try:
        src = f_src.result()
    except BaseException:
        with suppress(BaseException):
            f_dst.result().dispose()
        raise
    try:
        dst = f_dst.result()
    except BaseException:
        src.dispose()
        raise
    try:
        f_sm, f_dm = pool.submit(_reflect, src, shown[0]), pool.submit(_reflect, dst, shown[1])
        s_meta, d_meta = f_sm.result(), f_dm.result()
        wanted = list(tables) if tables else sorted(m[0] for m in s_meta.values())
        s_sql = dialects.get(src.dialect.name)
        native = s_sql is dialects.get(dst.dialect.name) and s_sql.native_digest_ok(src, dst)
        plans = []
        for name in wanted:
            key = name.lower()
            if key not in s_meta:
                raise BadInput.msg("verify.no_source_table", table=name, spec=shown[0])
            if key not in d_meta:
                raise BadInput.msg("verify.no_target_table", table=name, spec=shown[1])
            plans.append(_plan(name, src, dst, s_meta[key], d_meta[key], shown, native=native))
        try:
            yield plans, src, dst
        except BaseException as exc:
            # the statements under way on the threads end now, not when they are done;
            # on Ctrl-C the SQLite workers' too (a failure lets theirs finish)
            for engine in (src, dst):
                _Running.cancel(engine)
            if isinstance(exc, KeyboardInterrupt):
                q.stop_workers()
            raise
    except _TableFailed as exc:
        raise BadInput.msg(
            "verify.table_failed",
            source=shown[0],
            target=shown[1],
            table=exc.table,
            reason=_reason(exc.exc),
        ) from None
    except (SQLAlchemyError, _LinkFailed) as exc:
        raise BadInput.msg(
            "verify.db_failed", source=shown[0], target=shown[1], reason=_reason(exc)
        ) from None
    finally:
        src.dispose()
        dst.dispose()
