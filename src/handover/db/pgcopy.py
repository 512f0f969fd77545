"""PostgreSQL's binary ``COPY`` built from Arrow arrays in C (``handover.db._pgcopy``).

A migration into PostgreSQL sends each batch as one ``COPY … FROM STDIN (FORMAT binary)``
on psycopg's connection: the C module writes every row straight from the arrays' buffers
in the binary form of its column's type, so the server parses no text, and no Python
object is made per value. ADBC's driver did the same with its own C++ writer, which
spends most of its time on decimals (a 128-bit division per base-10000 digit: 225 ns a
value, measured in docs/benchmarks.md); this one divides in 64 bits where the value fits
(every loan amount). Built when a C compiler is present (``make install``); without it
the writes go through ADBC's driver, or a CSV ``COPY`` where that is not installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

try:
    from handover.db import _pgcopy as _native
except ImportError:  # no compiler at install: ADBC's driver or a CSV COPY
    _native = None  # type: ignore[assignment]

#: the binary COPY's signature, flags (none) and header extension length (none)
HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
#: the field count -1 that ends the rows
TRAILER = b"\xff\xff"


def built() -> bool:
    """Whether the C module was built at install."""
    return _native is not None


def code_of(t: pa.DataType) -> str | None:
    """The C module's code of Arrow type ``t`` (None: it has no binary form here):
    ``b`` boolean, ``h`` ``i`` ``q`` 16/32/64-bit integers, ``f`` ``d`` 32/64-bit
    floats, ``s`` ``S`` text or bytes (32/64-bit offsets), ``D`` date32, ``T``
    timestamp[us], ``t`` time64[us], ``N`` decimal128 of a scale 0 to 38."""
    import pyarrow as pa

    simple = {
        pa.bool_(): "b",
        pa.int16(): "h",
        pa.int32(): "i",
        pa.int64(): "q",
        pa.float32(): "f",
        pa.float64(): "d",
        pa.string(): "s",
        pa.binary(): "s",
        pa.large_string(): "S",
        pa.large_binary(): "S",
        pa.date32(): "D",
        pa.time64("us"): "t",
    }
    if t in simple:
        return simple[t]
    if pa.types.is_timestamp(t) and t.unit == "us":
        return "T"  # with or without a zone: microseconds since 1970-01-01 UTC
    if pa.types.is_decimal128(t) and 0 <= t.scale <= 38:
        return "N"
    return None


def rows(arrays: Sequence[pa.Array]) -> bytes:
    """The rows of ``arrays`` (one per column, each of a type :func:`code_of` names), as
    a binary COPY's data between :data:`HEADER` and :data:`TRAILER`; each value in the
    binary form of the PostgreSQL type of its code (the caller matches the columns)."""
    assert _native is not None, "handover.db._pgcopy is not built"
    spec: list[tuple[str, int, Any, int, Any, Any]] = []
    n = len(arrays[0]) if arrays else 0
    for arr in arrays:
        code = code_of(arr.type)
        if code is None or len(arr) != n:
            raise ValueError(f"column {len(spec) + 1}: no binary form for {arr.type}")
        bufs = arr.buffers()
        scale = arr.type.scale if code == "N" else 0
        data = bufs[2] if code in ("s", "S") else None
        spec.append((code, scale, bufs[0] if arr.null_count else None, arr.offset, bufs[1], data))
    return _native.rows(spec, n)
