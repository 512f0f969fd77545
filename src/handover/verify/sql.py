"""The functions verify adds to a SQLite connection: SQLite has no hash function.

The digest SQL of every engine is in its dialect module (:mod:`handover.db.dialects`);
on SQLite it calls ``ho_h32`` and the ``ho_sum60`` aggregate, registered here on each
connection by :func:`register_sqlite`: deterministic, computing the same MD5 prefixes as
the other engines' SQL and :mod:`handover.verify.normalize`.

The aggregate is Python, called once per row: it takes the interpreter lock for every
row, so two scans on two threads of one process mostly wait for each other (the
`hkls` digest of 200,000 customers in two key ranges: 9.9 s one after the other,
11.8 s on two threads, 7.0 s in two processes). :func:`sqlite_rows` therefore runs a
digest statement in a worker process of its own.
"""

from __future__ import annotations

import multiprocessing
import signal
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from handover.verify.normalize import key_hash32, row_hash60

T = TypeVar("T")

#: worker processes for SQLite digest statements (one per core of the machine's two)
WORKERS = 2
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


class _Sum60:
    """SQLite aggregate: exact sum of the 60-bit MD5 prefixes, returned as decimal text."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, text: str | None) -> None:
        if text is not None:
            self.total += row_hash60(text)

    def finalize(self) -> str:
        return str(self.total)


def _h32(text: str | None) -> int | None:
    return None if text is None else key_hash32(text)


def register_sqlite(dbapi_conn: Any, _record: Any = None) -> None:
    """Add ``ho_h32`` and ``ho_sum60`` to a sqlite3 connection (deterministic)."""
    dbapi_conn.create_function("ho_h32", 1, _h32, deterministic=True)
    dbapi_conn.create_aggregate("ho_sum60", 1, _Sum60)


#: the kinds :mod:`handover.verify.arrow` renders (the others: the statement)
ARROW_KINDS = frozenset({"int", "decimal", "float", "text", "date", "timestamp", "time"})
#: kinds whose text depends on the storage class of a value the driver shows as text
#: (an INTEGER, REAL or BLOB reads as text among TEXT): flagged in SQL by ``typeof``
_FLAGGED = frozenset({"date", "timestamp"})
_ODD = "ho__odd"


@dataclass(frozen=True)
class ArrowDigest:
    """What a worker needs to compute the digest rows of one piece of a SQLite file
    against a server (:mod:`handover.verify.arrow`): the select of the raw values
    (:func:`select_sql`), each column's kind and digest form, the segment arithmetic,
    and the select of SQLite's canonical texts for what Arrow does not render."""

    sql: str
    kinds: tuple[str, ...]
    origin: int
    width: int
    #: (compact, scale) of each column in the digest text the server hashes
    #: (:func:`handover.verify.normalize.encode_digest_row`)
    forms: tuple[tuple[bool, int | None], ...]
    #: ``SELECT`` of the segment (SQLite's own arithmetic) and each value's canonical
    #: text by the statement's value expressions
    canonical: str
    #: the table and the columns ``sql`` selects as they are (unquoted): where their
    #: declared types rule out a REAL, their text needs no check (``db.adbc.faithful``);
    #: empty: every text column is checked
    table: str = ""
    columns: tuple[str, ...] = ()


def select_sql(seg_sql: str, columns: Sequence[str], kinds: Sequence[str], source: str) -> str:
    """``SELECT`` of the segment key, the stored values of the quoted ``columns`` (of
    :data:`ARROW_KINDS`) and one flag column (non-zero: a date or time value not stored
    as TEXT or NULL), from the ``FROM …`` clause ``source``."""
    flags = [
        f"(typeof({c}) IN ('integer', 'real', 'blob'))"
        for c, k in zip(columns, kinds, strict=True)
        if k in _FLAGGED
    ]
    odd = " + ".join(flags) if flags else "0"
    return f"SELECT {seg_sql}, {', '.join(columns)}, {odd} AS {_ODD}{source}"


def _run(path: str, stmt: str, arrow: ArrowDigest | None = None) -> list[tuple[Any, ...]]:
    """In a worker: the rows of ``stmt`` on the SQLite file ``path`` opened read-only,
    with verify's functions; or, for a SQLite file against a server, the rows ``arrow``
    stands for (:func:`handover.verify.arrow.digests`)."""
    from handover.db.url import read_only_uri

    if arrow is not None:
        from handover.verify.arrow import digests

        return list(digests(path, arrow))
    conn = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        register_sqlite(conn)
        return list(conn.execute(stmt).fetchall())
    finally:
        conn.close()


def _workers() -> ProcessPoolExecutor | None:
    """The shared pool, started on first use; None inside a daemonic process (a Dask
    worker), which may not start children."""
    global _pool
    if multiprocessing.current_process().daemon:
        return None
    with _pool_lock:
        if _pool is None:
            ctx = multiprocessing.get_context("forkserver")
            # the server imports only this module (not the caller's __main__)
            ctx.set_forkserver_preload(
                [__name__, "handover.verify.arrow", "handover.verify.rowmerge"]
            )
            _pool = ProcessPoolExecutor(WORKERS, mp_context=ctx, initializer=_ignore_interrupts)
        return _pool


def sqlite_rows(
    path: str, stmt: str, arrow: ArrowDigest | None = None
) -> list[tuple[Any, ...]] | None:
    """The rows of the digest statement ``stmt`` on the SQLite file ``path`` (or, with
    ``arrow``, those it stands for), computed in a worker process. Where no worker can
    run it: ``arrow``'s rows computed here, else None (the caller runs ``stmt``, which
    for a SQLite file against a server would hash another text). A SQLite error is
    raised as it happened."""
    if arrow is None:
        return in_worker(_run, path, stmt, None, here=False)
    return in_worker(_run, path, stmt, arrow)


def in_worker(fn: Callable[..., T], *args: Any, here: bool = True) -> T | None:
    """``fn(*args)`` in a worker process of the shared pool (``fn`` a module-level
    function its server can import). Where no worker can run it (inside a daemonic
    process, or a worker died): run here, or None with ``here=False``. An error is
    raised as it happened. Called on the main thread, Ctrl-C ends the workers at once;
    verify calls it from its pool's threads, where Ctrl-C is not raised: its main thread
    ends them then (:func:`stop_workers`)."""
    pool = _workers()
    if pool is not None:
        try:
            return pool.submit(fn, *args).result()
        except KeyboardInterrupt:  # the workers ignore it: end them now, not after their scan
            _end(pool, kill=True)
            raise
        except BrokenProcessPool:  # a worker died (killed, out of memory): a new pool next time
            _end(pool, kill=False)
    return fn(*args) if here else None


def stop_workers() -> None:
    """Terminate the shared pool's workers mid-statement (Ctrl-C on the thread that
    waits for them); a call of :func:`in_worker` waiting for one sees its pool broken,
    and the next starts a new pool."""
    with _pool_lock:
        pool = _pool
    if pool is not None:
        _end(pool, kill=True)


def _ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the caller's to handle (it ends the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _end(pool: ProcessPoolExecutor, *, kill: bool) -> None:
    """Forget ``pool`` (a new one starts on next use) and stop it; ``kill``: its workers
    are terminated mid-statement."""
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    if kill:
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
