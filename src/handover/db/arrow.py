"""Arrow helpers the dialects share: binary values as hex text and back, vectorised
with numpy (PostgreSQL's COPY and MariaDB's server-built CSV carry bytes as hex), and a
file over a stream of byte chunks (for pyarrow's CSV reader)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.errors import BadInput
from handover.i18n import Msg

#: the hex digits, by value
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def bytea_hex(arr: pa.Array, prefix: bytes = b"\\x") -> pa.Array:
    """Binary values as hex text after ``prefix`` (PostgreSQL's ``\\x…`` by default), built
    without a per-value loop."""
    arr = pc.cast(arr, pa.large_binary())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    valid = arr.is_valid()
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.empty(0, np.uint8)
    body = data[offsets[0] : offsets[-1]]
    hexed = np.empty(2 * len(body), dtype=np.uint8)
    hexed[0::2] = _HEX[body >> 4]
    hexed[1::2] = _HEX[body & 15]
    lengths = np.diff(offsets)
    out_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(2 * lengths + len(prefix), out=out_offsets[1:])
    out = np.empty(int(out_offsets[-1]), dtype=np.uint8)
    starts = out_offsets[:-1]
    keep = np.ones(len(out), dtype=bool)
    for i, byte in enumerate(prefix):
        keep[starts + i] = False
        out[starts + i] = byte
    out[keep] = hexed
    strings = pa.LargeStringArray.from_buffers(n, pa.py_buffer(out_offsets), pa.py_buffer(out))
    return pc.if_else(valid, strings, pa.scalar(None, pa.large_string()))


def unhex(arr: pa.Array, where: Msg) -> pa.Array:
    """Hex text (PostgreSQL ``encode(bytea, 'hex')``) → the bytes, decoded with numpy."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.string())
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    start, stop = int(offsets[0]), int(offsets[-1])
    data = arr.buffers()[2]
    chars = np.frombuffer(data, dtype=np.uint8)[start:stop] if data is not None else np.zeros(0)
    nibbles = _NIBBLE[chars.astype(np.uint8)]
    rel = offsets - start
    if (rel % 2).any() or (nibbles > 15).any():
        raise BadInput.msg("db.bad_hex", where=where)
    out = (nibbles[0::2] << 4) | nibbles[1::2]
    validity = _validity(arr) if arr.null_count else None
    return pa.Array.from_buffers(
        pa.binary(),
        n,
        [validity, pa.py_buffer((rel // 2).astype(np.int32)), pa.py_buffer(out.astype(np.uint8))],
        null_count=arr.null_count,
    )


def _validity(arr: pa.Array) -> pa.Buffer | None:
    # A fresh bitmap starting at bit 0, whatever the offset of ``arr``.
    import pyarrow.compute as pc

    return pc.is_valid(arr).buffers()[1]


#: the value of each hex digit (255: not a hex digit)
_NIBBLE = np.full(256, 255, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)


class IterReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (for pyarrow's CSV reader)."""

    def __init__(self, chunks: Iterator[Any]) -> None:
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            try:
                self._buf = bytes(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
