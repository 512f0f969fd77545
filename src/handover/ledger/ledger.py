"""The append-only event log: ``record`` is the one way anything writes the ledger.

Each event becomes a canonical JSON body (the Merkle leaf), appended under a lock on the
head row (SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``SELECT … FOR UPDATE``) so concurrent
processes never fork the tree or skip a sequence number. An append costs O(log n): the
head keeps the frontier (roots of the perfect subtrees), completed subtrees are stored
once in ``ledger_nodes``, and proofs read O(log n) stored nodes.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import KW_ONLY, dataclass, field
from itertools import chain, pairwise, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from sqlalchemy import (
    Connection,
    Dialect,
    bindparam,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.types import NullType

from handover.crypto.files import replacing
from handover.errors import BadInput, CheckFailed, HandoverError
from handover.ledger import merkle
from handover.ledger.canonical import (
    MAX_SAFE_INTEGER,
    canonical_text,
    encode_string,
    plain_text,
    to_jsonable,
    utf8,
)
from handover.ledger.guard import guard, is_secret_key, needs_scan
from handover.ledger.models import (
    LOWEST_STORED_LEVEL,
    LedgerCheckpointRow,
    LedgerEntryRow,
    LedgerHeadRow,
    LedgerNodeRow,
)

try:
    from handover.ledger import _events
except ImportError:  # built without a C compiler: every event takes the Python path
    _events = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from handover.ledger.note import Signer
    from handover.workspace import Workspace

BODY_VERSION = 1
ORIGIN_HOST = "handover.example"
SIGN_ATTEMPTS = 3
ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\Z")


class Clock(Protocol):
    """Gives the current time as a timezone-aware datetime (injected for exact tests)."""

    def __call__(self) -> dt.datetime: ...


def system_clock() -> dt.datetime:
    """The real clock, in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Event:
    """An event to record: who did what to which thing, and why."""

    action: str
    subject: str
    purpose: str
    details: dict[str, Any] | None = None
    _: KW_ONLY
    actor: str


class LedgerEntry(NamedTuple):
    """One recorded event as stored: its sequence number, body and hashes (a named tuple:
    immutable, and a batch of appends makes a thousand of them at a fifth of a frozen
    dataclass's cost)."""

    seq: int
    ts: str
    actor: str
    action: str
    subject: str
    purpose: str
    details: dict[str, Any]
    body: bytes
    leaf_hash: bytes
    masked: int = 0

    def to_json(self) -> dict[str, Any]:
        """Machine form (``--json``)."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "purpose": self.purpose,
            "details": self.details,
            "leaf_hash": self.leaf_hash.hex(),
        }

    @classmethod
    def from_body(cls, body: bytes, leaf: bytes) -> LedgerEntry:
        """Rebuild an entry from its stored canonical body."""
        return cls.from_doc(json.loads(body), body, leaf)

    @classmethod
    def from_doc(cls, doc: dict[str, Any], body: bytes, leaf: bytes) -> LedgerEntry:
        """Rebuild an entry from its stored canonical body, ``doc`` as parsed."""
        return cls(
            seq=int(doc["seq"]),
            ts=str(doc["ts"]),
            actor=str(doc["actor"]),
            action=str(doc["action"]),
            subject=str(doc["subject"]),
            purpose=str(doc["purpose"]),
            details=dict(doc.get("details") or {}),
            body=body,
            leaf_hash=leaf,
        )


def format_ts(value: dt.datetime) -> str:
    """RFC 3339 UTC with microseconds, the one timestamp form in bodies."""
    if value.tzinfo is dt.UTC:  # the usual clock's: its text ends "+00:00"
        return value.isoformat(timespec="microseconds")[:-6] + "Z"
    if value.tzinfo is None:
        raise BadInput.msg("ledger.naive_clock")
    # isoformat: four digits of year before 1000 too (strftime's %Y gives fewer)
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


TS_FORM = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
# Widths of the text columns beside the body: _append cuts actor and subject to them.
COLUMN_WIDTHS = {"actor": 200, "subject": 500}
INDEXED = ("ts", "actor", "action", "subject")


def parse_ts(text: Any) -> dt.datetime | None:
    """The aware UTC instant of a body timestamp in its one form (:func:`format_ts`), else None."""
    if not isinstance(text, str) or not TS_FORM.fullmatch(text):
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:  # e.g. month 13: the right shape, not a time
        return None


def indexed_columns(doc: Any) -> dict[str, Any] | None:
    """The ``ts``/``actor``/``action``/``subject`` columns a parsed body implies: exactly what
    an append stores beside it (actor and subject cut to their widths); None if the body
    lacks one of those fields or its ``ts`` is not in the one timestamp form."""
    if not isinstance(doc, dict):
        return None
    ts = parse_ts(doc.get("ts"))
    actor, action, subject = doc.get("actor"), doc.get("action"), doc.get("subject")
    if ts is None or not (
        isinstance(actor, str) and isinstance(action, str) and isinstance(subject, str)
    ):
        return None
    return {
        "ts": ts,
        "actor": actor[: COLUMN_WIDTHS["actor"]],
        "action": action,
        "subject": subject[: COLUMN_WIDTHS["subject"]],
    }


@functools.lru_cache(maxsize=16)
def ts_stored_form(dialect: Dialect) -> Callable[[str], Any]:
    """Maps a body timestamp to the ``ts`` value the store holds for it, as the driver gives it.

    SQLite keeps the text SQLAlchemy's bind processor writes (and compares that text in
    ``since`` filters), so the text must be exact; PostgreSQL gives aware datetimes, equal
    when they are the same instant.
    """
    process = LedgerEntryRow.__table__.c.ts.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return parse_ts
    probe = "2026-12-31T23:59:58.012345Z"

    def sliced(text: str) -> str:
        return f"{text[:10]} {text[11:26]}"

    # The verifier maps every entry: take the slice (20x cheaper than the processor) once a
    # probe shows it gives the very text the processor writes. Cached: every append asks,
    # and the probe costs a third of SQLite's own work for one.
    if process(parse_ts(probe)) == sliced(probe):
        return sliced
    return lambda text: process(parse_ts(text))


# --- the head row and its lock ---------------------------------------------------------


@dataclass
class Head:
    """The tree head as stored: size, frontier, origin and the public key that signed the
    newest checkpoint (informational: checkpoints verify against :func:`trusted_keys`)."""

    size: int
    frontier: list[bytes]
    origin: str | None
    public_key: bytes | None
    #: the newest entry's body as stored, where the head was read for an append
    newest: Any = None

    @property
    def root(self) -> bytes:
        return merkle.fold(self.frontier)


def _split_frontier(raw: bytes) -> list[bytes]:
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]


_HEAD = "SELECT size, frontier, origin, public_key FROM ledger_head WHERE id = 1"
# an append reads the newest body (its stamp) in the same statement
_HEAD_NEWEST = (
    "SELECT size, frontier, origin, public_key, (SELECT body FROM ledger_entries "
    "WHERE seq = ledger_head.size - 1) FROM ledger_head WHERE id = 1"
)


def _read_head(cur: Any, dialect: str, *, lock: bool, newest: bool = False) -> Head:
    """The head row through the driver's cursor ``cur`` (with the newest entry's body)."""
    sql = _HEAD_NEWEST if newest else _HEAD
    if lock and dialect != "sqlite":  # SQLite: BEGIN IMMEDIATE took the lock
        sql += " FOR UPDATE"
    cur.execute(sql)
    row = cur.fetchone()
    if row is None:
        raise CheckFailed.msg("ledger.no_head")
    size, frontier, origin, public_key = row[:4]
    return Head(
        int(size),
        _split_frontier(bytes(frontier)),
        origin,
        bytes(public_key) if public_key is not None else None,
        row[4] if newest else None,
    )


def _lock(cur: Any, dialect: str, *, newest: bool = False) -> Head:
    """Take the ledger's write lock in the transaction ``cur`` is in; the head under it."""
    if dialect == "sqlite":
        # A deferred BEGIN would let two writers read the same head; IMMEDIATE takes the
        # write lock first (waiting up to busy_timeout).
        cur.execute("BEGIN IMMEDIATE")
    return _read_head(cur, dialect, lock=True, newest=newest)


def _busy_errors(ws: Workspace) -> tuple[type[BaseException], ...]:
    """The errors of a store refusing or failing a ledger transaction: SQLAlchemy's, and
    the driver's own where a statement went through its cursor."""
    return (OperationalError, ws.store.engine.dialect.loaded_dbapi.OperationalError)


def _busy(exc: BaseException) -> HandoverError:
    """One of :func:`_busy_errors` as the one transient error it is told as."""
    orig = exc.orig if isinstance(exc, OperationalError) else exc
    reason = (str(orig).splitlines() or [type(exc).__name__])[0] if orig else type(exc).__name__
    return HandoverError.msg("ledger.store_busy", reason=reason, transient=True)


@contextmanager
def _store_busy(ws: Workspace) -> Iterator[None]:
    """The store refusing or failing a ledger transaction, as one transient error."""
    try:
        yield
    except _busy_errors(ws) as exc:
        raise _busy(exc) from None


@contextmanager
def locked(ws: Workspace) -> Iterator[tuple[Connection, Head]]:
    """A transaction holding the ledger's write lock, with the head read under it."""
    with _store_busy(ws), ws.store.engine.connect() as conn:
        # SQLAlchemy's transaction, so that its commit() ends the driver's: no SQL is sent
        # for it (the drivers begin implicitly, SQLite's explicitly in _lock)
        conn.begin()
        try:
            head = _lock(conn.connection.cursor(), conn.dialect.name)
            yield conn, head
            conn.commit()
        except BaseException:
            conn.rollback()
            raise


@dataclass
class _Tx:
    """An append's transaction on a pooled driver connection: its cursor, the store's
    dialect, and the head read under the ledger's write lock.

    Appends skip SQLAlchemy's ``Connection``: its set-up and per-statement result
    handling cost more than SQLite's own work for a durable append of one event.
    """

    cur: Any
    dialect: Dialect
    head: Head

    def sql(self, text: str) -> str:
        """``text``, written with ``?`` placeholders, in the driver's parameter style."""
        return text if self.dialect.paramstyle == "qmark" else text.replace("?", "%s")


def _appended(ws: Workspace, prepared: Sequence[Prepared], clock: Clock) -> list[LedgerEntry]:
    """Append ``prepared`` in one transaction holding :func:`locked`'s lock, the head read
    under it, on the driver's connection (a SQLite file store's: this thread's own, see
    :meth:`Store.own_connection`); committed before returning. Plain calls, no context
    manager: a committed append of one event is mostly the store's own work."""
    engine = ws.store.engine
    try:
        own = ws.store.own_connection()
        raw = own if own is not None else engine.raw_connection()
        try:
            cur = raw.cursor()
            tx = _Tx(cur, engine.dialect, _lock(cur, engine.dialect.name, newest=True))
            entries = _append(tx, prepared, clock)
            raw.commit()
            return entries
        except BaseException:
            try:
                raw.rollback()
            except Exception:
                if own is None:
                    raise
                # a thread's own connection that cannot roll back could stay inside the
                # transaction, holding the write lock: it is closed (SQLite then rolls
                # back), the next append opens another, and the first error is told
                ws.store.drop_own_connection()
            raise
        finally:
            if own is None:
                raw.close()
    except _busy_errors(ws) as exc:
        raise _busy(exc) from None


def read_head(ws: Workspace) -> Head:
    """The current head (no lock)."""
    with ws.store.engine.connect() as conn:
        return _read_head(conn.connection.cursor(), conn.dialect.name, lock=False)


# --- appending -------------------------------------------------------------------------


#: An event made ready to append: ``(actor, action, subject, purpose, details,
#: details_text, masked)``, its texts and details through the guard, ``details_text`` the
#: RFC 8785 text of ``details`` (str from the Python path, UTF-8 bytes from the C one).
Prepared = tuple[str, str, str, str, dict[str, Any], str | bytes, int]

#: What the C path may take without asking (:mod:`handover.ledger._events`): actions this
#: process has checked, and details keys it has checked name no secret and sort as RFC
#: 8785 sorts (every character below U+D800). Filled by the Python path as it checks them;
#: bounded, so keys made from data cannot grow it without end (the rest stay on the Python
#: path, which decides the same).
_CHECKED_ACTIONS: set[str] = set()
_PLAIN_KEYS: set[str] = set()
_CHECKED_MOST = 4096


def _guarded(fields: dict[str, Any]) -> tuple[dict[str, Any], int, bool]:
    """``fields`` through the guard, the count masked, and whether the details are flat
    and plain (short scalars under keys inside the BMP: their RFC 8785 text is
    :func:`plain_text`). The common event (flat details under keys naming no secret, no
    text the guard's pre-scan flags) is returned as it is after one regex search, as the
    full walk would return it; anything else takes the walk."""
    texts = [fields["actor"], fields["subject"], fields["purpose"]]
    plain = True
    for k, v in fields["details"].items():
        texts.append(k)  # a key may hold what the guard masks too
        kind = type(v)
        if kind is str:
            texts.append(v)
        elif not (kind is bool or v is None or (kind is int and -(10**10) < v < 10**10)):
            break
        if is_secret_key(k) and v not in (None, "", True, False):
            break
        if not k.isascii():
            plain = plain and max(k) < "\ud800"
    else:
        if not needs_scan(texts):
            return fields, 0, plain
    checked = guard(fields)
    return dict(checked.value), checked.masked, False


@functools.lru_cache(maxsize=1024)
def _action_ok(action: str) -> bool:
    return ACTION.match(action) is not None and len(action) <= 100


def _check_texts(actor: Any, subject: Any, purpose: Any) -> None:
    for name, value, limit in (
        ("actor", actor, 200),
        ("subject", subject, 500),
        ("purpose", purpose, 2000),
    ):
        if not isinstance(value, str):
            raise BadInput.msg("ledger.field_not_text", field=name)
        if len(value) > limit:
            raise BadInput.msg("ledger.field_too_long", field=name, limit=limit)


def _prepare(ev: Event) -> Prepared:
    """One event made ready on the Python path: every check, the guard, the details' text."""
    if not isinstance(ev.action, str) or not _action_ok(ev.action):
        raise BadInput.msg("ledger.bad_action", action=ev.action)
    actor = ev.actor
    if not (
        type(actor) is str
        and type(ev.subject) is str
        and type(ev.purpose) is str
        and len(actor) <= 200
        and len(ev.subject) <= 500
        and len(ev.purpose) <= 2000
    ):
        _check_texts(actor, ev.subject, ev.purpose)
    details = to_jsonable(ev.details or {}, "details")
    if not isinstance(details, dict):
        raise BadInput.msg("ledger.details_not_mapping")
    fields, masked, plain = _guarded(
        {"actor": actor, "subject": ev.subject, "purpose": ev.purpose, "details": details}
    )
    text = plain_text(details) if plain else canonical_text(fields["details"])
    if type(ev.action) is str and len(_CHECKED_ACTIONS) < _CHECKED_MOST:
        _CHECKED_ACTIONS.add(ev.action)
    if len(_PLAIN_KEYS) < _CHECKED_MOST:
        _PLAIN_KEYS.update(
            k
            for k in details
            if type(k) is str
            and (k.isascii() or max(k) < "\ud800")
            and not is_secret_key(k)
            and not needs_scan([k])  # a key the guard may mask stays on the Python path
        )
    return (
        fields["actor"],
        ev.action,
        fields["subject"],
        fields["purpose"],
        fields["details"],
        text,
        masked,
    )


def _prepare_all(events: Iterable[Event]) -> list[Prepared]:
    """Every event made ready, in order: the C path takes the plain ones (what it takes it
    makes exactly as :func:`_prepare` would), the Python path the rest."""
    events = events if isinstance(events, list) else list(events)
    if _events is None:
        return [_prepare(ev) for ev in events]
    prepared: list[Prepared | None] = _events.prepare(events, _CHECKED_ACTIONS, _PLAIN_KEYS)
    for i in [i for i, p in enumerate(prepared) if p is None]:
        prepared[i] = _prepare(events[i])
    return prepared  # type: ignore[return-value]  # no None is left


def body_text(seq: int, ts: str, p: Prepared) -> str:
    """The canonical JSON of an entry's body (RFC 8785), laid out directly: its keys are
    fixed and sort as written, ``p``'s details text is the canonical form of its details;
    the same text as ``canonical_json_of({"v": BODY_VERSION, "seq": seq, "ts": ts,
    "actor": …, "action": …, "subject": …, "purpose": …, "details": …})``
    (tests/test_ledger_speed.py proves it on a corpus)."""
    if not 0 <= seq <= MAX_SAFE_INTEGER:
        raise BadInput.msg("ledger.int_too_big", value=seq)
    enc = encode_string
    details = p[5]
    details_text = details.decode() if isinstance(details, bytes) else details
    return (
        f'{{"action":{enc(p[1])},"actor":{enc(p[0])},'
        f'"details":{details_text},"purpose":{enc(p[3])},"seq":{seq},'
        f'"subject":{enc(p[2])},"ts":{enc(ts)},"v":{BODY_VERSION}}}'
    )


def _bodies(prepared: Sequence[Prepared], first: int, ts: str) -> tuple[list[str], list[bytes]]:
    """Each event's body as text (its column) and as UTF-8 (its leaf): in C when built; on
    the Python path when not, and when a text has no UTF-8 form, which it then tells."""
    if _events is not None:
        try:
            return _events.bodies(prepared, first, ts, BODY_VERSION)
        except (UnicodeEncodeError, OverflowError):
            pass
    texts = [body_text(first + i, ts, p) for i, p in enumerate(prepared)]
    return texts, [utf8(t) for t in texts]


_INSERT_ENTRY = (
    "INSERT INTO ledger_entries (seq, ts, actor, action, subject, body, leaf_hash, root) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_NODE = "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)"
_UPDATE_HEAD = "UPDATE ledger_head SET size = ?, frontier = ? WHERE id = 1"
_new_entry = tuple.__new__
#: entry rows written by one INSERT (VALUES of this many rows): a statement a row costs
#: SQLite and its driver about 1 µs a row more (bind, step and reset each time); 256
#: parameters stay far below every SQLite build's limit (999 before 3.32)
_ROWS_PER_INSERT = 32


@functools.lru_cache(maxsize=2)
def _insert_entries_sql(rows: int) -> str:
    one = _INSERT_ENTRY.rsplit(" VALUES ", 1)
    return f"{one[0]} VALUES " + ",".join([one[1]] * rows)


def _insert_entries(tx: _Tx, rows: list[tuple[Any, ...]]) -> None:
    """Write entry rows: whole groups of :data:`_ROWS_PER_INSERT` a statement, the rest
    one by one."""
    k = _ROWS_PER_INSERT
    whole = len(rows) - len(rows) % k
    if whole:
        sql = tx.sql(_insert_entries_sql(k))
        for a in range(0, whole, k):
            tx.cur.execute(sql, list(chain.from_iterable(rows[a : a + k])))
    if whole < len(rows):
        tx.cur.executemany(tx.sql(_INSERT_ENTRY), rows[whole:])


#: A batch of at least this many events has the tree head after each of its entries hashed
#: in a worker thread, a piece at a time, while this thread writes the rows of the pieces
#: already hashed (the C loop lets go of the interpreter lock, and so does SQLite's step).
OVERLAP_FROM = 256
_FIRST_PIECE, _PIECE = 32, 256  # whole groups of _ROWS_PER_INSERT
_heads: tuple[int, ThreadPoolExecutor] | None = None
_heads_lock = threading.Lock()


def _heads_worker() -> ThreadPoolExecutor:
    """This process's worker for tree heads (one thread: a batch's pieces run in order on
    the frontier they share; a process made by fork makes its own)."""
    global _heads
    with _heads_lock:
        if _heads is None or _heads[0] != os.getpid():
            _heads = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="ledger-heads"))
        return _heads[1]


def _append(tx: _Tx, prepared: Sequence[Prepared], clock: Clock) -> list[LedgerEntry]:
    # Stamps never go back: a clock stepped back (NTP, a VM restore) stamps the previous
    # entry's time instead, so sequence order and time order agree; the fixed-width form
    # makes text order time order.
    ts = _stamp(tx, format_ts(clock()))
    head = tx.head
    stored_ts = ts_stored_form(tx.dialect)(ts)
    first = head.size
    n = len(prepared)
    texts, bodies = _bodies(prepared, first, ts)
    pieces = [(0, n)]
    if n >= OVERLAP_FROM and merkle.native_built():
        level0 = merkle.leaf_hashes(bodies)
        leaves = [level0[i : i + 32] for i in range(0, 32 * n, 32)]
        # a short first piece: this thread waits only for its heads
        cuts = [0, *range(_FIRST_PIECE, n, _PIECE), n]
        pieces = list(pairwise(cuts))
        pending = _heads_pending(list(head.frontier), level0, first, pieces)
        if not pending:  # no worker (the interpreter is shutting down): in one go
            pieces = [(0, n)]
    else:
        leaves = merkle.leaf_hash_list(bodies)
        pending = []
    try:
        return _written(tx, prepared, ts, stored_ts, texts, bodies, leaves, pieces, pending)
    finally:
        for future in pending:
            future.cancel()


def _heads_pending(
    walk: list[bytes], level0: bytes, first: int, pieces: list[tuple[int, int]]
) -> list[Future[bytes]]:
    """The heads of each piece queued on the worker, in order on the frontier ``walk``
    (the worker's own); none when the worker takes no more jobs."""
    pending: list[Future[bytes]] = []
    try:
        worker = _heads_worker()
        for a, b in pieces:
            job = worker.submit(merkle.prefix_roots, walk, level0[32 * a : 32 * b], first + a)
            pending.append(job)
    except RuntimeError:  # "cannot schedule new futures after shutdown"
        for future in pending:  # one already started extends walk, which nothing else reads
            future.cancel()
        return []
    return pending


def _written(
    tx: _Tx,
    prepared: Sequence[Prepared],
    ts: str,
    stored_ts: Any,
    texts: list[str],
    bodies: list[bytes],
    leaves: list[bytes],
    pieces: list[tuple[int, int]],
    pending: list[Future[bytes]],
) -> list[LedgerEntry]:
    """Write a batch's rows, nodes and head; its entries. With ``pending`` the heads of each
    piece come from the worker, and this thread grows the frontier without them."""
    head = tx.head
    first, n = head.size, len(prepared)
    frontier = list(head.frontier)
    if pending:
        _roots, nodes = merkle.extend(frontier, leaves, first, LOWEST_STORED_LEVEL, False)
    else:
        roots, nodes = merkle.extend(frontier, leaves, first, LOWEST_STORED_LEVEL)
    # the columns beside the body are what indexed_columns derives from it (verify checks
    # them against the body); actor and subject fit their columns (COLUMN_WIDTHS): they
    # were checked against those limits, and the guard's masks never lengthen a text
    if n == 1:  # a durable append's: one row, without a batch's columns and zips
        p = prepared[0]
        row = (first, stored_ts, p[0], p[1], p[2], texts[0], leaves[0], roots[0])
        tx.cur.execute(tx.sql(_INSERT_ENTRY), row)
        entries = [LedgerEntry(first, ts, p[0], p[1], p[2], p[3], p[4], bodies[0], leaves[0], p[6])]
    else:
        actors, actions, subjects, purposes, details, _texts, masked = zip(*prepared, strict=True)
        seqs = range(first, first + n)
        entries = list(
            map(
                _new_entry,
                repeat(LedgerEntry, n),
                zip(
                    seqs,
                    repeat(ts, n),
                    actors,
                    actions,
                    subjects,
                    purposes,
                    details,
                    bodies,
                    leaves,
                    masked,
                    strict=True,
                ),
            )
        )
        for k, (a, b) in enumerate(pieces):
            if pending:
                raw = pending[k].result()
                roots = [raw[i : i + 32] for i in range(0, len(raw), 32)]
            _insert_entries(
                tx,
                list(
                    zip(
                        seqs[a:b],
                        repeat(stored_ts, b - a),
                        actors[a:b],
                        actions[a:b],
                        subjects[a:b],
                        texts[a:b],
                        leaves[a:b],
                        roots,
                        strict=True,
                    )
                ),
            )
    if nodes:
        tx.cur.executemany(tx.sql(_INSERT_NODE), nodes)
    tx.cur.execute(tx.sql(_UPDATE_HEAD), (first + n, b"".join(frontier)))
    return entries


#: the end of a canonical body (:func:`body_text`): its stamp, then the version
_BODY_END = re.compile(r'"ts":"([^"\\]*)","v":\d+\}\Z')


def _stamp(tx: _Tx, ts: str) -> str:
    """``ts``, or the newest entry's body timestamp (read with the head, under its lock)
    where that is later and well formed."""
    body = tx.head.newest
    if not isinstance(body, str):
        return ts
    end = _BODY_END.search(body, max(0, len(body) - 64))
    if end is not None:  # the canonical layout ends with the stamp
        previous = end.group(1)
    else:  # any other layout is parsed
        try:
            previous = json.loads(body).get("ts")
        except (ValueError, AttributeError):
            return ts
    # Read only when later than the clock's (the one case it is used). A missing or
    # malformed newest body is tampering that audit verify reports; it must not stop the
    # next event from being recorded, so the clock stamps alone then.
    later = isinstance(previous, str) and previous > ts and parse_ts(previous) is not None
    return previous if later else ts


def record_many(
    ws: Workspace, events: Iterable[Event], *, clock: Clock | None = None
) -> list[LedgerEntry]:
    """Append ``events`` in order in one transaction (all or none); returns the entries.

    Python's cyclic garbage collector is held off meanwhile: a batch makes thousands of
    tuples, none of them in a cycle, and each few hundred of them would set off a
    collection that walks them all again (about 2 µs an event of a batch of 1,000, a fifth
    of the append). It is turned back on once the batch's own objects are gone and no other
    thread's batch is running, so the next collection looks only at the entries returned;
    left off when it was off already."""
    pid = os.getpid()
    with _pause_lock:
        if _pause.batches == 0:
            _pause.turned_off = gc.isenabled()
            if _pause.turned_off:
                gc.disable()
        _pause.batches += 1
    try:
        return _record_batch(ws, events, clock or system_clock)
    finally:
        with _pause_lock:
            if os.getpid() == pid:  # a child forked during the batch counts it not
                _pause.batches -= 1
                if _pause.batches == 0 and _pause.turned_off:
                    gc.enable()


@dataclass
class _Pause:
    """The batches running in this process, and whether the first of them turned Python's
    cyclic collector off (the last one out turns it back on)."""

    batches: int = 0
    turned_off: bool = False


_pause = _Pause()
# re-entrant: a signal handler that records may run while its thread holds it
_pause_lock = threading.RLock()


def _after_fork() -> None:
    """A child made by fork runs none of its parent's batches: the collector is back on if
    a batch had turned it off, and the locks are new (another thread may have held one)."""
    global _pause_lock, _heads_lock, _heads
    _pause_lock = threading.RLock()
    _heads_lock = threading.Lock()
    _heads = None
    if _pause.batches and _pause.turned_off:
        gc.enable()
    _pause.batches, _pause.turned_off = 0, False


os.register_at_fork(after_in_child=_after_fork)


def _record_batch(ws: Workspace, events: Iterable[Event], clock: Clock) -> list[LedgerEntry]:
    prepared = _prepare_all(events)
    if not prepared:
        return []
    return _appended(ws, prepared, clock)


def record(
    ws: Workspace,
    actor: str,
    action: str,
    subject: str,
    purpose: str,
    details: dict[str, Any] | None = None,
    *,
    clock: Clock | None = None,
) -> LedgerEntry:
    """Append one event by ``actor`` (a person's name, or ``os:<user>`` — the caller
    resolves who acts), committed before returning.

    ``details`` pass the guard (secrets and clear personal values are masked) and must be
    JSON data; the entry's ``masked`` counts masked values.
    """
    # one event makes too few objects to hold the collector off for (record_many)
    prepared = _prepare_all([Event(action, subject, purpose, details, actor=actor)])
    return _appended(ws, prepared, clock or system_clock)[0]


@dataclass(frozen=True)
class Recorder:
    """Records the events of one actor in one workspace: the event sink a flow hands to the
    kernels it runs (see :class:`handover.events.EventSink`)."""

    ws: Workspace
    actor: str
    clock: Clock | None = None

    def __call__(
        self, action: str, subject: str, purpose: str, details: dict[str, Any] | None = None
    ) -> LedgerEntry:
        return record(self.ws, self.actor, action, subject, purpose, details, clock=self.clock)


# --- reading ---------------------------------------------------------------------------


def first_since(conn: Connection, after: Any) -> int:
    """The first ``seq`` whose row meets ``after`` (a condition on ``ts``), by a binary
    search over ``seq``: stamps never go back, so the entries meeting it are a suffix of
    the log (O(log n) rows read instead of an index on ``ts``). Each row read has its
    ``ts`` checked against its hashed body, so a forged stamp cannot steer the search
    (CheckFailed naming it); a missing row counts as before. The caller keeps ``after``
    in its own query."""
    lo, hi = 0, (conn.execute(select(func.max(LedgerEntryRow.seq))).scalar() or -1) + 1
    probe = select(after, type_coerce(LedgerEntryRow.ts, NullType()), LedgerEntryRow.body).where(
        LedgerEntryRow.seq == bindparam("at")
    )
    ts_form = ts_stored_form(conn.dialect)
    while lo < hi:
        mid = (lo + hi) // 2
        row = conn.execute(probe, {"at": mid}).first()
        if row is not None:
            _check_columns(mid, row[1:], ("ts",), ts_form)
        if row is not None and row[0]:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _check_columns(seq: int, row: Sequence[Any], columns: Sequence[str], ts_form: Any) -> Any:
    """The body (last in ``row``) as parsed; CheckFailed unless the stored ``columns``
    (before it in ``row``) are what the body implies (:func:`indexed_columns`)."""
    body = row[-1]
    try:
        doc = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        doc = None
    want = indexed_columns(doc)
    if want is not None and doc is not None:
        want["ts"] = ts_form(doc["ts"])
    for column, value in zip(columns, row[:-1], strict=True):
        if want is None or value != want[column]:
            raise CheckFailed.msg("ledger.column_forged", seq=seq, column=column)
    return doc


def _action_under(action: str, dialect: str) -> Any:
    """Entries whose action is ``action`` or under it (``action.*``). On SQLite the names
    under it are the range [``action.``, ``action/``) (binary collation; '/' follows '.'), so
    the index on ``action`` answers; elsewhere a collation may order by other rules, so
    LIKE (its ``%`` and ``_`` escaped)."""
    col = LedgerEntryRow.action
    if dialect == "sqlite":
        return (col == action) | ((col >= action + ".") & (col < action + "/"))
    return (col == action) | col.startswith(action + ".", autoescape=True)


def _utc(at: dt.datetime) -> dt.datetime:
    """``at`` in UTC (naive: taken as UTC); a time UTC cannot hold (year 1 ahead of UTC,
    year 9999 behind it) becomes the first or last instant UTC holds, before or after
    every entry as ``at`` is."""
    try:
        return (at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except OverflowError:
        return (dt.datetime.min if at.year == 1 else dt.datetime.max).replace(tzinfo=dt.UTC)


def entry_filter(
    conn: Connection,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[Any]:
    """The conditions on ``ledger_entries`` of entries at or after ``since``, before
    ``until`` (naive times are UTC), by ``actor``, with ``action`` or one under it; the
    times bound ``seq`` first (:func:`first_since`)."""
    conds: list[Any] = []
    if actor is not None:
        conds.append(LedgerEntryRow.actor == actor)
    if action is not None:
        conds.append(_action_under(action, conn.dialect.name))
    if since is not None:
        after = LedgerEntryRow.ts >= _utc(since)
        conds += [LedgerEntryRow.seq >= first_since(conn, after), after]
    if until is not None:
        bound = _utc(until)
        conds += [
            LedgerEntryRow.seq < first_since(conn, LedgerEntryRow.ts >= bound),
            LedgerEntryRow.ts < bound,
        ]
    return conds


def entries(
    ws: Workspace,
    *,
    since: dt.datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> list[LedgerEntry]:
    """Recorded events in sequence order, filtered by time (>=), actor and action (prefix).

    The filters read the indexed columns, so every returned row's columns are checked
    against its hashed body: a forged column raises CheckFailed naming entry and column.
    """
    stmt = select(
        LedgerEntryRow.seq,
        LedgerEntryRow.body,
        LedgerEntryRow.leaf_hash,
        # as the driver gives it: a forged SQLite text must not crash the type's parser
        type_coerce(LedgerEntryRow.ts, NullType()).label("ts"),
        LedgerEntryRow.actor,
        LedgerEntryRow.action,
        LedgerEntryRow.subject,
    ).order_by(LedgerEntryRow.seq)
    if limit is not None:
        stmt = stmt.limit(limit)
    with ws.store.engine.connect() as conn:
        stmt = stmt.where(*entry_filter(conn, since=since, actor=actor, action=action))
        rows = conn.execute(stmt).all()
        ts_form = ts_stored_form(conn.dialect)
    return [
        LedgerEntry.from_doc(
            _check_columns(r.seq, (r.ts, r.actor, r.action, r.subject, r.body), INDEXED, ts_form),
            r.body.encode("utf-8"),
            bytes(r.leaf_hash),
        )
        for r in rows
    ]


# --- proofs from stored nodes ----------------------------------------------------------


def _stored_nodes(
    conn: Connection, keys: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """The hashes of the subtrees ``keys`` (level, index) that the store can give: leaves
    and levels from :data:`LOWEST_STORED_LEVEL` as stored, the levels between hashed from
    their stored leaves (a subtree whose leaves are not all there is left out)."""
    by_level: dict[int, set[int]] = {}
    for level, idx in keys:
        by_level.setdefault(level, set()).add(idx)
    found: dict[tuple[int, int], bytes] = {}
    for level, idxs in by_level.items():
        wanted = sorted(idxs)
        if level == 0:
            for seq, h in conn.execute(
                select(LedgerEntryRow.seq, LedgerEntryRow.leaf_hash).where(
                    LedgerEntryRow.seq.in_(wanted)
                )
            ):
                found[(0, int(seq))] = bytes(h)
        elif level < LOWEST_STORED_LEVEL:
            for idx in wanted:
                leaves = [
                    bytes(h)
                    for (h,) in conn.execute(
                        select(LedgerEntryRow.leaf_hash)
                        .where(
                            LedgerEntryRow.seq >= idx << level,
                            LedgerEntryRow.seq < (idx + 1) << level,
                        )
                        .order_by(LedgerEntryRow.seq)
                    )
                ]
                # a piece whose leaves are not all there, each of 32 bytes, is left out:
                # the caller names it missing (verify names the bad entry)
                if len(leaves) == 1 << level and all(len(h) == 32 for h in leaves):
                    found[(level, idx)] = merkle.build_levels(b"".join(leaves))[level]
        else:
            for idx, h in conn.execute(
                select(LedgerNodeRow.idx, LedgerNodeRow.hash).where(
                    LedgerNodeRow.level == level, LedgerNodeRow.idx.in_(wanted)
                )
            ):
                found[(level, int(idx))] = bytes(h)
    return found


def _resolve(conn: Connection, ranges: Sequence[merkle.Range]) -> list[bytes]:
    """Subtree hashes of ``ranges`` from stored nodes (O(log n) rows per range)."""
    keys = {k for a, b in ranges for k in merkle.aligned_pieces(a, b)}
    found = _stored_nodes(conn, keys)
    missing = keys - found.keys()
    if missing:
        level, idx = min(missing)
        raise CheckFailed.msg(
            "ledger.node_missing",
            level=level,
            idx=idx,
            first=idx << level,
            last=((idx + 1) << level) - 1,
        )
    return [merkle.range_hash(lambda lv, i: found[(lv, i)], a, b) for a, b in ranges]


def root_at(conn: Connection, size: int) -> bytes:
    """Root hash of the first ``size`` entries, from stored nodes."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return _resolve(conn, [(0, size)])[0]


@dataclass
class InclusionProof:
    """An inclusion proof of entry ``seq`` in the tree of ``size`` entries."""

    seq: int
    size: int
    leaf_hash: bytes
    body: bytes
    proof: list[bytes]
    root: bytes
    checkpoint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Machine form; hashes in lower-case hex."""
        return {
            "seq": self.seq,
            "tree_size": self.size,
            "leaf_hash": self.leaf_hash.hex(),
            "body": self.body.decode("utf-8"),
            "proof": [p.hex() for p in self.proof],
            "root": self.root.hex(),
            "checkpoint": self.checkpoint,
        }


def inclusion_from_store(conn: Connection, seq: int, size: int) -> InclusionProof:
    """Inclusion proof of ``seq`` in the first ``size`` entries, checked before it is returned."""
    row = conn.execute(
        select(LedgerEntryRow.body, LedgerEntryRow.leaf_hash).where(LedgerEntryRow.seq == seq)
    ).one_or_none()
    if row is None:
        raise BadInput.msg("ledger.no_entry", seq=seq)
    body = row.body.encode("utf-8")
    ranges = merkle.inclusion_ranges(seq, size)
    hashes = _resolve(conn, [*ranges, (0, size)])
    proof, root = hashes[:-1], hashes[-1]
    leaf = merkle.leaf_hash(body)
    if leaf != bytes(row.leaf_hash) or not merkle.verify_inclusion(body, seq, size, proof, root):
        raise CheckFailed.msg("ledger.entry_unproven", seq=seq)
    return InclusionProof(seq, size, leaf, body, proof, root)


def consistency_from_store(conn: Connection, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 consistency proof between two sizes of the stored tree."""
    return _resolve(conn, merkle.consistency_ranges(old_size, new_size))


# --- keys, origin, checkpoints ---------------------------------------------------------


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:48].strip("-")


def make_origin(ws: Workspace) -> str:
    """``handover.example/<ascii slug of the transfer name>-<random id>`` (or just the id)."""
    tr = ws.settings.transfer
    slug = _slug(tr.name) if tr is not None else ""
    wid = secrets.token_hex(6)
    return f"{ORIGIN_HOST}/{slug}-{wid}" if slug else f"{ORIGIN_HOST}/{wid}"


def _ensure_origin(ws: Workspace, conn: Connection, head: Head) -> str:
    """The log's origin (the checkpoints' key name), set on first use under the head lock."""
    if head.origin is None:
        head.origin = make_origin(ws)
        conn.execute(update(LedgerHeadRow).where(LedgerHeadRow.id == 1).values(origin=head.origin))
    return head.origin


def trusted_keys(ws: Workspace) -> list[bytes]:
    """Raw public keys that may sign this ledger's checkpoints, oldest first: every version
    of the workspace signing key, read from the key registry (not from the store, so whoever
    can write the store alone cannot plant a key), destroyed versions included."""
    from handover.crypto import public_keys

    return [k.raw for k in public_keys(ws)]


def _workspace_signer(ws: Workspace, used: list[bytes], actor: str | None) -> Signer:
    """A note signer using the workspace signing key; appends the public key it used. With
    an ``actor`` a missing signing key is created (``key.create`` recorded as theirs)."""
    from handover.crypto import signature

    events = Recorder(ws, actor) if actor is not None else None

    def signer(data: bytes) -> tuple[bytes, bytes]:
        sig = signature(ws, data, events=events)
        used.append(sig.public_key)
        return sig.public_key, sig.value

    return signer


def init_ledger(ws: Workspace, actor: str, *, clock: Clock | None = None) -> LedgerEntry:
    """Set the origin, record ``workspace.init`` and sign the head (see :func:`checkpoint_if_new`).

    Run it after :func:`handover.crypto.init_keys`, so the first checkpoint finds the key.
    """
    with locked(ws) as (conn, head):
        _ensure_origin(ws, conn, head)
    tr = ws.settings.transfer
    entry = record(
        ws,
        actor,
        "workspace.init",
        str(ws.path.name),
        "建立交接工作区 / create the handover workspace",
        {
            "transfer": tr.name if tr else None,
            "demo": ws.settings.demo,
            "store": ws.store.engine.dialect.name,
        },
        clock=clock,
    )
    checkpoint_if_new(ws, clock=clock, actor=actor)
    return entry


@dataclass
class IssuedCheckpoint:
    """A checkpoint as stored: its id, signed note and tree head."""

    id: int
    size: int
    root: bytes
    issued_at: str
    note: str

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "size": self.size,
            "root": self.root.hex(),
            "issued_at": self.issued_at,
            "note": self.note,
        }


def _issue(
    ws: Workspace, clock: Clock, *, force: bool, actor: str | None
) -> IssuedCheckpoint | None:
    """Sign the head and store the checkpoint; None if it is signed already (unless ``force``).

    The head is read under the ledger lock but signed with the lock released: signing may
    create the signing key (recording ``key.create`` in this very ledger) or unlock a
    keyring or HSM. The checkpoint is stored if the head did not move meanwhile, else the
    new head is signed; after :data:`SIGN_ATTEMPTS` a still-valid prefix is stored.
    """
    from handover.ledger.note import Checkpoint, sign_note

    for attempt in range(1, SIGN_ATTEMPTS + 1):
        with locked(ws) as (conn, head):
            last = _last_checkpoint(conn)
            if not force and (head.size == 0 or (last is not None and last.size == head.size)):
                return None
            origin = _ensure_origin(ws, conn, head)
            _check_extends_last(ws, conn, head, origin, last)
            cp = Checkpoint(origin, head.size, head.root)
        used: list[bytes] = []
        note = sign_note(cp.text(), origin, _workspace_signer(ws, used, actor))
        with locked(ws) as (conn, head):
            newest = _last_checkpoint(conn)
            moved = head.size != cp.size or (newest.id if newest else 0) != (last.id if last else 0)
            if moved and attempt < SIGN_ATTEMPTS:
                continue
            if moved and newest is not None and newest.size >= cp.size:
                return newest
            now = clock()
            if head.public_key != used[-1]:
                conn.execute(
                    update(LedgerHeadRow).where(LedgerHeadRow.id == 1).values(public_key=used[-1])
                )
            res = conn.execute(
                insert(LedgerCheckpointRow).values(
                    size=cp.size, root=cp.root, issued_at=now.astimezone(dt.UTC), note=note
                )
            )
            pk = res.inserted_primary_key
            assert pk is not None
            return IssuedCheckpoint(int(pk[0]), cp.size, cp.root, format_ts(now), note)
    raise AssertionError("unreachable: the last attempt always returns")


def _check_extends_last(
    ws: Workspace, conn: Connection, head: Head, origin: str, last: IssuedCheckpoint | None
) -> None:
    """Refuse to sign a head that does not extend the last signed one (O(log n) nodes)."""
    from handover.ledger.note import NoteError, open_note, parse_checkpoint

    if last is None:
        return
    try:
        prev = parse_checkpoint(open_note(last.note, origin, *trusted_keys(ws)))
    except NoteError as exc:
        raise CheckFailed.msg("ledger.checkpoint_unreadable", id=last.id, reason=exc.text) from None
    if head.size < prev.size:
        raise CheckFailed.msg("ledger.shrank", before=prev.size, after=head.size)
    if root_at(conn, head.size) != head.root:
        raise CheckFailed.msg("ledger.frontier_differs")
    proof = consistency_from_store(conn, prev.size, head.size)
    if not merkle.verify_consistency(prev.size, head.size, proof, prev.root, head.root):
        raise CheckFailed.msg("ledger.not_extending", id=last.id)


def _last_checkpoint(conn: Connection) -> IssuedCheckpoint | None:
    row = conn.execute(
        select(
            LedgerCheckpointRow.id,
            LedgerCheckpointRow.size,
            LedgerCheckpointRow.root,
            LedgerCheckpointRow.issued_at,
            LedgerCheckpointRow.note,
        )
        .order_by(LedgerCheckpointRow.id.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return None
    return IssuedCheckpoint(
        row.id,
        int(row.size),
        bytes(row.root),
        format_ts(row.issued_at.replace(tzinfo=row.issued_at.tzinfo or dt.UTC)),
        row.note,
    )


def issue_checkpoint(
    ws: Workspace, *, clock: Clock | None = None, actor: str | None = None
) -> IssuedCheckpoint:
    """Sign the current tree head now (even if an equal one exists) and store it; ``actor``
    as in :func:`checkpoint_if_new`."""
    issued = _issue(ws, clock or system_clock, force=True, actor=actor)
    assert issued is not None
    return issued


def ledger_size(ws: Workspace) -> int:
    """Number of entries in the ledger (the head's size)."""
    return read_head(ws).size


def checkpoint_if_new(
    ws: Workspace,
    *,
    since: int | None = None,
    clock: Clock | None = None,
    actor: str | None = None,
) -> IssuedCheckpoint | None:
    """Sign the head if it has unsigned entries (and grew past ``since``, when given).

    A workspace whose signing key could not be made at init gets it on the first
    checkpoint that names the ``actor`` it is created for.

    None when there is nothing new to sign, or when the workspace cannot use keys yet (a
    keyring with no passphrase or protection chosen: KeyringRefused): the entries stay in
    the log and the next checkpoint covers them. Refuses (CheckFailed) to sign a head that
    does not extend the last checkpoint.
    """
    from handover.crypto import KeyringRefused

    if since is not None and read_head(ws).size <= since:
        return None
    try:
        return _issue(ws, clock or system_clock, force=False, actor=actor)
    except KeyringRefused:
        return None


def latest_checkpoint(
    ws: Workspace, *, clock: Clock | None = None, actor: str | None = None
) -> IssuedCheckpoint:
    """The newest checkpoint covering every entry (issuing one if entries are uncovered).

    Unlike :func:`checkpoint_if_new` it refuses (KeyringRefused) when no key can sign.
    """
    issued = _issue(ws, clock or system_clock, force=False, actor=actor)
    if issued is not None:
        return issued
    with ws.store.engine.connect() as conn:
        last = _last_checkpoint(conn)
    if last is None:
        return issue_checkpoint(ws, clock=clock, actor=actor)
    return last


def write_checkpoint(cp: IssuedCheckpoint, path: Path) -> None:
    """Write the signed note of ``cp`` to ``path`` (to keep outside the store)."""
    try:
        with replacing(path) as tmp:
            tmp.write_text(cp.note, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise BadInput.msg("ledger.checkpoint_write", path=path, reason=exc.strerror) from None


def prove(
    ws: Workspace, seq: int, *, clock: Clock | None = None, actor: str | None = None
) -> InclusionProof:
    """Inclusion proof of entry ``seq`` against the newest checkpoint covering it."""
    cp = latest_checkpoint(ws, clock=clock, actor=actor)
    if not 0 <= seq < cp.size:
        raise BadInput.msg("ledger.seq_outside", seq=seq, last=cp.size - 1)
    with ws.store.engine.connect() as conn:
        proof = inclusion_from_store(conn, seq, cp.size)
    if proof.root != cp.root:
        raise CheckFailed.msg("ledger.root_differs", id=cp.id, size=cp.size)
    proof.checkpoint = cp.note
    return proof


def prove_at(ws: Workspace, seq: int, size: int) -> InclusionProof:
    """Inclusion proof of entry ``seq`` in the tree of the first ``size`` entries (e.g. the
    size an exported bundle's last checkpoint signs), checked before it is returned."""
    if not 0 <= seq < size:
        raise BadInput.msg("ledger.seq_outside", seq=seq, last=size - 1)
    with ws.store.engine.connect() as conn:
        return inclusion_from_store(conn, seq, size)


def public_identity(ws: Workspace) -> tuple[str, bytes]:
    """``(origin, raw Ed25519 public key that signed the newest checkpoint)`` of the ledger.

    BadInput before the first checkpoint.
    """
    head = read_head(ws)
    if head.origin is None or head.public_key is None:
        raise BadInput.msg("ledger.no_checkpoint")
    return head.origin, head.public_key
