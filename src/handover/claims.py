"""What a running command uses, kept in the workspace's store: a console's jobs and the
CLI's commands on one workspace, in any process, see each other's.

A claim is a resource held shared or exclusive: every command of the transfer's data
holds :data:`DATA` shared and a shred holds it alone (nothing reads what it destroys);
the places a command writes (a package folder, a migration's target) are exclusive, the
places it reads shared; a campaign's sending and the dossier are held alone. A command
whose claim conflicts with one held by a live holder is refused with one line naming
that holder, before it changes anything (BadInput ``claims.busy``).

Claims are rows of ``work_claims`` written by their holder (``host:pid:token``,
:mod:`handover.holders`). Whoever takes a claim first updates the single row of
``work_claim_lock`` in the same transaction, so takers queue on that row (SQLite: the
write lock; PostgreSQL: the row lock) and each sees what the one before it committed.
Rows whose holder's process is gone (a killed command) are deleted by the next taker;
a holder on another host is taken to live (its process cannot be told here), and
``handover claims release`` removes its rows, recorded in the ledger.

Within one process, :func:`acting_as` makes the commands a console job runs hold their
claims as that job (re-entrant: the job's own claims never refuse it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import inspect
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from sqlalchemy import Boolean, DateTime, Integer, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from handover.db.url import place
from handover.errors import BadInput
from handover.holders import holder, lives
from handover.store.models import Base

if TYPE_CHECKING:
    from handover.store.store import Store

P = ParamSpec("P")
R = TypeVar("R")

#: every command that reads or writes the transfer's data holds this; a shred alone
DATA = "data"


class WorkClaimRow(Base):
    """One resource held by a running command (revision 0021)."""

    __tablename__ = "work_claims"
    #: ids are never used again (a release typed from an old listing names no newer claim)
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), index=True)
    #: the command (``seal``, ``shred`` …) and who runs it (``console job 12``, ``cli``)
    kind: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    resource: Mapped[str] = mapped_column(String(600))
    exclusive: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class WorkClaimLockRow(Base):
    """The one row (id 1) every taker updates first: takers queue on it."""

    __tablename__ = "work_claim_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    taken: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class Claim:
    """A resource and whether it is held alone."""

    resource: str
    exclusive: bool


@dataclass(frozen=True)
class Held:
    """Claims taken by one holder: their row ids (empty: all were held already)."""

    holder: str
    ids: tuple[int, ...]


def uses(
    reads: Sequence[str | Path | None] = (),
    writes: Sequence[str | Path | None] = (),
    alone: Sequence[str] = (),
) -> tuple[Claim, ...]:
    """The claims of a command of the transfer's data that reads ``reads`` (shared),
    writes ``writes`` and holds ``alone`` (exclusive); a place however it is spelt
    (:func:`handover.db.url.place`)."""
    out = [Claim(DATA, False)]
    out += [Claim("place:" + place(x), False) for x in reads if x]
    out += [Claim("place:" + place(x), True) for x in writes if x]
    out += [Claim(x, True) for x in alone]
    return tuple(out)


#: all the transfer's data, alone (a shred)
EVERYTHING = (Claim(DATA, True),)

#: the holder (and its label) a console job's thread or a command's steps act as (None:
#: a command holds as itself)
_acting: ContextVar[tuple[str, str] | None] = ContextVar("handover_claims_acting", default=None)
#: holders of this process that still run (a holder of this pid not here is a
#: predecessor's: a restarted container's)
_mine: set[str] = set()
_mine_lock = threading.Lock()


def new_holder() -> str:
    """A holder of this process, known here until :func:`forget`."""
    h = holder(secrets.token_hex(4))
    with _mine_lock:
        _mine.add(h)
    return h


def forget(h: str) -> None:
    """``h`` no longer runs (its claims, if any remain, are stale)."""
    with _mine_lock:
        _mine.discard(h)


def _known(h: str) -> bool:
    with _mine_lock:
        return h in _mine


@contextmanager
def acting_as(h: str, label: str = "console job") -> Iterator[None]:
    """Commands run inside hold their claims as ``h`` (a console job, or the command they
    are steps of), named ``label``."""
    token = _acting.set((h, label))
    try:
        yield
    finally:
        _acting.reset(token)


def take(
    store: Store,
    claims: Sequence[Claim],
    kind: str,
    label: str,
    h: str,
    *,
    now: dt.datetime | None = None,
) -> Held:
    """Hold ``claims`` as ``h`` or refuse (BadInput ``claims.busy`` naming the holder in
    the way; nothing is held then). Claims ``h`` already holds are not taken twice."""
    at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    while True:
        with store.session() as s:
            if store.engine.dialect.name == "postgresql":  # whatever the server's default
                s.connection(execution_options={"isolation_level": "READ COMMITTED"})
            # first: the queue (the row is made by revision 0021)
            queued = s.execute(update(WorkClaimLockRow).values(taken=WorkClaimLockRow.taken + 1))
            if getattr(queued, "rowcount", 0):
                return _take_queued(s, claims, kind, label, h, at)
        _restore_queue(store)  # a store that lost the row gets it again; start over


def _take_queued(
    s: Session, claims: Sequence[Claim], kind: str, label: str, h: str, at: dt.datetime
) -> Held:
    """:func:`take` once this taker is first in the queue."""
    rows = list(s.scalars(select(WorkClaimRow)))
    state = {r.id: lives(r.holder, _known) for r in rows if r.holder != h}
    gone = [i for i, alive in state.items() if alive is False]
    if gone:
        s.execute(delete(WorkClaimRow).where(WorkClaimRow.id.in_(gone)))
    live = [r for r in rows if r.id not in gone]
    for c in claims:
        for r in live:
            if r.holder != h and r.resource == c.resource and (r.exclusive or c.exclusive):
                key = "claims.busy" if state[r.id] else "claims.busy_elsewhere"
                since = _utc(r.since)
                raise BadInput.msg(key, kind=r.kind, who=_who(r), since=since, id=r.id)
    have = {(r.resource, r.exclusive) for r in live if r.holder == h}
    new = [
        WorkClaimRow(
            holder=h,
            kind=kind[:40],
            label=label[:100],
            resource=c.resource[:600],
            exclusive=c.exclusive,
            since=at,
        )
        for c in dict.fromkeys(claims)
        if (c.resource, True) not in have and (c.resource, c.exclusive) not in have
    ]
    s.add_all(new)
    s.flush()
    return Held(h, tuple(r.id for r in new))


def _restore_queue(store: Store) -> None:
    """Write the queue's row again (another taker may be doing the same)."""
    with contextlib.suppress(IntegrityError), store.session() as s:
        s.add(WorkClaimLockRow(id=1, taken=0))


def _utc(at: dt.datetime) -> str:
    """``at`` as UTC to the second (SQLite gives back a stored time without its zone)."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _who(r: WorkClaimRow) -> str:
    """The holder in the way, as a person can find it: the console's job, or the command's
    host and process."""
    host, _, rest = r.holder.partition(":")
    return f"{r.label} @ {host} pid {rest.partition(':')[0]}"


def relabel(store: Store, held: Held, label: str) -> None:
    """Name the holder of ``held``'s claims anew (a console job, once it has its id)."""
    if held.ids:
        with store.session() as s:
            s.execute(
                update(WorkClaimRow).where(WorkClaimRow.id.in_(held.ids)).values(label=label[:100])
            )


def give(store: Store, held: Held) -> None:
    """Release the claims of ``held`` (those it took; the holder's older ones stay)."""
    if held.ids:
        with store.session() as s:
            s.execute(delete(WorkClaimRow).where(WorkClaimRow.id.in_(held.ids)))


@contextmanager
def holding(store: Store, kind: str, claims: Sequence[Claim]) -> Iterator[Held]:
    """Hold ``claims`` while the block runs, as the holder acting here (a console job, or
    the command this one is a step of: :func:`acting_as`), else as a new holder that
    the steps inside then act as."""
    acting = _acting.get()
    h, label = acting or (new_holder(), "cli")
    try:
        held = take(store, claims, kind, label, h)
        try:
            with acting_as(h, label):
                yield held
        finally:
            give(store, held)
    finally:
        if acting is None:
            forget(h)


def claiming(
    kind: str, claims_of: Callable[..., Sequence[Claim]]
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A flow that holds ``claims_of(**its arguments)`` while it runs (:func:`holding`)
    in its workspace's store (argument ``ws``; none without a workspace)."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            ws = bound.arguments.get("ws")
            if ws is None:
                return fn(*args, **kwargs)
            with holding(ws.store, kind, claims_of(**bound.arguments)):
                return fn(*args, **kwargs)

        return run

    return wrap


def listing(store: Store) -> list[dict[str, Any]]:
    """Every claim held, with whether its holder lives (None: on another host)."""
    with store.session() as s:
        rows = list(s.scalars(select(WorkClaimRow).order_by(WorkClaimRow.id)))
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "who": _who(r),
            "resource": r.resource,
            "exclusive": r.exclusive,
            "since": _utc(r.since),
            "lives": (state := lives(r.holder, _known)),
            "state": {True: "lives", False: "gone", None: "unknown"}[state],
        }
        for r in rows
    ]


def release(store: Store, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Remove the claims ``ids`` (a holder on another host that is known to be gone);
    returns what was removed. BadInput for an id that is not held."""
    wrong = [i for i in ids if not 0 < i < 2**31]  # no such id fits the column
    if wrong:
        raise BadInput.msg("claims.no_claim", id=wrong[0])
    with store.session() as s:
        rows = list(s.scalars(select(WorkClaimRow).where(WorkClaimRow.id.in_(list(ids)))))
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise BadInput.msg("claims.no_claim", id=missing[0])
        out = [{"id": r.id, "kind": r.kind, "who": _who(r), "resource": r.resource} for r in rows]
        s.execute(delete(WorkClaimRow).where(WorkClaimRow.id.in_(list(ids))))
    return out
