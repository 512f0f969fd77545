"""Canonical row digests of Arrow batches and their per-table roots.

A row renders as the prefix-free text :func:`handover.verify.normalize.encode_row` defines
(``<char count>:<text>`` per column, ``~`` for NULL), each value rendered from the
column's Arrow type by Arrow's own cast to text (booleans as ``0``/``1``, binary as
``\\x…`` hex). The rendering is vectorised: one kernel call per column, one join per batch.

Every row's digest is its RFC 6962 leaf hash, ``SHA-256(0x00 || row)``
(:mod:`handover.ledger.merkle`); ``row_set`` is an order-free 256-bit digest (four 64-bit
lane sums of the leaf hashes) used to compare a restored table whose engine orders
rows differently. A table's ``row_root`` binds the rows in package order: in
``handover-row-v2`` it is SHA-256 over the leaf hashes concatenated (one hashlib call
per batch); ``handover-row-v1`` packages carry the RFC 6962 Merkle root over the rows,
which costs one more SHA-256 per row and is still checked for them. Nothing needs an
inclusion proof of a single row, so v2 drops the tree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.crypto.digest import new_hash
from handover.ledger import merkle

ENCODING = "handover-row-v2"
#: the encoding whose ``row_root`` is the RFC 6962 Merkle root over the rows
MERKLE_ENCODING = "handover-row-v1"
ENCODINGS = (ENCODING, MERKLE_ENCODING)
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
        from handover.migrate.writer import bytea_hex

        return pc.cast(bytea_hex(arr), pa.string())
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string())
    return pc.cast(arr, pa.string())


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
    return merkle.leaf_hashes(rows.to_pylist())


class RowDigest:
    """Streams leaf hashes in row order; gives the ordered root and the order-free set digest.

    ``encoding`` is the manifest's ``row_digest.encoding`` (v1: RFC 6962 root, memory
    O(CHUNK + log n) with full chunks folded into perfect subtrees at once).
    """

    def __init__(self, encoding: str = ENCODING) -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown row digest encoding {encoding!r}")
        self.merkle = encoding == MERKLE_ENCODING
        self._chain = new_hash("sha256")
        self.count = 0
        self._pending = bytearray()
        self._stack: list[tuple[int, bytes]] = []  # (leaves, subtree hash), sizes decreasing
        self._lanes = np.zeros(4, dtype=np.uint64)

    def add(self, leaves: bytes) -> None:
        """Append concatenated 32-byte leaf hashes (the next rows in order)."""
        if not leaves:
            return
        if len(leaves) % merkle.HASH_SIZE:
            raise ValueError("leaf hashes must be 32 bytes each")
        lanes = np.frombuffer(leaves, dtype="<u8").reshape(-1, 4)
        with np.errstate(over="ignore"):
            self._lanes += lanes.sum(axis=0, dtype=np.uint64)
        self.count += len(leaves) // merkle.HASH_SIZE
        if not self.merkle:
            self._chain.update(leaves)
            return
        self._pending += leaves
        step = CHUNK * merkle.HASH_SIZE
        while len(self._pending) >= step:
            chunk = bytes(self._pending[:step])
            del self._pending[:step]
            self._push(CHUNK, merkle.build_levels(chunk)[-1])

    def add_batch(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append the rows of ``batch``."""
        self.add(leaf_hashes(batch))

    def _push(self, size: int, node: bytes) -> None:
        self._stack.append((size, node))
        while len(self._stack) >= 2 and self._stack[-1][0] == self._stack[-2][0]:
            (n, right), (_, left) = self._stack.pop(), self._stack.pop()
            self._stack.append((2 * n, merkle.node_hash(left, right)))

    def root(self) -> bytes:
        """The ordered digest of every row so far (v1: MTH; SHA-256("") for none in both)."""
        if not self.merkle:
            return self._chain.digest()
        hashes = [h for _, h in self._stack]
        m = len(self._pending) // merkle.HASH_SIZE
        if m:
            node = merkle.levels_node(merkle.build_levels(bytes(self._pending)))
            hashes += [node(level, idx) for level, idx in merkle.aligned_pieces(0, m)]
        return merkle.fold(hashes)

    def set_digest(self) -> bytes:
        """Order-free digest: the four little-endian 64-bit lane sums of all leaf hashes."""
        return self._lanes.astype("<u8").tobytes()

    def to_json(self) -> dict[str, Any]:
        """``{"rows", "row_root", "row_set"}`` as stored in the manifest."""
        return {
            "rows": self.count,
            "row_root": self.root().hex(),
            "row_set": self.set_digest().hex(),
        }


def digest_table(table: pa.Table, batch_rows: int = 65_536) -> RowDigest:
    """The :class:`RowDigest` of a whole table (convenience for checks and tests)."""
    d = RowDigest()
    for batch in table.to_batches(max_chunksize=batch_rows):
        d.add_batch(batch)
    return d
