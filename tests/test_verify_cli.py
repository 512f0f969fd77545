"""handover verify through the CLI: JSON shape, exit codes, languages, the ledger event."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.errors import BadInput
from handover.flows.verify import verify

runner = CliRunner()


def _db(path: Path, rows: list[tuple[int, str | None, float]], extra_sql: str = "") -> str:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE loans (id INTEGER PRIMARY KEY, name TEXT, amount DECIMAL(14,2))")
    con.executemany("INSERT INTO loans VALUES (?,?,?)", rows)
    if extra_sql:
        con.executescript(extra_sql)
    con.commit()
    con.close()
    return str(path)


ROWS = [(i, f"客户{i}", i * 1.5) for i in range(1, 51)]


@pytest.fixture
def ws_path(tmp_path: Path) -> str:
    res = runner.invoke(app, ["-w", str(tmp_path / "ws"), "init", "--demo"])
    assert res.exit_code == 0, res.output
    return str(tmp_path / "ws")


def test_equal_json_exit_0_and_ledger_event(tmp_path: Path, ws_path: str) -> None:
    a = _db(tmp_path / "a.db", ROWS)
    b = _db(tmp_path / "b.db", [(i, n, float(f"{x:.2f}")) for i, n, x in ROWS])
    res = runner.invoke(app, ["-w", ws_path, "--lang", "en", "verify", a, b, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc == {
        "equal": True,
        "normalisations": [
            {
                "code": "stored",
                "text": "SQLite against SQLite: values compared as the engine stores them "
                "(storage class and every byte, as quote() gives them); no normalisation",
            }
        ],
        "tables": [
            {
                "name": "loans",
                "source_rows": 50,
                "target_rows": 50,
                "missing": [],
                "extra": [],
                "changed": [],
                "equal": True,
                "normalisations": ["stored"],
            }
        ],
    }
    from handover.ledger import entries
    from handover.workspace import open_workspace

    ws = open_workspace(Path(ws_path))
    try:
        events = entries(ws, action="verify.run")
    finally:
        ws.close()
    assert len(events) == 1
    ev = events[0]
    assert ev.purpose == "migration verification"
    assert "a.db → " in ev.subject
    assert ev.details["tables"][0]["equal"] is True
    assert ev.details["tables"][0]["missing"] == 0


def test_differences_exit_1_human_zh_and_en(tmp_path: Path, ws_path: str) -> None:
    a = _db(tmp_path / "a.db", ROWS)
    changed = [(i, n + (" " if i == 7 else ""), x) for i, n, x in ROWS if i != 9]
    b = _db(tmp_path / "b.db", [*changed, (99, "新", 1.0)])
    res = runner.invoke(app, ["-w", ws_path, "verify", a, b, "--json"])
    assert res.exit_code == 1, res.output
    table = json.loads(res.stdout)["tables"][0]
    assert (table["missing"], table["extra"], table["changed"]) == ([9], [99], [7])
    res = runner.invoke(app, ["-w", ws_path, "verify", a, b])
    assert res.exit_code == 1
    assert "目标缺失" in res.output and "发现差异" in res.output and "✗" in res.output
    res = runner.invoke(app, ["-w", ws_path, "--lang", "en", "verify", a, b])
    assert res.exit_code == 1
    assert "Missing" in res.output and "Differences found" in res.output


def test_tables_option_and_missing_table_exit_2(tmp_path: Path, ws_path: str) -> None:
    a = _db(tmp_path / "a.db", ROWS, "CREATE TABLE notes (id INTEGER PRIMARY KEY, t TEXT);")
    b = _db(tmp_path / "b.db", ROWS)
    res = runner.invoke(app, ["-w", ws_path, "verify", a, b, "--tables", "loans", "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-w", ws_path, "verify", a, b])
    assert res.exit_code == 2
    assert "notes" in res.output and "目标库" in res.output
    res = runner.invoke(app, ["-w", ws_path, "--lang", "en", "verify", a, b])
    assert res.exit_code == 2
    assert "table notes does not exist in the target" in res.output


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    a = _db(tmp_path / "a.db", ROWS, "CREATE TABLE nokey (x INTEGER, y TEXT);")
    b = _db(tmp_path / "b.db", ROWS, "CREATE TABLE nokey (x INTEGER, y TEXT);")
    with pytest.raises(BadInput, match="nokey has no primary key"):
        verify(a, b)
    with pytest.raises(BadInput, match="no such SQLite file"):
        verify(a, str(tmp_path / "absent.db"))
    with pytest.raises(BadInput, match=r"cannot connect to postgresql://u:\*\*\*@127.0.0.1:1/x"):
        verify(a, "postgresql://u:secret@127.0.0.1:1/x")
    c = _db(tmp_path / "c.db", [])
    con = sqlite3.connect(c)
    con.execute("ALTER TABLE loans ADD COLUMN extra TEXT")
    con.commit()
    con.close()
    with pytest.raises(BadInput, match="column extra exists in the target only"):
        verify(a, c, ["loans"])


def test_empty_tables_are_equal(tmp_path: Path) -> None:
    a = _db(tmp_path / "a.db", [])
    b = _db(tmp_path / "b.db", [])
    result = verify(a, b)
    assert result.equal and result.tables[0].source_rows == 0
    b2 = _db(tmp_path / "b2.db", ROWS[:3])
    result = verify(a, b2)
    assert result.tables[0].extra == [1, 2, 3]
