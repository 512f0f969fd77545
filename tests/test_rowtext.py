"""The C module that builds verify's digest texts (``handover.verify._rowtext``): the same
REAL texts (``_g15``) and row texts (``digest_texts``) as the Arrow kernels, value class
by value class, slices and NULLs included, the same refusals, and malformed buffers
refused."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from tests.conftest import require_built

from handover.verify import arrow

try:
    from handover.verify import _rowtext
except ImportError:
    _rowtext = None  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _built() -> None:
    require_built(_rowtext is not None, "handover.verify._rowtext", "C compiler")


def by_kernels(fn, *args):  # type: ignore[no-untyped-def]
    """``fn(*args)`` with arrow.py's Arrow kernels, as where the module was not built."""
    saved = arrow._rowtext
    arrow._rowtext = None  # type: ignore[assignment]
    try:
        return fn(*args)
    finally:
        arrow._rowtext = saved


def test_powers_of_ten_are_the_c_table() -> None:
    # the C table holds the literals 1e0..1e18; numpy's powers must be the same doubles
    assert arrow._POW10_F.tolist() == [float(10**i) for i in range(19)]


@pytest.mark.parametrize(
    ("value", "pad", "text"),
    [
        (0.1, None, "0.1"),
        (1234.5, 2, "1234.50"),
        (1234.5, None, "1234.5"),
        (-0.0, None, "0"),
        (0.0, 2, "0.00"),
        (-12.25, 3, "-12.250"),
        (1e14, None, "100000000000000"),
        (1e-4, None, "0.0001"),
        (123.456, 0, "123.456"),
        (2.0, None, "2"),
        (199.99, 2, "199.99"),
        (0.30000000000000004, None, None),  # 17 digits: left to SQLite
        (1e14 * 1.0000001, None, None),  # above 10^14
        (9.99e-5, None, None),  # below 10^-4
        (float("inf"), None, None),
        (float("nan"), None, None),
    ],
)
def test_known_texts(value: float, pad: int | None, text: str | None) -> None:
    arr = pa.array([value], pa.float64())
    got = arrow._g15(arr, pad)
    assert (None if got is None else got.to_pylist()) == (None if text is None else [text])
    ref = by_kernels(arrow._g15, arr, pad)
    assert (None if ref is None else ref.to_pylist()) == (None if text is None else [text])


def _decimals(rng: random.Random, n: int) -> list[float]:
    """Doubles of decimals with 1 to 15 significant digits at scales 0..18, some signs,
    some zeros, and doubles with more digits than 15 (refused)."""
    out = []
    for _ in range(n):
        digits = rng.randint(1, 15)
        k = rng.randint(10 ** (digits - 1), 10**digits - 1)
        scale = rng.randint(0, 18)
        x = k / 10**scale
        if rng.random() < 0.2:
            x = -x
        out.append(x)
    return out


def test_g15_value_by_value() -> None:
    rng = random.Random(2026)
    values = [*_decimals(rng, 3000), *(rng.uniform(-1e6, 1e6) for _ in range(500))]
    values += [0.0, -0.0, 1e-4, 1e14, 0.00015, 99999999999999.9, 12345678901234.5]
    decided = 0
    for pad in (None, 0, 1, 2, 3):
        for x in values:
            arr = pa.array([x], pa.float64())
            got, ref = arrow._g15(arr, pad), by_kernels(arrow._g15, arr, pad)
            assert (got is None) == (ref is None), (x, pad)
            if got is not None:
                decided += 1
                assert got.to_pylist() == ref.to_pylist(), (x, pad)
    assert decided > 8_000  # the decimals rendered, the random doubles refused


def test_g15_batches_nulls_slices_and_float32() -> None:
    rng = random.Random(7)
    values: list[float | None] = list(_decimals(rng, 5000))
    for i in range(0, len(values), 7):
        values[i] = None
    values = [v for v in values if v is None or 1e-4 <= abs(v) <= 1e14]
    arr = pa.array(values, pa.float64())
    for part in (arr, arr.slice(3, 2000), arr.slice(0, 0)):
        for pad in (None, 2, 3):
            got, ref = arrow._g15(part, pad), by_kernels(arrow._g15, part, pad)
            assert got is not None and ref is not None
            assert got.to_pylist() == ref.to_pylist()
            assert got.null_count == ref.null_count
            got.validate(full=True)
    small = pa.array([1.5, None, 0.25, -3.0], pa.float32())
    got = arrow._g15(small)
    assert got is not None and got.to_pylist() == by_kernels(arrow._g15, small).to_pylist()
    # float32's 1e14 is 100000000376832.0, above 10^14: refused by both
    edge = pa.array([1e14], pa.float32())
    assert arrow._g15(edge) is None and by_kernels(arrow._g15, edge) is None
    # one value it cannot render refuses the whole batch, as the kernels do
    mixed = pa.array([1.5, 0.1 + 0.2], pa.float64())
    assert arrow._g15(mixed) is None and by_kernels(arrow._g15, mixed) is None


def _texts(rng: random.Random, n: int) -> list[str | None]:
    pool = ["", ",", "a,b", "张三", "𠮷野家", "x" * 40, "1.50", "2024-01-02 03:04:05", " "]
    return [
        None
        if rng.random() < 0.15
        else rng.choice(pool) + str(rng.randint(0, 999))[: rng.randint(0, 3)]
        for _ in range(n)
    ]


def test_rows_as_the_kernels_build_them() -> None:
    rng = random.Random(11)
    n = 3000
    columns = [pa.array(_texts(rng, n + 5), pa.string()).slice(5) for _ in range(5)]
    columns.append(pa.nulls(n, pa.string()))
    columns.append(pa.array([str(rng.randint(-(10**6), 10**6)) for _ in range(n)], pa.string()))
    forms: list[tuple[bool, int | None]] = [
        (True, None),
        (False, None),
        (True, None),
        (False, 2),
        (True, 2),
        (False, None),
        (True, None),
    ]
    for commas in ([True] * 7, [False] * 7, [True, False, False, True, True, True, False]):
        got = arrow.digest_texts(columns, forms, n, commas)
        ref = by_kernels(arrow.digest_texts, columns, forms, n, commas)
        got.validate(full=True)
        assert got.null_count == 0
        assert got.to_pylist() == ref.to_pylist()
    # the mark: a checked compact value with a comma or empty, nowhere else
    marked = arrow.digest_texts(
        [pa.array(["a,b", "", None, "ok"]), pa.array(["", ",", "x", None])],
        [(True, None), (False, None)],
        4,
        [True, True],
    )
    assert marked.to_pylist() == ["\x00a,b,0:", "\x00,1:,", ",1:x", "ok,:"]


def test_rows_refuse_what_no_string_array_holds() -> None:
    # the module reads int32 offsets: a large_string column, or one of another length,
    # is left to the kernels
    big = pa.array(["a", None], pa.large_string())
    assert arrow._c_rows([big], [(True, None)], 2, [True]) is None
    assert arrow._c_rows([pa.array(["a"])], [(True, None)], 2, [True]) is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: _rowtext.g15(b"\x00" * 8, b"\x01", 2, -1), "shorter"),
        (lambda: _rowtext.g15(b"\x00" * 8, b"\x01", 1, 4), "pad"),
        (lambda: _rowtext.rows([(None, b"\x00" * 4, b"", 0, True, True)], 1), "offsets"),
        (
            lambda: _rowtext.rows(
                [(None, np.array([0, 9], np.int32).tobytes(), b"abc", 0, True, True)], 1
            ),
            "outside",
        ),
        (
            lambda: _rowtext.rows(
                [(b"", np.array([0, 1], np.int32).tobytes(), b"a", 0, True, True)], 1
            ),
            "validity",
        ),
        (
            lambda: _rowtext.rows(
                [(None, np.array([2, 1], np.int32).tobytes(), b"ab", 0, False, False)], 1
            ),
            "outside",
        ),
        (lambda: _rowtext.rows([], -1), "negative"),
    ],
)
def test_malformed_buffers_are_refused(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


def test_hostile_arguments_raise_instead_of_crashing() -> None:
    """Found by the review under ASan/UBSan: a column whose flags clear the list while it
    is read, offsets at an odd address, a count whose size overflows."""
    offsets = np.array([0, 1], np.int32).tobytes()
    columns: list = []

    class Clears:
        def __bool__(self) -> bool:
            columns.clear()
            return True

    columns += [(None, offsets, b"a", 0, Clears(), False), (None, offsets, b"a", 0, True, False)]
    assert _rowtext.rows(columns, 1) == (np.array([0, 4], np.int32).tobytes(), b"a,a,")
    odd = memoryview(b"\0" + np.array([0, 1, 2], np.int32).tobytes())[1:]
    assert _rowtext.rows([(None, odd, b"ab", 0, False, False)], 2)[1] == b"1:a1:b"
    with pytest.raises(ValueError, match="shorter"):
        _rowtext.g15(b"", b"", 2**60, -1)
    # every row marked and no byte to spare
    assert (
        _rowtext.rows([(None, np.array([0, 0], np.int32).tobytes(), b"", 0, True, True)], 1)[1]
        == b"\x00,"
    )
