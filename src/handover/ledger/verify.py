"""Verify the whole ledger from its entries: every leaf, the tree, every checkpoint.

Entries stream in sequence order in chunks; leaf hashes are computed in one hashlib loop
per chunk and the tree is built level by level over concatenated 32-byte hashes (64
bytes of memory per entry). Any modified, deleted, inserted or reordered entry makes the
report fail naming the first bad sequence number; the verifier never trusts a stored
hash it can recompute, and never crashes on malformed rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import multiprocessing
import operator
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from handover.errors import BadInput, CheckFailed
from handover.i18n import Msg
from handover.ledger import merkle, verify_native
from handover.ledger.ledger import (
    BODY_VERSION,
    COLUMN_WIDTHS,
    INDEXED,
    format_ts,
    indexed_columns,
    parse_ts,
    trusted_keys,
    ts_stored_form,
)
from handover.ledger.models import (
    LOWEST_STORED_LEVEL,
    LedgerCheckpointRow,
    LedgerHeadRow,
)
from handover.ledger.note import NoteError, open_note, parse_checkpoint
from handover.ledger.verify_native import ENTRY_SQL, NODE_SQL

if TYPE_CHECKING:
    from handover.workspace import Workspace

CHUNK = 50_000
# From this many entries the tree heads are recomputed in a worker process (_Heads): its
# start (about 1 s on a loaded 2-core machine) is then repaid.
PARALLEL_FROM = 400_000
SEQ_KEY = b',"seq":'
# json's own string encoder (C), the string form of canonical bodies (RFC 8785 escapes).
_enc = json.encoder.encode_basestring
# Entry findings listed one by one; beyond this they are counted (a forger who rewrote a
# million columns gets one line per entry up to here, then the count).
MAX_ENTRY_FINDINGS = 100


@dataclass
class Problem:
    """One thing found wrong; ``seq`` is the entry it points at, when it points at one.

    ``place`` and ``text`` are catalogue messages (``ledger.where.*``, ``ledger.problem.*``)
    the CLI shows in the user's language; ``where`` and ``message`` are their English.
    """

    place: Msg
    text: Msg
    seq: int | None = None

    @property
    def where(self) -> str:
        return str(self.place)

    @property
    def message(self) -> str:
        return str(self.text)

    def to_json(self) -> dict[str, Any]:
        """Machine form: English ``where``/``message``, and the finding's ``key``/``params``."""
        return {
            "where": self.where,
            "seq": self.seq,
            "message": self.message,
            "key": self.text.key,
            "params": self.text.params(),
        }


def _entry(seq: Any) -> Msg:
    return Msg("ledger.where.entry", seq=seq)


def _problem(key: str, /, **values: Any) -> Msg:
    return Msg(f"ledger.problem.{key}", **values)


_HEAD = Msg("ledger.where.head")


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_ledger`."""

    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoints: int = 0
    last_checkpoint_size: int = 0
    external: dict[str, Any] | None = None
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    @property
    def uncovered(self) -> int:
        """Entries after the newest checkpoint (normal only while a command is running)."""
        return max(0, self.size - self.last_checkpoint_size)

    def to_json(self) -> dict[str, Any]:
        """Machine form (``--json``)."""
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root.hex(),
            "checkpoints": self.checkpoints,
            "uncovered_entries": self.uncovered,
            "first_bad_seq": self.first_bad_seq,
            "external_checkpoint": self.external,
            "problems": [p.to_json() for p in self.problems],
            "seconds": round(self.seconds, 3),
        }

    def raise_if_failed(self) -> None:
        """Raise :class:`CheckFailed` naming the first bad sequence number (or first problem)."""
        if self.ok:
            return
        bad = self.first_bad_seq
        first = next((p for p in self.problems if p.seq == bad), self.problems[0])
        more = len(self.problems) - 1
        suffix = "_more" if more else ""
        if bad is not None:
            raise CheckFailed.msg(
                f"ledger.tampered{suffix}", seq=bad, problem=first.text, more=more
            )
        raise CheckFailed.msg(
            f"ledger.check_failed{suffix}", where=first.place, problem=first.text, more=more
        )


def body_seq(body: bytes) -> int | None:
    """The top-level ``seq`` of a canonical body, without parsing the JSON.

    Canonical bodies sort their keys and JSON strings escape quotes, so ``,"seq":`` can
    only be an object key; ``details`` (the only nested object) sorts before ``seq`` and
    nothing after it nests, so the last occurrence is the top-level one.
    """
    i = body.rfind(SEQ_KEY)
    if i < 0:
        return None
    j = i + len(SEQ_KEY)
    k = body.find(b",", j)
    digits = body[j:k] if k >= 0 else b""
    return int(digits) if digits.isdigit() and digits.isascii() else None


def _as_bytes(value: Any) -> bytes | None:
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return None


def _check_row(expected: int, seq: Any, body: Any, stored: Any) -> Problem | None:
    """The problem with one entry row, if any (slow path, used once a chunk looks wrong)."""
    where = _entry(seq)
    if not isinstance(seq, int) or seq < expected:
        return Problem(where, _problem("unexpected_seq"), expected)
    if seq > expected:
        last = seq - 1
        gone = (
            _problem("missing_one", first=expected)
            if last == expected
            else _problem("missing_span", first=expected, last=last)
        )
        return Problem(_entry(expected), gone, expected)
    raw = _as_bytes(body)
    if raw is None:
        return Problem(where, _problem("not_utf8"), seq)
    if body_seq(raw) != seq:
        return Problem(where, _problem("moved", other=body_seq(raw)), seq)
    stored_b = _as_bytes(stored) if not isinstance(stored, str) else None
    if stored_b is None or merkle.leaf_hash(raw) != stored_b:
        return Problem(where, _problem("modified"), seq)
    return None


def _snapshot(conn: Connection) -> None:
    # One consistent snapshot for every query of the run, while appends go on.
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _raw_rows(conn: Connection, sql: str, chunk: int) -> Iterator[Sequence[Any]]:
    """Chunks of plain tuples straight from the DB-API cursor, inside the snapshot.

    ``sql`` takes no parameters; SQLAlchemy rows cost more than hashing them.
    """
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    if conn.dialect.name == "postgresql":
        # A named (server-side) cursor streams; a plain psycopg cursor loads every row.
        cur = dbapi.cursor(name=f"ledger_verify_{id(sql)}")
    else:
        cur = dbapi.cursor()
    # SQLite text that is no UTF-8 (a forger's edit) comes as a str that cannot be encoded
    # back, which the checks name, instead of stopping the read
    factory = getattr(dbapi, "text_factory", None)
    if conn.dialect.name == "sqlite":
        dbapi.text_factory = _lenient_text
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(chunk):
            yield rows
    finally:
        cur.close()
        if conn.dialect.name == "sqlite":
            dbapi.text_factory = factory


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class _Columns:
    """Every stored column of the good prefix against what proves it.

    ``ts``/``actor``/``action``/``subject`` must equal what the hashed body says (as an
    append stores it: :func:`indexed_columns`, the timestamp in the store's own form);
    ``root`` must equal the tree head recomputed (:class:`_Heads`); a body's stamp
    never goes back. ``seq`` and ``leaf_hash`` are checked by the caller.
    """

    def __init__(self, conn: Connection, report: VerifyReport) -> None:
        self.ts_form = ts_stored_form(conn.dialect)
        self.report = report
        self.prev_ts: str | None = None
        self.last_ts_column: Any = None
        self.last_ts: str | None = None
        self.last_head: tuple[Any, str] = (None, "")
        self.root_run: tuple[int, int] | None = None
        self.listed = 0
        self.unlisted = 0

    def _add(self, problem: Problem) -> None:
        if self.listed < MAX_ENTRY_FINDINGS:
            self.report.problems.append(problem)
            self.listed += 1
        else:
            self.unlisted += 1

    def _close_root_run(self) -> None:
        if self.root_run is not None:
            first, last = self.root_run
            text = (
                _problem("head_differs")
                if first == last
                else _problem("head_differs_span", first=first, last=last)
            )
            self._add(Problem(_entry(first), text, first))
            self.root_run = None

    def check(
        self,
        first: int,
        computed: bytes,
        bodies: Sequence[bytes],
        rows: Sequence[Any],
        stamps: Sequence[str | None] | None = None,
    ) -> None:
        """Check entries ``first ..`` (leaf hashes already verified; ``computed``: the tree
        heads recomputed after each, 32 bytes apiece); ``rows`` are ENTRY_SQL rows,
        ``stamps`` what :meth:`stamps` gave for them."""
        if stamps is None:
            stamps = self.stamps(first, rows)
        if _same_hashes([r[7] for r in rows], computed):
            self._close_root_run()
        else:
            want = [computed[32 * i : 32 * i + 32] for i in range(len(rows))]
            for i, r in enumerate(rows):
                if _as_bytes(r[7]) == want[i]:
                    self._close_root_run()
                else:
                    self.root_run = (self.root_run[0] if self.root_run else first + i, first + i)
        prev_ts = self.prev_ts
        for i, r in enumerate(rows):
            seq = first + i
            ts = stamps[i]
            if ts is None:
                ts = self._columns_parsed(seq, bodies[i], r)
                if ts is None:
                    continue
            if prev_ts is not None and ts < prev_ts:
                self._add(Problem(_entry(seq), _problem("ts_back", ts=ts, before=prev_ts), seq))
            prev_ts = ts
        self.prev_ts = prev_ts

    def _body_ts(self, stored: Any) -> str | None:
        """The body timestamp a ``ts`` column holds, if it is exactly the store's form of one."""
        if stored == self.last_ts_column:  # entries of one batch share one stamp
            return self.last_ts
        if isinstance(stored, str) and len(stored) == 26:
            ts = f"{stored[:10]}T{stored[11:]}Z"
        elif isinstance(stored, dt.datetime) and stored.tzinfo is not None:
            ts = format_ts(stored)
        else:
            return None
        if parse_ts(ts) is None or self.ts_form(ts) != stored:
            return None
        self.last_ts_column, self.last_ts = stored, ts
        return ts

    def stamps(self, first: int, rows: Sequence[Any]) -> list[str | None]:
        """Per row (entries ``first ..``), the body's stamp when the body provably holds
        the row's ``seq``, ``ts``, ``actor``, ``action`` and ``subject``, else None.

        Canonical bodies sort their keys: ``{"action":A,"actor":B,"details":…`` opens one
        and ``…,"seq":N,"subject":S,"ts":"T","v":1}`` closes it, and a JSON string token
        decodes one way only (nor can ``,"seq":`` occur inside one), so matching the
        encoded columns there proves the fields equal them (≈10x cheaper than parsing;
        :func:`body_seq` is then implied). Anything else takes :meth:`_columns_parsed`.
        """
        return [self._columns_as_in(first + i, r) for i, r in enumerate(rows)]

    def _columns_as_in(self, seq: int, row: Sequence[Any]) -> str | None:
        ts = self._body_ts(row[3])
        body, actor, action, subject = row[1], row[4], row[5], row[6]
        if ts is None or not isinstance(actor, str) or not isinstance(subject, str):
            return None
        if len(actor) > COLUMN_WIDTHS["actor"] or len(subject) > COLUMN_WIDTHS["subject"]:
            return None  # a body field cut to fit its column: parse it
        if not isinstance(body, str):
            return None
        try:
            if self.last_head[0] != (action, actor):  # entries of one batch share them
                head = f'{{"action":{_enc(action)},"actor":{_enc(actor)},"details":'
                self.last_head = ((action, actor), head)
            tail = f',"seq":{seq},"subject":{_enc(subject)},"ts":"{ts}","v":{BODY_VERSION}}}'
        except TypeError:
            return None
        return ts if body.startswith(self.last_head[1]) and body.endswith(tail) else None

    def _columns_parsed(self, seq: int, body: bytes, row: Sequence[Any]) -> str | None:
        """Compare each column with the parsed body, naming every one that differs; the
        body's stamp, or None (finding reported) when the body lacks those fields."""
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        want = indexed_columns(doc)
        if want is None:
            self._add(Problem(_entry(seq), _problem("body_fields"), seq))
            return None
        ts: str = doc["ts"]
        want["ts"] = self.ts_form(ts)
        for name, got in zip(INDEXED, row[3:7], strict=True):
            if got != want[name]:
                self._add(Problem(_entry(seq), _problem("column", column=name), seq))
        return ts

    def finish(self) -> None:
        """Report a root mismatch still open and how many findings were not listed."""
        self._close_root_run()
        if self.unlisted:
            self.report.problems.append(
                Problem(Msg("ledger.where.entries"), _problem("unlisted", count=self.unlisted))
            )


class _Heads:
    """The tree heads after each entry, recomputed chunk by chunk with a running frontier:
    in a worker process when one is given (the hashing then overlaps reading and checking
    the next chunk: about log2(n)/2 hashes per entry, the largest cost of a verification),
    else in this one. One chunk is in flight at a time, so the frontier moves in order."""

    def __init__(self, pool: Executor | None) -> None:
        self.pool = pool
        self.frontier: list[bytes] = []
        self._pending: Callable[[], bytes] | None = None

    def start(self, first: int, level0: bytes) -> Callable[[], bytes]:
        """Begin the heads after entries ``first ..`` (concatenated leaf hashes ``level0``);
        the returned call gives them (32 bytes each, concatenated)."""
        self.settle()
        if self.pool is None:
            heads = merkle.prefix_roots(self.frontier, level0, first)
            return lambda: heads
        try:
            future = self.pool.submit(merkle.roots_after, self.frontier, level0, first)
        except (BrokenExecutor, OSError, RuntimeError):  # broken or shut down: hash here
            self.pool = None
            return self.start(first, level0)
        done: list[bytes] = []

        def result() -> bytes:
            if not done:
                try:
                    heads, self.frontier = future.result()
                except (BrokenExecutor, OSError):
                    # the worker could not start or died: hash here, from the frontier it
                    # was sent (a copy went to it; this one has not moved)
                    self.pool = None
                    heads = merkle.prefix_roots(self.frontier, level0, first)
                done.append(heads)
                self._pending = None
            return done[0]

        self._pending = result
        return result

    def settle(self) -> None:
        """Wait for the chunk in flight, so the frontier is current."""
        if self._pending is not None:
            self._pending()


def _proved_leaves(
    native: Any, conn: Connection, chunk: int, pool: Executor | None
) -> bytes | None:
    """The concatenated leaf hashes of every entry when :mod:`verify_native` proves them
    all good over Arrow batches (the checks of :func:`_read_leaves` on a good log, the
    stamps mapped by :meth:`_Columns._body_ts`), else None."""
    heads = _Heads(pool)
    proof = verify_native.Entries(_Columns(conn, VerifyReport())._body_ts, heads.start)
    level0 = verify_native.entries(native, chunk, proof)
    heads.settle()
    return level0


def _read_leaves(
    conn: Connection, report: VerifyReport, chunk: int, pool: Executor | None = None
) -> tuple[bytes, bool]:
    """Concatenated recomputed leaf hashes of the good prefix of the log, every stored
    column of that prefix checked (:class:`_Columns`); False when a row stopped the read
    (missing, moved or modified entry)."""
    parts: list[bytes] = []
    columns = _Columns(conn, report)
    heads = _Heads(pool)
    complete = _read_into(conn, report, chunk, columns, heads, parts)
    columns.finish()
    return b"".join(parts), complete


def _same_hashes(values: Sequence[Any], want: bytes) -> bool:
    """Whether the stored hash column ``values`` is exactly the concatenated ``want``
    (each value 32 bytes: a forger may not move bytes from one row to the next)."""
    try:
        return b"".join(values) == want and set(map(len, values)) <= {32}
    except TypeError:
        return False


def _read_into(
    conn: Connection,
    report: VerifyReport,
    chunk: int,
    columns: _Columns,
    heads: _Heads,
    parts: list[bytes],
) -> bool:
    expected = 0
    # The previous good chunk, checked once its tree heads are back, while the worker
    # recomputes this chunk's: findings come out in sequence order all the same.
    pending: list[
        tuple[int, Callable[[], bytes], list[bytes], Sequence[Any], list[str | None]]
    ] = []

    def flush() -> None:
        for first, result, bodies, rows, stamps in pending:
            columns.check(first, result(), bodies, rows, stamps)
        pending.clear()

    for rows in _raw_rows(conn, ENTRY_SQL, chunk):
        seqs = [r[0] for r in rows]
        try:
            bodies = [r[1].encode("utf-8") for r in rows]
            computed = merkle.leaf_hashes(bodies)
            stamps = columns.stamps(expected, rows)
            good = (
                seqs == list(range(expected, expected + len(rows)))
                and _same_hashes([r[2] for r in rows], computed)
                and (
                    None not in stamps
                    or all(
                        ts is not None or body_seq(b) == seq
                        for ts, b, seq in zip(stamps, bodies, seqs, strict=True)
                    )
                )
            )
        except (AttributeError, UnicodeEncodeError, TypeError):
            good = False
        if good:
            parts.append(computed)
            result = heads.start(expected, computed)
            flush()
            pending.append((expected, result, bodies, rows, stamps))
            expected += len(rows)
            continue
        flush()
        heads.settle()
        for r in rows:
            problem = _check_row(expected, r[0], r[1], r[2])
            if problem is not None:
                report.problems.append(problem)
                return False
            body = _as_bytes(r[1])
            assert body is not None  # _check_row refuses a body it cannot read
            leaf = merkle.leaf_hash(body)
            parts.append(leaf)
            columns.check(
                expected, merkle.prefix_roots(heads.frontier, leaf, expected), [body], [r]
            )
            expected += 1
    flush()
    return True


def _check_checkpoints(
    conn: Connection,
    report: VerifyReport,
    n: int,
    root_of: Callable[[int], bytes],
    origin: str | None,
    keys: list[bytes],
) -> None:
    rows = conn.execute(
        select(
            LedgerCheckpointRow.id,
            LedgerCheckpointRow.size,
            LedgerCheckpointRow.root,
            LedgerCheckpointRow.note,
        ).order_by(LedgerCheckpointRow.id)
    ).all()
    report.checkpoints = len(rows)
    prev_size = 0
    for cid, size, root, note in rows:
        where = Msg("ledger.where.checkpoint", id=cid, size=size)
        if origin is None or not keys:
            report.problems.append(Problem(where, _problem("no_key")))
            continue
        try:
            cp = parse_checkpoint(open_note(str(note), origin, *keys))
        except (NoteError, ValueError) as exc:
            reason = exc.text if isinstance(exc, NoteError) else _problem("text", text=str(exc))
            report.problems.append(Problem(where, _problem("bad_signature", reason=reason)))
            continue
        if cp.origin != origin or cp.size != size or cp.root != bytes(root or b""):
            report.problems.append(Problem(where, _problem("note_differs")))
            continue
        if cp.size < prev_size:
            report.problems.append(Problem(where, _problem("size_back", before=prev_size)))
        prev_size = max(prev_size, cp.size)
        report.last_checkpoint_size = max(report.last_checkpoint_size, cp.size)
        if cp.size > n:
            report.problems.append(Problem(where, _problem("truncated", signed=cp.size, size=n), n))
        elif root_of(cp.size) != cp.root:
            report.problems.append(Problem(where, _problem("root_mismatch")))


def _check_external(
    report: VerifyReport,
    path: Path,
    n: int,
    levels_node: Callable[[int, int], bytes],
    origin: str | None,
    keys: list[bytes],
) -> None:
    where = Msg("ledger.where.file", path=str(path))
    try:
        note = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput.msg("ledger.checkpoint_read", path=path, reason=type(exc).__name__) from None
    if origin is None or not keys:
        report.problems.append(Problem(where, _problem("no_key")))
        return
    try:
        cp = parse_checkpoint(open_note(note, origin, *keys))
    except NoteError as exc:
        report.problems.append(Problem(where, _problem("foreign_checkpoint", reason=exc.text)))
        return
    info: dict[str, Any] = {"file": str(path), "size": cp.size, "root": cp.root.hex()}
    report.external = info
    if cp.origin != origin:
        report.problems.append(Problem(where, _problem("foreign_origin", origin=cp.origin)))
        return
    if cp.size > n:
        info["extended"] = False
        report.problems.append(Problem(where, _problem("truncated", signed=cp.size, size=n), n))
        return
    ranges = merkle.consistency_ranges(cp.size, n)
    proof = [merkle.range_hash(levels_node, a, b) for a, b in ranges]
    new_root = merkle.range_hash(levels_node, 0, n)
    info["consistency_proof"] = [p.hex() for p in proof]
    info["extended"] = merkle.verify_consistency(cp.size, n, proof, cp.root, new_root)
    if not info["extended"]:
        report.problems.append(Problem(where, _problem("not_extended", size=cp.size)))


def _check_nodes(conn: Connection, report: VerifyReport, levels: list[bytes], chunk: int) -> None:
    """Every stored subtree hash equals the recomputed one, none missing, none extra."""
    stored: dict[int, list[bytes]] = {}
    for chunk_rows in _raw_rows(conn, NODE_SQL, chunk):
        for lv, run in itertools.groupby(chunk_rows, key=operator.itemgetter(0)):
            if not _stored_run(stored, report, lv, list(run)):
                return
    _compare_levels(report, levels, stored)


def _stored_run(
    stored: dict[int, list[bytes]], report: VerifyReport, lv: Any, rows: list[Any]
) -> bool:
    """Add one level's run of node rows to ``stored``; False (finding reported) at a bad
    row. A run whose indexes go on from the stored ones and whose hashes are 32 bytes is
    taken whole (list operations in C); any other row by row, to name the bad node."""
    have = stored.get(lv, []) if type(lv) is int else None
    if have is not None:
        hashes = [r[2] for r in rows]
        if [r[1] for r in rows] == list(range(len(have), len(have) + len(rows))) and all(
            type(h) is bytes and len(h) == 32 for h in hashes
        ):
            stored[lv] = have
            have.extend(hashes)
            return True
    for lv_, idx, h in rows:
        have = stored.setdefault(int(lv_), [])
        raw = _as_bytes(h)
        if idx != len(have) or raw is None or len(raw) != 32:
            report.problems.append(
                Problem(
                    Msg("ledger.where.node", level=lv_, idx=len(have)),
                    _problem("bad_node"),
                )
            )
            return False
        have.append(raw)
    return True


def _compare_levels(
    report: VerifyReport, levels: list[bytes], stored: dict[int, list[bytes]]
) -> None:
    """Each stored level equals the recomputed one (none stored below
    :data:`LOWEST_STORED_LEVEL`); the first differing node is named."""
    top = max([len(levels) - 1, *stored])
    # a stored level below 1 (no such subtree) is reported like one below the floor
    for lv in sorted({*range(1, top + 1), *stored}):
        want = levels[lv] if LOWEST_STORED_LEVEL <= lv < len(levels) else b""
        got = b"".join(stored.get(lv, []))
        if got == want:
            continue
        i = next(
            (
                k
                for k in range(min(len(got), len(want)) // 32)
                if got[32 * k : 32 * k + 32] != want[32 * k : 32 * k + 32]
            ),
            min(len(got), len(want)) // 32,
        )
        width = 1 << lv if lv > 0 else 1  # the leaves under the node
        report.problems.append(
            Problem(
                Msg("ledger.where.node", level=lv, idx=i),
                _problem("node_differs", first=i * width, last=(i + 1) * width - 1),
            )
        )
        return


def idle_core() -> bool:
    """Whether a core is idle: more cores than the 1-minute load average plus one (where
    the platform has no load average, more than one core)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return cores > 1 and load < cores - 1


def _worker(size: int, parallel: bool | None) -> Executor | None:
    """A worker to recompute tree heads in while a core is idle, for a log worth it; None
    to hash in this thread. A thread where the C loop is built (it releases the interpreter
    lock), else a process (its start costs about a second on a loaded machine). On a
    saturated machine a second worker only competes with the others for the same cores
    (measured: docs/benchmarks.md, Ledger)."""
    if parallel is None:
        parallel = size >= PARALLEL_FROM and idle_core()
    if not parallel:
        return None
    if merkle.native_built():
        # the C loop lets go of the interpreter lock: a thread hashes beside this one, with
        # no process to start (a spawned one imports the caller's main module first)
        return ThreadPoolExecutor(1, thread_name_prefix="ledger-heads")
    # spawn, not fork: the parent holds database connections and may run threads
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        pool.submit(merkle.roots_after, [], b"", 0)  # starts it while the first chunk is read
    except (BrokenExecutor, OSError, RuntimeError):  # no process can start here
        pool.shutdown(wait=False, cancel_futures=True)
        return None
    return pool


def verify_ledger(
    ws: Workspace,
    checkpoint: Path | None = None,
    *,
    chunk: int = CHUNK,
    parallel: bool | None = None,
) -> VerifyReport:
    """Recompute every leaf and the tree; check the head, nodes and every checkpoint.

    With ``checkpoint`` (a signed note saved outside the store) also prove by an RFC 9162
    consistency proof that the current log extends it. ``parallel``: recompute the tree
    heads in a worker process (None: when the log has :data:`PARALLEL_FROM` entries or
    more and a core is idle, :func:`idle_core`).
    """
    t0 = time.perf_counter()
    report = VerifyReport()
    with ws.store.engine.connect() as conn:
        _snapshot(conn)
        head_row = conn.execute(
            select(
                LedgerHeadRow.size,
                LedgerHeadRow.frontier,
                LedgerHeadRow.origin,
                LedgerHeadRow.public_key,
            ).where(LedgerHeadRow.id == 1)
        ).one_or_none()
        native_snapshot = (
            verify_native.snapshot(conn, int(head_row.size), _as_bytes(head_row.frontier) or b"")
            if head_row is not None and verify_native.available(conn)
            else contextlib.nullcontext(None)
        )
        with native_snapshot as native:
            _verify_in(ws, conn, report, head_row, native, checkpoint, chunk, parallel)
        conn.rollback()
    report.seconds = time.perf_counter() - t0
    return report


def _verify_in(
    ws: Workspace,
    conn: Connection,
    report: VerifyReport,
    head_row: Any,
    native: Any,
    checkpoint: Path | None,
    chunk: int,
    parallel: bool | None,
) -> None:
    """:func:`verify_ledger` inside its snapshot (``native``: the C reader's connection in
    the same snapshot, or None)."""
    pool = _worker(int(head_row.size) if head_row is not None else 0, parallel)
    try:
        proved = None if native is None else _proved_leaves(native, conn, chunk, pool)
        if proved is None:
            level0, entries_ok = _read_leaves(conn, report, chunk, pool)
        else:
            level0, entries_ok = proved, True
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    n = len(level0) // 32
    levels = merkle.build_levels(level0)
    node = merkle.levels_node(levels)
    report.size = n
    report.root = merkle.range_hash(node, 0, n)
    origin: str | None = None
    public_key: bytes | None = None
    if head_row is None:
        report.problems.append(Problem(_HEAD, _problem("no_head")))
    else:
        origin = head_row.origin
        public_key = _as_bytes(head_row.public_key)
        hsize = int(head_row.size)
        if entries_ok and hsize > n:
            report.problems.append(
                Problem(_HEAD, _problem("head_truncated", head=hsize, size=n), n)
            )
        elif entries_ok and hsize < n:
            report.problems.append(
                Problem(_entry(hsize), _problem("beyond_head", first=hsize, last=n - 1), hsize)
            )
        elif entries_ok:
            frontier = b"".join(node(lv, i) for lv, i in merkle.aligned_pieces(0, n))
            if _as_bytes(head_row.frontier) != frontier:
                report.problems.append(Problem(_HEAD, _problem("frontier")))
    keys: list[bytes] = []
    try:
        keys = trusted_keys(ws)
    except BadInput as exc:  # an unreadable key registry is a finding, not a crash
        text = exc.message or _problem("text", text=str(exc))
        report.problems.append(Problem(Msg("ledger.where.keys"), text))
    if public_key is not None and keys and public_key not in keys:
        report.problems.append(Problem(_HEAD, _problem("foreign_key")))
    _check_checkpoints(conn, report, n, lambda s: merkle.range_hash(node, 0, s), origin, keys)
    if checkpoint is not None:
        _check_external(report, checkpoint, n, node, origin, keys)
    if entries_ok and not (native is not None and verify_native.nodes_equal(native, levels)):
        _check_nodes(conn, report, levels, chunk)
