"""Hardening, silent loss (issue 15): inputs that used to lose rows or mangle text with
exit 0. Each case runs the real CLI on a real bad file and asserts the exit code, the
object the one-line message names, and that the workspace (and the target) is unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handover.synth import synthesize
from hardening_support import cli, demo_workspace, refused, snapshot


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return demo_workspace(tmp_path)


ROWS = "id,name,phone\n1,张三,13800138000\n"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("book") / "seller.db"
    synthesize(str(path), customers=120, seed=7)
    return path


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- rows a reader could not read ------------------------------------------------------

BAD_CSV = {
    # one row with an extra field (row 3 of the file, the header being row 1)
    "ragged": (ROWS + "2,李四,13900139000,extra\n3,王五,13700137000\n4,赵六,13600136000\n", 3),
    # the last row cut short
    "truncated": (ROWS + "2,李四,13900139000\n3,王五", 4),
    # a quote opened in the middle of a row and never closed
    "quote": ('id,name,phone\n1,"张三,13800138000\n2,李四,13900139000\n3,王五,13700137000\n', 2),
    # a quote opened in the last column: the parser alone would take the rest of the
    # file as one value and report nothing
    "lastcol": (ROWS + '2,李四,"139\n3,王五,13700137000\n4,赵六,13600136000\n', 3),
}


def _commands(src: Path, tmp: Path) -> dict[str, list[str]]:
    return {
        "scan": ["scan", str(src), "--progress", "none"],
        "seal": ["seal", str(src), "--out", str(tmp / "pkg"), "--progress", "none"],
        "dd-extract": ["dd-extract", str(src), "--out", str(tmp / "dd")],
    }


@pytest.mark.parametrize("case", sorted(BAD_CSV))
@pytest.mark.parametrize("command", ["scan", "seal", "dd-extract"])
def test_unreadable_rows_fail_every_reader(
    ws: Path, tmp_path: Path, case: str, command: str
) -> None:
    text, row = BAD_CSV[case]
    src = _write(tmp_path / f"{case}.csv", text)
    before = snapshot(ws)
    line = refused(ws, 2, *_commands(src, tmp_path)[command])
    assert f"{case}.csv: 1 unreadable rows (rows {row})" in line, line
    assert "--allow-bad-rows 1" in line
    assert snapshot(ws) == before
    assert not (tmp_path / "pkg").exists() and not (tmp_path / "dd").exists()


def test_unreadable_rows_in_chinese(ws: Path, tmp_path: Path) -> None:
    src = _write(tmp_path / "r.csv", BAD_CSV["ragged"][0])
    line = refused(ws, 2, "scan", str(src), lang="zh-CN")
    assert "r.csv:有 1 行无法读取(第 3 行)" in line and "第 3 行有 4 个字段,应为 3 个" in line


def test_allowance_is_explicit_counted_and_reported(ws: Path, tmp_path: Path) -> None:
    text = ROWS + "2,李四\n3,王五,13700137000\n4,赵六,1,2\n5,钱七,13500135000\n"
    src = _write(tmp_path / "two.csv", text)
    # two bad rows, one allowed: still refused, both rows named
    line = refused(ws, 2, "seal", str(src), "--out", str(tmp_path / "p1"), "--allow-bad-rows", "1")
    assert "two.csv: 2 unreadable rows (rows 3, 5)" in line
    assert not (tmp_path / "p1").exists()
    res = cli(
        ws, "seal", str(src), "--out", str(tmp_path / "p2"), "--allow-bad-rows", "2", "--json"
    )
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["rows"] == 3 and doc["skipped_rows"] == {"two": [3, 5]}
    human = cli(ws, "seal", str(src), "--out", str(tmp_path / "p3"), "--allow-bad-rows", "2")
    assert "two: 2 unreadable rows skipped as --allow-bad-rows allowed (rows 3, 5)" in human.out
    from handover import ledger
    from handover.workspace import open_workspace

    w = open_workspace(ws)
    try:
        seals = ledger.entries(w, action="package.seal")
        assert seals[-1].details["skipped_rows"] == {"two": [3, 5]}
    finally:
        w.close()
    assert refused(ws, 2, "scan", str(src), "--allow-bad-rows", "-1").startswith(
        "error: --allow-bad-rows -1"
    )


def test_xlsx_value_beyond_the_header_is_a_bad_row(ws: Path, tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "客户"
    sheet.append(["id", "name"])
    sheet.append([1, "张三"])
    sheet.append([2, "李四", "13900139000"])
    wb.save(tmp_path / "wide.xlsx")
    before = snapshot(ws)
    line = refused(ws, 2, "seal", str(tmp_path / "wide.xlsx"), "--out", str(tmp_path / "p"))
    assert "wide.xlsx sheet '客户': 1 unreadable rows (rows 3)" in line
    assert "right of the header's 2 columns" in line
    assert snapshot(ws) == before and not (tmp_path / "p").exists()


# --- encodings ---------------------------------------------------------------------------


def test_utf8_head_then_gbk_is_refused_with_offset_and_row(ws: Path, tmp_path: Path) -> None:
    head = ("手机号码,姓名\n" + "".join(f"1380013{i:04d},abc\n" for i in range(100))).encode()
    src = tmp_path / "mixed.csv"
    src.write_bytes(head + "13800139999,李四\n".encode("gbk"))
    before = snapshot(ws)
    for command in ("scan", "seal"):
        args = [command, str(src)] + (["--out", str(tmp_path / "p")] if command == "seal" else [])
        line = refused(ws, 2, *args)
        assert (
            f"mixed.csv: mixed encodings: the file starts in UTF-8 but row 102 (byte offset {len(head) + 12}) is GBK"
            in line
        )
    assert snapshot(ws) == before


def test_gbk_head_then_utf8_is_refused(ws: Path, tmp_path: Path) -> None:
    head = ("手机号码,姓名\n" + "13800138000,李四\n" * 3).encode("gbk")
    src = tmp_path / "m2.csv"
    src.write_bytes(head + "13800139999,欧阳娜娜\n".encode())
    line = refused(ws, 2, "scan", str(src))
    assert (
        f"m2.csv: mixed encodings: the file starts in GB18030 but row 5 (byte offset {len(head)}) is UTF-8"
        in line
    )


def test_gbk_after_the_sniffed_head_is_refused_with_offset(ws: Path, tmp_path: Path) -> None:
    head = "手机号码,姓名\n".encode() + b"13800138000,abc\n" * 70_000  # past the 1 MB sniff
    src = tmp_path / "late.csv"
    src.write_bytes(head + "13800139999,李四\n".encode("gbk"))
    line = refused(ws, 2, "seal", str(src), "--out", str(tmp_path / "p"))
    assert f"late.csv: row 70002 (byte offset {len(head) + 12}): bytes not valid UTF-8" in line
    assert not (tmp_path / "p").exists()


def test_utf8_after_a_gbk_head_is_refused_with_offset(ws: Path, tmp_path: Path) -> None:
    """GBK decodes UTF-8 bytes as other characters without an error: lines of UTF-8
    Chinese past the 1 MB sniff are found (the whole file is examined, vectorised)."""
    rows = "".join(f"{i},张三,上海市浦东新区世纪大道{i}号\n" for i in range(40_000))
    head = ("编号,姓名,地址\n" + rows).encode("gbk")
    assert len(head) > 1 << 20
    src = tmp_path / "late8.csv"
    src.write_bytes(head + "40000,王五,北京市朝阳区建国路8号\n".encode())
    before = snapshot(ws)
    line = refused(ws, 2, "seal", str(src), "--out", str(tmp_path / "p"))
    assert (
        f"late8.csv: mixed encodings: the file starts in GBK but row 40002 (byte offset {len(head)}) is UTF-8"
        in line
    )
    assert not (tmp_path / "p").exists() and snapshot(ws) == before
    # the same file all in GBK (over 1 MB of addresses) is read
    whole = tmp_path / "gbk.csv"
    whole.write_bytes(head + "40000,王五,北京市朝阳区建国路8号\n".encode("gbk"))
    res = cli(ws, "scan", str(whole), "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["tables"][0]["rows"] == 40_001


def test_genuine_gbk_and_utf8_files_still_read(ws: Path, tmp_path: Path) -> None:
    text = "客户姓名,手机号码\n" + "".join(f"欧阳娜娜{i},1380013{i:04d}\n" for i in range(50))
    for enc in ("gbk", "utf-8", "gb18030"):
        src = _write(tmp_path / f"ok_{enc}.csv", text, enc)
        res = cli(ws, "scan", str(src), "--json")
        assert res.code == 0, res.err
        cols = [c["name"] for c in json.loads(res.out)["tables"][0]["columns"]]
        assert cols == ["客户姓名", "手机号码"]


# --- a source that is not there -----------------------------------------------------------


def test_zero_byte_sqlite_source_is_refused(ws: Path, tmp_path: Path) -> None:
    empty = tmp_path / "seller.db"
    empty.write_bytes(b"")
    before = snapshot(ws)
    for args in (
        ["scan", str(empty)],
        ["seal", str(empty), "--out", str(tmp_path / "p")],
        ["migrate", str(empty), str(tmp_path / "buyer.db"), "--no-backup", "--reason", "t"],
    ):
        line = refused(ws, 2, *args)
        assert "seller.db: empty file (0 bytes), not a SQLite database" in line, line
    assert snapshot(ws) == before
    assert empty.stat().st_size == 0 and not (tmp_path / "buyer.db").exists()


# --- options that were accepted although they meant nothing --------------------------------


def test_unknown_quasi_identifier_is_refused(ws: Path, tmp_path: Path, book: Path) -> None:
    before = snapshot(ws)
    line = refused(
        ws,
        2,
        "dd-extract",
        str(book),
        "--out",
        str(tmp_path / "dd"),
        "--qi",
        "birth_date,shoe_size",
    )
    assert line.startswith("error: --qi 'shoe_size': not a personal information type")
    assert "birth_date" in line
    assert snapshot(ws) == before and not (tmp_path / "dd").exists()


# --- destruction certified for nothing -----------------------------------------------------


def test_second_shred_issues_no_certificate_for_nothing(ws: Path) -> None:
    (ws / "exports" / "customers.csv").write_text("id,phone\n1,13800138000\n", "utf-8")
    first = cli(ws, "shred", "--media", "exports", "--yes")
    assert first.code == 0, first.err
    certs = sorted((ws / "reports" / "certificates").iterdir())
    assert len(certs) == 1
    before = snapshot(ws)
    line = refused(ws, 2, "shred", "--media", "exports", "--yes")
    assert line.startswith("error: nothing to destroy")
    assert f"last certificate: {certs[0]}" in line or certs[0].name in line
    assert snapshot(ws) == before
    assert sorted((ws / "reports" / "certificates").iterdir()) == certs


# --- the workspace's own store and ledger ----------------------------------------------------


def _store_files(ws: Path) -> list[Path]:
    return [ws / n for n in ("handover.db", "handover.db-wal", "handover.db-shm")]


@pytest.mark.parametrize("damage", ["deleted", "emptied"])
def test_missing_or_emptied_store_is_never_recreated(ws: Path, damage: str) -> None:
    for p in _store_files(ws):
        if damage == "deleted":
            p.unlink(missing_ok=True)
        elif p.name == "handover.db":
            p.write_bytes(b"")
        else:
            p.unlink(missing_ok=True)
    for args in (["audit", "verify"], ["people", "list"], ["scan", str(ws / "handover.toml")]):
        line = refused(ws, 1, *args)
        word = "missing" if damage == "deleted" else "empty (0 bytes)"
        assert f"{ws / 'handover.db'}: the store of workspace {ws} is {word}" in line, line
    db = ws / "handover.db"
    assert (not db.exists()) if damage == "deleted" else db.stat().st_size == 0
    assert not (ws / "handover.db-wal").exists()


def test_ledger_that_fails_verification_stops_data_commands(
    ws: Path, tmp_path: Path, book: Path
) -> None:
    import sqlite3

    con = sqlite3.connect(ws / "handover.db")
    con.execute("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 3")
    con.commit()
    con.close()
    assert cli(ws, "audit", "verify").code == 1
    before = snapshot(ws)
    for args in (
        ["seal", str(book), "--out", str(tmp_path / "p")],
        ["scan", str(book)],
        ["dd-extract", str(book), "--out", str(tmp_path / "dd")],
        ["migrate", str(book), str(tmp_path / "buyer.db"), "--no-backup", "--reason", "t"],
        ["verify", str(book), str(book)],
    ):
        line = refused(ws, 1, *args)
        assert f"the ledger of workspace {ws} fails verification" in line, line
        assert "ledger entry seq 3: column actor" in line
    assert snapshot(ws) == before
    assert not any((tmp_path / n).exists() for n in ("p", "dd", "buyer.db"))
    # governance and the audit itself still run: the tampering can be investigated
    assert cli(ws, "people", "list").code == 0
    zh = refused(ws, 1, "seal", str(book), "--out", str(tmp_path / "p"), lang="zh-CN")
    assert f"工作区 {ws} 的账本未通过核验" in zh
