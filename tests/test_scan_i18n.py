"""Scan evidence and notes in the user's language: on screen, in the report, in the store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handover.cli.main import app

runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path) -> str:
    path = str(tmp_path / "ws")
    res = runner.invoke(app, ["-w", path, "init", "--demo"])
    assert res.exit_code == 0, res.output
    return path


@pytest.fixture
def source(tmp_path: Path) -> Path:
    db = tmp_path / "book.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE empty_t (sfzh TEXT, phone TEXT)")
    con.execute("CREATE TABLE customers (id INTEGER, mobile TEXT, remark TEXT)")
    rows = [
        (
            i,
            "1.38123E+10" if i < 5 else f"138{i:08d}",
            "无" if i % 10 == 0 else f"客户来电,手机138{i:08d},称下周还款。",
        )
        for i in range(60)
    ]
    con.executemany("INSERT INTO customers VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()
    return db


def test_notes_on_screen_follow_the_language(ws: str, source: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["-w", ws, "scan", str(source), "--out", str(tmp_path / "zh")])
    assert res.exit_code == 0, res.output
    assert "[empty_t] 空表:仅按列名分类" in res.output
    assert "[customers.mobile] 数字已损坏:5 个值为 Excel 科学计数法" in res.output
    assert "empty table" not in res.output and "mangled" not in res.output

    res = runner.invoke(
        app, ["-w", ws, "scan", str(source), "--lang", "en", "--out", str(tmp_path / "en")]
    )
    assert res.exit_code == 0, res.output
    assert "[empty_t] empty table: classified by column names only" in res.output
    assert "[customers.mobile] mangled: 5 values are Excel scientific notation" in res.output


def test_report_renders_evidence_in_its_language(ws: str, source: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    for lang, out in (("zh-CN", tmp_path / "zh"), ("en", tmp_path / "en")):
        res = runner.invoke(app, ["-w", ws, "scan", str(source), "--lang", lang, "--out", str(out)])
        assert res.exit_code == 0, res.output
    zh_html = next((tmp_path / "zh").glob("*.html")).read_text("utf-8")
    en_html = next((tmp_path / "en").glob("*.en.html")).read_text("utf-8")
    for text in ("空表:仅按列名分类", "通过校验", "已排除 6 个占位值", "自由文本:", "数字已损坏"):
        assert text in zh_html, text
    for text in ("values pass", "placeholder values", "free text:", "mangled:"):
        assert text not in zh_html, text
    for text in (
        "empty table: classified by column names only",
        "values pass",
        "note: 6 placeholder values",
        "mangled: 5 values",
    ):
        assert text in en_html, text
    assert "通过校验" not in en_html and "空表" not in en_html

    wb = load_workbook(next((tmp_path / "zh").glob("*.xlsx")), read_only=True)
    cells = [str(v) for row in wb["字段清单"].iter_rows(values_only=True) for v in row if v]
    assert any("数字已损坏" in c for c in cells)
    notes = [str(v) for row in wb["问题与说明"].iter_rows(values_only=True) for v in row if v]
    assert "空表:仅按列名分类" in notes


def test_json_and_store_keep_english_and_keys(ws: str, source: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["-w", ws, "scan", str(source), "--json", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    mobile = next(c for t in doc["tables"] for c in t["columns"] if c["name"] == "mobile")
    assert len(mobile["evidence"]) == len(mobile["evidence_keys"])
    assert all(isinstance(e, str) for e in mobile["evidence"])
    assert any(e.startswith("mangled: 5 values") for e in mobile["evidence"])
    keyed = {k["key"]: k["params"] for k in mobile["evidence_keys"]}
    assert keyed["detect.note.mangled"] == {"n": 5, "example": "1.3…E+10"}
    values = keyed["detect.ev.values_pass"]
    assert values["type"] == "cn_mobile" and values["checks"]["key"] == "detect.check.cn_mobile"

    from handover.detect.messages import render
    from handover.detect.models import InventoryColumnRow, InventoryTableRow
    from handover.detect.store import latest_inventory
    from handover.workspace import open_workspace

    w = open_workspace(ws)
    try:
        with w.store.session() as s:
            col = s.query(InventoryColumnRow).filter_by(column_name="mobile").one()
            stored = col.evidence
            table = s.query(InventoryTableRow).filter_by(name="empty_t").one()
            assert table.notes == [
                {
                    "key": "detect.note.empty_table",
                    "params": {},
                    "text": "empty table: classified by column names only",
                }
            ]
            # An inventory stored before evidence was keyed holds plain English strings.
            col.evidence = ["name 'mobile' exact match 'mobile' (cn_mobile)", *stored]
        mangled = next(x for x in stored if x["key"] == "detect.note.mangled")
        assert mangled["text"].startswith("mangled: 5 values")
        assert render(mangled, "zh-CN").startswith("数字已损坏:5 个值")
        assert render("plain old text", "zh-CN") == "plain old text"
        inv = latest_inventory(w)
        assert inv is not None
        again = next(c for t in inv["tables"] for c in t["columns"] if c["name"] == "mobile")
        assert again["evidence"][0] == "name 'mobile' exact match 'mobile' (cn_mobile)"
        assert again["evidence_keys"][0] == {"key": None, "params": {}}
        assert again["evidence"][1:] == mobile["evidence"]
    finally:
        w.close()
