"""Open the platform store and bring its schema to the newest revision."""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from handover.db.connect import Wording, connect, failure
from handover.db.reflect import Catalog
from handover.db.url import parse

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^(revision|down_revision)\s*=\s*(None|"[0-9A-Za-z_]+")\s*$', re.M)


def script_heads() -> set[str] | None:
    """The head revisions of the migration scripts, read from their ``revision`` lines
    without importing Alembic; None when a script is not in the simple form (Alembic
    then decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for f in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION.findall(f.read_text("utf-8")))
        if "revision" not in found or "down_revision" not in found or found["revision"] == "None":
            return None
        revisions.add(found["revision"].strip('"'))
        if found["down_revision"] != "None":
            parents.add(found["down_revision"].strip('"'))
    return revisions - parents


#: how the store's connection failures are told
WORDING = Wording("store.unusable", "store.unreachable")


class _Held:
    """A thread's own connection to a SQLite store (:meth:`Store.own_connection`), the
    process that opened it and the store's disposal it belongs after. Only its thread
    holds it and only its thread closes it: when the thread ends it goes, and with it the
    connection (which closes as it goes)."""

    __slots__ = ("conn", "disposals", "pid")

    def __init__(self, conn: Any, pid: int, disposals: int) -> None:
        self.conn, self.pid, self.disposals = conn, pid, disposals


class _Own(threading.local):
    held: _Held | None = None


#: connections a process started by ``fork`` inherited: kept, never used or closed (SQLite
#: must not touch a connection across a fork, closing included)
_INHERITED: list[Any] = []


@dataclass
class Store:
    """The platform store of one workspace."""

    engine: Engine
    url: str
    _own: _Own = field(default_factory=_Own, repr=False, compare=False)
    #: how many times the store was disposed: a thread's own connection of before is
    #: closed by its thread, and a new one opened, when the thread next asks
    _disposals: int = field(default=0, repr=False, compare=False)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self.sessions() as s, s.begin():
            yield s

    def current_heads(self) -> set[str]:
        """The revisions recorded in the store (empty before the first upgrade).

        A file that is not a database at all raises :class:`BadInput` (naming the store)."""
        try:
            with self.engine.connect() as conn:
                return {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
        except OperationalError as exc:
            if "no such table" in str(exc) or "does not exist" in str(exc):
                return set()
            raise failure(exc, self.url, WORDING) from None
        except SQLAlchemyError:
            return set()

    def upgrade(self) -> None:
        """Apply every Alembic revision not yet applied (all branch heads).

        A store already at the scripts' heads is left alone without importing Alembic
        (about 0.3–0.6 s of every command's start-up).
        """
        heads = script_heads()
        if heads and self.current_heads() == heads:
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")

    def tables(self) -> list[str]:
        return sorted(Catalog(self.engine).table_names())

    def own_connection(self) -> Any:
        """A driver connection of this thread's own to a SQLite file store, kept open
        from one call to the next (the ledger's appends: the pool's check-out and return,
        with its reset, cost a sixth of a committed append); None for any other store
        (a server's connections go through the pool, which checks them before reuse; an
        in-memory store has only the pool's one connection).

        The connection is the pool's, made with the store's session settings and
        detached from the pool. Only its thread uses or closes it (closing a connection
        another thread is using can crash the process): it closes when the thread ends,
        when :meth:`dispose` is called on that thread, or when the thread next asks after a
        dispose. A process started by ``fork`` opens its own and leaves its parent's be."""
        held, pid = self._own.held, os.getpid()
        if held is not None and held.pid == pid and held.disposals == self._disposals:
            return held.conn
        from sqlalchemy.pool import QueuePool

        self.drop_own_connection()
        if self.engine.dialect.name != "sqlite" or not isinstance(self.engine.pool, QueuePool):
            return None
        fairy = self.engine.raw_connection()
        fairy.detach()
        self._own.held = held = _Held(fairy.dbapi_connection, pid, self._disposals)
        return held.conn

    def drop_own_connection(self) -> None:
        """Close this thread's own connection, if it has one (one its process inherited by
        ``fork`` is only set aside); the next :meth:`own_connection` opens a new one."""
        held, self._own.held = self._own.held, None
        if held is None:
            return
        if held.pid != os.getpid():
            _INHERITED.append(held.conn)
            return
        with contextlib.suppress(Exception):  # an unusable connection is dropped all the same
            held.conn.close()

    def dispose(self) -> None:
        """Close the pool's connections and this thread's own; other threads close theirs
        when they next ask for it or end (a thread that uses the store again opens a new
        one)."""
        self._disposals += 1
        self.drop_own_connection()
        self.engine.dispose()


def open_store(url: str, *, upgrade: bool = True) -> Store:
    """Connect to the store at ``url``; with ``upgrade`` apply pending migrations.

    Raises :class:`BadInput` naming the (masked) URL when the database is unreachable.
    The engine has the store's session settings (SQLite: WAL, busy timeout, foreign
    keys, synchronous commits); on a server it checks a pooled connection before reusing it.
    """
    # a server may drop an idle pooled connection: check it before reuse (a SQLite file's
    # cannot be dropped, and the check would be one more statement per ledger append)
    ping = parse(url).get_backend_name() != "sqlite"  # a URL, never a path (BadInput)
    store = Store(connect(url, wording=WORDING, session="store", pool_pre_ping=ping), url)
    try:
        if upgrade:
            store.upgrade()
    except OperationalError as exc:
        store.dispose()
        raise failure(exc, url, WORDING) from None
    return store
