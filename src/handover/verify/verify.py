"""Row-exact comparison of tables across SQLite, PostgreSQL and MariaDB.

The order of a comparison: both sides connected and planned (:mod:`handover.verify.plan`);
two SQLite files joined in one connection (:mod:`handover.verify.pair`); a SQLite file
against PostgreSQL merged row by row (:mod:`handover.verify.rowmerge`); otherwise the digests:
each side hashes its rows inside the database (canonical text → MD5 prefix, summed per
primary-key segment). Segments whose (count, digest) differ are split and compared
again, level by level, until they are small; only those rows are fetched from both
sides and compared value by value with the Python reference normaliser.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from handover.db import dialects
from handover.db.url import mask
from handover.errors import BadInput
from handover.progress import NoProgress, Progress
from handover.verify import sql as q
from handover.verify.pair import (
    PairJob,
    open_links,
    pair_finish,
    pair_run,
    pair_start,
    pair_started,
)
from handover.verify.plan import (
    LinkFailed,
    Plan,
    Running,
    Side,
    TableFailed,
    connect,
    diff_rows,
    on_table,
    plan_table,
    reason,
    reflect,
)
from handover.verify.results import KEY_CAP, TableResult, VerifyResult, sort_key
from handover.verify.sql import ArrowDigest, select_sql

if TYPE_CHECKING:
    from handover.verify import rowmerge


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
#: ranges per WHERE clause
RANGES_PER_QUERY = 800
#: concurrent range queries of a full scan on an engine without parallel query, and the
#: fewest segments per part worth a split
SCAN_PARTS = 2
SPLIT_MIN_SEGMENTS = 64


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


def _from(side: Side, piece: _Sel | list[Range] | None) -> tuple[str, str]:
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


def _bounds(side: Side, int_key: bool) -> tuple[int | None, int | None, int | None]:
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


def _integer_key(side: Side, conn: sa.Connection) -> None:
    """BadInput where an integer key holds a value its engine keeps otherwise (SQLite):
    key ranges would never find that row and its segment would stand for another."""
    if side.sql.non_integer_key(conn, side.table, side.pk[0]):
        raise BadInput.msg("verify.key_not_integer", table=side.table, key=side.pk[0])


def _counted_bounds(side: Side) -> tuple[int, int | None, int | None]:
    """Row count and the smallest and largest integer key (one index scan)."""
    t = side.quote(side.table)
    seg = side.seg_sql
    with side.engine.connect() as conn:
        _integer_key(side, conn)
        n, lo, hi = conn.execute(sa.text(f"SELECT count(*), min({seg}), max({seg}) FROM {t}")).one()
    return int(n), (None if lo is None else int(lo)), (None if hi is None else int(hi))


def _segment_digests(
    side: Side, origin: int, width: int, sel: _Sel | None
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


def _arrow(side: Side, source: str, origin: int, width: int) -> ArrowDigest | None:
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


def _fetch(side: Side, sel: _Sel) -> list[tuple[Any, ...]]:
    """Every stored row of the segments in ``sel`` (all columns, as the driver gives them)."""
    cols = ", ".join(side.quote(c) for c in side.columns)
    rows: list[tuple[Any, ...]] = []
    with side.engine.connect() as conn:
        for piece in sel.chunks(side.int_key):
            src, where = _from(side, piece)
            stmt = f"SELECT * FROM (SELECT {side.seg_sql} AS {SEG}, {cols}{src}) z{where}"
            rows.extend(tuple(r[1:]) for r in conn.execute(sa.text(stmt)))
    return rows


def _both(pool: ThreadPoolExecutor, fn: Any, plan: Plan, *args: Any) -> tuple[Any, Any]:
    fa = pool.submit(fn, plan.src, *args)
    fb = pool.submit(fn, plan.dst, *args)
    return fa.result(), fb.result()


def _scan_parts(side: Side, segments: int) -> int:
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
    pool: ThreadPoolExecutor, plan: Plan, origin: int, width: int, segments: int
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


def _merge_plans(plan: Plan, lo: int, hi: int) -> list[rowmerge.MergePlan] | None:
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


def _no_null_key(side: Side, *, every: bool = False) -> None:
    """BadInput where the first key column of ``side`` (``every``: any key column) holds
    a NULL: no key range reads that row."""
    if _null_key(side, every=every):
        raise BadInput.msg("verify.null_key", table=side.table, key=", ".join(side.pk))


def _null_key(side: Side, *, every: bool = False) -> bool:
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


def _row_merge(plan: Plan, pool: ThreadPoolExecutor, lo: int, hi: int) -> _MergedTable | None:
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
    plan: Plan, pool: ThreadPoolExecutor, res: TableResult, merged: _MergedTable, lo: int
) -> None:
    """The result of a row merge: its counts, and the rows it names fetched from both
    sides and compared by the reference (:func:`diff_rows`)."""
    res.source_rows, res.target_rows = merged.source_rows, merged.target_rows
    res.segment_key = "row-merge"
    res.queries += merged.queries
    if not merged.keys:
        return
    sel = _Sel(lo, 1, tuple(k - lo for k in merged.keys))
    ra, rb = _both(pool, _fetch, plan, sel)
    res.queries += 2 * len(sel.chunks(plan.int_key))
    res.rows_fetched = len(ra) + len(rb)
    diff_rows(plan, ra, rb, res)


def _compare_table(
    plan: Plan, pool: ThreadPoolExecutor, span: tuple[int, int] | None = None
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
            diff_rows(plan, ra, rb, res)
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
            links = (
                open_links(src, dst) if all(k == "stored" for p in plans for k in p.kinds) else None
            )
            try:
                # every table counted (two at a time), then all joins started at once
                jobs: list[PairJob | None] = [None] * len(plans)
                if links is not None:
                    started = [pool.submit(pair_started, p, links) for p in plans]
                    wait(started)  # all of them, before a failure closes the links
                    jobs = [f.result() for f in started]
                    pair_run([j for j in jobs if j is not None], links)
                for p, job in zip(plans, jobs, strict=True):
                    prog.task(p.name, None)
                    with on_table(p.name):
                        if job is None or links is None:
                            results.append(_compare_table(p, pool))
                        else:
                            results.append(pair_finish(job, links))
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
        links = open_links(src, dst) if all(k == "stored" for k in plan.kinds) else None
        with on_table(plan.name):
            if links is not None:
                try:
                    where = (
                        "1"
                        if span is None
                        else f"{{k}} >= {int(span[0])} AND {{k}} <= {int(span[1])}"
                    )
                    job = pair_start(plan, links, where)
                    if job is not None:
                        pair_run([job], links)
                        return pair_finish(job, links)
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
        keys.sort(key=sort_key)
        setattr(out, name, keys[:KEY_CAP])
    return out


@contextmanager
def _planned(
    pool: ThreadPoolExecutor, source: str, target: str, tables: Sequence[str] | None
) -> Iterator[tuple[list[Plan], Engine, Engine]]:
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
        f_sm, f_dm = pool.submit(reflect, src, shown[0]), pool.submit(reflect, dst, shown[1])
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
            plans.append(plan_table(name, src, dst, s_meta[key], d_meta[key], shown, native=native))
        try:
            yield plans, src, dst
        except BaseException as exc:
            # the statements under way on the threads end now, not when they are done;
            # on Ctrl-C the SQLite workers' too (a failure lets theirs finish)
            for engine in (src, dst):
                Running.cancel(engine)
            if isinstance(exc, KeyboardInterrupt):
                q.stop_workers()
            raise
    except TableFailed as exc:
        raise BadInput.msg(
            "verify.table_failed",
            source=shown[0],
            target=shown[1],
            table=exc.table,
            reason=reason(exc.exc),
        ) from None
    except (SQLAlchemyError, LinkFailed) as exc:
        raise BadInput.msg(
            "verify.db_failed", source=shown[0], target=shown[1], reason=reason(exc)
        ) from None
    finally:
        src.dispose()
        dst.dispose()
