"""MariaDB as a migration source: rows travel as the server's text (the text protocol split
in C, or CSV pages the server renders where the C module was not built).

Every MySQL column type is copied into PostgreSQL and SQLite and compared, value by
value, with what the driver reads from the source itself (PyMySQL's own conversion,
independent of the text path); keys of every kind page correctly with tiny batches;
rows larger than the server's packet limit and values that do not fit their type take
their own paths.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import struct
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from handover.cli.main import app

runner = CliRunner()

EVERY_TYPE = """
CREATE TABLE every_type (
  id INT PRIMARY KEY,
  b TINYINT(1), ti TINYINT, si SMALLINT, mi MEDIUMINT UNSIGNED, i INT, bi BIGINT,
  ubi BIGINT UNSIGNED, y YEAR,
  f FLOAT, d DOUBLE, m DECIMAL(14,2), big DECIMAL(65,30), whole DECIMAL(10,0),
  da DATE, dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP(3) NULL DEFAULT NULL, tm TIME(6),
  c CHAR(4), vc VARCHAR(50), lat VARCHAR(20) CHARACTER SET latin1,
  cs VARCHAR(20) COLLATE utf8mb4_bin, gb VARCHAR(20) CHARACTER SET gbk,
  gc VARCHAR(20) COLLATE utf8mb4_general_ci, tx TEXT, lt LONGTEXT,
  e ENUM('甲','b'), st SET('x','y'), j JSON,
  bn BINARY(4), vb VARBINARY(16), bl BLOB, lb LONGBLOB
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
"""

NASTY = ['he said "hi", twice', "a,b\nc\r\nd\re", "", " ", "\\N", "NULL", "😀𠀀中文", "'"]


def _rows() -> list[tuple[Any, ...]]:
    rnd = random.Random(5)
    rows: list[tuple[Any, ...]] = [
        (
            1,
            1,
            -128,
            -32768,
            16777215,
            -(2**31),
            -(2**63),
            2**64 - 1,
            1901,
            0.1,
            0.1,
            Decimal("-999999999999.99"),
            Decimal("12345678901234567890123456789012345.123456789012345678901234567890"),
            Decimal("-9999999999"),
            dt.date(1, 1, 1),
            dt.datetime(9999, 12, 31, 23, 59, 59),
            dt.datetime(2024, 2, 29, 0, 0, 0, 1),
            dt.datetime(2038, 1, 19, 3, 14, 7, 999000),
            dt.timedelta(hours=23, minutes=59, seconds=59, microseconds=999999),
            "ab",
            NASTY[0],
            "åäö",
            "AbC",
            '中文,"引号"',
            "Ab",
            NASTY[1],
            "说明" * 40_000,
            "甲",
            "x,y",
            '{"k": [1, 2.5, "字"], "q": "\\""}',
            b"\x00\x01\x00\x00",
            b"",
            b"\x00\xff\n\r\",'\\",
            bytes(range(256)) * 300,
        ),
        (2, *([None] * 33)),
    ]
    for n in range(3, 40):
        rows.append(
            (
                n,
                n % 2,
                n,
                -n,
                n * 1000,
                n * 7919,
                n * 10**15,
                n,
                1901 + n,
                struct.unpack("f", struct.pack("f", rnd.uniform(-1e6, 1e6)))[0],
                rnd.uniform(-1e300, 1e300) if n % 3 else 1 / 3,
                Decimal(rnd.randint(-(10**14) + 1, 10**14 - 1)) / 100,
                Decimal(rnd.randint(0, 10**40)) / 10**30,
                Decimal(rnd.randint(-(10**9), 10**9)),
                dt.date(2000, 1, 1) + dt.timedelta(days=n * 97),
                dt.datetime(2020, 1, 1) + dt.timedelta(seconds=n * 86_399),
                dt.datetime(2020, 1, 1) + dt.timedelta(microseconds=n * 123_456_789),
                dt.datetime(2001, 1, 1) + dt.timedelta(milliseconds=n * 1_234_567),
                dt.timedelta(seconds=n * 1000, microseconds=n),
                NASTY[n % len(NASTY)][:4],
                NASTY[n % len(NASTY)],
                "ÿ" * (n % 5),
                NASTY[(n + 3) % len(NASTY)],
                "汉字" * (n % 4),
                NASTY[(n + 4) % len(NASTY)],
                NASTY[(n + 1) % len(NASTY)] * 3,
                NASTY[(n + 2) % len(NASTY)],
                "b",
                ["", "x", "y", "x,y"][n % 4],
                json.dumps({"n": n, "s": NASTY[n % len(NASTY)]}, ensure_ascii=False),
                bytes([n, 0, 0, n]),
                bytes([n] * (n % 17)),
                rnd.randbytes(n * 50),
                rnd.randbytes(n),
            )
        )
    return rows


def _maria(url: str) -> Any:
    import pymysql

    u = sa.engine.make_url(url)
    return pymysql.connect(
        host=u.host, port=u.port or 3306, user=u.username, database=u.database, charset="utf8mb4"
    )


def _fill(url: str, ddl: str, table: str, rows: list[tuple[Any, ...]]) -> None:
    conn = _maria(url)
    try:
        cur = conn.cursor()
        cur.execute("SET SESSION time_zone = '+00:00'")
        cur.execute(ddl)
        marks = ", ".join(["%s"] * len(rows[0]))
        for r in rows:
            # Values over 1 MB are appended in pieces: a statement stays small.
            head = [v[: 1 << 20] if isinstance(v, bytes) else v for v in r]
            cur.execute(f"INSERT INTO {table} VALUES ({marks})", head)
            for i, v in enumerate(r):
                if isinstance(v, bytes) and len(v) > 1 << 20:
                    cur.execute(f"SELECT * FROM {table} LIMIT 0")
                    name = cur.description[i][0]
                    for off in range(1 << 20, len(v), 1 << 20):
                        cur.execute(
                            f"UPDATE {table} SET `{name}` = CONCAT(`{name}`, %s) WHERE id = %s",
                            (v[off : off + (1 << 20)], r[0]),
                        )
        conn.commit()
    finally:
        conn.close()


def _cli(ws: Any, *args: str) -> Any:
    return runner.invoke(app, ["--workspace", str(ws.path), "--lang", "en", "migrate", *args])


def _run(ws: Any, source: str, target: str, *extra: str) -> dict[str, Any]:
    res = _cli(ws, source, target, "--no-backup", "--reason", "test", "--json", *extra)
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.stdout))


def _read(url: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Every row by primary key, as the driver itself returns it (no SQLAlchemy types)."""
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        names = [c["name"] for c in insp.get_columns(table)]
        pk = insp.get_pk_constraint(table)["constrained_columns"]
        mark = "`" if engine.dialect.name == "mysql" else '"'
        cols = ", ".join(f"{mark}{n}{mark}" for n in names)
        order = ", ".join(f"{mark}{n}{mark}" for n in pk)
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            if engine.dialect.name == "mysql":
                cur.execute("SET SESSION time_zone = '+00:00'")
            cur.execute(f"SELECT {cols} FROM {mark}{table}{mark} ORDER BY {order}")
            rows = cur.fetchall()
        finally:
            raw.close()
        return names, [tuple(r) for r in rows]
    finally:
        engine.dispose()


TEMPORAL = {"da", "dt", "dt6", "ts", "tm", "kt", "cd"}


def _norm(name: str, v: Any) -> Any:
    """One value in a form every engine agrees on (SQLite keeps dates as text, MariaDB
    hands TIME over as a timedelta, CHAR(n) is padded by PostgreSQL only …)."""
    if v is None:
        return None
    if isinstance(v, memoryview | bytearray):
        return bytes(v)
    if name == "st":
        return frozenset(x for x in str(v).split(",") if x)
    if name == "j":
        return json.loads(v) if isinstance(v, str) else v
    if name == "c":
        return v.rstrip(" ")
    if isinstance(v, dt.timedelta):
        return (dt.datetime.min + v).time()
    if isinstance(v, str) and name in TEMPORAL:
        if ":" not in v:
            return dt.date.fromisoformat(v)
        if "-" not in v:
            return dt.time.fromisoformat(v)
        return dt.datetime.fromisoformat(v)
    if name == "f":  # FLOAT: one float32, shown as 6 digits by MariaDB, as 17 by SQLite
        v = struct.unpack("f", struct.pack("f", v))[0]
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float | Decimal):
        return Decimal(str(v)).normalize()
    return v


def _same(src: str, dst: str, table: str, skip: frozenset[str] = frozenset()) -> None:
    names_a, a = _read(src, table)
    names_b, b = _read(dst, table)
    assert names_a == names_b
    assert len(a) == len(b), f"{table}: {len(a)} source rows, {len(b)} target rows"
    # Each engine orders text by its own collation: compare in one order.
    na = sorted(([_norm(n, v) for n, v in zip(names_a, r, strict=True)] for r in a), key=repr)
    nb = sorted(([_norm(n, v) for n, v in zip(names_b, r, strict=True)] for r in b), key=repr)
    for ra, rb in zip(na, nb, strict=True):
        for n, va, vb in zip(names_a, ra, rb, strict=True):
            assert n in skip or va == vb, (table, n, ra[0], rb[0])


@pytest.fixture
def every_type(mariadb_url: str) -> str:
    _fill(mariadb_url, EVERY_TYPE, "every_type", _rows())
    return mariadb_url


def test_every_type_to_postgresql(workspace: Any, every_type: str, pg_url: str) -> None:
    out = _run(workspace, every_type, pg_url, "--batch-size", "7")
    assert out["rows"] == 39 and out["rejects"] == 0
    _same(every_type, pg_url, "every_type")


def _sqlite_keeps(text: str) -> bool:
    """Whether SQLite itself stores decimal ``text`` exactly in a NUMERIC column, as
    SQLite prints it (15 significant digits of a REAL, every digit of an INTEGER)."""
    import sqlite3

    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (v NUMERIC(65,30))")
    con.execute("INSERT INTO t VALUES (?)", (text,))
    stored = con.execute("SELECT v FROM t").fetchone()[0]
    con.close()
    shown = format(stored, ".15g") if isinstance(stored, float) else str(stored)
    return Decimal(shown) == Decimal(text)


def _sqlite_exact(v: Any, scale: int) -> bool:
    """Whether the writer's text of decimal ``v`` (at ``scale``) survives SQLite."""
    if v is None:
        return True
    with localcontext() as ctx:
        ctx.prec = 100
        return _sqlite_keeps(format(Decimal(v).quantize(Decimal(1).scaleb(-scale)), "f"))


@pytest.mark.parametrize(
    ("text", "lossy"),
    [
        ("123456789012345", False),  # 15 digits
        ("1234567890123456", False),  # an integer within 64 bits: INTEGER
        ("9223372036854775807", False),
        ("-9223372036854775808", False),
        ("9223372036854775808", True),  # beyond 64 bits: a REAL of 19 digits
        ("1000000000000000000000", False),  # one significant digit: the REAL is exact
        ("0.1234567890123456", True),
        ("12.300000000000000000", False),
        ("-0.000000000000000001", False),
        ("12345678901234.56", True),  # 16 digits
        ("1234567890123456.00", False),  # an integer below 2^53 with a point: INTEGER
        ("9007199254740993.0", True),  # 2^53 + 1 through a double: rounded
        ("123456789012345.67", True),
        (None, False),
    ],
)
def test_sqlite_inexact_decimals(text: str | None, lossy: bool) -> None:
    """The check agrees with what SQLite stores (checked here too), as text or decimal."""
    import pyarrow as pa

    from handover.db.dialects.sqlite import inexact as sqlite_inexact
    from handover.db.reflect import ColumnDef, TableDef

    table = TableDef("t", [ColumnDef("v", "decimal", precision=60, scale=20)], ("v",))
    arrays = [pa.array([text], pa.string())]
    if text is not None:  # the same digits as an Arrow decimal (it prints its scale)
        scale = max(0, -int(Decimal(text).as_tuple().exponent))
        arrays.append(pa.array([Decimal(text)], pa.decimal256(60, scale)))
    for arr in arrays:
        got = sqlite_inexact(table, pa.record_batch([arr], names=["v"]))
        assert got == ({0: "v"} if lossy else {}), (text, arr.type)
        bound = pc_text(arr)
        if bound is not None:
            assert _sqlite_keeps(bound) != lossy, bound


def pc_text(arr: Any) -> str | None:
    """The text the SQLite writer binds for one decimal value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    value = (arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string()))[0].as_py()
    return value if value is None else str(value)


def test_every_type_to_sqlite(workspace: Any, every_type: str, tmp_path: Path) -> None:
    """Rows whose decimal SQLite would round to 15 digits are refused, never rounded."""
    target = tmp_path / "buyer.db"
    res = _cli(workspace, every_type, str(target), "--no-backup", "--reason", "t", "--json")
    assert res.exit_code == 1, res.output  # rejects, and no --allow-rejects
    lossy = {r[0] for r in _rows() if not (_sqlite_exact(r[7], 0) and _sqlite_exact(r[12], 30))}
    assert 1 in lossy and 2 not in lossy and 5 < len(lossy) < 39
    target = tmp_path / "buyer2.db"
    out = _run(workspace, every_type, str(target), "--batch-size", "5", "--allow-rejects", "39")
    assert out["rows"] == 39 - len(lossy) and out["rejects"] == len(lossy)
    lines = Path(out["reject_file"]).read_text(encoding="utf-8").splitlines()
    refused = [(r["key"], r["column"], r["reason"], r["stage"]) for r in map(json.loads, lines)]
    assert sorted(int(k) for k, *_ in refused) == sorted(lossy)
    assert {(c, why, st) for _k, c, why, st in refused} <= {
        (c, "SQLite would keep only 15 significant digits of this decimal (REAL)", "write")
        for c in ("ubi", "big")
    }
    names, a = _read(every_type, "every_type")
    _names, b = _read(f"sqlite:///{target}", "every_type")
    kept = sorted(
        ([_norm(n, v) for n, v in zip(names, r, strict=True)] for r in a if r[0] not in lossy),
        key=repr,
    )
    got = sorted(([_norm(n, v) for n, v in zip(names, r, strict=True)] for r in b), key=repr)
    assert kept == got  # every other row, wide decimals included, exactly


KEYED = {
    "k_text": (
        "CREATE TABLE k_text (`na%me` VARCHAR(40) PRIMARY KEY, v INT)",
        [(f"{s}{i}", i) for i, s in enumerate(NASTY * 3)],
    ),
    "k_dec": (
        "CREATE TABLE k_dec (kd DECIMAL(30,10) PRIMARY KEY, v INT)",
        [(Decimal(9007199254740993 + i) / 10**10 + Decimal("0.0000000001"), i) for i in range(23)],
    ),
    "k_time": (
        "CREATE TABLE k_time (kt DATETIME(6) PRIMARY KEY, v INT)",
        [(dt.datetime(2020, 1, 1, 0, 0, 0, i), i) for i in range(23)],
    ),
    "k_bin": (
        "CREATE TABLE k_bin (k VARBINARY(8) PRIMARY KEY, v INT)",
        [(bytes([i % 3, 0, i]) if i % 2 else bytes([i]), i) for i in range(23)],
    ),
    "k_big": (
        "CREATE TABLE k_big (k BIGINT UNSIGNED PRIMARY KEY, v INT)",
        [(2**64 - 1 - i, i) for i in range(23)],
    ),
    "k_three": (
        "CREATE TABLE k_three (a VARCHAR(8), b INT, cd DATE, v INT, PRIMARY KEY (a, b, cd))",
        [
            (a, b, dt.date(2020, 1, 1 + c), a.__hash__() % 7)
            for a in ("x", "y,", 'z"')
            for b in (-1, 0, 1)
            for c in (0, 1, 2)
        ],
    ),
}


@pytest.mark.parametrize("batch", ["1", "2", "5"])
def test_keys_of_every_kind_page_exactly(
    workspace: Any, mariadb_url: str, pg_url: str, batch: str
) -> None:
    for name, (ddl, rows) in KEYED.items():
        _fill(mariadb_url, ddl, name, rows)
    out = _run(workspace, mariadb_url, pg_url, "--batch-size", batch)
    assert {t["table"]: t["rows"] for t in out["tables"]} == {
        n: len(r) for n, (_, r) in KEYED.items()
    }
    for name in KEYED:
        _same(mariadb_url, pg_url, name)


def test_rows_larger_than_a_chunk_and_than_a_packet(
    workspace: Any, mariadb_url: str, tmp_path: Path
) -> None:
    """3 MB blobs (6 MB of hex: fewer rows per chunk) and a 9 MB blob (18 MB of hex, over
    the server's 16 MB max_allowed_packet: read with the driver's own values)."""
    rnd = random.Random(3)
    sizes = [3 << 20, 3 << 20, 3 << 20, 10, 20, 9 << 20, 30, 3 << 20, 40]
    rows = [(i, rnd.randbytes(n), "行" * (i + 1)) for i, n in enumerate(sizes)]
    _fill(
        mariadb_url,
        "CREATE TABLE big (id INT PRIMARY KEY, blob_ LONGBLOB, t TEXT)",
        "big",
        rows,
    )
    target = tmp_path / "big.db"
    out = _run(workspace, mariadb_url, str(target), "--batch-size", "4")
    assert out["rows"] == len(sizes)
    _same(mariadb_url, f"sqlite:///{target}", "big")


def test_values_that_do_not_fit_become_rejects(
    workspace: Any, mariadb_url: str, pg_url: str
) -> None:
    conn = _maria(mariadb_url)
    try:
        cur = conn.cursor()
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute(
            "CREATE TABLE lax (id INT PRIMARY KEY, born DATE, ok TINYINT(1), at TIME, name TEXT)"
        )
        rows = [(i, "2000-01-02", i % 2, "10:00:00", f"客户{i}") for i in range(1, 30)]
        rows[4] = (5, "0000-00-00", 1, "10:00:00", "张三")
        rows[9] = (10, "2000-01-02", 2, "10:00:00", "李四")
        rows[14] = (15, "2000-01-02", 0, "-01:00:00", "王五")
        cur.executemany("INSERT INTO lax VALUES (%s, %s, %s, %s, %s)", rows)
        conn.commit()
    finally:
        conn.close()
    out = _run(workspace, mariadb_url, pg_url, "--batch-size", "8", "--allow-rejects", "3")
    assert out["rows"] == 26 and out["rejects"] == 3
    lines = [
        json.loads(x) for x in Path(out["reject_file"]).read_text(encoding="utf-8").splitlines()
    ]
    assert {(x["key"], x["column"], x["stage"]) for x in lines} == {
        ("5", "born", "read"),
        ("10", "ok", "read"),
        ("15", "at", "read"),
    }
    text = Path(out["reject_file"]).read_text(encoding="utf-8")
    assert "张三" not in text and "0000-00-00" not in text


@pytest.mark.parametrize("batch", [1, 7, 50])
def test_the_c_reader_and_the_server_csv_give_the_same_pages(
    every_type: str, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text protocol split in C (``handover.db.mysql_native``) and the pages MariaDB
    renders as CSV (the reading without the C module) give the same Arrow pages and the
    same page keys, for every column type and for keys of every kind."""
    from handover.db import mysql_native
    from handover.sources.server import SqlAlchemySource

    if not mysql_native.built():
        pytest.skip("the C module _mysql_rows was not built (no compiler)")
    for name, (ddl, rows) in KEYED.items():
        _fill(every_type, ddl, name, rows)
    tables = {"every_type": ["id"], **{n: None for n in KEYED}}

    def pages(table: str, key: list[str] | None) -> list[Any]:
        src = SqlAlchemySource(every_type)
        try:
            order = key if key is not None else src.table(table).primary_key
            cols = src.column_names(table)
            return list(src.text_pages(table, cols, order_by=order, batch_size=batch))
        finally:
            src.close()

    for table, key in tables.items():
        native = pages(table, key)
        with monkeypatch.context() as m:
            m.setattr(mysql_native, "_native", None)
            csv = pages(table, key)
        assert [p.num_rows for p, _ in native] == [p.num_rows for p, _ in csv], table
        for (a, ka), (b, kb) in zip(native, csv, strict=True):
            assert a.equals(b), table
            assert ka == kb and type(ka) is type(kb), table


def test_a_read_stopped_early_gives_its_connection_up(
    every_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A keyed read closed mid-page (read_range's limit) closes the connection whose
    result was not read to its end, and the pool does not take it back."""
    from handover.db.reflect import reflect
    from handover.migrate.reader import DatabaseSource, read_range

    src = DatabaseSource(every_type)
    dropped: list[Any] = []
    sa.event.listen(src.engine, "invalidate", lambda *args: dropped.append(args))
    try:
        (table,) = [t for t in reflect(src.engine) if t.name == "every_type"]
        got = list(read_range(src, table, after=None, limit=3, batch_size=2))
        assert sum(b.data.num_rows for b in got) == 3
        assert len(dropped) == 1
        again = list(read_range(src, table, after=None, limit=None, batch_size=100))
        assert sum(b.data.num_rows for b in again) == 39
    finally:
        src.close()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "WARNING")]
