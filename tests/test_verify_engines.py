"""handover verify on the real engines: canonical bytes, equal data, every kind of difference."""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from handover.errors import BadInput
from handover.flows.verify import verify
from handover.verify.normalize import (
    SideType,
    digest_form,
    encode_digest_row,
    encode_row,
    render_digest,
    render_value,
)
from handover.verify.plan import connect, plan_table, reflect
from handover.verify.verify import _segment_digests

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
NAMES = ["王敏", "李强", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴昊"]


def schema() -> tuple[sa.MetaData, sa.Table, sa.Table, sa.Table]:
    md = sa.MetaData()
    loans = sa.Table(
        "loans",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("customer", sa.String(64), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2)),
        sa.Column("rate", sa.Numeric(8, 4)),
        sa.Column("opened", sa.Date),
        sa.Column("updated", TS),
        sa.Column("active", sa.Boolean),
        sa.Column("note", sa.Text),
        sa.Column("photo", sa.LargeBinary),
    )
    repay = sa.Table(
        "repayments",
        md,
        sa.Column("loan_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("paid", sa.Numeric(14, 2)),
    )
    codes = sa.Table(
        "codes",
        md,
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("label", sa.Text),
    )
    return md, loans, repay, codes


def loan_rows(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(1, n + 1):
        note_choice = i % 7
        note = {0: None, 1: "", 2: "逾期 3 天,已电话催收", 3: "Café ☕ ok", 4: "ｆｕｌｌ"}.get(
            note_choice, f"备注 {i}"
        )
        rows.append(
            {
                "id": i * 3,  # gaps, like real surrogate keys after deletions
                "customer": rnd.choice(NAMES) + str(i),
                "amount": None if i % 11 == 0 else Decimal(rnd.randrange(0, 10**9)) / 100,
                "rate": Decimal(rnd.randrange(0, 300000)) / 10000,
                "opened": dt.date(2020, 1, 1) + dt.timedelta(days=rnd.randrange(2000)),
                "updated": dt.datetime(2024, 5, 1, 8, 0, 0)
                + dt.timedelta(seconds=rnd.randrange(10**7), microseconds=rnd.randrange(10**6)),
                "active": None if i % 13 == 0 else bool(i % 2),
                "note": note,
                "photo": None if i % 5 else bytes(rnd.randrange(256) for _ in range(8)),
            }
        )
    return rows


def repay_rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "loan_id": i * 3,
            "seq": s,
            "due": dt.date(2024, 1, 1) + dt.timedelta(days=30 * s),
            "paid": Decimal("1500.00") if s % 2 else Decimal("12.30"),
        }
        for i in range(1, n + 1)
        for s in range(1, 4)
    ]


def code_rows() -> list[dict[str, Any]]:
    return [{"code": f"C{i:03d}", "label": f"类别 {i}"} for i in range(60)] + [
        {"code": "名称", "label": None},
        {"code": "a b", "label": ""},
    ]


def build(url: str, n: int = 300) -> None:
    md, loans, repay, codes = schema()
    engine = sa.create_engine(url)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(loans.insert(), loan_rows(n))
        conn.execute(repay.insert(), repay_rows(n))
        conn.execute(codes.insert(), code_rows())
    engine.dispose()


def run(url: str, *stmts: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for s in stmts:
            conn.execute(sa.text(s))
    engine.dispose()


@pytest.fixture
def pg_url2() -> Any:
    """A second fresh PostgreSQL database (PostgreSQL↔PostgreSQL uses the native digest)."""
    from conftest import PG_ADMIN, _server_db

    yield from _server_db(PG_ADMIN, "PostgreSQL at 127.0.0.1:5432", "ho_test")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'src.db'}"


def _sqlite2(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dst.db'}"


# --- canonical bytes are the same on every engine -------------------------------------------


def _engines(sqlite_url: str, pg_url: str, mariadb_url: str) -> list[str]:
    urls = [sqlite_url, pg_url, mariadb_url]
    for u in urls:
        build(u)
    return urls


def test_in_database_rendering_matches_the_python_reference(
    sqlite_url: str, pg_url: str, mariadb_url: str
) -> None:
    digests = []
    for url in _engines(sqlite_url, pg_url, mariadb_url):
        engine = connect(url)
        meta = reflect(engine, url)
        for table in ("loans", "repayments", "codes"):
            plan = plan_table(table, engine, engine, meta[table], meta[table], (url, url))
            side = plan.src
            cols = ", ".join(side.quote(c) for c in side.columns)
            stmt = f"SELECT {side.row_sql}, {cols} FROM {side.quote(side.table)}"
            with engine.connect() as conn:
                rows = conn.execute(sa.text(stmt)).all()
            assert rows
            for row in rows:
                ref = encode_row(
                    [render_value(v, k) for v, k in zip(row[1:], plan.kinds, strict=True)]
                )
                assert row[0] == ref, (engine.dialect.name, table)
        plan = plan_table(
            "loans",
            engine,
            engine,
            meta["loans"],
            meta["loans"],
            (url, url),
            server=False,
            stored=False,
        )
        digests.append(_segment_digests(plan.src, 0, 90, None))
        engine.dispose()
    assert digests[0] == digests[1] == digests[2]
    assert len(digests[0]) > 5


def test_server_digest_text_matches_the_python_reference(pg_url: str, mariadb_url: str) -> None:
    """PostgreSQL and MariaDB hash the cheaper digest text, identically and as Python says."""
    digests = []
    for url in _engines_servers(pg_url, mariadb_url):
        engine = connect(url)
        meta = reflect(engine, url)
        for table in ("loans", "repayments", "codes"):
            plan = plan_table(table, engine, engine, meta[table], meta[table], (url, url))
            side = plan.src
            assert side.digest_sqls is not None
            text = side.sql.digest_row_expr(side.digest_sqls, side.compact)
            cols = ", ".join(side.quote(c) for c in side.columns)
            stmt = f"SELECT {text}, {cols} FROM {side.quote(side.table)}"
            with engine.connect() as conn:
                rows = conn.execute(sa.text(stmt)).all()
            forms = [digest_form(k, a, a) for k, a in zip(plan.kinds, side.types, strict=True)]
            assert [c for c, _s in forms] == side.compact
            if table == "loans":
                # numbers, dates, timestamps and booleans compact; amount keeps 2 decimals
                assert side.compact == [True, False, True, True, True, True, True, False, False]
                assert forms[2][1] == 2
            for row in rows:
                ref = encode_digest_row(
                    [
                        render_digest(v, k, scale)
                        for v, k, (_c, scale) in zip(row[1:], plan.kinds, forms, strict=True)
                    ],
                    side.compact,
                )
                assert row[0] == ref, (engine.dialect.name, table, row)
        plan = plan_table("loans", engine, engine, meta["loans"], meta["loans"], (url, url))
        digests.append(_segment_digests(plan.src, 0, 90, None))
        engine.dispose()
    assert digests[0] == digests[1]
    assert len(digests[0]) > 5


def _engines_servers(pg_url: str, mariadb_url: str) -> list[str]:
    for u in (pg_url, mariadb_url):
        build(u)
    return [pg_url, mariadb_url]


def test_digest_text_is_prefix_free() -> None:
    """NULL, empty text and values that look like separators encode differently."""
    compact = [True, False, False]
    rows = [
        ["1", None, ""],
        ["1", "", None],
        ["1", "0:", None],
        [None, "1,", ""],
        ["1", ":", ""],
        ["1", "", ":"],
    ]
    texts = [encode_digest_row(r, compact) for r in rows]
    assert len(set(texts)) == len(texts)
    assert render_digest(Decimal("12.3"), "decimal", 2) == "12.30"
    assert render_digest(Decimal("-0.00"), "decimal", 2) == "0.00"
    assert render_digest(None, "decimal", 2) is None


def test_equal_tables_on_three_engines_are_equal(
    sqlite_url: str, pg_url: str, mariadb_url: str
) -> None:
    s, p, m = _engines(sqlite_url, pg_url, mariadb_url)
    for a, b in [(s, p), (s, m), (m, p), (p, s)]:
        result = verify(a, b)
        assert result.equal, result.to_json()
        assert [t.name for t in result.tables] == ["codes", "loans", "repayments"]
        loans = next(t for t in result.tables if t.name == "loans")
        assert loans.source_rows == loans.target_rows == 300
        assert result.rows_fetched == 0


# --- differences ------------------------------------------------------------------------


def _inject(url: str) -> None:
    run(
        url,
        "DELETE FROM loans WHERE id IN (30, 600)",
        "INSERT INTO loans (id, customer) VALUES (100000, '新客户')",
        "INSERT INTO loans (id, customer) VALUES (1, '最小')",
        "UPDATE loans SET amount = amount + 0.01 WHERE id = 3",  # 12.31 vs 12.30 kind
        "UPDATE loans SET note = '' WHERE id = 21",  # note NULL → ''
        "UPDATE loans SET customer = CONCAT(customer, ' ') WHERE id = 45"
        if "mysql" in url
        else "UPDATE loans SET customer = customer || ' ' WHERE id = 45",  # trailing space
        "UPDATE repayments SET paid = 1500.01 WHERE loan_id = 9 AND seq = 1",
        "DELETE FROM repayments WHERE loan_id = 12 AND seq = 2",
        "UPDATE codes SET label = '类别 X' WHERE code = 'C007'",
        "DELETE FROM codes WHERE code = '名称'",
    )


@pytest.mark.parametrize("direction", ["sqlite-pg", "maria-pg", "pg-sqlite", "pg-pg"])
def test_every_injected_difference_is_found(
    direction: str, sqlite_url: str, pg_url: str, mariadb_url: str, request: Any
) -> None:
    src, dst = {
        "sqlite-pg": (sqlite_url, pg_url),
        "maria-pg": (mariadb_url, pg_url),
        "pg-sqlite": (pg_url, sqlite_url),
        "pg-pg": (pg_url, "pg_url2"),
    }[direction]
    if dst == "pg_url2":
        dst = request.getfixturevalue("pg_url2")
    build(src)
    build(dst)
    _inject(dst)
    result = verify(src, dst)
    assert not result.equal
    by = {t.name: t.to_json() for t in result.tables}
    assert by["loans"]["missing"] == [30, 600]
    assert by["loans"]["extra"] == [1, 100000]
    assert by["loans"]["changed"] == [3, 21, 45]
    assert by["loans"]["source_rows"] == 300 and by["loans"]["target_rows"] == 300
    assert by["repayments"]["missing"] == [[12, 2]]
    assert by["repayments"]["changed"] == [[9, 1]]
    assert by["repayments"]["extra"] == []
    assert by["codes"]["missing"] == ["名称"]
    assert by["codes"]["changed"] == ["C007"]
    assert result.to_json()["equal"] is False
    assert set(result.to_json()) == {"equal", "normalisations", "tables"}
    # only the differing segments were downloaded
    assert result.tables[1].rows_fetched < 2 * 300


def test_sqlite_storage_variants_and_decimal_scale(tmp_path: Path, pg_url: str) -> None:
    """SQLite may hold 1500, 1500.0 or 12.3 for DECIMAL(14,2): equal at the declared scale."""
    import sqlite3

    db = tmp_path / "raw.db"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, amt DECIMAL(14,2), fine DECIMAL(14,3), "
        "flag BOOLEAN, at TIMESTAMP, txt TEXT)"
    )
    con.executemany(
        "INSERT INTO t VALUES (?,?,?,?,?,?)",
        [
            (1, 1500, 1.5, 1, "2024-01-02 03:04:05", "a"),
            (2, 1500.0, "2.250", "true", "2024-01-02T03:04:05.5", "b"),
            (3, "1500.00", 1.005, 0, "2024-01-02 03:04:05.123456", "c"),
            (4, 12.3, 0, "false", "2024-01-02", None),
            (5, 12.31, 7, 1, None, ""),
        ],
    )
    con.commit()
    con.close()
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE t (id integer PRIMARY KEY, amt numeric(14,2), fine numeric(14,2), "
                "flag boolean, at timestamp(6), txt text)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO t VALUES "
                "(1, 1500.00, 1.50, true, '2024-01-02 03:04:05', 'a'),"
                "(2, 1500, 2.25, true, '2024-01-02 03:04:05.5', 'b'),"
                "(3, 1500.00, 1.005, false, '2024-01-02 03:04:05.123456', 'c'),"  # → 1.01
                "(4, 12.30, 0, false, '2024-01-02 00:00:00', NULL),"
                "(5, 12.30, 7, true, NULL, '')"
            )
        )
    engine.dispose()
    result = verify(str(db), pg_url)
    table = result.tables[0].to_json()
    # 3: 1.005 (DECIMAL(14,3)) was rounded to 1.01 in the DECIMAL(14,2) target; 5: 12.31 ≠ 12.30
    assert table["changed"] == [3, 5], table
    assert table["missing"] == table["extra"] == []


def test_null_is_not_empty_string_and_nfc_equal(sqlite_url: str, pg_url: str) -> None:
    for url in (sqlite_url, pg_url):
        run(url, "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
    run(sqlite_url, "INSERT INTO t VALUES (1, NULL), (2, 'é'), (3, 'Abc'), (4, '')")
    # 2: decomposed e + U+0301 is the same text under NFC; 3: case is a difference
    run(pg_url, "INSERT INTO t VALUES (1, ''), (2, U&'e\\0301'), (3, 'abc'), (4, NULL)")
    result = verify(sqlite_url, pg_url)
    assert result.tables[0].to_json()["changed"] == [1, 3, 4]


def test_time_of_a_row_downloaded_for_another_column_is_equal(sqlite_url: str, pg_url: str) -> None:
    """A REAL SQLite prints in exponent notation (1e-05) has a digest differing from
    PostgreSQL's, so its row is downloaded; its TIME (a driver's ``datetime.time``) must
    then compare as PostgreSQL prints it, not as ``str()`` does ('….011000')."""
    run(sqlite_url, "CREATE TABLE x (id INTEGER PRIMARY KEY, r REAL, t TIME)")
    run(pg_url, "CREATE TABLE x (id bigint PRIMARY KEY, r double precision, t time)")
    values = "(1, -2.5e10, '01:01:01.011'), (2, 1e-5, '02:02:02.021'), (3, 1e-5, '03:03:03')"
    run(sqlite_url, f"INSERT INTO x VALUES {values}, (4, 1e-5, '04:04:04.5')")
    run(pg_url, f"INSERT INTO x VALUES {values}, (4, 1e-5, '04:04:04.25')")
    result = verify(sqlite_url, pg_url)
    assert result.tables[0].to_json()["changed"] == [4]
    assert render_value(dt.time(1, 1, 1, 11000), "text") == "01:01:01.011"


def test_mariadb_time_of_a_downloaded_row_is_equal(sqlite_url: str, mariadb_url: str) -> None:
    """PyMySQL gives a TIME as a timedelta, whose ``str()`` is '1:01:01.011000' or '-1 day,
    23:00:00': it must compare as MariaDB prints it ('-01:00:00', '838:59:59'), the fraction
    without trailing zeros as SQLite keeps the text, for TIME(6) and TIME alike."""
    run(sqlite_url, "CREATE TABLE x (id INTEGER PRIMARY KEY, r REAL, t TIME, w TIME)")
    run(mariadb_url, "CREATE TABLE x (id bigint PRIMARY KEY, r double, t TIME(6), w TIME)")
    values = (
        "(1, -2.5e10, '01:01:01.011', '01:01:01'), (2, 1e-5, '00:00:05', '00:00:05'), "
        "(3, 1e-5, '23:59:59.5', '-01:00:00'), (4, 1e-5, '-00:00:00.25', '838:59:59')"
    )
    run(sqlite_url, f"INSERT INTO x VALUES {values}, (5, 1e-5, '04:04:04.5', '04:04:04')")
    run(mariadb_url, f"INSERT INTO x VALUES {values}, (5, 1e-5, '04:04:04.25', '04:04:04')")
    result = verify(sqlite_url, mariadb_url)
    assert result.tables[0].to_json()["changed"] == [5]
    assert render_value(-dt.timedelta(hours=1), "text") == "-01:00:00"
    assert render_value(dt.timedelta(hours=100, microseconds=250000), "text") == "100:00:00.25"


def test_postgresql_time_against_mariadb_time(pg_url: str, mariadb_url: str) -> None:
    """A PostgreSQL time and a MariaDB TIME(6) holding the same value have the same digest
    text (no download) and compare equal in rows downloaded for another column (text
    equal only under NFC)."""
    run(pg_url, "CREATE TABLE x (id bigint PRIMARY KEY, t time, s text)")
    run(mariadb_url, "CREATE TABLE x (id bigint PRIMARY KEY, t TIME(6), s text)")
    values = "(1, '01:01:01.011', 'a'), (2, '00:00:05', 'b'), (3, '23:59:59.5', 'c')"
    run(pg_url, f"INSERT INTO x VALUES {values}")
    run(mariadb_url, f"INSERT INTO x VALUES {values}")
    for a, b in ((pg_url, mariadb_url), (mariadb_url, pg_url)):
        result = verify(a, b)
        assert result.equal and result.rows_fetched == 0, result.to_json()
    run(pg_url, "UPDATE x SET s = U&'e\\0301'")
    run(mariadb_url, "UPDATE x SET s = 'é'", "UPDATE x SET t = '00:00:05.5' WHERE id = 2")
    result = verify(pg_url, mariadb_url)
    assert result.tables[0].to_json()["changed"] == [2]
    assert result.rows_fetched == 6


def test_timetz_and_interval_of_a_downloaded_row_are_equal(sqlite_url: str, pg_url: str) -> None:
    """A timetz compares as PostgreSQL prints it ('03:03:03+08', not str()'s
    '03:03:03+08:00'); an interval as PostgreSQL's text ('1 mon', which psycopg's
    timedelta would make '30 days, 0:00:00')."""
    run(sqlite_url, "CREATE TABLE x (id INTEGER PRIMARY KEY, r REAL, t TEXT, i TEXT)")
    run(pg_url, "CREATE TABLE x (id bigint PRIMARY KEY, r double precision, t timetz, i interval)")
    values = (
        "(1, -2.5e10, '01:01:01.011+00', '1 day 02:00:00'), (2, 1e-5, '03:03:03+08', '1 mon'), "
        "(3, 1e-5, '12:00:00+05:30', '00:00:05.5'), (4, 1e-5, '04:04:04.5-03', '-1 days')"
    )
    run(sqlite_url, f"INSERT INTO x VALUES {values}, (5, 1e-5, '05:05:05+01', '30 days')")
    run(pg_url, f"INSERT INTO x VALUES {values}, (5, 1e-5, '05:05:05+01', '1 mon')")
    result = verify(sqlite_url, pg_url)
    assert result.tables[0].to_json()["changed"] == [5]
    offset = dt.timezone(-dt.timedelta(hours=3))
    assert render_value(dt.time(4, 4, 4, 500000, tzinfo=offset), "text") == "04:04:04.5-03"


@pytest.mark.slow
def test_large_table_scattered_differences(tmp_path: Path, pg_url: str) -> None:
    """200k rows, 1,000 scattered differences: all found, few rows downloaded."""
    n = 200_000
    md = sa.MetaData()
    t = sa.Table(
        "big",
        md,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text),
        sa.Column("amount", sa.Numeric(14, 2)),
        sa.Column("day", sa.Date),
    )
    rnd = random.Random(3)
    base = dt.date(2020, 1, 1)
    rows = [
        {
            "id": i,
            "name": f"客户{i}",
            "amount": Decimal(i % 100000) / 100,
            "day": base + dt.timedelta(days=i % 1000),
        }
        for i in range(n)
    ]
    src = f"sqlite:///{tmp_path / 'big.db'}"
    for url in (src, pg_url):
        engine = sa.create_engine(url)
        md.create_all(engine)
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                raw = conn.connection.dbapi_connection
                assert raw is not None
                with raw.cursor() as cur, cur.copy("COPY big FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for r in rows:
                        copy.write_row((r["id"], r["name"], r["amount"], r["day"]))
            else:
                raw = conn.connection.dbapi_connection
                assert raw is not None
                raw.executemany(  # type: ignore[attr-defined]
                    "INSERT INTO big VALUES (?, ?, ?, ?)",
                    [(r["id"], r["name"], str(r["amount"]), r["day"].isoformat()) for r in rows],
                )
        engine.dispose()
    picks = rnd.sample(range(n), 1000)
    changed, missing, extra = sorted(picks[:600]), sorted(picks[600:900]), picks[900:]
    extra_ids = sorted(n + 10 * i for i in range(len(extra)))
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE big SET amount = amount + 1 WHERE id = ANY(:ids)"), {"ids": changed}
        )
        conn.execute(sa.text("DELETE FROM big WHERE id = ANY(:ids)"), {"ids": missing})
        conn.execute(t.insert(), [{"id": i, "name": "x"} for i in extra_ids])
    engine.dispose()
    result = verify(src, pg_url)
    table = result.tables[0]
    assert table.missing == missing
    assert table.changed == changed
    assert table.extra == extra_ids
    assert table.source_rows == n
    assert table.target_rows == n - 300 + 100
    assert table.rows_fetched < n // 4, table.stats()
    assert result.details["tables"][0]["rows_fetched"] == table.rows_fetched


@pytest.mark.parametrize("direction", ["maria-pg", "pg-maria"])
def test_scale_precision_and_null_across_servers(
    direction: str, pg_url: str, mariadb_url: str
) -> None:
    """Decimal scale, timestamp precision and NULL vs '' between MariaDB and PostgreSQL."""
    run(
        mariadb_url,
        "CREATE TABLE t (id INT PRIMARY KEY, amt DECIMAL(14,3), same DECIMAL(14,2), "
        "at DATETIME(6), at0 DATETIME, s VARCHAR(20), d DATE) CHARACTER SET utf8mb4",
        "INSERT INTO t VALUES "
        "(1, 1.500, 10.10, '2024-01-02 03:04:05.000000', '2024-01-02 03:04:05', 'a', '2024-01-02'),"
        "(2, 1.005, 20.00, '2024-01-02 03:04:05.123456', '2024-01-02 03:04:06', '', '2024-01-03'),"
        "(3, 0.000, -0.50, '2024-01-02 03:04:05.100000', '2024-01-02 03:04:07', NULL, NULL),"
        "(4, NULL, 7.00, '2024-01-02 03:04:05.123000', NULL, 'x,1:', '2024-01-05'),"
        "(5, 2.000, 3.10, NULL, '2024-01-02 03:04:08', 'b', '2024-01-06'),"
        "(6, 9.990, 0.00, '2024-01-02 03:04:10.000000', '2024-01-02 03:04:10', 'c', '2024-01-07')",
    )
    run(
        pg_url,
        "CREATE TABLE t (id integer PRIMARY KEY, amt numeric(14,2), same numeric(14,2), "
        "at timestamp(6), at0 timestamp(0), s text, d date)",
        "INSERT INTO t VALUES "
        "(1, 1.50, 10.10, '2024-01-02 03:04:05', '2024-01-02 03:04:05', 'a', '2024-01-02'),"
        # 2: 1.005 rounded to 1.01 in the 2-decimal target; '' became NULL
        "(2, 1.005, 20.00, '2024-01-02 03:04:05.123456', '2024-01-02 03:04:06', NULL, '2024-01-03'),"
        # 3: NULL became ''
        "(3, 0, -0.50, '2024-01-02 03:04:05.1', '2024-01-02 03:04:07', '', NULL),"
        # 4: microseconds cut to milliseconds: equal here (.123000 both)
        "(4, NULL, 7, '2024-01-02 03:04:05.123', NULL, 'x,1:', '2024-01-05'),"
        # 5: 3.10 vs 3.01 at the same scale
        "(5, 2, 3.01, NULL, '2024-01-02 03:04:08', 'b', '2024-01-06'),"
        # 6: 10.000000 s vs 10.1 s
        "(6, 9.99, 0, '2024-01-02 03:04:10.1', '2024-01-02 03:04:10', 'c', '2024-01-07')",
    )
    src, dst = (mariadb_url, pg_url) if direction == "maria-pg" else (pg_url, mariadb_url)
    result = verify(src, dst)
    table = result.tables[0].to_json()
    assert table["changed"] == [2, 3, 5, 6], table
    assert table["missing"] == table["extra"] == []
    # rows 1 and 4 are equal: their digests agree and they are not fetched
    assert result.tables[0].rows_fetched == 2 * 4


def test_timestamp_digests_agree_across_servers(pg_url: str, mariadb_url: str) -> None:
    """Every timestamp precision and pairing digests alike on MariaDB and PostgreSQL.

    Equal rows must not be fetched (rows_fetched counts only the one changed row): the
    digest text drops a fraction's trailing zeros on both engines, whatever precision
    each declares, and a DATE against a timestamp counts as midnight.
    """
    stamps = [
        ("2024-01-02 03:04:05", "2024-01-02 03:04:05.000", "2024-01-02 00:00:00"),
        ("2024-01-02 03:04:05.5", "2024-01-02 03:04:05.500", "2024-01-03 00:00:00"),
        ("2024-01-02 03:04:05.12345", "2024-01-02 03:04:05.123", "2024-01-04 00:00:00"),
        ("2024-01-02 03:04:05.000001", "1999-12-31 23:59:59.999", "1999-12-31 00:00:00"),
        ("2024-01-02 03:04:05.999999", "2024-01-02 03:04:05.010", "2024-02-29 00:00:00"),
        (None, None, None),
    ]
    my_rows = ", ".join(
        "({}, {}, {}, {}, {})".format(
            i,
            "NULL" if a is None else f"'{a}'",
            "NULL" if b is None else f"'{b}'",
            "NULL" if c is None else f"'{c[:10]}'",
            "NULL" if a is None else f"'{a[:19]}'",
        )
        for i, (a, b, c) in enumerate(stamps, 1)
    )
    pg_rows = ", ".join(
        "({}, {}, {}, {}, {})".format(
            i,
            "NULL" if a is None else f"'{a}'",
            "NULL" if b is None else f"'{b}+00'",
            "NULL" if c is None else f"'{c}'",
            "NULL" if a is None else f"'{a[:19]}'",
        )
        for i, (a, b, c) in enumerate(stamps, 1)
    )
    run(
        mariadb_url,
        "CREATE TABLE s (id INT PRIMARY KEY, t6 DATETIME(6), t3 TIMESTAMP(3) NULL, "
        "d DATE, t0 DATETIME)",
        "SET time_zone = '+00:00'",
        f"INSERT INTO s VALUES {my_rows}",
    )
    run(
        pg_url,
        "CREATE TABLE s (id integer PRIMARY KEY, t6 timestamp(6), t3 timestamptz(3), "
        "d timestamp, t0 timestamp(0))",
        "SET TIME ZONE 'Asia/Shanghai'",
        f"INSERT INTO s VALUES {pg_rows}",
    )
    for url in (mariadb_url, pg_url):
        engine = connect(url)
        meta = reflect(engine, url)
        other = pg_url if url == mariadb_url else mariadb_url
        o_engine = connect(other)
        plan = plan_table(
            "s", engine, o_engine, meta["s"], reflect(o_engine, other)["s"], (url, other)
        )
        side = plan.src
        assert side.digest_sqls is not None
        text = side.sql.digest_row_expr(side.digest_sqls, side.compact)
        cols = ", ".join(side.quote(c) for c in side.columns)
        with engine.connect() as conn:
            got = conn.execute(sa.text(f"SELECT {text}, {cols} FROM s ORDER BY id")).all()
        forms = [
            digest_form(k, a, b)
            for k, a, b in zip(plan.kinds, side.types, plan.dst.types, strict=True)
        ]
        for row in got:
            ref = encode_digest_row(
                [
                    render_digest(v, k, sc)
                    for v, k, (_c, sc) in zip(row[1:], plan.kinds, forms, strict=True)
                ],
                side.compact,
            )
            assert row[0] == ref, (engine.dialect.name, row)
        assert got[1][0].startswith("2,2024-01-02 03:04:05.5,2024-01-02 03:04:05.5,")
        engine.dispose()
        o_engine.dispose()
    for a, b in ((mariadb_url, pg_url), (pg_url, mariadb_url)):
        result = verify(a, b)
        assert result.equal, result.to_json()
        assert result.rows_fetched == 0
    run(pg_url, "UPDATE s SET t6 = t6 + interval '1 microsecond' WHERE id = 3")
    result = verify(mariadb_url, pg_url)
    assert result.tables[0].to_json()["changed"] == [3]
    assert result.rows_fetched == 2


@pytest.mark.parametrize("engine_url", ["mariadb_url", "sqlite_url"])
def test_split_scan_gives_the_single_scan_digests(engine_url: str, request: Any) -> None:
    """A full scan in two concurrent key ranges (MariaDB and SQLite run a query on one
    thread) digests exactly like one scan."""
    from concurrent.futures import ThreadPoolExecutor

    from handover.verify.verify import SPLIT_MIN_SEGMENTS, _full_digests, _scan_parts

    url = request.getfixturevalue(engine_url)
    build(url, n=400)
    engine = connect(url)
    meta = reflect(engine, url)
    plan = plan_table("loans", engine, engine, meta["loans"], meta["loans"], ("m", "m"))
    width = 3
    segments = -(-(1200 - 3 + 1) // width)  # keys 3, 6, …, 1200 from origin 3
    assert segments > 2 * SPLIT_MIN_SEGMENTS
    assert _scan_parts(plan.src, segments) == 2
    assert _scan_parts(plan.src, SPLIT_MIN_SEGMENTS) == 1
    with ThreadPoolExecutor(4) as pool:
        split, _same = _full_digests(pool, plan, 3, width, segments)
    whole = _segment_digests(plan.src, 3, width, None)
    engine.dispose()
    assert split == whole
    assert sum(c for c, _h in split.values()) == 400


def test_a_null_in_a_sqlite_integer_key_is_named_not_a_crash(sqlite_url: str, pg_url: str) -> None:
    """SQLite lets a BIGINT primary key (not a rowid alias) hold NULL; PostgreSQL never
    does. Key segments cannot place it: one line naming the table and the key (was a
    TypeError)."""
    for url in (sqlite_url, pg_url):
        run(url, "CREATE TABLE kinds (id BIGINT PRIMARY KEY, label TEXT)")
        run(url, "INSERT INTO kinds VALUES (1, 'x')")
    run(sqlite_url, "INSERT INTO kinds VALUES (NULL, 'y')")
    with pytest.raises(BadInput, match=r"table kinds: the primary key \(id\) holds NULL"):
        verify(sqlite_url, pg_url)


#: spellings of a time SQLite may hold as TEXT (the usual one first)
STAMP_SPELLINGS = [
    "2024-01-02 03:04:05",
    "2024-01-02T03:04:05",
    " 2024-01-02 03:04:05",
    "2024-01-02 03:04:05 ",
    "2024-01-02 03:04:05.5",
    "2024-01-02 03:04:05.123456",
    "2024-01-02",
    "２０２４-01-02 03:04:05",
    "2024-1-2 3:04:05",
]


def _doubles(rng: random.Random) -> list[float]:
    """Doubles on both sides of every bound SQLite's shortcut renderings test."""
    edges = [1e-3, 1e14, 1e15, 1e-4, 999999999999999.9, 99999999999999.99, 0.001, 1e16]
    out: list[float] = [0.0, -0.0, 0.1 + 0.2, 2.0000000000000004, 100.0, 12.3, 1 / 3]
    for e in edges:
        out += [e, -e, math.nextafter(e, 0.0), math.nextafter(e, math.inf)]
    for _ in range(3000):
        out.append(rng.uniform(-1, 1) * 10 ** rng.uniform(-6, 17))
        out.append(round(rng.uniform(0, 1e6), rng.randint(0, 4)))
        out.append(float(rng.randint(-(10**16), 10**16)))
    return out


def _plain_sqlite(col: str, kind: str) -> str:
    """SQLite's renderings before their shortcuts: every branch spelt out."""
    from handover.db.dialects.sqlite import _plain, _strip

    if kind == "timestamp":
        v = f"replace(trim({col}), 'T', ' ')"
        expr = (
            f"CASE WHEN typeof({col}) <> 'text' THEN CAST({col} AS TEXT) "
            f"WHEN length({v}) = 10 THEN {v} || ' 00:00:00.000000' "
            f"WHEN length({v}) = 19 THEN {v} || '.000000' "
            f"WHEN length({v}) > 26 THEN {v} "
            f"ELSE substr({v} || '000000', 1, 26) END"
        )
    else:
        t, g = f"CAST({col} AS TEXT)", f"printf('%.15g', {col})"
        expr = (
            f"CASE WHEN typeof({col}) = 'integer' THEN {t} "
            f"WHEN typeof({col}) = 'real' AND instr({g}, 'e') > 0 THEN {_plain(g, col)} "
            f"ELSE {_strip(t)} END"
        )
    return f"CASE WHEN typeof({col}) = 'blob' THEN char(0) || hex({col}) ELSE {expr} END"


def test_sqlite_shortcut_renderings_change_nothing(tmp_path: Path) -> None:
    """SQLite renders a REAL in plain notation with one printf and a 'YYYY-MM-DD HH:MM:SS'
    text with one GLOB: for every storage class and spelling a decimal, float or timestamp
    column may hold, the text is the one the spelt-out expressions give, and for the
    usual values the one :func:`render_value` gives."""
    import sqlite3

    rng = random.Random(2026)
    doubles = _doubles(rng)
    stamps: list[Any] = [
        *STAMP_SPELLINGS,
        b"2024-01-02 03:04:05",
        20240102,
        1.5,
        "",
    ]
    texts: list[Any] = ["12.50", "1500.00", "0", "-0.0", "1e5", "12", 1500, -7, b"\x01"]
    db = tmp_path / "kinds.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, d DECIMAL(20,6), f REAL, at TIMESTAMP)")
    values = doubles + texts
    rows = [(i, v, v, stamps[i % len(stamps)]) for i, v in enumerate(values)]
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    url = f"sqlite:///{db}"
    engine = connect(url)
    meta = reflect(engine, url)
    plan = plan_table("t", engine, engine, meta["t"], meta["t"], (url, url), stored=False)
    assert plan.kinds[1:] == ["decimal", "float", "timestamp"]
    side = plan.src
    cols = [side.quote(c) for c in side.columns]
    plain = [_plain_sqlite(c, k) for c, k in zip(cols[1:], plan.kinds[1:], strict=True)]
    stmt = f"SELECT {', '.join(side.value_sqls[1:] + plain + cols[1:])} FROM t ORDER BY id"
    with engine.connect() as conn:
        got = conn.execute(sa.text(stmt)).all()
    engine.dispose()
    assert len(got) == len(values)
    usual = 0
    for row in got:
        fast, spelt, raw = row[0:3], row[3:6], row[6:9]
        assert fast == spelt, raw
        if isinstance(raw[0], float) and 1e-3 <= abs(raw[0]) <= 1e14 and raw[2] == stamps[0]:
            usual += 1
            kinds = plan.kinds[1:]
            assert fast == tuple(render_value(v, k) for v, k in zip(raw, kinds, strict=True))
    assert usual > 100


@pytest.mark.parametrize("server", ["pg", "mariadb"])
def test_a_sqlite_time_with_a_zero_fraction_equals_the_servers_time(
    sqlite_url: str, server: str, request: pytest.FixtureRequest
) -> None:
    """SQLAlchemy's SQLite TIME stores six fraction digits ('03:03:03.000000'); the server
    prints '03:03:03' (and '04:04:04.5'). They are the same time: equal digests (nothing
    downloaded), equal when a row is downloaded for another column, and a time that
    differs is still found. A text whose fraction is not last keeps its zeros."""
    url = request.getfixturevalue(f"{server}_url")
    run(sqlite_url, "CREATE TABLE x (id INTEGER PRIMARY KEY, r REAL, t TIME)")
    run(
        url,
        f"CREATE TABLE x (id bigint PRIMARY KEY, r double precision, t {'time' if server == 'pg' else 'TIME(6)'})",
    )
    run(
        sqlite_url,
        "INSERT INTO x VALUES (1, 1.5, '03:03:03.000000'), (2, 1.5, '04:04:04.500000'), (3, 1.5, '05:05:05')",
    )
    run(
        url,
        "INSERT INTO x VALUES (1, 1.5, '03:03:03'), (2, 1.5, '04:04:04.5'), (3, 1.5, '05:05:05')",
    )
    for a, b in ((sqlite_url, url), (url, sqlite_url)):
        result = verify(a, b)
        assert result.equal and result.rows_fetched == 0, result.to_json()
        assert "time_fraction" in result.tables[0].to_json()["normalisations"]
    # a changed time downloads its segment: the other rows of it compare equal here
    run(
        sqlite_url,
        "UPDATE x SET r = -2.5e10 WHERE id = 1",
        "UPDATE x SET t = '05:05:06.000000' WHERE id = 3",
    )
    run(url, "UPDATE x SET r = -2.5e10 WHERE id = 1")
    result = verify(sqlite_url, url)
    assert result.rows_fetched > 0
    assert result.tables[0].to_json()["changed"] == [3]
    assert render_value("03:03:03.000000", "time") == "03:03:03"
    assert render_value("01:01:01.010+00", "time") == "01:01:01.010+00"
    assert render_value("12:00:00.", "time") == "12:00:00"


def test_a_real_in_exponent_notation_renders_plain(tmp_path: Path) -> None:
    """SQLite prints a REAL below 10^-4 or from 10^15 with an exponent ('2.5e-05',
    '1.0e+15'); its canonical text is the plain decimal PostgreSQL prints and
    render_value gives ('0.000025'), so equal values no longer download their segment.
    The one difference left: a double exactly halfway at the 16th digit, which SQLite's
    printf rounds away from zero and Python's to even (the rows are then compared here)."""
    import sqlite3
    from decimal import Decimal

    from handover.db.dialects.sqlite import _value

    rng = random.Random(2026)
    values = [1e15, -1e15, 1e-5, 5e-5, 2.5e-5, 1e20, 1e100, -1e-300, 1e-4, 0.00099999]
    for e in range(-40, 40):
        for _ in range(25):
            values.append(rng.uniform(1, 10) * rng.choice((1, -1)) * 10.0**e)
    con = sqlite3.connect(tmp_path / "reals.db")
    con.execute("CREATE TABLE t (v REAL)")
    con.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    for kind in ("float", "decimal"):
        expr = _value("v", kind, SideType("float"))
        ties = 0
        for v, text in con.execute(f"SELECT v, {expr} FROM t"):
            if text != render_value(v, kind):
                exact = Decimal(v).normalize().as_tuple()
                assert len(exact.digits) == 16 and exact.digits[-1] == 5, (v, text)
                ties += 1
            assert "e" not in text.lower(), (v, text)
        assert ties <= 3
    con.close()


def test_reals_sqlite_prints_with_an_exponent_digest_equal(sqlite_url: str, pg_url: str) -> None:
    run(sqlite_url, "CREATE TABLE x (id INTEGER PRIMARY KEY, r REAL)")
    run(pg_url, "CREATE TABLE x (id bigint PRIMARY KEY, r double precision)")
    values = "(1, 2.5e-5), (2, 1e20), (3, -1.25e-7), (4, 1.5), (5, 6.02214076e23)"
    run(sqlite_url, f"INSERT INTO x VALUES {values}")
    run(pg_url, f"INSERT INTO x VALUES {values}")
    result = verify(sqlite_url, pg_url)
    assert result.equal and result.rows_fetched == 0, result.to_json()
    run(pg_url, "UPDATE x SET r = 2.6e-5 WHERE id = 1")
    result = verify(sqlite_url, pg_url)
    assert result.tables[0].to_json()["changed"] == [1]


def test_keys_that_render_alike_are_not_lost(sqlite_url: str, pg_url: str) -> None:
    """Two SQLite TIME keys, '03:03:03' and '03:03:03.000000', render alike: the second
    has no row of its own in the target, and is reported missing (the comparison had
    kept one of them and said equal although the counts differ)."""
    run(sqlite_url, "CREATE TABLE k (t TIME PRIMARY KEY, n INTEGER)")
    run(pg_url, "CREATE TABLE k (t time PRIMARY KEY, n bigint)")
    run(
        sqlite_url,
        "INSERT INTO k VALUES ('03:03:03.000000', 1), ('03:03:03', 1), ('04:00:00.000000', 2)",
    )
    run(pg_url, "INSERT INTO k VALUES ('03:03:03', 1), ('04:00:00', 2)")
    result = verify(sqlite_url, pg_url)
    table = result.tables[0].to_json()
    assert not result.equal and (table["source_rows"], table["target_rows"]) == (3, 2)
    assert table["missing"] in (["03:03:03"], ["03:03:03.000000"]), table
    assert table["extra"] == [] and table["changed"] == []


def test_a_row_migrate_refused_for_its_time_is_reported_missing(
    sqlite_url: str, pg_url: str
) -> None:
    """A PostgreSQL time 24:00:00 (a reject of migrate into SQLite) is read as its text
    when verify downloads its segment: the row is reported, verify does not fail."""
    run(pg_url, "CREATE TABLE e (id bigint PRIMARY KEY, tod time, at timestamp)")
    run(sqlite_url, "CREATE TABLE e (id INTEGER PRIMARY KEY, tod TIME, at TIMESTAMP)")
    run(
        pg_url,
        "INSERT INTO e VALUES (1, '12:00', '2020-01-01 08:00'), (2, '24:00:00', 'infinity'), "
        "(3, '13:00', '2020-01-02 08:00')",
    )
    run(
        sqlite_url,
        "INSERT INTO e VALUES (1, '12:00:00', '2020-01-01 08:00:00'), "
        "(3, '13:00:00', '2020-01-02 08:00:00')",
    )
    result = verify(pg_url, sqlite_url)
    assert result.tables[0].to_json()["missing"] == [2]
    assert result.tables[0].to_json()["changed"] == []


def _spaced_ids(n: int) -> list[int]:
    """``n`` neighbouring keys and one far away: the first level's segments then hold
    several rows each, so a differing row brings its neighbours into the comparison."""
    return [*range(1, n + 1), 10_000_000]


def test_char_padding_of_a_neighbour_is_not_a_difference(pg_url: str, mariadb_url: str) -> None:
    """PostgreSQL gives a char(4) value padded ('ab  '), MariaDB without the padding;
    the digests compare them without it (char(n)::text), and so must the rows fetched
    for a neighbour that differs: only that neighbour is changed (was: every row of its
    segment). Trailing spaces are compared where neither side pads, and on the side that
    does not pad: a space it holds as data, which a CHAR(n) copy loses, is a difference."""
    ids = _spaced_ids(20)
    run(pg_url, "CREATE TABLE p (id int PRIMARY KEY, code char(4), v varchar(10), w text)")
    run(mariadb_url, "CREATE TABLE p (id INT PRIMARY KEY, code CHAR(4), v VARCHAR(10), w TEXT)")
    rows = ", ".join(f"({i}, 'ab', 'v{i}', 'w ')" for i in ids)
    run(pg_url, f"INSERT INTO p VALUES {rows}", "UPDATE p SET v = 'X' WHERE id = 7")
    run(mariadb_url, f"INSERT INTO p VALUES {rows}", "UPDATE p SET w = 'w' WHERE id = 9")
    for a, b in ((pg_url, mariadb_url), (mariadb_url, pg_url)):
        result = verify(a, b)
        table = result.tables[0]
        assert table.to_json()["changed"] == [7, 9], table.to_json()
        assert table.rows_fetched > 4  # the neighbours were compared
        assert "char_padding" in table.normalisations and "text_nfc" in table.normalisations
    # a trailing space held as data (text, VARCHAR) that a CHAR(n) copy cannot keep
    run(pg_url, "CREATE TABLE s (id int PRIMARY KEY, v varchar(6))")
    run(mariadb_url, "CREATE TABLE s (id INT PRIMARY KEY, v CHAR(6))")
    spaced = ", ".join(f"({i}, 'ab{' ' if i == 5 else ''}')" for i in ids)
    run(pg_url, f"INSERT INTO s VALUES {spaced}")
    run(mariadb_url, f"INSERT INTO s VALUES {spaced}")
    for a, b in ((pg_url, mariadb_url), (mariadb_url, pg_url)):
        assert verify(a, b, ["s"]).tables[0].to_json()["changed"] == [5]
    # a padded key: the same row on both sides
    run(pg_url, "CREATE TABLE k (code char(6) PRIMARY KEY, v text)")
    run(mariadb_url, "CREATE TABLE k (code CHAR(6) PRIMARY KEY, v TEXT)")
    keys = ", ".join(f"('c{i}', 'v{i}')" for i in range(40))
    run(pg_url, f"INSERT INTO k VALUES {keys}", "UPDATE k SET v = 'X' WHERE code = 'c7'")
    run(mariadb_url, f"INSERT INTO k VALUES {keys}")
    table = verify(pg_url, mariadb_url, ["k"]).tables[0].to_json()
    assert table["changed"] == ["c7    "] and not table["missing"] and not table["extra"]


def test_a_null_key_in_a_split_scan_or_a_key_range_is_named(pg_url: str, mariadb_url: str) -> None:
    """A target that does not declare its key may hold NULL in it. A full scan read as two
    key ranges (PostgreSQL when its values cannot be inlined: a bytea here) and a
    cluster's key-range parts never read that row: both counted the table equal."""
    from handover.verify.verify import Part, compare_part, parts

    run(mariadb_url, "CREATE TABLE nk (id INT PRIMARY KEY, v BLOB)")
    run(pg_url, "CREATE TABLE nk (id int, v bytea)")
    rows = ", ".join(f"({i}, 'v{i}')" for i in range(1, 3001))
    run(mariadb_url, f"INSERT INTO nk VALUES {rows}")
    run(pg_url, f"INSERT INTO nk VALUES {rows}")
    for a, b in ((mariadb_url, pg_url), (pg_url, mariadb_url)):
        assert verify(a, b).equal
        cut = parts(a, b, None, 1000)
        assert len(cut) == 3 and all(p.lo is not None for p in cut)
    run(pg_url, "INSERT INTO nk VALUES (NULL, 'null key')")
    for a, b in ((mariadb_url, pg_url), (pg_url, mariadb_url)):
        with pytest.raises(BadInput) as caught:
            verify(a, b)
        assert caught.value.message is not None
        assert caught.value.message.key == "verify.null_key"
        # the table is one part, which the digests refuse by name
        assert parts(a, b, None, 1000) == [Part("nk")]
        with pytest.raises(BadInput, match=r"table nk: the primary key \(id\) holds NULL"):
            compare_part(a, b, Part("nk"))


@pytest.mark.parametrize("locked", ["postgresql", "mariadb"])
def test_ctrl_c_cancels_the_statements_under_way(
    pg_url: str, mariadb_url: str, locked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while a server runs a comparison's statement: the statement is cancelled
    (PostgreSQL's cancel request, MariaDB's KILL QUERY) and verify stops now, instead of
    when the statement is done. The statement blocks on demand: another session holds
    the table locked (released after 60 s, so that a regression fails instead of
    hanging)."""
    import threading

    from handover.verify import verify as kernel

    rows = ", ".join(f"({i}, 'v{i}')" for i in range(1, 301))
    for url in (pg_url, mariadb_url):
        run(
            url,
            "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
            f"INSERT INTO t VALUES {rows}",
        )
    url = pg_url if locked == "postgresql" else mariadb_url
    # no pool: closing the locking session ends it, and its lock with it
    locker = sa.create_engine(url, poolclass=sa.pool.NullPool).connect()
    watcher = sa.create_engine(url, isolation_level="AUTOCOMMIT").connect()
    if locked == "postgresql":
        locker.execute(sa.text("LOCK TABLE t IN ACCESS EXCLUSIVE MODE"))
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        busy = (
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND pid <> pg_backend_pid() AND datname = current_database()"
        )
    else:
        locker.execute(sa.text("LOCK TABLES t WRITE"))
        waiting = (
            "SELECT count(*) FROM information_schema.processlist "
            "WHERE state LIKE 'Waiting for table%'"
        )
        busy = (
            "SELECT count(*) FROM information_schema.processlist WHERE command = 'Query' "
            "AND id <> CONNECTION_ID() AND db = DATABASE()"
        )
    unlock = threading.Timer(60, locker.close)
    unlock.start()

    def both(pool: Any, fn: Any, plan: Any, *args: Any) -> Any:
        futures = [pool.submit(fn, plan.src, *args), pool.submit(fn, plan.dst, *args)]
        for _ in range(1000):  # the locked side's statement waits for the lock
            if watcher.execute(sa.text(waiting)).scalar():
                raise KeyboardInterrupt  # the operator's Ctrl-C
            time.sleep(0.01)
        raise AssertionError([f.done() for f in futures])

    monkeypatch.setattr(kernel, "_both", both)
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            verify(mariadb_url, pg_url)
        assert time.monotonic() - t0 < 30  # not the 60 s the lock is held
        assert watcher.execute(sa.text(waiting)).scalar() == 0
        assert watcher.execute(sa.text(busy)).scalar() == 0
    finally:
        unlock.cancel()
        locker.close()
        watcher.close()
