"""A CSV without a header row (MySQL's ``SELECT … INTO OUTFILE`` writes none): refused by
default, naming ``--no-header``; read with ``--no-header`` by scan, seal and dd-extract,
its first row kept as data and its columns named ``column_1`` …; the option refused where
no CSV file would honour it. The real CLI on real files; the workspace unchanged by every
refusal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from handover.sources import FileReading
from handover.synth import synthesize
from hardening_support import cli, demo_workspace, refused, snapshot

#: customer id, name, mobile, resident ID number: as a database export writes them
ROWS = [
    ("1", "张三", "13800138000", "110101199003074514"),
    ("2", "李四", "13900139000", "11010519491231002X"),
    ("3", "王五", "13700137000", "440305198807150015"),
    ("4", "赵六", "13600136000", "310104197512300011"),
]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return demo_workspace(tmp_path)


@pytest.fixture
def outfile(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text("".join(",".join(r) + "\n" for r in ROWS), "utf-8")
    return path


def test_a_headerless_file_is_refused_naming_the_option(ws: Path, outfile: Path) -> None:
    before = snapshot(ws)
    for command in (["scan", str(outfile)], ["seal", str(outfile), "--out", str(ws / "p")]):
        line = refused(ws, 2, *command)
        assert "customers.csv" in line and "--no-header" in line, line
        assert "13800138000" not in line and "110101199003074514" not in line
    assert "--no-header" in refused(ws, 2, "scan", str(outfile), lang="zh-CN")
    assert snapshot(ws) == before and not (ws / "p").exists()


def test_scan_reads_every_row_with_numbered_columns(ws: Path, outfile: Path) -> None:
    res = cli(ws, "scan", str(outfile), "--full", "--no-header", "--json")
    assert res.code == 0, res.err
    (table,) = json.loads(res.out)["tables"]
    assert table["rows"] == len(ROWS)  # the first customer is a row, not the header
    columns = {c["name"]: c for c in table["columns"]}
    assert list(columns) == ["column_1", "column_2", "column_3", "column_4"]
    assert [p["type"] for p in columns["column_3"]["pii"]][:1] == ["cn_mobile"]
    assert [p["type"] for p in columns["column_4"]["pii"]][:1] == ["cn_resident_id"]
    from handover.detect.scan import scan_source

    (scanned,) = scan_source(str(outfile), reading=FileReading(header=False)).tables
    assert any("no header row" in str(n) for n in scanned.notes), scanned.notes


def test_seal_and_dd_extract_keep_the_first_row(ws: Path, outfile: Path, tmp_path: Path) -> None:
    res = cli(ws, "seal", str(outfile), "--out", str(tmp_path / "pkg"), "--no-header", "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["rows"] == len(ROWS)
    restored = tmp_path / "back.db"
    assert cli(ws, "unseal", str(tmp_path / "pkg"), "--to", str(restored)).code == 0
    import sqlite3

    con = sqlite3.connect(restored)
    try:
        got = con.execute(
            "SELECT column_1, column_2, column_3, column_4 FROM customers ORDER BY column_1"
        ).fetchall()
    finally:
        con.close()
    assert got == ROWS
    res = cli(
        ws,
        "dd-extract",
        str(outfile),
        "--out",
        str(tmp_path / "dd"),
        "--no-header",
        "--k",
        "2",
        "--max-suppression",
        "100",
    )
    assert res.code == 0, res.err
    (shipped,) = (tmp_path / "dd").rglob("customers.parquet")
    table = pq.read_table(shipped)
    assert table.num_rows == len(ROWS)
    # the mobile and ID columns never reach the buyer in clear
    values = {str(v) for col in table.columns for v in col.to_pylist()}
    assert not values & {r[2] for r in ROWS} and not values & {r[3] for r in ROWS}


def test_the_option_is_refused_where_no_csv_would_honour_it(ws: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = tmp_path / "seller.db"
    synthesize(str(book), customers=20, seed=3)
    wb = Workbook()
    wb.active.append(["id", "姓名"])
    wb.active.append([1, "张三"])
    sheet = tmp_path / "s.xlsx"
    wb.save(sheet)
    before = snapshot(ws)
    folder = tmp_path / "sheets"
    folder.mkdir()
    wb.save(folder / "s.xlsx")
    for source in (book, sheet, f"sqlite:///{book}", folder):
        for command in (
            ["scan", str(source), "--no-header"],
            ["seal", str(source), "--out", str(tmp_path / "p"), "--no-header"],
        ):
            line = refused(ws, 2, *command)
            assert line.startswith("error: --no-header:") and "CSV" in line, line
    assert snapshot(ws) == before and not (tmp_path / "p").exists()


def test_a_run_records_the_reading_only_when_it_differs() -> None:
    """Runs recorded before ``header`` existed resume as they were."""
    assert FileReading(2).to_options() == {"allow_bad_rows": 2}
    plain = FileReading.from_options({"allow_bad_rows": 2})
    assert plain == FileReading(2, header=True)
    off = FileReading(0, header=False)
    assert FileReading.from_options(off.to_options()) == off


def test_an_inventory_serves_only_a_command_reading_the_file_alike(
    ws: Path, tmp_path: Path
) -> None:
    """A headerless file whose first row holds nothing a header check flags: scanned with
    a header, its columns are named after that row. dd-extract with --no-header must not
    plan its columns from that inventory (every column would be unknown, kept in clear):
    it scans the file again as it reads it (review)."""
    src = tmp_path / "f.csv"
    first = "1,张三,无,未知\n"
    src.write_text(first + "".join(",".join(r) + "\n" for r in ROWS), "utf-8")
    assert cli(ws, "scan", str(src)).code == 0
    out = tmp_path / "dd"
    res = cli(ws, "dd-extract", str(src), "--out", str(out), "--no-header", "--k", "2")
    assert res.code == 0, res.err
    (shipped,) = out.rglob("f.parquet")
    values = {str(v) for col in pq.read_table(shipped).columns for v in col.to_pylist()}
    assert not values & {r[2] for r in ROWS} and not values & {r[3] for r in ROWS}


def test_a_column_added_after_the_scan_is_scanned_before_it_is_shipped(
    ws: Path, tmp_path: Path
) -> None:
    """The stored inventory lacks a column the file has now: the command scans again
    rather than ship an unclassified column in clear."""
    src = tmp_path / "c.csv"
    src.write_text("id,name\n" + "".join(f"{r[0]},{r[1]}\n" for r in ROWS), "utf-8")
    assert cli(ws, "scan", str(src)).code == 0
    src.write_text("id,name,mobile\n" + "".join(f"{r[0]},{r[1]},{r[2]}\n" for r in ROWS), "utf-8")
    out = tmp_path / "dd"
    res = cli(ws, "dd-extract", str(src), "--out", str(out), "--k", "2", "--max-suppression", "100")
    assert res.code == 0, res.err
    (shipped,) = out.rglob("c.parquet")
    values = {str(v) for col in pq.read_table(shipped).columns for v in col.to_pylist()}
    assert not values & {r[2] for r in ROWS}
