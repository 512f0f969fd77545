"""PostgreSQL's binary COPY rows built in C (``handover.db._pgcopy``): known-answer
vectors that PostgreSQL's own ``numeric_send`` printed; every value of every kind against
the server's ``*_send`` function of the same value (byte for byte); a COPY of the rows
read back equal; short buffers, bad offsets and unknown kinds refused naming the column
and no value."""

from __future__ import annotations

import datetime as dt
import decimal
import random
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from tests.conftest import PG_ADMIN, _server_db, require_built

from handover.db import pgcopy


@pytest.fixture(autouse=True)
def _built() -> None:
    require_built(pgcopy.built(), "handover.db._pgcopy", "C compiler")


def _fields(body: bytes, ncols: int) -> Iterator[list[bytes | None]]:
    """The rows of a binary COPY's data, each a list of its fields' bytes (None: NULL)."""
    i = 0
    while i < len(body):
        assert int.from_bytes(body[i : i + 2], "big") == ncols
        i += 2
        row: list[bytes | None] = []
        for _ in range(ncols):
            n = int.from_bytes(body[i : i + 4], "big", signed=True)
            i += 4
            if n < 0:
                row.append(None)
                continue
            row.append(body[i : i + n])
            i += n
        yield row


def _one(arr: pa.Array) -> list[bytes | None]:
    return [r[0] for r in _fields(pgcopy.rows([arr]), 1)]


# --- known answers, no server ----------------------------------------------------------------

# numeric_send of these numeric(18,2) values, as PostgreSQL 15 printed them
NUMERIC_KAT = [
    ("123456.70", "0003000100000002000c0d801b58"),
    ("-0.05", "0001ffff4000000201f4"),
    ("0", "0000000000000002"),
    ("10000.00", "00010001000000020001"),
]


def test_numerics_are_what_numeric_send_writes() -> None:
    values = [decimal.Decimal(v) for v, _ in NUMERIC_KAT]
    got = _one(pa.array(values, pa.decimal128(18, 2)))
    assert [g.hex() if g is not None else None for g in got] == [h for _, h in NUMERIC_KAT]


def test_fixed_width_kinds_and_nulls() -> None:
    cols = [
        pa.array([True, None, False]),
        pa.array([-2, 1, None], pa.int16()),
        pa.array([None, 2**31 - 1, -1], pa.int32()),
        pa.array([-(2**63), None, 1], pa.int64()),
        pa.array([1.5, None, -0.0], pa.float32()),
        pa.array([None, 0.1, float("inf")], pa.float64()),
        pa.array([dt.date(2000, 1, 1), dt.date(1999, 12, 31), None], pa.date32()),
        pa.array([dt.datetime(2000, 1, 1), None, dt.datetime(1970, 1, 1)], pa.timestamp("us")),
        pa.array([dt.time(0, 0, 1), None, dt.time(23, 59, 59, 999999)], pa.time64("us")),
        pa.array(["张三", "", None]),
        pa.array([b"\x00\xff", None, b""], pa.large_binary()),
    ]
    rows = list(_fields(pgcopy.rows(cols), len(cols)))
    assert rows[0] == [
        b"\x01",
        b"\xff\xfe",
        None,
        b"\x80" + bytes(7),
        bytes.fromhex("3fc00000"),
        None,
        bytes(4),  # 2000-01-01: day 0
        bytes(8),  # 2000-01-01 00:00: microsecond 0
        (10**6).to_bytes(8, "big"),
        "张三".encode(),
        b"\x00\xff",
    ]
    assert rows[1][1:4] == [b"\x00\x01", b"\x7f\xff\xff\xff", None]
    assert rows[1][6] == b"\xff\xff\xff\xff"  # 1999-12-31: day -1
    assert rows[1][9] == b"" and rows[1][10] is None  # empty text is no NULL
    assert rows[2][0] == b"\x00" and rows[2][4] == bytes.fromhex("80000000")
    assert rows[2][7] == (-946684800 * 10**6).to_bytes(8, "big", signed=True)
    assert rows[2][8] == (86400 * 10**6 - 1).to_bytes(8, "big")


def test_slices_read_from_their_offset() -> None:
    """An array sliced from a larger one (an Arrow offset into its buffers and validity
    bits) gives the values of the slice."""
    base = [None if i % 3 == 0 else i for i in range(40)]
    for make in (
        lambda v: pa.array(v, pa.int32()),
        lambda v: pa.array([None if x is None else f"v{x}" for x in v]),
        lambda v: pa.array([None if x is None else x % 2 == 0 for x in v]),
        lambda v: pa.array([None if x is None else decimal.Decimal(x) / 100 for x in v]),
    ):
        whole = make(base)
        for start in (1, 7, 9, 13):
            part = whole.slice(start, 17)
            assert _one(part) == _one(make(base[start : start + 17])), (whole.type, start)


def test_bad_input_is_refused_by_column_and_never_a_value() -> None:
    from handover.db import _pgcopy

    good = pa.array([1, 2, 3], pa.int32())
    with pytest.raises(ValueError, match="column 2: a values buffer shorter than its rows"):
        four = pa.array([1, 2, 3, 4], pa.int32()).buffers()[1]
        _pgcopy.rows([("i", 0, None, 0, four, None), ("i", 0, None, 0, good.buffers()[1], None)], 4)
    with pytest.raises(ValueError, match="column 1: an unknown kind"):
        _pgcopy.rows([("x", 0, None, 0, good.buffers()[1], None)], 3)
    with pytest.raises(ValueError, match="column 1: an unknown kind"):
        _pgcopy.rows([("N", 39, None, 0, bytes(48), None)], 3)
    text = pa.array(["secret-value"])
    offsets = (0).to_bytes(4, "little") + (99).to_bytes(4, "little")
    with pytest.raises(ValueError, match="column 1: text offsets outside their data") as err:
        _pgcopy.rows([("s", 0, None, 0, offsets, text.buffers()[2])], 1)
    assert "secret" not in str(err.value)
    with pytest.raises(ValueError, match="column 1: text without its data buffer"):
        _pgcopy.rows([("s", 0, None, 0, offsets, None)], 1)
    with pytest.raises(ValueError, match="validity bitmap shorter"):
        _pgcopy.rows([("i", 0, b"\xff", 0, bytes(64), None)], 9)
    with pytest.raises(ValueError, match="a date before PostgreSQL's epoch arithmetic"):
        _pgcopy.rows([("D", 0, None, 0, (-(2**31)).to_bytes(4, "little", signed=True), None)], 1)
    with pytest.raises(ValueError, match="a timestamp before"):
        _pgcopy.rows([("T", 0, None, 0, (-(2**63)).to_bytes(8, "little", signed=True), None)], 1)
    with pytest.raises(ValueError, match="no binary form for"):
        pgcopy.rows([pa.array([1], pa.uint64())])
    assert (
        pgcopy.code_of(pa.timestamp("ns")) is None and pgcopy.code_of(pa.decimal256(40, 2)) is None
    )


# --- against PostgreSQL's own send functions ---------------------------------------------------


@pytest.fixture
def pg() -> Iterator[Any]:
    import psycopg

    made = _server_db(PG_ADMIN, "PostgreSQL at 127.0.0.1:5432", "ho_test_pgcopy")
    url = next(made)
    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    try:
        yield conn
    finally:
        conn.close()
        made.close()  # the database dropped


def _decimals(rng: random.Random, precision: int, scale: int) -> list[decimal.Decimal]:
    out = [
        decimal.Decimal(0),
        decimal.Decimal(1).scaleb(-scale),
        decimal.Decimal(10**precision - 1).scaleb(-scale),
        -decimal.Decimal(10**precision - 1).scaleb(-scale),
    ]
    for _ in range(300):
        digits = rng.randint(1, precision)
        u = rng.randrange(10**digits)
        if rng.random() < 0.3:  # runs of zeros, where base-10000 digits are dropped
            keep = max(1, digits // rng.randint(2, 4))
            u = int(str(u)[:keep].ljust(digits, "0"))
        out.append(decimal.Decimal(u).scaleb(-scale) * rng.choice((1, -1)))
    return out


@pytest.mark.parametrize(
    ("precision", "scale"),
    [
        (12, 2),
        (14, 2),
        (6, 4),
        (18, 3),
        (1, 0),
        (9, 9),
        (20, 5),
        (30, 7),
        (38, 0),
        (38, 10),
        (38, 38),
    ],
)
def test_every_numeric_is_what_the_server_sends(pg: Any, precision: int, scale: int) -> None:
    decimal.getcontext().prec = 80
    values = _decimals(random.Random(precision * 100 + scale), precision, scale)
    ours = _one(pa.array(values, pa.decimal128(precision, scale)))
    theirs = pg.execute(
        f"SELECT numeric_send(x::numeric({precision},{scale})) "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS t(x, o) ORDER BY o",
        ([str(v) for v in values],),
    ).fetchall()
    assert ours == [bytes(r[0]) for r in theirs]


SENDS = [
    ("int2send(x::int2)", pa.int16(), [-32768, 32767, 0, -1, 12]),
    ("int4send(x::int4)", pa.int32(), [-(2**31), 2**31 - 1, 0, -7]),
    ("int8send(x::int8)", pa.int64(), [-(2**63), 2**63 - 1, 0, 10**12]),
    ("float4send(x::float4)", pa.float32(), [0.1, -2.5, 3.4e38, float("inf"), -0.0]),
    ("float8send(x::float8)", pa.float64(), [0.1, -1e-300, 1e308, float("-inf")]),
    ("boolsend(x::bool)", pa.bool_(), [True, False]),
    ("textsend(x::text)", pa.string(), ["", "客户 名", 'a,b\n"c"', "\\N"]),
    (
        "date_send(x::date)",
        pa.date32(),
        [dt.date(1, 1, 1), dt.date(1999, 12, 31), dt.date(9999, 12, 31)],
    ),
    (
        "timestamp_send(x::timestamp)",
        pa.timestamp("us"),
        [
            dt.datetime(1, 1, 1),
            dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
            dt.datetime(2026, 12, 7, 8, 0, 0, 1),
        ],
    ),
    (
        "timestamptz_send(x::timestamptz)",
        pa.timestamp("us", tz="UTC"),
        [
            dt.datetime(1950, 3, 1, 1, 2, 3, tzinfo=dt.UTC),
            dt.datetime(2038, 1, 19, 3, 14, 8, tzinfo=dt.UTC),
        ],
    ),
    (
        "time_send(x::time)",
        pa.time64("us"),
        [dt.time(0), dt.time(12, 34, 56, 789), dt.time(23, 59, 59, 999999)],
    ),
]


@pytest.mark.parametrize(("send", "typ", "values"), SENDS, ids=[s[0].split("(")[0] for s in SENDS])
def test_every_kind_is_what_the_server_sends(
    pg: Any, send: str, typ: pa.DataType, values: list[Any]
) -> None:
    arr = pa.array(values, typ)
    if pa.types.is_floating(typ):
        texts = [repr(float(v)).replace("inf", "Infinity") for v in values]
    elif pa.types.is_timestamp(typ) and typ.tz:
        texts = [v.isoformat() for v in values]
    else:
        texts = [str(v) for v in values]
    theirs = pg.execute(
        f"SELECT {send} FROM unnest(%s::text[]) WITH ORDINALITY AS t(x, o) ORDER BY o", (texts,)
    ).fetchall()
    assert _one(arr) == [bytes(r[0]) for r in theirs]


def test_bytes_are_what_the_server_sends(pg: Any) -> None:
    values = [b"", b"\x00\x01\xff", bytes(range(256))]
    theirs = [bytes(pg.execute("SELECT byteasend(%s::bytea)", (v,)).fetchone()[0]) for v in values]
    assert _one(pa.array(values, pa.binary())) == theirs == values


def test_a_copy_of_the_rows_reads_back_equal(pg: Any) -> None:
    pg.execute(
        "CREATE TABLE t (k integer, b boolean, s smallint, i integer, q bigint, f real, d double precision, "
        "n numeric(14,2), big numeric(38,10), dd date, ts timestamp, tz timestamptz, tm time, "
        "tx text, v varchar(5), c char(3), by bytea)"
    )
    rng = random.Random(5)
    decimal.getcontext().prec = 80
    n = 2000

    def maybe(v: Any) -> Any:
        return None if rng.random() < 0.1 else v

    rows = [
        (
            k,
            maybe(rng.random() < 0.5),
            maybe(rng.randint(-32768, 32767)),
            maybe(rng.randint(-(2**31), 2**31 - 1)),
            maybe(rng.randint(-(2**63), 2**63 - 1)),
            maybe(float(rng.randint(-1000, 1000)) / 8),
            maybe(rng.uniform(-1e9, 1e9)),
            maybe(decimal.Decimal(rng.randint(-(10**12), 10**12)).scaleb(-2)),
            maybe(decimal.Decimal(rng.randint(-(10**38) + 1, 10**38 - 1)).scaleb(-10)),
            maybe(dt.date(1900, 1, 1) + dt.timedelta(days=rng.randint(0, 80000))),
            maybe(dt.datetime(1960, 1, 1) + dt.timedelta(microseconds=rng.randint(0, 3 * 10**15))),
            maybe(
                dt.datetime(1990, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(0, 10**9))
            ),
            maybe(
                dt.time(
                    rng.randint(0, 23),
                    rng.randint(0, 59),
                    rng.randint(0, 59),
                    rng.randint(0, 999999),
                )
            ),
            maybe("".join(rng.choice('张王李abc ,\n"\\') for _ in range(rng.randint(0, 30)))),
            maybe("".join(rng.choice("客户xyz") for _ in range(rng.randint(0, 5)))),
            maybe("".join(rng.choice("中ab") for _ in range(3))),
            maybe(bytes(rng.randrange(256) for _ in range(rng.randint(0, 9)))),
        )
        for k in range(n)
    ]
    types = [
        pa.int32(), pa.bool_(), pa.int16(), pa.int32(), pa.int64(), pa.float32(), pa.float64(),
        pa.decimal128(14, 2), pa.decimal128(38, 10), pa.date32(), pa.timestamp("us"),
        pa.timestamp("us", tz="UTC"), pa.time64("us"), pa.string(), pa.string(),
        pa.large_string(), pa.binary(),
    ]  # fmt: skip
    arrays = [pa.array([r[k] for r in rows], t) for k, t in enumerate(types)]
    with pg.cursor() as cur, cur.copy("COPY t FROM STDIN (FORMAT binary)") as cp:
        cp.write(pgcopy.HEADER)
        cp.write(pgcopy.rows([a.slice(0, 1000) for a in arrays]))
        cp.write(pgcopy.rows([a.slice(1000) for a in arrays]))
        cp.write(pgcopy.TRAILER)
    back = pg.execute("SELECT * FROM t ORDER BY k").fetchall()
    assert back == rows  # a real holds the eighths exactly
