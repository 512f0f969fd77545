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
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from handover.verify.normalize import key_hash32, row_hash60

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


def _run(path: str, stmt: str) -> list[tuple[Any, ...]]:
    """In a worker: ``stmt`` on the SQLite file ``path`` opened read-only, with verify's
    functions; its rows."""
    from handover.db.url import read_only_uri

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
            ctx.set_forkserver_preload([__name__])
            _pool = ProcessPoolExecutor(WORKERS, mp_context=ctx, initializer=_ignore_interrupts)
        return _pool


def sqlite_rows(path: str, stmt: str) -> list[tuple[Any, ...]] | None:
    """The rows of the digest statement ``stmt`` on the SQLite file ``path``, computed in
    a worker process; None where no worker can run it (the caller runs it itself). A
    SQLite error is raised as it happened."""
    pool = _workers()
    if pool is None:
        return None
    try:
        return pool.submit(_run, path, stmt).result()
    except KeyboardInterrupt:  # the workers ignore it: end them now, not after their scan
        _end(pool, kill=True)
        raise
    except BrokenProcessPool:  # a worker died (killed, out of memory): a new pool next time
        _end(pool, kill=False)
        return None


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
