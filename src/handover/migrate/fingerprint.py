"""What a resumed migration checks: a fingerprint of the rows already copied.

Every checkpoint records, with the last key, how many rows of the table were delivered
so far and the sum of a 64-bit hash of each of them. A resumed run reads those rows of
the source again (the first ``rows`` in key order) and compares: a source that changed
between the interruption and the resume (rows updated, deleted or inserted in the part
already copied) gives another fingerprint, and that table is copied again from the start.

The hash is no security measure (the checkpoint sits in the target, which the copy
trusts anyway): it is a change detector, vectorised over Arrow batches with numpy, the
same for the same rows however they are cut into batches. Each value is reduced to 64
bits (fixed-width values and decimals by their bits, text and bytes by a polynomial over
their bytes), the columns are mixed into one row hash, and the row hashes are summed
modulo 2^64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

try:
    from handover.migrate import _polyhash
except ImportError:  # not built (no C compiler at install): numpy computes the same
    _polyhash = None  # type: ignore[assignment]


def polyhash_built() -> bool:
    """Whether the C module ``_polyhash`` was built (:func:`_bytes_hash` uses it)."""
    return _polyhash is not None


_U64 = np.uint64
_P = _U64(0x100000001B3)  # odd: every power is distinct modulo 2^64
_NULL = _U64(0x9E3779B97F4A7C15)
_COL = _U64(0xC2B2AE3D27D4EB4F)
_M1 = _U64(0xBF58476D1CE4E5B9)
_M2 = _U64(0x94D049BB133111EB)

#: bytes weighted per step of the table below; P^k and P^-k for k < _CHUNK
_CHUNK = 1 << 16
_MOD = 1 << 64
_INV = pow(int(_P), -1, _MOD)


def _table(base: int, n: int) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """base^k modulo 2^64 for k < n."""
    out = np.empty(n, dtype=np.uint64)
    out[0] = 1
    if n > 1:
        with np.errstate(over="ignore"):
            out[1:] = np.cumprod(np.full(n - 1, _U64(base), dtype=np.uint64))
    return out


_POW = _table(int(_P), _CHUNK)
_INV_POW = _table(_INV, _CHUNK)
_POW_CHUNK = pow(int(_P), _CHUNK, _MOD)
_INV_CHUNK = pow(_INV, _CHUNK, _MOD)


def _mix(z: np.ndarray[Any, np.dtype[np.uint64]]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """splitmix64's finaliser, element-wise (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> _U64(30))) * _M1
        z = (z ^ (z >> _U64(27))) * _M2
        return z ^ (z >> _U64(31))


def _bytes_hash(arr: pa.Array) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """Σ byte·P^(position within the value) modulo 2^64 of each value, plus its length.

    The bytes of the batch are weighted by P^(position in the batch) chunk by chunk
    (two passes over the bytes), summed per value, then each sum is brought back to the
    value's own first byte by P^-(its start).
    """
    a = arr.cast(pa.large_binary())
    n = len(a)
    offsets = np.frombuffer(a.buffers()[1], dtype=np.int64)[a.offset : a.offset + n + 1]
    data = a.buffers()[2]
    if _polyhash is not None:  # the same numbers in one pass over the bytes, in C
        body = memoryview(data) if data is not None else memoryview(b"")
        done = _polyhash.hashes(offsets.data, body, n, int(_COL), int(_P))
        return np.frombuffer(done, dtype="<u8").astype(np.uint64)
    lengths = np.diff(offsets)
    out = lengths.astype(np.uint64) * _COL  # the length is part of the value
    total = int(offsets[-1] - offsets[0])
    if total == 0 or data is None:
        return out
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]
    weighted = np.empty(total, dtype=np.uint64)
    scale = 1
    with np.errstate(over="ignore"):
        for s in range(0, total, _CHUNK):
            e = min(total, s + _CHUNK)
            np.multiply(raw[s:e], _POW[: e - s], out=weighted[s:e], dtype=np.uint64)
            if s:
                weighted[s:e] *= _U64(scale)
            scale = scale * _POW_CHUNK % _MOD
        starts = (offsets[:-1] - offsets[0])[lengths > 0]
        sums = np.add.reduceat(weighted, starts)
        whole = starts // _CHUNK
        back = _table(_INV_CHUNK, int(whole[-1]) + 1)[whole] * _INV_POW[starts % _CHUNK]
        out[lengths > 0] += sums * back
    return out


_BYTES_TYPES = (
    pa.types.is_binary,
    pa.types.is_large_binary,
    pa.types.is_string,
    pa.types.is_large_string,
)


def _decimal_hash(arr: pa.Array) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """A decimal by its stored unscaled integer (the 4, 8, 16 or 32 little-endian bytes
    of each slot; a null's slot holds anything) and its scale: no text is built."""
    t = arr.type
    width = t.bit_width // 8
    n = len(arr)
    raw = np.frombuffer(arr.buffers()[1], dtype=np.uint8)[arr.offset * width :][: n * width]
    if width < 8:
        words = raw.view(np.uint32).astype(np.uint64).reshape(n, 1)
    else:
        words = raw.view(np.uint64).reshape(n, width // 8)
    with np.errstate(over="ignore"):
        h = np.full(n, _U64(t.scale & 0xFF) * _COL, dtype=np.uint64)
        for k in range(words.shape[1]):
            h = _mix(h * _P + words[:, k])
    return h


def _value_hash(arr: pa.Array) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """64 bits per value of ``arr`` (nulls: a constant)."""
    t = arr.type
    if any(f(t) for f in _BYTES_TYPES):
        h = _bytes_hash(arr)
    elif pa.types.is_floating(t):
        vals = pc.fill_null(arr.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False)
        h = np.ascontiguousarray(vals, dtype=np.float64).view(np.uint64).copy()
    elif pa.types.is_boolean(t):
        h = pc.fill_null(arr, False).to_numpy(zero_copy_only=False).astype(np.uint64)
    elif pa.types.is_integer(t) or pa.types.is_temporal(t):
        width = t.bit_width
        as_int = arr.view(pa.int64() if width == 64 else pa.int32() if width == 32 else t)
        if not pa.types.is_integer(as_int.type):
            as_int = pc.cast(arr, pa.string())
            return _value_hash(as_int)
        h = pc.fill_null(as_int, 0).to_numpy(zero_copy_only=False).astype(np.int64).view(np.uint64)
    elif pa.types.is_decimal(t):
        h = _decimal_hash(arr)
    else:  # anything else: its text
        h = _bytes_hash(pc.cast(arr, pa.string()))
    if arr.null_count:
        h = np.where(arr.is_null().to_numpy(zero_copy_only=False), _NULL, h)
    return np.asarray(h, dtype=np.uint64)


def row_hashes(batch: pa.RecordBatch) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """One 64-bit hash per row of ``batch``, from every column in order."""
    h = np.zeros(batch.num_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(batch.num_columns):
            h = _mix(h * _COL + _value_hash(batch.column(i)))
    return h


#: the hash this module computes; a checkpoint recorded by another (version 1, before
#: decimals were hashed by their bits, wrote ``rows:hex``) cannot be compared with it
VERSION = 2


@dataclass(frozen=True)
class Fingerprint:
    """Rows delivered so far and the sum of their hashes (modulo 2^64), by the hash of
    ``version``."""

    rows: int = 0
    digest: int = 0
    version: int = VERSION

    def add(self, batch: pa.RecordBatch) -> Fingerprint:
        """This fingerprint extended by the rows of ``batch``."""
        if batch.num_rows == 0:
            return self
        total = int(row_hashes(batch).sum(dtype=np.uint64))
        return Fingerprint(self.rows + batch.num_rows, (self.digest + total) % _MOD)

    def __add__(self, other: Fingerprint) -> Fingerprint:
        """The rows of both."""
        return Fingerprint(self.rows + other.rows, (self.digest + other.digest) % _MOD)

    @property
    def comparable(self) -> bool:
        """Whether this module's hash made it (a recorded one may be older)."""
        return self.version == VERSION

    def encode(self) -> str:
        """Text form for the checkpoint tables: ``rows:`` then the version and the digest
        in hex (16 digits), e.g. ``717020:2…``. Version 1 wrote ``rows:`` and the digest
        alone; its decoder, given this text, reads a digest of 2**64 or more, which no
        sum it computes equals, so an older handover resuming starts the table over
        instead of failing."""
        return f"{self.rows}:{self.version:x}{self.digest:016x}"

    @classmethod
    def decode(cls, text: str | None) -> Fingerprint | None:
        """The inverse of :meth:`encode` (version 1's ``rows:hex`` too); None for no
        fingerprint."""
        if not text:
            return None
        rows, tail = text.split(":", 1)
        return cls(int(rows), int(tail[-16:], 16), int(tail[:-16] or "1", 16))
