"""Two SQLite files compared by one join: a connection of the source engine attaches the
target file, and each table's rows are paired by key inside SQLite (the dialect's
:class:`~handover.db.dialects.sqlite.PairSQL`); only the rows without a partner or
differing in a column come back to Python, for :func:`~handover.verify.plan.diff_rows`.
Large tables are cut into key (or rowid) ranges of about equal cost, run costliest
first on the links' own threads."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from handover.db import dialects
from handover.db.connect import error_detail
from handover.i18n import t
from handover.verify.plan import LinkFailed, Plan, diff_rows, on_table
from handover.verify.results import TableResult

_T = TypeVar("_T")


#: a table with at least this many source rows may be compared as key ranges
PAIR_SPLIT_ROWS = 50_000
#: the joins of all tables are cut into about this many pieces of equal cost, run
#: costliest first, so that the links finish together (no large range runs alone last)
PAIR_PIECES = 8
#: connections that read both files at once (each runs one range query at a time)
PAIR_LINKS = 2


class Links:
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
        """``fn(raw connection)`` on a free connection; a driver error is :class:`LinkFailed`."""
        raw = self.free.get()
        with self.lock:
            self.busy += 1
            closing = self.closing
        try:
            if closing:
                raise LinkFailed(t("verify.pair_closed"))
            return fn(raw)
        except self.sql.driver_errors() as exc:
            raise LinkFailed(error_detail(exc)) from None
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


def open_links(src: Engine, dst: Engine) -> Links | None:
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
    links = Links(src, path, uri=src.url.query.get("uri") == "true")
    if not links.ok:
        links.close()
        return None
    return links


@dataclass
class PairJob:
    """One table compared by a join: the queries under way."""

    plan: Plan
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


def pair_start(plan: Plan, links: Links, where: str = "1") -> PairJob | None:
    """Count both sides of a table and find its source's key bounds (None: the table's
    keys cannot be joined one to one; the digests compare it instead). ``where``: only
    the rows whose first key meets it (``{k}`` stands for the key; a part of the table a
    cluster's worker compares), joined as one range. :func:`pair_run` starts the joins."""
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
    job = PairJob(plan, pair, counts, [where], [], len(queries), t0, where, bounds)
    if pair.rowids and where == "1":
        lo, hi = (links.run(q)[0][0] for q in pair.rowid_bounds())
        job.queries += 2
        if lo is not None:
            job.rowids = (int(lo), int(hi))
    return job


def pair_started(plan: Plan, links: Links) -> PairJob | None:
    """:func:`pair_start` of a whole table, a failure told with the table's name."""
    with on_table(plan.name):
        return pair_start(plan, links)


def _pair_cost(job: PairJob) -> int:
    """The join's cost in units of about 35 ns of SQLite's time (measured on the 1 M
    book: a row 0.2 µs, a compared column 0.035 µs, the seeks of a key that is not the
    rowid 0.15 µs)."""
    seeks = 0 if job.pair.rowid or job.pair.rowids else 4
    return job.counts[0] * (6 + len(job.plan.kinds) + seeks)


def pair_run(jobs: Sequence[PairJob], links: Links) -> None:
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


def _rowid_cap(job: PairJob) -> int:
    """How many rows of a part the rowids may fail to pair before the part is joined by
    key instead (a copy that renumbered its rows: the first rows tell)."""
    return max(ROWID_CAP, job.counts[0] // len(job.parts) // 50)


def _by_rowid(job: PairJob, links: Links, where: str) -> list[tuple[Any, ...]]:
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


def pair_finish(job: PairJob, links: Links) -> TableResult:
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
    diff_rows(plan, src_rows, dst_rows, res)
    res.seconds = time.perf_counter() - job.t0
    return res


def _unmatched(
    job: PairJob, links: Links, unmatched: int, res: TableResult
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
