"""Into PostgreSQL the copy phase writes a binary COPY of typed Arrow columns, built by
handover's C module (``handover.db.pgcopy``) on psycopg's connection, or by ADBC's driver
where that module is not built; a table with a column that has no binary form there
(JSON, UUID, a decimal without a declared precision or beyond 38 digits) through
psycopg's CSV COPY. All three must store the same values; refusals are bisected and
named alike."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from handover.cli.main import app
from handover.db.dialects import postgresql as pg
from handover.db.dialects.base import is_adbc

pytest.importorskip("adbc_driver_postgresql")

runner = CliRunner()

TYPED = (
    "CREATE TABLE typed (id INTEGER PRIMARY KEY, s SMALLINT, b BIGINT, flag BOOLEAN, "
    "amt DECIMAL(14,2), big DECIMAL(30,10), r REAL, d DATE, t TIME, ts TIMESTAMP, "
    "bin BLOB, v VARCHAR(10), c CHAR(3), tx TEXT)"
)
LOOSE = "CREATE TABLE loose (id INTEGER PRIMARY KEY, n NUMERIC, j JSON, huge DECIMAL(40,5))"


def _typed_row(i: int) -> tuple[Any, ...]:
    if i % 17 == 0:  # every column but the key NULL
        return (i, *([None] * 13))
    return (
        i,
        [-32768, 32767, 0, i][i % 4],
        [-(2**63), 2**63 - 1, i * 10**12][i % 3],
        i % 2,
        f"{'-' if i % 5 == 0 else ''}{i * 37}.{i % 100:02d}",
        f"{i}.{i:010d}"[: 12 + len(str(i))],
        [0.1, -2.5, 0.375, i / 7][i % 4],
        f"19{50 + i % 49}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        f"{i % 24:02d}:{i % 60:02d}:{i % 60:02d}.{i % 100:02d}1",
        f"2026-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:07.{i:06d}"[:26],
        bytes([0, i % 256, 255]) * (i % 3),
        ["", "客户", "x" * 10, f"v{i}"][i % 4],
        ["abc", "中文字", "a b", "   "][i % 4],  # CHAR(3): PostgreSQL pads shorter text
        f'第{i}行\n"引号", 逗号\\ \t' * (1 + i % 3),
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    db = tmp_path / "seller.db"
    conn = sqlite3.connect(db)
    conn.execute(TYPED)
    conn.execute(LOOSE)
    conn.executemany(
        f"INSERT INTO typed VALUES ({', '.join(['?'] * 14)})", map(_typed_row, range(1, 701))
    )
    conn.executemany(
        "INSERT INTO loose VALUES (?, ?, ?, ?)",
        [
            (i, f"{i}.{i % 100}", json.dumps({"i": i, "名": "张"}), f"{i * 1000}.{i:05d}")
            for i in range(1, 301)
        ],
    )
    conn.commit()
    conn.close()
    return db


@pytest.fixture
def second_pg() -> Iterator[str]:
    from tests.conftest import PG_ADMIN, _server_db

    yield from _server_db(PG_ADMIN, "PostgreSQL at 127.0.0.1:5432", "ho_test_csv")


@pytest.fixture
def third_pg() -> Iterator[str]:
    from tests.conftest import PG_ADMIN, _server_db

    yield from _server_db(PG_ADMIN, "PostgreSQL at 127.0.0.1:5432", "ho_test_adbc")


def _migrate(ws: Any, src: Path | str, url: str, *extra: str) -> Any:
    args = ["--workspace", str(ws.path), "--lang", "en", "migrate", str(src), url]
    return runner.invoke(
        app, [*args, "--no-backup", "--reason", "t", "--batch-size", "128", *extra]
    )


def _rows(url: str, table: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")]
    finally:
        engine.dispose()


def test_binary_copy_stores_what_the_csv_copy_stores(
    workspace: Any,
    source: Path,
    pg_url: str,
    second_pg: str,
    third_pg: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.conftest import require_built

    from handover.db import pgcopy

    require_built(pgcopy.built(), "handover.db._pgcopy", "C compiler")
    import threading

    seen: list[tuple[str, str]] = []
    real, encode = pg.PostgreSQL.bulk_insert, pgcopy.rows
    encoded: list[int] = []
    # the two copy lanes write at once: each thread's own batch
    mine = threading.local()

    def spy(self: Any, dbapi: Any, table: str, *args: Any) -> None:
        mine.encoded = False
        real(self, dbapi, table, *args)
        seen.append((table, "adbc" if is_adbc(dbapi) else "c" if mine.encoded else "csv"))

    def counting(arrays: Any) -> bytes:
        mine.encoded = True
        encoded.append(len(arrays[0]))
        return encode(arrays)

    monkeypatch.setattr(pg.PostgreSQL, "bulk_insert", spy)
    monkeypatch.setattr(pgcopy, "rows", counting)
    res = _migrate(workspace, source, pg_url, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows"] == 1000
    # typed through handover's binary COPY, loose (NUMERIC, JSON, 40 digits) as CSV
    assert {t for t, how in seen if how == "c"} == {"typed"} and sum(encoded) == 700
    assert {t for t, how in seen if how == "csv"} == {"loose"}

    # without the C module: ADBC's binary COPY
    seen.clear()
    monkeypatch.setattr(pgcopy, "built", lambda: False)
    res = _migrate(workspace, source, third_pg)
    assert res.exit_code == 0, res.output
    assert {t for t, how in seen if how == "adbc"} == {"typed"}
    assert {t for t, how in seen if how == "csv"} == {"loose"}

    # and without ADBC's driver either: CSV throughout
    seen.clear()
    monkeypatch.setattr(pg.PostgreSQL, "bulk_connection", lambda *a, **k: None)
    res = _migrate(workspace, source, second_pg)
    assert res.exit_code == 0, res.output
    assert seen and {how for _, how in seen} == {"csv"}
    for table in ("typed", "loose"):
        ours, adbc, csv = _rows(pg_url, table), _rows(third_pg, table), _rows(second_pg, table)
        assert len(ours) == (700 if table == "typed" else 300)
        assert ours == adbc == csv, table
    row = _rows(pg_url, "typed")[4]  # id 5
    assert row[:3] == (5, 32767, 5 * 10**12) and row[4] == Decimal("-185.05")
    assert row[9] == dt.datetime(2026, 6, 6, 5, 5, 7, 5) and row[10] == b"\x00\x05\xff" * 2

    verify = runner.invoke(
        app, ["--workspace", str(workspace.path), "--lang", "en", "verify", str(source), pg_url]
    )
    assert verify.exit_code == 0, verify.output


def test_a_value_the_binary_copy_refuses_is_named_without_its_value(
    workspace: Any, tmp_path: Path, pg_url: str
) -> None:
    db = tmp_path / "dirty.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, name VARCHAR(4), n SMALLINT)")
    rows = [(i, f"张{i % 10}", i) for i in range(1, 301)]
    rows[123] = (124, "欧阳娜娜张伟", 1)  # 6 characters > VARCHAR(4)
    conn.executemany("INSERT INTO person VALUES (?, ?, ?)", rows)
    conn.commit()
    conn.close()
    res = _migrate(workspace, db, pg_url, "--allow-rejects", "1", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["rejects"] == 1 and out["rows"] == 299
    (line,) = Path(out["reject_file"]).read_text(encoding="utf-8").splitlines()
    reject = json.loads(line)
    assert (reject["key"], reject["column"], reject["stage"]) == ("124", "name", "write")
    assert "value too long" in reject["reason"] and "[22001]" in reject["reason"]
    assert "欧阳娜娜张伟" not in res.output + line


def test_numbered_parameters_and_errors_of_adbc(pg_url: str) -> None:
    import adbc_driver_postgresql.dbapi as adbc
    import pyarrow as pa

    dialect = pg.PostgreSQL()
    url = sa.engine.make_url(pg_url)
    conn = adbc.connect(
        f"host={url.host} port={url.port or 5432} user={url.username} dbname={url.database}",
        autocommit=True,
    )
    try:
        assert dialect.params_sql(conn, 'UPDATE "a%%b" SET x = %s WHERE y = %s') == (
            'UPDATE "a%b" SET x = $1 WHERE y = $2'
        )
        assert dialect.params_sql(object(), "x = %s") == "x = %s"  # psycopg's own marks
        cur = conn.cursor()
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(2), n NUMERIC(4,1))")
        errors = []
        for table in (
            pa.table({"id": pa.array([1], pa.int32()), "v": ["long"]}),  # 22001
            pa.table({"id": pa.array([1, 1], pa.int32())}),  # 23505
            pa.table({"id": pa.array([2], pa.int64())}),  # an int8 where int4 is: 22P03
            pa.table({"id": pa.array([None], pa.int32())}),  # NULL in the key: 23502
        ):
            try:
                cur.adbc_ingest("t", table, mode="append")
            except Exception as exc:
                errors.append(exc)
        assert len(errors) == 4
        too_long, duplicate, ours, null = errors
        # the column from libpq's fields, not from the message's words
        assert dialect.describe_error(null)[0::2] == ("id", "23502")
        assert dialect.is_data_error(too_long) and dialect.is_data_error(duplicate)
        assert dialect.describe_error(too_long) == (
            "v",
            "value too long for type character varying(2)",
            "22001",
        )
        assert dialect.is_duplicate_key(duplicate) and not dialect.is_duplicate_key(too_long)
        assert not dialect.is_data_error(ours)  # handover's encoding, never the rows'
        cur.close()
    finally:
        conn.close()


@contextlib.contextmanager
def _database(encoding: str) -> Iterator[str]:
    """A new PostgreSQL database of ``encoding`` (its URL), dropped afterwards."""
    from tests.conftest import PG_ADMIN, _server_db

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    gen = _server_db(PG_ADMIN, "PostgreSQL at 127.0.0.1:5432", f"ho_test_{encoding.lower()}")
    url = next(gen)
    name = sa.engine.make_url(url).database
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name}")
            conn.exec_driver_sql(
                f"CREATE DATABASE {name} ENCODING '{encoding}' LC_COLLATE 'C' LC_CTYPE 'C' "
                "TEMPLATE template0"
            )
        yield url
    finally:
        admin.dispose()
        gen.close()


def _one_table(path: Path, table: str, rows: list[tuple[Any, ...]]) -> Path:
    """A SQLite file at ``path`` holding ``table`` (``name (columns)``) with ``rows``."""
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {table}")
    marks = ", ".join("?" * len(rows[0]))
    conn.executemany(f"INSERT INTO {table.split()[0]} VALUES ({marks})", rows)
    conn.commit()
    conn.close()
    return path


def test_a_target_of_another_encoding_gets_the_characters(workspace: Any, tmp_path: Path) -> None:
    """Arrow's text is UTF-8 whatever the target database's encoding: the writer's
    session says so (client_encoding), and a GBK-family database (EUC_CN) stores the
    characters themselves (found by review: the rows had become rejects, or the run
    crashed on the reject's own text)."""
    with _database("EUC_CN") as url:
        db = _one_table(
            tmp_path / "cn.db",
            "c (id INTEGER PRIMARY KEY, name VARCHAR(10), addr TEXT)",
            [(i, f"张伟{i}", "北京市朝阳区") for i in range(1, 201)],
        )
        res = _migrate(workspace, db, url, "--json")
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["rejects"] == 0
        engine = sa.create_engine(url)
        with engine.connect() as c:
            got = c.exec_driver_sql("SELECT name, addr, length(name) FROM c WHERE id = 1").one()
        engine.dispose()
        assert tuple(got) == ("张伟1", "北京市朝阳区", 3)


def test_a_character_the_target_lacks_is_a_named_reject(workspace: Any, tmp_path: Path) -> None:
    """A LATIN1 database has no 张: that row is a reject naming its key and column, its
    reason without the character's bytes (part of the value), stored although the masked
    reason's "…" is not LATIN1 either (the run had ended in an internal error)."""
    with _database("LATIN1") as url:
        db = _one_table(
            tmp_path / "people.db",
            "p (id INTEGER PRIMARY KEY, name TEXT, code VARCHAR(4))",
            [(1, "Zoë", "ab"), (2, "张三", "cd"), (3, "Anne", "toolong"), (4, "Åsa", "ef")],
        )
        res = _migrate(workspace, db, url)
        assert res.exit_code == 1, res.output
        assert "internal error" not in res.output
        assert "table p column name key 2" in res.output, res.output
        run = res.output.split("migration run ", 1)[1].split(":", 1)[0]
        report = workspace.path / "reports" / f"migrate-{run}-rejects.jsonl"
        rejects = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
        assert {(r["key"], r["column"]) for r in rejects} == {("2", "name"), ("3", "code")}
        reason = next(r["reason"] for r in rejects if r["key"] == "2")
        assert "[22P05]" in reason and "0x" not in reason, reason
        assert [(r[0], r[1]) for r in _rows(url, "p")] == [(1, "Zoë"), (4, "Åsa")]
        assert pg.PostgreSQL().text_codec(lambda sql: [("LATIN1",)]) == "iso8859-1"
        assert pg.PostgreSQL().text_codec(lambda sql: [("WIN1252",)]) == "cp1252"
        assert pg.PostgreSQL().text_codec(lambda sql: [("UTF8",)]) is None
        assert pg.PostgreSQL().text_codec(lambda sql: [("KOI8R",)]) == "koi8-r"
        # an encoding Python lacks: every non-ASCII character escaped, never a failed insert
        assert pg.PostgreSQL().text_codec(lambda sql: [("EUC_TW",)]) == "ascii"
        from handover.migrate.writer import sanitize

        bad = sanitize('invalid byte sequence for encoding "UTF8": 0xe5 0xbc')
        assert "0x" not in bad and bad.startswith("invalid byte sequence")


def test_a_time_of_day_with_its_zone_keeps_its_offset(
    workspace: Any, tmp_path: Path, pg_url: str, second_pg: str
) -> None:
    """A PostgreSQL ``timetz`` has no neutral kind that keeps its offset: it is copied as
    its text, into a server and into a SQLite file alike, and verifies equal (it had
    become a ``time`` without the offset, and the run said done)."""
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE x (id int PRIMARY KEY, at timetz, plain time)")
        conn.exec_driver_sql(
            "INSERT INTO x VALUES (1, '03:03:03.5+08', '03:03:03.5'), "
            "(2, '10:00:00-05:30', '10:00:00'), (3, NULL, NULL)"
        )
    engine.dispose()
    lite = tmp_path / "copy.db"
    for target in (second_pg, str(lite)):
        res = _migrate(workspace, pg_url, target)
        assert res.exit_code == 0, res.output
        check = runner.invoke(
            app, ["--workspace", str(workspace.path), "--lang", "en", "verify", pg_url, target]
        )
        assert check.exit_code == 0, check.output
    got = sqlite3.connect(lite).execute("SELECT id, at, plain FROM x ORDER BY id").fetchall()
    assert got == [
        (1, "03:03:03.5+08", "03:03:03.5"),
        (2, "10:00:00-05:30", "10:00:00"),
        (3, None, None),
    ]
    assert _rows(second_pg, "x")[0][1] == "03:03:03.5+08"
