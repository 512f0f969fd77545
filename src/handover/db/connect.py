"""Engines: the one place a SQLAlchemy engine is made.

Not every handle goes through here: SQLite files are also opened with ``sqlite3``
directly (a source's reader, verify's workers, erase, synth, the workspace check) and by
ADBC's driver (:mod:`handover.db.adbc`, and the migrate writer of
``SQLite.bulk_connection``), which links its own copy of SQLite.

:func:`connect` parses a spec (:mod:`handover.db.url`), creates the engine with the
session settings a use needs (the statements of :meth:`Dialect.session
<handover.db.dialects.base.Dialect.session>`, run on every new connection), checks that
the database answers, and turns every failure into one line of :class:`BadInput` that
names the masked URL: the caller's :class:`Wording` chooses the catalogue message.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.db.url import is_url, mask, parse
from handover.errors import BadInput

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from handover.db.dialects.base import Dialect


@dataclass(frozen=True)
class Wording:
    """The catalogue messages a caller's connection failures are told with. Both take
    ``url`` (masked) and ``reason``, and the caller's ``values``."""

    #: the engine cannot be made (an unknown dialect, a missing driver): reason = its kind
    unusable: str = "db.unusable"
    #: the database does not answer: reason = the first line of the driver's message
    unreachable: str = "db.unreachable"
    values: Mapping[str, Any] = field(default_factory=dict)


def connect(
    spec: str | Path,
    *,
    wording: Wording | None = None,
    session: str | None = None,
    on_connect: Callable[[Any, Dialect], None] | None = None,
    read_only: bool = False,
    threads: bool = False,
    check: bool = True,
    own_driver: bool = False,
    writes: bool = False,
    **pool: Any,
) -> Engine:
    """An engine for ``spec`` (a URL, or the path of a SQLite file) that has answered one
    query (``check``); :class:`BadInput` naming the masked spec if it cannot be made or
    reached (transient when unreachable).

    ``session``: the name of the settings every new connection gets from the engine's
    dialect (``verify``, ``store``); ``on_connect(dbapi_connection, dialect)`` runs after
    them. ``read_only`` opens a SQLite *path* read-only; ``threads`` lets a SQLite
    connection be used from other threads; ``own_driver``: handover's driver whatever the
    URL names (see :func:`~handover.db.url.parse`); ``writes``: the driver options the
    dialect's bulk writes need (``Dialect.write_connect_args``). ``pool`` goes to SQLAlchemy.
    """
    import sqlalchemy as sa

    from handover.db import dialects

    words = wording or Wording()
    shown = mask(spec)
    s = str(spec)
    kwargs: dict[str, Any] = dict(pool)
    url: sa.URL | str
    if is_url(s):
        url = parse(s, own_driver=own_driver)
        backend = url.get_backend_name()
    else:
        path = Path(s).resolve()
        # built, not spelt: a path holding "?" or "#" stays one file name (percent-encoded
        # in the read-only URI form, where SQLite decodes it)
        url = (
            sa.URL.create(
                "sqlite",
                database=f"file:{urllib.parse.quote(str(path))}",
                query={"mode": "ro", "uri": "true"},
            )
            if read_only
            else sa.URL.create("sqlite", database=str(path))
        )
        backend = "sqlite"
    if threads and backend == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False}
    if writes:
        wanted = dialects.find(backend)
        if wanted is not None and wanted.write_connect_args:
            kwargs["connect_args"] = {**kwargs.get("connect_args", {}), **wanted.write_connect_args}
    try:
        engine = sa.create_engine(url, **kwargs)
    except Exception as exc:  # an unknown dialect, a missing driver, a bad option
        raise BadInput.msg(
            words.unusable, url=shown, reason=type(exc).__name__, **words.values
        ) from None
    dialect = dialects.find(engine.dialect.name)
    statements = dialect.session(session) if dialect is not None and session else ()
    if statements or on_connect is not None:
        _on_each_connection(engine, dialect, statements, on_connect)
    if writes and dialect is not None:
        sa.event.listen(engine, "connect", lambda dbapi, _rec: dialect.writes_connected(dbapi))
    if check:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            raise failure(exc, spec, words) from None
    return engine


def _on_each_connection(
    engine: Engine,
    dialect: Dialect | None,
    statements: tuple[str, ...],
    hook: Callable[[Any, Dialect], None] | None,
) -> None:
    from sqlalchemy import event

    def setup(dbapi_conn: Any, _record: Any) -> None:
        if statements:
            cur = dbapi_conn.cursor()
            for stmt in statements:
                cur.execute(stmt)
            cur.close()
            dbapi_conn.commit()  # a SET inside the driver's implicit transaction would roll back
        if hook is not None and dialect is not None:
            hook(dbapi_conn, dialect)

    event.listen(engine, "connect", setup)


def failure(exc: BaseException, spec: str | Path, wording: Wording | None = None) -> BadInput:
    """The one-line, transient :class:`BadInput` for a database that did not answer: the
    masked spec and the first line of the driver's message (never a value or password)."""
    words = wording or Wording()
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    reason = lines[0][:200] if lines else type(orig).__name__
    return BadInput.msg(
        words.unreachable, url=mask(spec), reason=reason, transient=True, **words.values
    )


def error_detail(exc: BaseException) -> str:
    """What a message may tell of a statement's failure (``exc``, or the driver error it
    wraps): the first line of a message SQLite itself gave (it has an error name: its
    messages name tables and columns, never a value), else the error's kind — a server's
    message may quote a value, and so does Python's own ``sqlite3`` module (a text it
    cannot decode as UTF-8 is quoted in full)."""
    import sqlite3

    orig = getattr(exc, "orig", None) or exc
    text = str(orig).splitlines()[0] if str(orig) else ""
    own = isinstance(orig, sqlite3.Error) and getattr(orig, "sqlite_errorname", None)
    return text if own and text else type(orig).__name__


def over(dbapi_connection: Any, name: str = "sqlite") -> Engine:
    """An engine that uses one connection already open (a SQLite file a reader holds), so
    that reflecting the database does not open it a second time. Disposing of the engine
    closes the connection."""
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    # no rollback when the engine is done with it: the reader's own cursors stay intact
    return sa.create_engine(
        f"{name}://",
        creator=lambda: dbapi_connection,
        poolclass=StaticPool,
        pool_reset_on_return=None,
    )
