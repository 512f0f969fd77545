"""Hardening, crashes (issue 15): inputs that used to end in an internal error (exit 70).
Each case runs the real CLI on a real bad file or a real MariaDB/PostgreSQL table and
asserts the exit code, the object the one-line message names, and that nothing changed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hardening_support import cli, demo_workspace, refused, snapshot


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return demo_workspace(tmp_path)


SRC = Path(__file__).resolve().parents[1] / "src"


# --- values and names no report could hold ------------------------------------------------


def test_nan_and_inf_cells_are_masked_not_a_crash(ws: Path, tmp_path: Path) -> None:
    src = tmp_path / "loans.csv"
    src.write_text(
        "id,amount,income\n1,100,5000\n2,NaN,inf\n3,nan,-Infinity\n4,1e400,7000\n", "utf-8"
    )
    res = cli(ws, "scan", str(src), "--json")
    assert res.code == 0, res.err
    res = cli(ws, "seal", str(src), "--out", str(tmp_path / "p"), "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["rows"] == 4


def test_control_character_in_a_header_is_refused(ws: Path, tmp_path: Path) -> None:
    # (XML cannot hold these characters, so an XLSX header never has them)
    (tmp_path / "nul.csv").write_bytes(b"id,na\x00me\n1,x\n2,y\n")
    pq.write_table(pa.table({"id": [1], "na\x01me": ["x"]}), tmp_path / "ctl.parquet")
    before = snapshot(ws)
    for name, code in (("nul.csv", "U+0000"), ("ctl.parquet", "U+0001")):
        for command in ("scan", "seal"):
            extra = ["--out", str(tmp_path / "p")] if command == "seal" else []
            line = refused(ws, 2, command, str(tmp_path / name), *extra)
            assert (
                name in line
                and f"column 2 of the header holds the control character {code}" in line
            )
    assert snapshot(ws) == before and not (tmp_path / "p").exists()


def test_control_characters_in_values_reach_xlsx_escaped(ws: Path, tmp_path: Path) -> None:
    import openpyxl

    src = tmp_path / "ctl.csv"
    src.write_bytes("id,name,remark\n1,张三,a\x00b\n2,李四,c\x02\n".encode())
    res = cli(ws, "dd-extract", str(src), "--out", str(tmp_path / "dd"), "--k", "2")
    assert res.code == 0, res.err
    book = openpyxl.load_workbook(next((tmp_path / "dd" / "xlsx").glob("*.xlsx")))
    values = [r[2] for r in book.active.values][1:]
    assert values == ["a\\x00b", "c\\x02"]
    exact = pq.read_table(next((tmp_path / "dd" / "parquet").glob("*.parquet")))
    assert exact.column("remark").to_pylist() == ["a\x00b", "c\x02"]


@pytest.mark.parametrize("kind", ["xlsx", "parquet", "csv"])
def test_duplicate_column_names_are_refused(ws: Path, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"dup.{kind}"
    if kind == "xlsx":
        import openpyxl

        wb = openpyxl.Workbook()
        wb.active.title = "cust"
        wb.active.append(["id", "name", "name"])
        wb.active.append([1, "a", "b"])
        wb.save(path)
    elif kind == "parquet":
        t = pa.table(
            [pa.array([1]), pa.array(["a"]), pa.array(["b"])], names=["id", "name", "name"]
        )
        pq.write_table(t, path)
    else:
        path.write_text("id,name,name\n1,张三,李四\n", "utf-8")
    before = snapshot(ws)
    for args in (["scan", str(path)], ["seal", str(path), "--out", str(tmp_path / "p")]):
        line = refused(ws, 2, *args)
        assert f"dup.{kind}" in line and "column name 'name' appears twice" in line
    assert snapshot(ws) == before and not (tmp_path / "p").exists()


def test_nested_parquet_into_seal_changes_nothing(ws: Path, tmp_path: Path) -> None:
    t = pa.table(
        {
            "id": [1, 2],
            "addr": pa.array(
                [{"city": "杭州", "zip": "310000"}, {"city": "上海", "zip": "200000"}]
            ),
        }
    )
    src = tmp_path / "nested.parquet"
    pq.write_table(t, src)
    before = snapshot(ws)
    for args in (
        ["seal", str(src), "--out", str(tmp_path / "p")],
        ["dd-extract", str(src), "--out", str(tmp_path / "dd")],
    ):
        line = refused(ws, 2, *args)
        assert "nested.parquet: table 'nested' column 'addr' has the nested type struct" in line
    # no key registered, no inventory or report written, no package
    assert snapshot(ws) == before
    assert not list((ws / "reports").glob("inventory-*"))
    assert not (tmp_path / "p").exists() and not (tmp_path / "dd").exists()


# --- MariaDB values no calendar or Arrow type has -------------------------------------------


def _maria(url: str, *statements: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'")
        for s in statements:
            conn.exec_driver_sql(s)
    engine.dispose()


@pytest.mark.parametrize(
    ("value", "row"), [("0000-00-00", 2), ("2021-02-30", 3)], ids=["zero", "impossible"]
)
def test_mariadb_invalid_dates_are_named_not_a_crash(
    ws: Path, tmp_path: Path, mariadb_url: str, value: str, row: int
) -> None:
    filler = ", ".join(f"({i}, '2021-01-0{i}')" for i in range(1, row))
    _maria(
        mariadb_url,
        "CREATE TABLE wt_h15a_dates (id INT PRIMARY KEY, birth DATE)",
        f"INSERT INTO wt_h15a_dates VALUES {filler}, ({row}, '{value}')",
    )
    before = snapshot(ws)
    quiet = ["--progress", "none"]
    for args in (
        ["scan", mariadb_url, *quiet],
        ["seal", mariadb_url, "--out", str(tmp_path / "p"), *quiet],
    ):
        line = refused(ws, 2, *args)
        assert f"table 'wt_h15a_dates' row {row}: column 'birth'" in line, line
        assert "0000-00-00 or 2021-02-30" in line and "root@" in line
    assert snapshot(ws) == before and not (tmp_path / "p").exists()
    zh = refused(ws, 2, "scan", mariadb_url, *quiet, lang="zh-CN")
    assert f"表 'wt_h15a_dates' 第 {row} 行:列 'birth'" in zh


def test_mariadb_decimal_65_30_is_scanned_and_sealed_exactly(
    ws: Path, tmp_path: Path, mariadb_url: str, pg_url: str
) -> None:
    big = "12345678901234567890123456789012345.123456789012345678901234567890"
    _maria(
        mariadb_url,
        "CREATE TABLE wt_h15a_dec (id INT PRIMARY KEY, amt DECIMAL(65,30))",
        f"INSERT INTO wt_h15a_dec VALUES (1, {big}), (2, 1.5), (3, NULL)",
    )
    quiet = ["--progress", "none"]
    assert cli(ws, "scan", mariadb_url, "--full", *quiet).code == 0
    res = cli(ws, "seal", mariadb_url, "--out", str(tmp_path / "p"), "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["rows"] == 3
    # (a SQLite target refuses the first value: REAL keeps 15 digits; PostgreSQL keeps all)
    res = cli(ws, "unseal", str(tmp_path / "p"), "--to", pg_url, *quiet)
    assert res.code == 0, res.err
    import sqlalchemy as sa

    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        got = conn.exec_driver_sql("SELECT amt::text FROM wt_h15a_dec ORDER BY id").scalars().all()
    engine.dispose()
    assert got == [big, "1.500000000000000000000000000000", None]


# --- the language ---------------------------------------------------------------------------


def test_unsupported_language_is_bad_input(ws: Path) -> None:
    for args in (["--lang", "fr", "audit", "verify"], ["scan", str(ws), "--lang", "fr"]):
        res = subprocess.run(
            [
                sys.executable,
                "-c",
                "from handover.cli.main import main; main()",
                "-w",
                str(ws),
                *args,
            ],
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        )
        assert res.returncode == 2, res.stderr
        # in the workspace's language (English: it was made with --lang en)
        assert res.stderr.strip() == "error: --lang fr: unsupported language; use one of zh-CN, en"
    toml = ws / "handover.toml"
    text = re.sub(r'(?m)^lang = ".*"$', 'lang = "fr"', toml.read_text("utf-8"))
    toml.write_text(text, "utf-8")
    line = refused(ws, 2, "audit", "verify", lang=None)
    assert "handover.toml" in line and "fr" in line


# --- a damaged store ------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed", "foreign"])
def test_damaged_store_is_named(ws: Path, damage: str) -> None:
    db = ws / "handover.db"
    for extra in ("handover.db-wal", "handover.db-shm"):
        (ws / extra).unlink(missing_ok=True)
    size = db.stat().st_size
    if damage == "garbage":
        with db.open("r+b") as fh:
            fh.write(b"\x5a" * 3000)
    elif damage == "truncated":
        with db.open("r+b") as fh:
            fh.truncate(8192)
    elif damage == "zeroed":
        db.write_bytes(b"\x00" * size)
    else:  # a SQLite database, but not a handover store
        import sqlite3

        db.unlink()
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE customers (id INTEGER)")
        con.commit()
        con.close()
    damaged = db.read_bytes()
    line = refused(ws, 1, "audit", "verify")
    if damage == "foreign":
        assert f"{db}: not the store of workspace {ws} (no handover schema in it)" in line
    else:
        assert f"{db}: the workspace's store is damaged (" in line, line
    assert db.read_bytes() == damaged
