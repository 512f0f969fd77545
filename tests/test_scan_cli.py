"""``handover scan`` through the CLI: the --json contract, the store, reports, ledger,
and bad input (one line, exit 2, never a traceback)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.synth import synthesize

runner = CliRunner()
COLUMN_KEYS = [
    "name",
    "db_type",
    "primary",
    "tier",
    "level",
    "sensitive",
    "free_text",
    "confidence",
    "pii",
    "evidence",
    "evidence_keys",
]


@pytest.fixture
def ws(tmp_path: Path) -> str:
    path = str(tmp_path / "ws")
    res = runner.invoke(app, ["-w", path, "init", "--demo"])
    assert res.exit_code == 0, res.output
    return path


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("book") / "seller.db"
    synthesize(str(path), customers=300, seed=5)
    return path


def test_json_contract_store_reports_and_ledger(ws: str, book: Path) -> None:
    res = runner.invoke(
        app, ["-w", ws, "scan", str(book), "--json", "--sample", "200", "--seed", "9"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert list(doc) == ["source", "tables"]
    assert doc["source"] == str(book)
    for t in doc["tables"]:
        assert list(t) == ["name", "rows", "columns"]
        for c in t["columns"]:
            assert list(c) == COLUMN_KEYS
            assert c["tier"] in ("C1", "C2", "C3", None)
            assert 1 <= c["level"] <= 5
            assert all(set(p) == {"type", "share"} for p in c["pii"])
    # Evidence never holds a clear resident ID, phone or card.
    clear = re.compile(r"(?<![0-9*])(?:[0-9]{17}[0-9Xx]|1[3-9][0-9]{9}|62[0-9]{14,17})(?![0-9])")
    assert not clear.search(res.stdout)
    reports = sorted(p.name for p in (Path(ws) / "reports").iterdir())
    assert [p.rsplit(".", 1)[1] for p in reports] == ["html", "xlsx"]

    from handover import ledger
    from handover.detect.store import latest_inventory
    from handover.workspace import open_workspace

    w = open_workspace(ws)
    try:
        stored = latest_inventory(w)
        assert stored is not None
        assert stored["tables"] == doc["tables"] or [t["name"] for t in stored["tables"]] == [
            t["name"] for t in doc["tables"]
        ]
        events = ledger.entries(w, action="scan.run")
        assert len(events) == 1
        ev = events[0]
        assert ev.purpose == "inventory" and ev.subject == str(book)
        assert ev.details["columns"] == sum(len(t["columns"]) for t in doc["tables"])
        assert ev.details["scan_id"] == stored["scan_id"]
    finally:
        w.close()


def test_english_report_and_human_output(ws: str, book: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    res = runner.invoke(app, ["-w", ws, "scan", str(book), "--lang", "en", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Scan done" in res.output
    html = next(out.glob("*.en.html")).read_text("utf-8")
    assert "Personal information inventory" in html and "cn_resident_id" in html
    from openpyxl import load_workbook

    wb = load_workbook(next(out.glob("*.en.xlsx")), read_only=True)
    assert wb.sheetnames == ["Summary", "Columns", "Notes"]
    res = runner.invoke(app, ["-w", ws, "scan", str(book), "--out", str(out)])
    zh = [p for p in out.glob("*.html") if not p.name.endswith(".en.html")]
    assert "个人信息资产清单" in zh[0].read_text("utf-8")


def _fails(ws: str, *args: str, lang: str = "en") -> str:
    res = runner.invoke(app, ["-w", ws, "--lang", lang, "scan", *args])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    return lines[0]


def test_bad_input_one_line(ws: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes("姓名,电话\n张三,13812345678\n".encode() + b"\xff\xfe\xff,1\n")
    assert re.search(r"bad\.csv: row 3: .*neither UTF-8 nor GBK", _fails(ws, str(bad)))
    assert re.search(r"bad\.csv:第 3 行:字节既不是 UTF-8", _fails(ws, str(bad), lang="zh-CN"))
    late = tmp_path / "late.csv"
    late.write_bytes(b"a,b\n" + b"x,1\n" * 300_000 + b"\xff\xff,2\n")
    assert "late.csv: row 300002" in _fails(ws, str(late))
    assert "no such file" in _fails(ws, str(tmp_path / "missing.db"))
    line = _fails(ws, "postgresql://scanner:secret@127.0.0.1:1/nowhere")
    assert "unreachable" in line and "secret" not in line
    notdb = tmp_path / "x.db"
    notdb.write_bytes(b"this is not sqlite" * 10)
    assert "x.db" in _fails(ws, str(notdb))


def test_ragged_rows_fail_unless_allowed_then_are_reported(ws: str, tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text(
        "name,mobile\n张三,13812345678\n李四,13912345678,extra\n王五,13712345678\n", "utf-8"
    )
    line = _fails(ws, str(f))
    assert "r.csv: 1 unreadable rows (rows 3)" in line and "--allow-bad-rows 1" in line
    res = runner.invoke(app, ["-w", ws, "scan", str(f), "--json", "--allow-bad-rows", "1"])
    assert res.exit_code == 0, res.output
    from handover.detect.scan import scan_source
    from handover.sources import FileReading

    inv = scan_source(str(f), reading=FileReading(allow_bad_rows=1))
    assert inv.tables[0].rows == 2
    assert any(
        "1 unreadable rows skipped" in str(n) and "rows 3" in str(n) for n in inv.tables[0].notes
    )


def test_huge_cell_is_capped_with_a_note(tmp_path: Path) -> None:
    from handover.detect.scan import scan_source

    db = tmp_path / "h.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE notes (id INTEGER, remark TEXT)")
    big = "客户张三电话13812345678。" + "备注内容," * 700_000 + "身份证号11010519491231002X"
    con.execute("INSERT INTO notes VALUES (1, ?)", (big,))
    con.executemany(
        "INSERT INTO notes VALUES (?, ?)",
        [(i, f"客户李四来电{i},电话13912345678,称下周还款。") for i in range(2, 40)],
    )
    con.commit()
    con.close()
    inv = scan_source(str(db))
    col = inv.tables[0].columns[1]
    assert col.free_text
    assert "cn_mobile" in {p.type for p in col.pii}
    assert any("longer than 1 MiB" in str(n) for n in col.notes)


def _unreadable_book(path: Path, damage: str) -> Path:
    """A book whose table ``abad`` SQLite cannot read: a virtual table of a module that is
    not there, or a page of its B-tree overwritten."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE good (id INTEGER PRIMARY KEY, n INTEGER)")
    con.execute("INSERT INTO good VALUES (1, 2)")
    if damage == "module":
        con.execute("PRAGMA writable_schema=ON")
        con.execute(
            "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES "
            "('table', 'abad', 'abad', 0, 'CREATE VIRTUAL TABLE abad USING nosuchmod(x)')"
        )
        con.commit()
        con.close()
        return path
    con.execute("CREATE TABLE abad (id INTEGER PRIMARY KEY, s TEXT)")
    con.executemany("INSERT INTO abad VALUES (?, ?)", [(i, f"x{i:06d}" * 5) for i in range(20_000)])
    con.commit()
    con.close()
    data = bytearray(path.read_bytes())
    data[20 * 4096 : 20 * 4096 + 64] = b"\xff" * 64  # inside abad's pages
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("damage", ["module", "pages"])
@pytest.mark.parametrize("command", ["scan", "seal", "dd-extract", "migrate"])
def test_a_table_sqlite_cannot_read_is_one_line_naming_it(
    ws: str, tmp_path: Path, damage: str, command: str
) -> None:
    """Every command that reads a SQLite book names the table SQLite cannot read, with
    SQLite's reason, in one line and exit 2: not an internal error."""
    book = _unreadable_book(tmp_path / "book.db", damage)
    extra = {
        "scan": [],
        "seal": ["--out", str(tmp_path / "pkg")],
        "dd-extract": ["--out", str(tmp_path / "dd")],
        "migrate": [f"sqlite:///{tmp_path / 'target.db'}", "--no-backup", "--reason", "test"],
    }[command]
    res = runner.invoke(app, ["-w", ws, "--lang", "en", command, str(book), *extra])
    reason = "no such module: nosuchmod" if damage == "module" else "malformed"
    assert res.exit_code == 2, res.output
    assert "table 'abad' cannot be read" in res.output and reason in res.output, res.output
    assert "internal error" not in res.output and "Traceback" not in res.output
    assert not (tmp_path / "pkg").exists() and not (tmp_path / "dd").exists()


@pytest.mark.parametrize("damage", ["module", "pages"])
@pytest.mark.parametrize("side", ["source", "target"])
def test_verify_names_the_table_sqlite_cannot_read(
    ws: str, tmp_path: Path, damage: str, side: str
) -> None:
    """verify, on either side, names the table and SQLite's reason in one line (exit 2),
    whether the table cannot be described or its pages cannot be read."""
    book = _unreadable_book(tmp_path / "book.db", damage)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE good (id INTEGER PRIMARY KEY, n INTEGER)")
    con.execute("INSERT INTO good VALUES (1, 2)")
    con.execute("CREATE TABLE abad (id INTEGER PRIMARY KEY, s TEXT)")
    con.commit()
    con.close()
    pair = [str(book), str(other)] if side == "source" else [str(other), str(book)]
    res = runner.invoke(app, ["-w", ws, "--lang", "en", "verify", *pair])
    assert res.exit_code == 2, res.output
    if damage == "module":
        assert "table 'abad' cannot be read (no such module: nosuchmod)" in res.output
    else:
        assert "at table 'abad' (database disk image is malformed)" in res.output, res.output
    assert "internal error" not in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1, res.output


def test_verify_tells_no_value_python_could_not_decode(ws: str, tmp_path: Path) -> None:
    """A TEXT cell that is no UTF-8 (GBK from an old system) in a row that differs: the
    ``sqlite3`` module's error quotes the cell, so only its kind is told."""
    cell = "张三 110101199003071234".encode("gbk")
    for name, value in (("a.db", cell), ("b.db", b"other")):
        con = sqlite3.connect(tmp_path / name)
        con.execute("CREATE TABLE kh (id INTEGER PRIMARY KEY, xm TEXT)")
        con.execute("INSERT INTO kh VALUES (1, CAST(? AS TEXT))", (value,))
        con.commit()
        con.close()
    res = runner.invoke(
        app, ["-w", ws, "--lang", "en", "verify", str(tmp_path / "a.db"), str(tmp_path / "b.db")]
    )
    assert res.exit_code == 2, res.output
    assert "at table 'kh' (OperationalError)" in res.output, res.output
    assert "110101" not in res.output and "Traceback" not in res.output
