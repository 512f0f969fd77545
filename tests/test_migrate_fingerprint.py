"""The resume fingerprint (handover.migrate.fingerprint): the same rows give the same
fingerprint however they are cut into batches, and any changed value gives another."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pyarrow as pa
import pytest

from handover.migrate.fingerprint import Fingerprint, row_hashes

DECIMALS = [
    Decimal("0.00"),
    Decimal("1.50"),
    Decimal("-1.50"),
    Decimal("123456789012.34"),
    Decimal("-0.01"),
    None,
    Decimal("99999999999999.99"),
]


def _batch(values: Sequence[object], t: pa.DataType) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array(range(len(values)), pa.int64()), pa.array(values, t)], names=["id", "v"]
    )


def _of(batches: list[pa.RecordBatch]) -> Fingerprint:
    fp = Fingerprint()
    for b in batches:
        fp = fp.add(b)
    return fp


#: every decimal width this pyarrow has (decimal32/64 arrived after pyproject's floor)
WIDTHS = [
    pytest.param(make(*args), id=name)
    for name, args in (
        ("decimal128", (16, 2)),
        ("decimal256", (40, 2)),
        ("decimal64", (16, 2)),
        ("decimal32", (9, 2)),
    )
    if (make := getattr(pa, name, None)) is not None
]


@pytest.mark.parametrize("t", WIDTHS)
def test_decimals_every_width_cut_anyhow_and_changed(t: pa.DataType) -> None:
    values = [v for v in DECIMALS if v is None or abs(v) < 10**6 or t.bit_width > 32]
    whole = _batch(values, t)
    one = _of([whole])
    assert one.rows == len(values)
    # cut into pieces (slices: a non-zero array offset) gives the same fingerprint
    assert _of([whole.slice(0, 2), whole.slice(2, 3), whole.slice(5)]) == one
    assert _of([whole.slice(i, 1) for i in range(len(values))]) == one
    assert len(set(row_hashes(whole).tolist())) == len(values)
    # every single changed value changes it: a cent, the sign, NULL against zero
    for i, v in enumerate(values):
        others = (
            [Decimal("0.00"), Decimal("0.01")] if v is None else [v - Decimal("0.01"), -v, None]
        )
        for other in others:
            if other == v:
                continue
            changed = list(values)
            changed[i] = other
            assert _of([_batch(changed, t)]) != one, (i, v, other)


def test_a_null_slot_is_the_null_hash_whatever_its_bytes() -> None:
    # A null decimal built with a value behind it hashes as any other null.
    valid = pa.array([Decimal("7.00"), Decimal("0.00")], pa.decimal128(10, 2))
    with_bytes = pa.Array.from_buffers(
        valid.type, 2, [pa.py_buffer(b"\x02"), valid.buffers()[1]], null_count=1
    )
    plain = pa.array([None, Decimal("0.00")], pa.decimal128(10, 2))
    assert with_bytes.to_pylist() == plain.to_pylist()
    a = pa.RecordBatch.from_arrays([with_bytes], names=["v"])
    b = pa.RecordBatch.from_arrays([plain], names=["v"])
    assert row_hashes(a).tolist() == row_hashes(b).tolist()


def test_the_scale_is_part_of_a_decimal() -> None:
    # 150 unscaled is 1.50 at scale 2 and 15.0 at scale 1: not the same value.
    a = pa.array([Decimal("1.50")], pa.decimal128(10, 2))
    b = pa.array([Decimal("15.0")], pa.decimal128(10, 1))
    assert (
        row_hashes(pa.RecordBatch.from_arrays([a], names=["v"])).tolist()
        != row_hashes(pa.RecordBatch.from_arrays([b], names=["v"])).tolist()
    )


@pytest.mark.parametrize(
    ("values", "t", "other"),
    [
        (["张三", "", None, "a,b"], pa.string(), "张四"),
        ([b"\x00", b"", None], pa.binary(), b"\x01"),
        ([1, -1, None, 2**40], pa.int64(), 3),
        ([1.5, -0.0, None], pa.float64(), 0.0),
        ([True, False, None], pa.bool_(), None),
        ([dt.date(2020, 1, 2), None], pa.date32(), dt.date(2020, 1, 3)),
        ([dt.datetime(2020, 1, 2, 3, 4, 5, 6), None], pa.timestamp("us"), dt.datetime(2020, 1, 2)),
        ([dt.time(1, 2, 3), None], pa.time64("us"), dt.time(1, 2, 4)),
    ],
)
def test_other_kinds_cut_anyhow_and_changed(
    values: list[object], t: pa.DataType, other: object
) -> None:
    whole = _batch(values, t)
    one = _of([whole])
    assert _of([whole.slice(i, 1) for i in range(len(values))]) == one
    changed = [other, *values[1:]]
    assert _of([_batch(changed, t)]) != one


def test_the_text_form_round_trips_and_an_older_reader_sees_no_match() -> None:
    fp = Fingerprint(717020, 0xFEDCBA9876543210)
    text = fp.encode()
    assert text == "717020:2fedcba9876543210"
    assert Fingerprint.decode(text) == fp and fp.comparable
    assert Fingerprint.decode("717020:0000000000000001") == Fingerprint(717020, 1, version=1)
    assert not Fingerprint.decode("717020:0000000000000001").comparable  # type: ignore[union-attr]
    assert Fingerprint.decode(None) is None and Fingerprint.decode("") is None
    # version 1's decoder (rows, digest = text.split(":", 1); int(digest, 16)) reads a
    # digest no sum modulo 2**64 equals: its resume starts the table over, no error
    rows, digest = text.split(":", 1)
    assert int(rows) == 717020 and int(digest, 16) >= 2**64


def test_the_c_pass_gives_the_numbers_of_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-value hash of text and bytes from the C module ``_polyhash`` equals
    numpy's passes (a resumed run compares it with a checkpoint either may have written)
    and the formula (length·COL + Σ byte·P^position, modulo 2^64), on values across the
    64 KiB steps of numpy's table, Chinese text, empty values, nulls and slices."""
    import random

    from tests.conftest import require_built

    from handover.migrate import fingerprint

    require_built(
        fingerprint.polyhash_built(), "handover.migrate._polyhash", "C compiler at install"
    )
    value = "交接ab"
    want = len(value.encode()) * int(fingerprint._COL)
    for k, byte in enumerate(value.encode()):
        want += byte * pow(int(fingerprint._P), k, 1 << 64)
    assert int(fingerprint._bytes_hash(pa.array([value]))[0]) == want % (1 << 64)
    rng = random.Random(11)
    values = [
        None if rng.random() < 0.1 else rng.choice(["", "张三丰", "x" * rng.randint(0, 70_000)])
        for _ in range(600)
    ]
    arrays = [pa.array(values), pa.array(values, pa.large_string()).slice(13, 300)]
    arrays.append(pa.array([rng.randbytes(rng.randint(0, 50)) for _ in range(99)]).slice(1))
    fast = [fingerprint._bytes_hash(a) for a in arrays]
    batch = _batch(values, pa.string())
    fast_rows = row_hashes(batch)
    monkeypatch.setattr(fingerprint, "_polyhash", None)
    for a, got in zip(arrays, fast, strict=True):
        assert (fingerprint._bytes_hash(a) == got).all()
    assert (row_hashes(batch) == fast_rows).all()
