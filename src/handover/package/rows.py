"""Canonical row digests of Arrow batches and their per-table roots.

A row renders as the prefix-free text :func:`handover.verify.normalize.encode_row` defines
(``<char count>:<text>`` per column, ``~`` for NULL), each value rendered from the
column's Arrow type by Arrow's own cast to text (booleans as ``0``/``1``, binary as
``\\x…`` hex). The rendering is vectorised: one kernel call per column, one join per batch.

``handover-row-v3`` (what ``seal`` writes) hashes Arrow's own memory instead of text: the
rows, in package order, are cut into chunks of :data:`CHUNK_ROWS` (the last may be
shorter) and a chunk's digest is ``SHA-256(0x00 || col_1 || … || col_k)`` where, for the
chunk's rows of each column in schema order, ``col`` is one validity byte per row
(1 valid, 0 NULL) followed by the values: fixed-width types (integers, floats, decimals,
dates, times, timestamps, fixed-size binary) as their little-endian Arrow value bytes
with NULL slots zeroed, booleans as one byte 0/1, strings and binaries as one 8-byte
little-endian length per row then the bytes, any other type as its canonical text
(above). Both sides of a check cast to the package's schema first, so the layout is
fixed; the table's ``row_root`` is the RFC 6962 Merkle root over the chunk digests.
The work is a few numpy operations per column and batch and one hashlib update per
column and chunk, which is why sealing costs little more than writing Parquet. v3 keeps
no per-row hash: a restored table whose engine orders rows differently is compared
through :class:`RowSet`, computed from the package itself while ``unseal`` checks it.

Older packages stay checkable: ``handover-row-v2`` (one leaf hash per row,
``row_root`` = SHA-256 over the leaves concatenated) and ``handover-row-v1`` (RFC 6962
root over the rows); both carry ``row_set``, the order-free digest of :class:`RowSet`.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.crypto.digest import new_hash
from handover.ledger import merkle

ENCODING = "handover-row-v3"
#: one leaf hash per row, ``row_root`` = SHA-256 over the leaves concatenated
CHAIN_ENCODING = "handover-row-v2"
#: the encoding whose ``row_root`` is the RFC 6962 Merkle root over the rows
MERKLE_ENCODING = "handover-row-v1"
ENCODINGS = (ENCODING, CHAIN_ENCODING, MERKLE_ENCODING)
#: v3: rows per chunk digest (a leaf of the table's Merkle tree)
CHUNK_ROWS = 16_384
#: leaves folded into one perfect subtree before it joins the stack (a power of two)
CHUNK = 1 << 14


def render_column(arr: pa.Array) -> pa.Array:
    """The canonical text of each value of ``arr`` (nulls stay null)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_string(t):
        return arr
    if pa.types.is_boolean(t):
        return pc.cast(pc.cast(arr, pa.int8()), pa.string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        from handover.db.arrow import bytea_hex

        return pc.cast(bytea_hex(arr), pa.string())
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string())
    try:
        return pc.cast(arr, pa.string())
    except pa.ArrowNotImplementedError:
        # Nested values (lists, structs, maps) have no cast to text: canonical JSON per
        # cell, a Python loop only for these rare columns (the SQL engines give none).
        return pa.array(
            [
                None
                if v is None
                else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
                for v in arr.to_pylist()
            ],
            pa.string(),
        )


def canonical_rows(batch: pa.RecordBatch | pa.Table) -> pa.Array:
    """One binary value per row: the prefix-free canonical encoding of the row."""
    if batch.num_rows == 0:
        return pa.array([], pa.binary())
    parts: list[Any] = []
    for col in batch.columns:
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        text = render_column(arr)
        # numbers, dates, times, booleans and hex are ASCII: bytes = characters, and the
        # byte length comes from the offsets without decoding
        t = arr.type
        ascii_only = not (
            pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t)
        )
        count = pc.binary_length(text) if ascii_only else pc.utf8_length(text)
        lengths = pc.cast(count, pa.string())
        part = pc.binary_join_element_wise(lengths, text, ":")
        if text.null_count:
            part = pc.fill_null(part, "~")
        parts.append(part)
    if not parts:
        return pa.array([b""] * batch.num_rows, pa.binary())
    rows = pc.binary_join_element_wise(*parts, "") if len(parts) > 1 else parts[0]
    return pc.cast(rows, pa.binary())


def leaf_hashes(batch: pa.RecordBatch | pa.Table) -> bytes:
    """The RFC 6962 leaf hashes of the batch's canonical rows, 32 bytes each, concatenated."""
    rows = canonical_rows(batch)
    hashed = merkle.leaf_hashes_of(rows)  # from the Arrow buffers, where the C module is built
    return hashed if hashed is not None else merkle.leaf_hashes(rows.to_pylist())


def _merkle_root(leaves: bytes) -> bytes:
    """RFC 6962 root over concatenated 32-byte leaf hashes (SHA-256("") for none)."""
    m = len(leaves) // merkle.HASH_SIZE
    if not m:
        return merkle.fold([])
    node = merkle.levels_node(merkle.build_levels(leaves))
    return merkle.fold([node(level, idx) for level, idx in merkle.aligned_pieces(0, m)])


def chunks_root(chunks: bytes) -> bytes:
    """The v3 row root over concatenated chunk digests (a sharded table: every shard's
    chunks in shard order). Equal to a single file's root when every shard but the last
    holds a multiple of :data:`CHUNK_ROWS` rows."""
    return _merkle_root(chunks)


class _ColumnBytes:
    """One column of a batch laid out for v3 chunk digests: validity bytes and value bytes."""

    def __init__(self, arr: pa.Array) -> None:
        t = arr.type
        if pa.types.is_dictionary(t):
            arr = arr.dictionary_decode()
            t = arr.type
        n = len(arr)
        if arr.null_count:
            self.valid = np.asarray(pc.is_valid(arr)).astype(np.uint8)
        else:
            self.valid = np.ones(n, dtype=np.uint8)
        self.fixed: np.ndarray | None = None
        self.ends: np.ndarray | None = None  # var-width: offsets relative to ``data``
        self.data = memoryview(b"")
        if pa.types.is_boolean(t):
            self.fixed = np.asarray(pc.fill_null(arr, False)).astype(np.uint8).reshape(n, 1)
        elif pa.types.is_null(t):
            self.fixed = np.zeros(0, dtype=np.uint8)  # validity says it all
        elif _fixed_width(t):
            w = t.byte_width
            raw = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
            vals = raw[arr.offset * w : (arr.offset + n) * w].reshape(n, w)
            if arr.null_count:
                vals = vals.copy()
                vals[self.valid == 0] = 0
            self.fixed = vals
        else:
            if not _var_width(t):
                arr = render_column(arr)
                t = arr.type
            if arr.null_count:
                arr = pc.fill_null(arr, pa.scalar(b"" if _is_binary(t) else "", t))
            large = pa.types.is_large_string(t) or pa.types.is_large_binary(t)
            offs = np.frombuffer(arr.buffers()[1], dtype="<i8" if large else "<i4")
            offs = offs[arr.offset : arr.offset + n + 1].astype(np.int64)
            buf = arr.buffers()[2]
            self.data = memoryview(buf) if buf is not None else memoryview(b"")
            self.ends = offs

    def feed(self, h: Any, a: int, b: int) -> None:
        """Update ``h`` with rows ``a:b``: validity bytes, then the values."""
        h.update(self.valid[a:b].data)
        if self.fixed is not None:
            if self.fixed.size:
                h.update(self.fixed[a:b].data.cast("B"))  # rows of a C-contiguous array
            return
        assert self.ends is not None
        offs = self.ends[a : b + 1]
        h.update(np.diff(offs).astype("<i8").tobytes())
        h.update(self.data[int(offs[0]) : int(offs[-1])])


def _is_binary(t: pa.DataType) -> bool:
    return bool(pa.types.is_binary(t) or pa.types.is_large_binary(t))


def _var_width(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t)) or _is_binary(t)


def _fixed_width(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_temporal(t)
        or pa.types.is_fixed_size_binary(t)
    ) and not pa.types.is_interval(t)


class RowSet:
    """Order-free digest of rows: the four little-endian 64-bit lane sums of their leaf hashes.

    Used to compare a restored table with its package whatever order the target engine
    returns the rows in (one SHA-256 per row).
    """

    def __init__(self) -> None:
        self.count = 0
        self._lanes = np.zeros(4, dtype=np.uint64)

    def add(self, leaves: bytes) -> None:
        """Add concatenated 32-byte leaf hashes."""
        if len(leaves) % merkle.HASH_SIZE:
            raise ValueError("leaf hashes must be 32 bytes each")
        if not leaves:
            return
        lanes = np.frombuffer(leaves, dtype="<u8").reshape(-1, 4)
        with np.errstate(over="ignore"):
            self._lanes += lanes.sum(axis=0, dtype=np.uint64)
        self.count += len(leaves) // merkle.HASH_SIZE

    def add_batch(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Add the rows of ``batch``."""
        self.add(leaf_hashes(batch))

    def digest(self) -> bytes:
        return self._lanes.astype("<u8").tobytes()

    def hex(self) -> str:
        return self.digest().hex()


class RowDigest:
    """Streams rows in package order; gives the table's ordered ``row_root``.

    ``encoding`` is the manifest's ``row_digest.encoding``. v3 hashes chunks of
    :data:`CHUNK_ROWS` rows from Arrow's buffers (:class:`_ColumnBytes`) and has no set digest;
    v1/v2 hash every row and also keep the order-free :class:`RowSet` (v1's RFC 6962 tree
    over rows folds full :data:`CHUNK` runs into perfect subtrees, memory O(CHUNK + log n)).
    """

    def __init__(self, encoding: str = ENCODING) -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown row digest encoding {encoding!r}")
        self.encoding = encoding
        self.count = 0
        self._set: RowSet | None = None if encoding == ENCODING else RowSet()
        # v3: digests of complete chunks, and the rows of the chunk still open
        self._chunks = bytearray()
        self._carry: list[pa.RecordBatch] = []
        self._carry_rows = 0
        # v2: running SHA-256 over the leaf hashes; v1: pending leaves and subtree stack
        self._chain = new_hash("sha256")
        self._pending = bytearray()
        self._stack: list[tuple[int, bytes]] = []  # (leaves, subtree hash), sizes decreasing

    # --- v3 ---------------------------------------------------------------------------------

    def _add_v3(self, batch: pa.RecordBatch) -> None:
        n = batch.num_rows
        start = 0
        if self._carry:
            take = min(CHUNK_ROWS - self._carry_rows, n)
            self._carry.append(batch.slice(0, take))
            self._carry_rows += take
            start = take
            if self._carry_rows < CHUNK_ROWS:
                return
            self._hash_chunks(pa.concat_batches(self._carry))
            self._carry, self._carry_rows = [], 0
        full = (n - start) // CHUNK_ROWS * CHUNK_ROWS
        if full:
            self._hash_chunks(batch.slice(start, full))
        if start + full < n:
            self._carry = [batch.slice(start + full)]
            self._carry_rows = n - start - full

    def _hash_chunks(self, batch: pa.RecordBatch) -> None:
        """Digest ``batch``, whose length is a whole number of chunks or the final one."""
        n = batch.num_rows
        cols = [_ColumnBytes(c) for c in batch.columns]
        for a in range(0, n, CHUNK_ROWS):
            b = min(a + CHUNK_ROWS, n)
            h = new_hash("sha256", b"\x00")
            for c in cols:
                c.feed(h, a, b)
            self._chunks += h.digest()

    # --- v1 / v2 ----------------------------------------------------------------------------

    def add(self, leaves: bytes) -> None:
        """Append concatenated 32-byte leaf hashes (the next rows in order; v1/v2)."""
        if self._set is None:
            raise ValueError(f"{self.encoding} digests chunks of rows, not leaf hashes")
        self._set.add(leaves)
        self.count = self._set.count
        if self.encoding == CHAIN_ENCODING:
            self._chain.update(leaves)
            return
        self._pending += leaves
        step = CHUNK * merkle.HASH_SIZE
        while len(self._pending) >= step:
            chunk = bytes(self._pending[:step])
            del self._pending[:step]
            self._push(CHUNK, merkle.build_levels(chunk)[-1])

    def _push(self, size: int, node: bytes) -> None:
        self._stack.append((size, node))
        while len(self._stack) >= 2 and self._stack[-1][0] == self._stack[-2][0]:
            (n, right), (_, left) = self._stack.pop(), self._stack.pop()
            self._stack.append((2 * n, merkle.node_hash(left, right)))

    # --- any encoding -----------------------------------------------------------------------

    def add_batch(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append the rows of ``batch``."""
        if self._set is None:
            for b in batch.to_batches() if isinstance(batch, pa.Table) else [batch]:
                self._add_v3(b)
            self.count += batch.num_rows
        else:
            self.add(leaf_hashes(batch))

    def root(self) -> bytes:
        """The ordered digest of every row so far (SHA-256("") for none in every encoding)."""
        if self.encoding == ENCODING:
            # the last, shorter chunk is hashed now and kept open for more rows
            return _merkle_root(self.chunk_digests())
        if self.encoding == CHAIN_ENCODING:
            return self._chain.digest()
        hashes = [h for _, h in self._stack]
        if self._pending:
            node = merkle.levels_node(merkle.build_levels(bytes(self._pending)))
            m = len(self._pending) // merkle.HASH_SIZE
            hashes += [node(level, idx) for level, idx in merkle.aligned_pieces(0, m)]
        return merkle.fold(hashes)

    def chunk_digests(self) -> bytes:
        """v3: the digests of every chunk so far (the last, shorter one included), 32 bytes
        each: the leaves of :meth:`root`, which a sharded table concatenates across its
        shards in shard order (:func:`chunks_root`)."""
        if self.encoding != ENCODING:
            raise ValueError(f"{self.encoding} has no chunk digests")
        if self._carry:
            tail = RowDigest()
            tail._hash_chunks(pa.concat_batches(self._carry))
            return bytes(self._chunks) + bytes(tail._chunks)
        return bytes(self._chunks)

    def set_digest(self) -> bytes | None:
        """The order-free :class:`RowSet` digest (v1/v2), None for v3."""
        return None if self._set is None else self._set.digest()

    def to_json(self) -> dict[str, Any]:
        """``{"rows", "row_root", "row_set"}`` as stored in the manifest (no row_set in v3)."""
        out: dict[str, Any] = {"rows": self.count, "row_root": self.root().hex()}
        s = self.set_digest()
        if s is not None:
            out["row_set"] = s.hex()
        return out


def digest_table(table: pa.Table, batch_rows: int = 65_536, encoding: str = ENCODING) -> RowDigest:
    """The :class:`RowDigest` of a whole table (convenience for checks and tests)."""
    d = RowDigest(encoding)
    for batch in table.to_batches(max_chunksize=batch_rows):
        d.add_batch(batch)
    return d
