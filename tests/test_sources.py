"""Sources: the same table through every reader gives the same columns and values;
samples are seeded; schemas are stable across batches."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from handover.db.url import mask
from handover.errors import BadInput
from handover.sources import FileReading, open_source

ROWS = [(i, f"客户{i}", f"1381234{i:04d}", None if i % 7 == 0 else i * 1.5) for i in range(1, 1201)]


def _sqlite(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE cust (id INTEGER PRIMARY KEY, name TEXT, mobile VARCHAR(20), amt REAL)"
    )
    con.executemany("INSERT INTO cust VALUES (?,?,?,?)", ROWS)
    con.execute("CREATE TABLE odd (n INTEGER)")
    con.executemany("INSERT INTO odd VALUES (?)", [(1,), ("two",), (3,)])
    con.commit()
    con.close()
    return path


def test_sqlite_tables_batches_sample(tmp_path: Path) -> None:
    with open_source(_sqlite(tmp_path / "a.db")) as src:
        info = src.table("cust")
        assert info.rows == 1200 and info.primary_key == ["id"]
        assert [c.db_type for c in info.columns] == ["INTEGER", "TEXT", "VARCHAR(20)", "REAL"]
        batches = list(src.batches("cust", batch_size=500))
        assert [b.num_rows for b in batches] == [500, 500, 200]
        assert all(b.schema == info.schema for b in batches)
        t = pa.Table.from_batches(batches)
        assert t.column("mobile")[0].as_py() == "13812340001"
        assert t.column("amt").null_count == len([r for r in ROWS if r[3] is None])
        s1 = src.sample("cust", 100, seed=1)
        s2 = src.sample("cust", 100, seed=1)
        s3 = src.sample("cust", 100, seed=2)
        assert 50 <= s1.num_rows <= 100 and s1.equals(s2) and not s1.equals(s3)
        odd = src.table("odd")
        assert odd.columns[0].arrow_type == pa.string() and "not INTEGER" in str(odd.notes[0])
        assert pa.Table.from_batches(list(src.batches("odd"))).column("n").to_pylist() == [
            "1",
            "two",
            "3",
        ]


def test_sqlite_table_described_alone(tmp_path: Path) -> None:
    """One table read is described on its own (its checks and count), the same as when
    every table is described; an unknown table is refused by name either way."""
    book = _sqlite(tmp_path / "a.db")
    with open_source(book) as src:
        assert src.table_names() == ["cust", "odd"]
        alone = src.table("odd")
        assert len(list(src.batches("odd"))) == 1
        with pytest.raises(BadInput, match="nope"):
            src.table("nope")
    with open_source(book) as src:
        every = src.tables()
        assert [t.name for t in every] == ["cust", "odd"] and every[1] == alone
        assert src.table("odd") is every[1]
        with pytest.raises(BadInput, match="nope"):
            src.table("nope")


def test_sqlite_primary_key_from_the_declaration_alone(tmp_path: Path) -> None:
    """A table's key is read from its declaration, no column checked and no row
    counted, and is the key the full description gives (composite, in key order; none)."""
    path = tmp_path / "k.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE two (b TEXT, a INTEGER, v REAL, PRIMARY KEY (a, b))")
    con.execute("CREATE TABLE none_ (v INTEGER)")
    con.execute("INSERT INTO two VALUES ('x', 1, 'not a number')")
    con.commit()
    con.close()
    with open_source(path) as src:
        assert src.primary_key("two") == ["a", "b"] and src.primary_key("none_") == []
        assert src._infos == {}  # nothing described, nothing counted
        assert src.primary_key("two") == src.table("two").primary_key
        assert src.primary_key("none_") == src.table("none_").primary_key
        with pytest.raises(BadInput, match="nope"):
            src.primary_key("nope")


def _four_tables(path: Path) -> Path:
    con = sqlite3.connect(path)
    for name in ("a", "b", "c", "d"):
        con.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, n INTEGER, x REAL)")
        con.executemany(f"INSERT INTO {name} VALUES (?,?,?)", [(i, i, i / 2) for i in range(50)])
    con.execute("INSERT INTO c VALUES (99, 'text', 1.0)")
    con.commit()
    con.close()
    return path


def test_sqlite_tables_are_described_two_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every table's checks and count (full scans inside SQLite) run on two threads, each
    with a connection of its own: table a's description can only end once b's has begun.
    The descriptions are those of one table at a time."""
    import threading

    from handover.sources.sqlite import SqliteSource

    book = _four_tables(tmp_path / "four.db")
    with open_source(book) as src:
        alone = [src.table(n) for n in ("a", "b", "c", "d")]
    began = threading.Event()
    conns: dict[str, object] = {}
    real = SqliteSource._info

    def info(self: SqliteSource, name: str, conn: sqlite3.Connection | None = None) -> object:
        if name not in self._infos:
            conns[name] = conn
            if name == "b":
                began.set()
            if name == "a":
                assert began.wait(timeout=30), "b was not described beside a"
        return real(self, name, conn)

    monkeypatch.setattr(SqliteSource, "_info", info)
    with open_source(book) as src:
        every = src.tables()
    assert every == alone and "not INTEGER" in str(every[2].notes[0])
    assert conns["a"] is not conns["b"]


def test_sqlite_tables_tell_the_first_table_that_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tables fail: the error told is the one of the first in table order (as when
    they were described one by one), even when the later one fails first."""
    import threading

    from handover.sources.sqlite import SqliteSource

    book = _four_tables(tmp_path / "four.db")
    d_failed = threading.Event()
    real = SqliteSource._info

    def info(self: SqliteSource, name: str, conn: sqlite3.Connection | None = None) -> object:
        if name == "d":
            d_failed.set()
            raise BadInput.msg("sources.no_table", source="four.db", table="d")
        if name == "b":
            d_failed.wait(timeout=30)
            raise BadInput.msg("sources.no_table", source="four.db", table="b")
        return real(self, name, conn)

    monkeypatch.setattr(SqliteSource, "_info", info)
    with open_source(book) as src, pytest.raises(BadInput) as err:
        src.tables()
    assert "'b'" in str(err.value) and "'d'" not in str(err.value)
    assert d_failed.is_set()


def test_sqlite_tables_stop_at_the_first_table_that_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first table fails while the second is described beside it: no table after
    those two is described (one by one, none after the first would have been)."""
    import threading
    import time

    from handover.sources.sqlite import SqliteSource

    book = tmp_path / "many.db"
    con = sqlite3.connect(book)
    names = [f"t{i:02d}" for i in range(20)]
    for name in names:
        con.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)")
    con.commit()
    con.close()
    described: list[str] = []
    second = threading.Event()
    real = SqliteSource._info

    def info(self: SqliteSource, name: str, conn: sqlite3.Connection | None = None) -> object:
        described.append(name)
        if name == "t00":
            assert second.wait(timeout=30)
            raise BadInput.msg("sources.no_table", source="many.db", table=name)
        second.set()
        time.sleep(0.05)  # the first table's failure is known long before this ends
        return real(self, name, conn)

    monkeypatch.setattr(SqliteSource, "_info", info)
    with open_source(book) as src, pytest.raises(BadInput, match="t00"):
        src.tables()
    assert sorted(described) == ["t00", "t01"], described


def test_csv_parquet_xlsx_agree(tmp_path: Path) -> None:
    from openpyxl import Workbook

    header = ["id", "name", "mobile"]
    lines = [",".join(header)] + [f"{r[0]},{r[1]},{r[2]}" for r in ROWS]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n", encoding="gbk")
    pq.write_table(
        pa.table(
            {
                "id": [r[0] for r in ROWS],
                "name": [r[1] for r in ROWS],
                "mobile": [r[2] for r in ROWS],
            }
        ),
        tmp_path / "p.parquet",
    )
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in ROWS:
        ws.append([r[0], r[1], r[2]])
    wb.save(tmp_path / "x.xlsx")
    for name in ("c.csv", "p.parquet", "x.xlsx"):
        with open_source(tmp_path / name) as src:
            (info,) = src.tables()
            assert info.rows == 1200 and info.column_names == header, name
            t = pa.Table.from_batches(list(src.batches(info.name, columns=["mobile"])))
            assert t.column("mobile").to_pylist()[:2] == ["13812340001", "13812340002"], name
            assert src.sample(info.name, 10, seed=3).num_rows == 10


def test_headerless_csv_and_bad_specs(tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_text("13812345678,110101199003074514\n13912345678,11010519491231002X\n", "utf-8")
    # a file without a header row is read as one only when the caller says so
    with open_source(f, reading=FileReading(header=False)) as src:
        (info,) = src.tables()
        assert info.column_names == ["column_1", "column_2"] and info.rows == 2
    # by default the first row is the header: a row of phone and ID numbers is refused
    with pytest.raises(BadInput, match="no header row"), open_source(f) as src:
        src.tables()
    with pytest.raises(BadInput, match="no such file"):
        open_source(tmp_path / "nope.csv")
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    with pytest.raises(BadInput, match="unknown kind"):
        open_source(tmp_path / "x.bin")
    assert mask("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


@pytest.mark.postgres
def test_postgresql_copy_stream(pg_url: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.begin() as c:
        c.execute(
            text(
                "CREATE TABLE t (id bigint primary key, note text, amt numeric(12,2), "
                "ok boolean, d date, ts timestamptz)"
            )
        )
        c.execute(
            text(
                "INSERT INTO t SELECT g, CASE WHEN g % 5 = 0 THEN NULL WHEN g % 7 = 0 "
                "THEN '' ELSE '备注,\"引号\"' || g END, g * 1.25, g % 2 = 0, "
                "date '2024-01-01' + g, timestamptz '2024-01-01 08:00+08' FROM generate_series(1, 3000) g"
            )
        )
    eng.dispose()
    with open_source(pg_url) as src:
        info = src.table("t")
        assert info.rows == 3000 and info.primary_key == ["id"]
        t = pa.Table.from_batches(list(src.batches("t", batch_size=1000)))
        assert t.num_rows == 3000 and t.schema == info.schema
        notes = t.column("note").to_pylist()
        assert notes[4] is None and notes[6] == "" and notes[0] == '备注,"引号"1'
        assert t.column("ok").to_pylist()[:2] == [False, True]
        assert str(t.column("amt")[0].as_py()) == "1.25"
        assert t.column("ts")[0].as_py().hour == 0  # 08:00+08 is 00:00 UTC
        assert src.sample("t", 100, seed=4).equals(src.sample("t", 100, seed=4))


@pytest.mark.mariadb
def test_mariadb_stream(mariadb_url: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(mariadb_url)
    with eng.begin() as c:
        c.execute(
            text("CREATE TABLE t (id bigint primary key, name varchar(20), amt decimal(10,2))")
        )
        c.execute(
            text("INSERT INTO t VALUES (1, '张三', 12.50), (2, NULL, NULL), (3, '李四', 3.00)")
        )
    eng.dispose()
    with open_source(mariadb_url) as src:
        t = pa.Table.from_batches(list(src.batches("t")))
        assert t.column("name").to_pylist() == ["张三", None, "李四"]
        assert [str(x) if x is not None else None for x in t.column("amt").to_pylist()] == [
            "12.50",
            None,
            "3.00",
        ]


# --- reading in key order, resuming after a key -------------------------------------------


def _keyed(url: str) -> list[tuple[int, int, str, bytes | None]]:
    """Table ``pay`` with a composite primary key, rows inserted in shuffled order; returns
    the rows in key order."""
    import random

    from sqlalchemy import (
        BigInteger,
        Column,
        Integer,
        LargeBinary,
        MetaData,
        Table,
        Text,
        create_engine,
    )

    rows = [
        (loan, period, f"第{period}期 {loan}", None if period == 3 else bytes([0, 255, period]))
        for loan in range(10_000_000_000, 10_000_000_040)
        for period in range(1, 8)
    ]
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    engine = create_engine(url)
    meta = MetaData()
    pay = Table(
        "pay",
        meta,
        Column("loan_id", BigInteger, primary_key=True, autoincrement=False),
        Column("period", Integer, primary_key=True, autoincrement=False),
        Column("note", Text),
        Column("raw", LargeBinary),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            pay.insert(),
            [{"loan_id": a, "period": b, "note": c, "raw": d} for a, b, c, d in shuffled],
        )
    engine.dispose()
    return rows


def _check_key_order(url: str, rows: list[tuple[int, int, str, bytes | None]]) -> None:
    from handover.sources.sql import SqlSource

    key = ["loan_id", "period"]
    with open_source(url) as src:
        assert isinstance(src, SqlSource)
        full = pa.Table.from_batches(list(src.batches("pay", batch_size=37, order_by=key)))
        assert full.to_pylist() == [
            {"loan_id": a, "period": b, "note": c, "raw": d} for a, b, c, d in rows
        ]
        # resume after the 100th key, reading only some columns (the key is not among them)
        parts = list(
            src.batches("pay", ["raw", "note"], batch_size=41, order_by=key, after=rows[99][:2])
        )
        assert all(b.schema.names == ["raw", "note"] for b in parts)
        rest = pa.Table.from_batches(parts)
        assert rest.column("note").to_pylist() == [r[2] for r in rows[100:]]
        assert rest.column("raw").to_pylist() == [r[3] for r in rows[100:]]
        # rows(): the driver's values, key columns appended; a reader that stops after
        # every page and resumes from the last key it kept sees every row exactly once
        seen: list[tuple[object, ...]] = []
        last = None
        while True:
            page = next(src.rows("pay", ["note"], order_by=key, after=last, batch_size=23), None)
            if page is None:
                break
            seen.extend(page)
            last = page[-1][1:]
        assert seen == [(r[2], r[0], r[1]) for r in rows]
        assert src.count("pay") == len(rows)
        with pytest.raises(ValueError, match="order_by"):
            next(src.batches("pay", after=(1, 1)))
        with pytest.raises(BadInput, match="no column 'nope'"):
            next(src.rows("pay", ["note"], order_by=["nope"]))


def test_sqlite_key_order_and_resume(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    rows = _keyed(url)
    _check_key_order(url, rows)
    # SQLite may also page on its rowid, which is not a column of the table
    with open_source(tmp_path / "k.db") as src:
        from handover.sources.sqlite import SqliteSource

        assert isinstance(src, SqliteSource) and src.has_rowid("pay")
        pages = list(src.rows("pay", ["loan_id"], order_by=["rowid"], batch_size=100))
        rowids = [r[1] for p in pages for r in p]
        assert rowids == sorted(rowids) and len(rowids) == len(rows)


@pytest.mark.postgres
def test_postgresql_key_order_and_resume(pg_url: str) -> None:
    _check_key_order(pg_url, _keyed(pg_url))


@pytest.mark.mariadb
def test_mariadb_key_order_and_resume(mariadb_url: str) -> None:
    _check_key_order(mariadb_url, _keyed(mariadb_url))
