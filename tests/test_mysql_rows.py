"""The C reader of MySQL/MariaDB text-protocol rows (``handover.db._mysql_rows``) and its
driver side (``handover.db.mysql_native``).

Packets are built here from the protocol's definition (length-encoded strings, 0xFB for
NULL, 0xFE EOF, 0xFF error, a 0xFFFFFF payload continued in the next packet) and read
back split at every byte; against the server, what the module reads equals what PyMySQL
reads by itself, and the connection behaves after an error and after an early stop.
"""

from __future__ import annotations

import struct
from typing import Any

import pyarrow as pa
import pytest
from tests.conftest import require_built

from handover.db import mysql_native


@pytest.fixture(autouse=True)
def _built() -> None:
    require_built(mysql_native.built(), "handover.db._mysql_rows", "C compiler")


MAX = 0xFFFFFF


def lenenc(n: int) -> bytes:
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def row_payload(values: list[bytes | None]) -> bytes:
    return b"".join(b"\xfb" if v is None else lenenc(len(v)) + v for v in values)


def packets(payload: bytes, seq: int) -> tuple[bytes, int]:
    """``payload`` framed as the protocol frames it (several packets past 0xFFFFFF)."""
    out = b""
    while True:
        part, payload = payload[:MAX], payload[MAX:]
        out += struct.pack("<I", len(part))[:3] + bytes([seq]) + part
        seq = (seq + 1) & 0xFF
        if len(part) < MAX:
            return out, seq


def stream(rows: list[list[bytes | None]], seq: int = 3, end: bytes | None = None) -> bytes:
    out = b""
    for r in rows:
        framed, seq = packets(row_payload(r), seq)
        out += framed
    framed, _ = packets(b"\xfe\x02\x00\x22\x00" if end is None else end, seq)
    return out + framed


def read_all(data: bytes, ncols: int, *, split: int | None = None, seq: int = 3) -> Any:
    """Every row of ``data``, fed in pieces of ``split`` bytes (all at once: None), as
    Python lists per column; with the state and extra of the last call."""
    from handover.db import _mysql_rows

    buf = bytearray()
    start, fed = 0, 0
    cols: list[list[bytes | None]] = [[] for _ in range(ncols)]
    while True:
        start, seq, n, state, extra, parts = _mysql_rows.rows(buf, start, seq, ncols, 7, 1 << 20)
        for c, (valid, offs, body, nulls) in enumerate(parts):
            arr = pa.Array.from_buffers(
                pa.binary(),
                n,
                [
                    None if valid is None else pa.py_buffer(valid),
                    pa.py_buffer(offs),
                    pa.py_buffer(body),
                ],
                null_count=nulls,
            )
            arr.validate(full=True)
            cols[c].extend(arr.to_pylist())
        if state:
            assert start == len(data)
            return cols, state, extra
        if n == 0:
            assert fed < len(data), "a complete stream must end"
            step = len(data) if split is None else split
            buf += data[fed : fed + step]
            fed += step


ROWS: list[list[bytes | None]] = [
    [b"1", b"", None],
    [None, b"x" * 250, b"\x00\xff"],
    [b"2", b"y" * 251, "中文😀".encode()],
    [b"3", b"z" * 70_000, b","],  # a 3-byte length
    [None, None, None],
]


def test_rows_known_answer_split_anywhere() -> None:
    data = stream(ROWS)
    want = [list(col) for col in zip(*ROWS, strict=True)]
    for split in (None, 1, 2, 3, 5, 4096):
        cols, state, extra = read_all(data, 3, split=split)
        assert cols == want, split
        assert state == 1 and extra == (2, 0x22)  # warnings, server status


def test_eight_byte_lengths_and_a_row_over_several_packets() -> None:
    big = bytes(range(256)) * (MAX // 256 + 300)  # longer than one packet's payload
    exact = b"q" * (MAX - 5)  # the payload is exactly 0xFFFFFF: an empty packet follows
    rows: list[list[bytes | None]] = [[big, b"a"], [exact, None], [b"", b"b"]]
    assert len(row_payload(rows[1])) == MAX
    data = stream(rows, seq=250)  # the sequence number wraps past 255
    cols, state, _ = read_all(data, 2, split=1 << 20, seq=250)
    assert cols == [[big, exact, b""], [b"a", None, b"b"]]
    assert state == 1
    # a length written in the 8-byte form
    one = b"\xfe" + struct.pack("<Q", 3) + b"abc"
    framed, seq = packets(one, 0)
    cols, _, _ = read_all(framed + packets(b"\xfe\x00\x00\x00\x00", seq)[0], 1, seq=0)
    assert cols == [[b"abc"]]


def test_the_server_error_is_handed_back() -> None:
    err = b"\xff\x42\x05#42000Subquery returns more than 1 row"
    cols, state, extra = read_all(stream(ROWS[:2], end=err), 3)
    assert state == 2 and extra == err
    assert cols[0] == [b"1", None]


@pytest.mark.parametrize(
    ("data", "columns", "problem"),
    [
        (b"\x02\x00\x00\x04\x01a", 1, "out of sequence"),  # expected sequence number 3
        (b"\x03\x00\x00\x03\x05ab", 1, "does not parse"),  # a length past the payload
        (b"\x04\x00\x00\x03\x01ab\x00", 1, "does not parse"),  # bytes after the last column
        (b"\x04\x00\x00\x03\x01a\xff\x01", 2, "does not parse"),  # 0xFF is no length
        (b"\x03\x00\x00\x03\x01a\xfc", 2, "does not parse"),  # a length cut short
        (b"\x02\x00\x00\x03\x01a", 2, "does not parse"),  # a column missing
        (b"\x00\x00\x00\x03", 1, "empty packet"),
    ],
)
def test_packets_that_do_not_parse_are_refused(data: bytes, columns: int, problem: str) -> None:
    from handover.db import _mysql_rows

    with pytest.raises(ValueError, match=problem) as info:
        _mysql_rows.rows(bytearray(data), 0, 3, columns, 10, 1 << 20)
    assert "ab" not in str(info.value)  # no value in the message


def test_limits_of_one_call() -> None:
    from handover.db import _mysql_rows

    data = bytearray(stream([[b"%d" % i] for i in range(10)]))
    end, seq, n, state, _, _ = _mysql_rows.rows(data, 0, 3, 1, 4, 1 << 20)
    assert (n, state, seq) == (4, 0, 7)
    end, seq, n, state, _, cols = _mysql_rows.rows(data, end, seq, 1, 100, 1)  # 1 byte: 1 row
    assert (n, state) == (1, 0) and cols[0][2] == b"4"
    end, seq, n, state, _, _ = _mysql_rows.rows(data, end, seq, 1, 100, 1 << 20)
    assert (n, state, end) == (5, 1, len(data))
    with pytest.raises(ValueError, match="out of range"):
        _mysql_rows.rows(data, len(data) + 1, 3, 1, 10, 10)


# --- against the server ----------------------------------------------------------------


def _conn(url: str) -> Any:
    import pymysql
    import sqlalchemy as sa

    u = sa.engine.make_url(url)
    return pymysql.connect(
        host=u.host, port=u.port or 3306, user=u.username, database=u.database, charset="utf8mb4"
    )


def test_rows_equal_the_drivers_own(mariadb_url: str) -> None:
    conn = _conn(mariadb_url)
    try:
        cur = conn.cursor()
        cur.execute(
            "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(40), b LONGBLOB, d DOUBLE, "
            "dt DATETIME(6), m DECIMAL(20,4))"
        )
        values = [
            (i, ["", None, "a,b\n", "中文😀", "\\N"][i % 5], bytes([i % 256]) * (i * 997 % 300_000),
             i / 7, f"2024-01-{i % 28 + 1:02d} 01:02:03.{i:06d}", f"{i}.5")
            for i in range(1, 400)
        ]  # fmt: skip
        cur.executemany("INSERT INTO t VALUES (%s, %s, %s, %s, %s, %s)", values)
        conn.commit()
        cur.execute("SELECT CAST(id AS CHAR), s, b, CAST(d AS CHAR), CAST(dt AS CHAR), CAST(m AS CHAR) FROM t ORDER BY id")  # fmt: skip
        want = [
            [None if v is None else v if isinstance(v, bytes) else v.encode() for v in r]
            for r in cur.fetchall()
        ]
        got: list[list[Any]] = []
        sizes = []
        for arrays in mysql_native.batches(conn, "SELECT * FROM t ORDER BY id", 6, 64):
            sizes.append(len(arrays[0]))
            got.extend(list(r) for r in zip(*(a.to_pylist() for a in arrays), strict=True))
        assert got == want
        assert max(sizes) == 64 and sum(sizes) == 399
        cur.execute("SELECT 1")  # the connection goes on
        assert cur.fetchall() == ((1,),)
    finally:
        conn.close()


def test_a_server_error_mid_result_leaves_the_connection_usable(mariadb_url: str) -> None:
    import pymysql

    conn = _conn(mariadb_url)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE u (k INT)")
        cur.execute("CREATE TABLE u2 (k INT)")
        cur.executemany("INSERT INTO u VALUES (%s)", [(i,) for i in range(2000)])
        # the subquery of row 1,500 finds two rows: the server fails after sending rows
        cur.executemany("INSERT INTO u2 VALUES (%s)", [(i,) for i in range(2000)] + [(1500,)])
        conn.commit()
        got = 0
        sql = "SELECT k, (SELECT k FROM u2 WHERE u2.k = u.k) FROM u"
        with pytest.raises(pymysql.err.OperationalError, match="more than 1 row"):
            for arrays in mysql_native.batches(conn, sql, 2, 100):
                got += len(arrays[0])
        assert got >= 100
        cur.execute("SELECT 2")
        assert cur.fetchall() == ((2,),)
    finally:
        conn.close()


def test_stopping_early_closes_the_connection(mariadb_url: str) -> None:
    conn = _conn(mariadb_url)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE v (k INT)")
        cur.executemany("INSERT INTO v VALUES (%s)", [(i,) for i in range(5000)])
        conn.commit()
        it = mysql_native.batches(conn, "SELECT k FROM v", 1, 100)
        assert len(next(it)[0]) == 100
        it.close()
        assert not conn.open  # the rest of the result is never read
    finally:
        if conn.open:
            conn.close()


# --- scan, seal and dd-extract read a MariaDB source through it ------------------------


def test_a_source_reads_the_same_as_through_the_driver(
    mariadb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole tables, keyed pages after a key, and samples of every column type read the
    same through the C module as through PyMySQL's rows, except what the driver spells
    its own way: a TIME (the server's text ``-12:00:00.500000``, not Python's
    ``-1 day, 11:59:59.5``) and the zero YEAR (``0000``, not ``0``)."""
    from tests.test_migrate_mysql_text import EVERY_TYPE, _fill, _rows

    from handover.db.dialects.mysql import MySQL
    from handover.sources import open_source

    _fill(mariadb_url, EVERY_TYPE, "every_type", _rows())

    def reads() -> list[pa.Table]:
        with open_source(mariadb_url) as src:
            first = pa.Table.from_batches(list(src.batches("every_type", batch_size=7)))
            after = list(src.batches("every_type", batch_size=5, order_by=["id"], after=[3]))
            return [first, pa.Table.from_batches(after), src.sample("every_type", 10, seed=3)]

    native = reads()
    monkeypatch.setattr(MySQL, "copies_out", False)
    driver = reads()
    for a, b in zip(native, driver, strict=True):
        assert a.schema == b.schema and a.num_rows == b.num_rows > 0
        for name in a.column_names:
            if name not in ("tm", "y"):
                assert a.column(name).equals(b.column(name)), name
        tm = [v for v in a.column("tm").to_pylist() if v is not None]
        assert tm and all(":" in v and "day" not in v for v in tm)
        ys = dict(zip(a.column("y").to_pylist(), b.column("y").to_pylist(), strict=True))
        assert all(k == v or (k, v) == ("0000", "0") for k, v in ys.items())
    assert native[0].num_rows == 39 and native[1].column("id").to_pylist()[0] == 4


def test_a_zero_date_is_refused_naming_its_column(mariadb_url: str) -> None:
    from handover.errors import BadInput
    from handover.sources import open_source

    conn = _conn(mariadb_url)
    try:
        cur = conn.cursor()
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute("CREATE TABLE z (id INT PRIMARY KEY, d DATE)")
        good = ", ".join(f"({i}, '2024-01-0{i}')" for i in range(1, 8))
        cur.execute(f"INSERT INTO z VALUES {good}, (8, '0000-00-00'), (9, '2024-02-01')")
        conn.commit()
    finally:
        conn.close()
    with open_source(mariadb_url) as src:
        for read in (
            lambda: src.batches("z", batch_size=3),  # the whole table: its row 8
            lambda: src.batches("z", batch_size=3, order_by=["id"]),  # pages from the start
        ):
            with pytest.raises(BadInput) as info:
                list(read())
            text = str(info.value)
            assert "row 8: column 'd'" in text and "0000-00-00" in text, text
            assert "\n" not in text
        with pytest.raises(BadInput) as info:  # after a key: no row number
            list(src.batches("z", batch_size=3, order_by=["id"], after=[2]))
        assert "row" not in str(info.value).split("column")[0]
