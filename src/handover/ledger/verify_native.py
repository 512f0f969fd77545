"""A SQLite store's entries and nodes proved good over Arrow batches, all or nothing.

The verifier's row loop (:mod:`handover.ledger.verify`) makes eight Python objects of
every entry before checking it: on a SQLite store, reading the rows alone cost more than
twice a plain SELECT of the bodies. Here the C reader (:mod:`handover.db.sqlite_native`)
steps the same query in one snapshot equal to the verifier's, and every check that loop
makes of a good log is made over whole batches: the ``seq`` column counts up, each body's
leaf hash (C, :func:`handover.crypto.tree.leaf_hashes_of`) equals its ``leaf_hash``
column, the tree head after each entry its ``root`` column, the ``ts``, ``actor``,
``action`` and ``subject`` columns what the body holds, the stamps never go back, and
every stored node equals the recomputed one.

It proves, it never reports: the first batch that is not proved good (or a store it
cannot read this way) makes it answer None, and the verifier then reads row by row,
which names what is wrong. So a finding is always the row loop's, and this path only
has to be sound: what it calls good, the row loop calls good
(tests/test_ledger_verify_native.py tampers every column both ways).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.crypto import tree
from handover.crypto.digest import arrow_buffers
from handover.ledger.ledger import BODY_VERSION, COLUMN_WIDTHS
from handover.ledger.models import LOWEST_STORED_LEVEL

try:
    from handover.ledger import _frames
except ImportError:  # no C compiler at install: the verifier reads row by row
    _frames = None  # type: ignore[assignment]

ENTRY_SQL = (
    "SELECT seq, body, leaf_hash, ts, actor, action, subject, root FROM ledger_entries ORDER BY seq"
)
NODE_SQL = "SELECT level, idx, hash FROM ledger_nodes ORDER BY level, idx"
_HEAD_SQL = "SELECT size, frontier FROM ledger_head WHERE id = 1"


def available(conn: Any) -> bool:
    """Whether this path can read the store of ``conn`` (a SQLite file, both C modules)."""
    from handover.db import sqlite_native

    database = conn.engine.url.database
    return (
        conn.dialect.name == "sqlite"
        and sqlite_native.built()
        and tree.native_built()
        and _frames is not None
        and bool(database)
        and database != ":memory:"
        and not str(database).startswith("file:")
    )


@contextmanager
def snapshot(conn: Any, size: int, frontier: bytes) -> Iterator[Any | None]:
    """A read-only connection of the C reader to the SQLite file of ``conn``, in a read
    transaction whose head is ``(size, frontier)``, the head ``conn``'s snapshot holds
    (every append changes the head in the transaction that adds its entries, so both
    see the same entries and nodes); None where it cannot be opened or a commit came
    between the two."""
    from handover.db import sqlite_native
    from handover.db.url import read_only_uri

    native = None
    try:
        native = sqlite_native.connect(read_only_uri(conn.engine.url.database))
        _run(native, "BEGIN")
        head = _all(native, _HEAD_SQL).to_pylist()
        same = head == [{"size": size, "frontier": frontier}]
    except sqlite_native.errors():
        same = False
    try:
        yield native if same else None
    finally:
        if native is not None:
            native.close()


def _run(native: Any, sql: str) -> None:
    from handover.db import sqlite_native

    for _ in sqlite_native.batches(native, sql, None, 1):
        pass


def _all(native: Any, sql: str) -> pa.Table:
    from handover.db import sqlite_native

    return pa.Table.from_batches(list(sqlite_native.batches(native, sql, None, 1 << 16)))


def _hashes(col: pa.Array) -> bytes | None:
    """A binary column's values concatenated, when every one is 32 bytes (else None)."""
    if col.null_count or not (pa.types.is_binary(col.type) or len(col) == 0):
        return None
    if len(col) == 0:
        return b""
    try:
        fixed = col.cast(pa.binary(32))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    data = fixed.buffers()[1]
    out: bytes = data[32 * fixed.offset : 32 * (fixed.offset + len(fixed))].to_pybytes()
    return out


class Entries:
    """Proves batch after batch of entry rows good, in sequence order.

    ``body_ts`` maps a stored ``ts`` value to the body stamp it is exactly the store's
    form of (else None); ``heads`` starts the tree heads after a batch's leaves
    (``heads(first, level0)`` returns the call that gives them).
    """

    def __init__(
        self,
        body_ts: Callable[[Any], str | None],
        heads: Callable[[int, bytes], Callable[[], bytes]],
    ) -> None:
        self.body_ts = body_ts
        self.heads = heads
        self.size = 0
        self.prev_ts: str | None = None
        self.parts: list[bytes] = []
        self._pending: tuple[bytes, Callable[[], bytes]] | None = None

    def prove(self, batch: pa.RecordBatch) -> bool:
        """Whether ``batch`` (the next rows of ENTRY_SQL) is good; its tree heads are
        checked at the next call or at :meth:`finish`."""
        n = batch.num_rows
        if n == 0:
            return True
        seq, body, leaf, ts, actor, action, subject, root = batch.columns
        if not self._counts_up(seq, n):
            return False
        texts = (body, ts, actor, action, subject)
        if any(not pa.types.is_string(c.type) or c.null_count for c in texts):
            return False
        try:
            for c in texts:
                c.validate(full=True)  # UTF-8, as sqlite3 would decode it
        except pa.ArrowInvalid:
            return False
        level0 = tree.leaf_hashes_of(body)
        if level0 is None or _hashes(leaf) != level0:
            return False
        stamps = self._stamps(ts)
        if stamps is None or not self._as_in_bodies(body, seq, actor, action, subject, stamps):
            return False
        roots = _hashes(root)
        if roots is None or not self._settle():
            return False
        self._pending = (roots, self.heads(self.size, level0))
        self.parts.append(level0)
        self.size += n
        return True

    def finish(self) -> bytes | None:
        """The concatenated leaf hashes of every entry proved, once the last batch's tree
        heads are checked too; None if they are not what its ``root`` column holds."""
        return b"".join(self.parts) if self._settle() else None

    def _settle(self) -> bool:
        if self._pending is None:
            return True
        roots, result = self._pending
        self._pending = None
        return result() == roots

    def _counts_up(self, seq: pa.Array, n: int) -> bool:
        if not pa.types.is_int64(seq.type) or seq.null_count:
            return False
        if seq[0].as_py() != self.size:
            return False
        # every step +1 from the first value: the values are exactly size .. size + n - 1
        return n == 1 or pc.all(pc.equal(pc.subtract(seq[1:], seq[:-1]), 1)).as_py() is True

    def _stamps(self, ts: pa.Array) -> pa.Array | None:
        """Per row, the body stamp the ``ts`` column is the store's form of; None unless
        every one is, and none goes back (from the previous batch's last on)."""
        distinct = pc.unique(ts)
        mapped = [self.body_ts(v) for v in distinct.to_pylist()]
        if None in mapped:
            return None
        stamps = pc.take(pa.array(mapped, pa.string()), pc.index_in(ts, value_set=distinct))
        if len(stamps) > 1 and not pc.all(pc.greater_equal(stamps[1:], stamps[:-1])).as_py():
            return None
        first = stamps[0].as_py()
        if self.prev_ts is not None and first < self.prev_ts:
            return None
        self.prev_ts = stamps[-1].as_py()
        return stamps

    @staticmethod
    def _as_in_bodies(
        body: pa.Array,
        seq: pa.Array,
        actor: pa.Array,
        action: pa.Array,
        subject: pa.Array,
        stamps: pa.Array,
    ) -> bool:
        """Whether every body holds its row's seq, stamp, actor, action and subject, as
        an append writes them (actor and subject within their column widths): it opens
        with ``{"action":A,"actor":B,"details":`` and closes with
        ``,"seq":N,"subject":S,"ts":"T","v":1}``, the strings needing no escape."""
        for col, width in (actor, COLUMN_WIDTHS["actor"]), (subject, COLUMN_WIDTHS["subject"]):
            if pc.max(pc.utf8_length(col)).as_py() > width:
                return False
        # the texts an append writes around them (each column's value must need no JSON
        # escape: _frames checks it, RFC 8785 then writes the value as it is, in quotes)
        opening = (
            b'{"action":"',
            arrow_buffers(action),
            b'","actor":"',
            arrow_buffers(actor),
            b'","details":',
        )
        closing = (
            b',"seq":',
            arrow_buffers(pc.cast(seq, pa.string())),
            b',"subject":"',
            arrow_buffers(subject),
            b'","ts":"',
            arrow_buffers(stamps),
            f'","v":{BODY_VERSION}}}'.encode(),
        )
        assert _frames is not None  # available() requires it
        return _frames.first_unframed(arrow_buffers(body), opening, closing) < 0


def entries(native: Any, chunk: int, proof: Entries) -> bytes | None:
    """Every entry row of the snapshot proved good by ``proof``: their concatenated leaf
    hashes, or None at the first batch that is not (or that the C reader refuses)."""
    from handover.db import sqlite_native

    try:
        for batch in sqlite_native.batches(native, ENTRY_SQL, None, chunk):
            if batch.num_columns != 8 or not proof.prove(batch):
                return None
    except sqlite_native.errors():
        return None
    return proof.finish()


def nodes_equal(native: Any, levels: list[bytes]) -> bool:
    """Whether the stored nodes are exactly the recomputed levels from
    :data:`LOWEST_STORED_LEVEL` up: every
    level's indexes 0 .. k-1 in order, each hash equal, none missing, none beyond."""
    from handover.db import sqlite_native

    try:
        table = _all(native, NODE_SQL)
    except sqlite_native.errors():
        return False
    if table.num_columns != 3:
        return False
    level, idx, hashes = (c.combine_chunks() for c in table.columns)
    want_levels = [lv for lv in range(LOWEST_STORED_LEVEL, len(levels)) if levels[lv]]
    counts = [len(levels[lv]) // 32 for lv in want_levels]
    if len(level) != sum(counts):
        return False
    if len(level) == 0:
        return True
    if not (pa.types.is_int64(level.type) and pa.types.is_int64(idx.type)):
        return False
    if level.null_count or idx.null_count:
        return False
    want_level = pa.array(np.repeat(np.array(want_levels, np.int64), counts))
    want_idx = pa.array(np.concatenate([np.arange(k, dtype=np.int64) for k in counts]))
    if not (level.equals(want_level) and idx.equals(want_idx)):
        return False
    return _hashes(hashes) == b"".join(levels[lv] for lv in want_levels)
