"""File sources as users bring them (review of the CSV/XLSX readers): the first row is
the header, a header cell may hold a line break, GBK/GB18030 files are read whole, and
an empty sheet does not stop a seal. Every file is written here, in real GBK/GB18030
bytes or as a real workbook; refusals run the real CLI and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from handover.errors import BadInput
from handover.sources import FileReading, open_source
from handover.sources.files import HEAD_BYTES
from hardening_support import cli, demo_workspace, refused, snapshot


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return demo_workspace(tmp_path)


def _read(path: Path, **kw: object) -> tuple[list[str], list[dict[str, str | None]], list[str]]:
    """Column names, every row and the notes of a one-table file source."""
    with open_source(path, **kw) as src:  # type: ignore[arg-type]
        (info,) = src.tables()
        rows = pa.Table.from_batches(list(src.batches(info.name)), schema=info.schema)
        return info.column_names, rows.to_pylist(), [str(n) for n in info.notes]


# --- defect 1: the first row is the header, never a guess ------------------------------


def test_a_header_of_month_numbers_is_a_header(tmp_path: Path) -> None:
    """Numeric-looking header cells (months) used to make the header a customer record."""
    src = tmp_path / "months.csv"
    src.write_bytes("客户编号,姓名,202301,202302\nC001,张三,100.5,200\nC002,李四,80,90\n".encode())
    names, rows, notes = _read(src)
    assert names == ["客户编号", "姓名", "202301", "202302"]
    assert rows == [
        {"客户编号": "C001", "姓名": "张三", "202301": "100.5", "202302": "200"},
        {"客户编号": "C002", "姓名": "李四", "202301": "80", "202302": "90"},
    ]
    assert not any("no header" in n for n in notes)


def test_a_header_like_its_data_is_a_header_and_the_names_are_classified(
    tmp_path: Path,
) -> None:
    """Three short Chinese header cells over three-character names looked like data."""
    from handover.detect.scan import scan_source

    surnames, given = "王李张刘陈杨黄赵吴周", "伟芳娜敏静丽强磊军洋"
    rows = [
        f"{surnames[i % 10]}{given[i % 7]}{given[(i // 7) % 10]},{'男女'[i % 2]},汉族"
        for i in range(200)
    ]
    src = tmp_path / "khmd.csv"
    src.write_bytes(("客户姓名,性别,民族\r\n" + "\r\n".join(rows) + "\r\n").encode("gbk"))
    names, read, _ = _read(src)
    assert names == ["客户姓名", "性别", "民族"] and len(read) == 200
    assert read[0] == {"客户姓名": rows[0].split(",")[0], "性别": "男", "民族": "汉族"}
    inv = scan_source(str(src))
    (table,) = inv.tables
    assert table.rows == 200
    primary = {c.name: c.primary for c in table.columns}
    assert primary["客户姓名"] == "person_name"


def test_empty_and_duplicate_header_cells_as_before(tmp_path: Path) -> None:
    src = tmp_path / "gaps.csv"
    src.write_text(" id ,,2024\n1,x,y\n", "utf-8")
    assert _read(src)[0] == ["id", "column_2", "2024"]
    dup = tmp_path / "dup.csv"
    dup.write_text("1,1\n2,3\n", "utf-8")
    with pytest.raises(BadInput, match=r"dup\.csv: column name '1' appears twice"):
        open_source(dup).tables()


def test_a_headerless_file_only_when_the_caller_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    src = folder / "h.csv"
    src.write_text("13812345678,110101199003074514\n13912345678,11010519491231002X\n", "utf-8")
    names, rows, notes = _read(src, reading=FileReading(header=False))
    assert names == ["column_1", "column_2"] and len(rows) == 2
    assert any("no header row" in n for n in notes)
    with open_source(folder, reading=FileReading(header=False)) as src_folder:
        (info,) = src_folder.tables()
        assert info.column_names == ["column_1", "column_2"] and info.rows == 2
    # the default takes the first row as the header: this one holds a customer, refused
    with pytest.raises(BadInput, match="no header row"):
        _read(src)


# --- defect 2: a line break inside a quoted header cell ----------------------------------


def test_a_line_break_in_a_quoted_header_cell_stays_one_column(tmp_path: Path) -> None:
    """Excel's Alt+Enter in a header cell: `"客户⏎姓名"` is one column, both rows read."""
    src = tmp_path / "alt_enter.csv"
    text = 'id,"客户\r\n姓名",手机号\r\n1,张三,13800138000\r\n2,"李\r\n四",13900139000\r\n'
    src.write_bytes(text.encode("gb18030"))
    names, rows, _ = _read(src)
    assert names == ["id", "客户\r\n姓名", "手机号"]
    assert [r["手机号"] for r in rows] == ["13800138000", "13900139000"]
    assert rows[1]["客户\r\n姓名"] == "李\r\n四"


def test_a_line_break_in_the_header_through_scan(ws: Path, tmp_path: Path) -> None:
    src = tmp_path / "nlhdr.csv"
    src.write_bytes('id,"客户\n姓名",手机号\n1,张三,13800138000\n2,李四,13900139000\n'.encode())
    res = cli(ws, "scan", str(src), "--json")
    assert res.code == 0, res.err
    (table,) = json.loads(res.out)["tables"]
    assert table["rows"] == 2
    assert [c["name"] for c in table["columns"]] == ["id", "客户\n姓名", "手机号"]


def test_blank_lines_before_the_header_are_passed(tmp_path: Path) -> None:
    src = tmp_path / "blank.csv"
    src.write_bytes(b"\r\n\r\nid,name\r\n1,a\r\n2,b\r\n")
    names, rows, _ = _read(src)
    assert names == ["id", "name"] and rows == [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}]


def test_a_header_quote_never_closed_is_refused(ws: Path, tmp_path: Path) -> None:
    src = tmp_path / "openhdr.csv"
    src.write_bytes('id,"客户姓名,手机号\n1,张三,13800138000\n2,李四,13900139000\n'.encode())
    before = snapshot(ws)
    line = refused(ws, 2, "scan", str(src))
    assert "openhdr.csv: the header (the first row) cannot be read" in line
    assert "row 1 opens a quote that is never closed" in line
    assert snapshot(ws) == before


# --- defect 3: GBK/GB18030 read whole -----------------------------------------------------


def _filler(n_bytes: int) -> str:
    """ASCII rows of about ``n_bytes`` (past the 1 MiB the encoding is sniffed from)."""
    line = "{:06d},abc,13800138000,shanghai pudong\n"
    return "".join(line.format(i) for i in range(n_bytes // len(line.format(0)) + 1))


def test_a_rare_gb18030_name_after_the_first_mib_is_read(ws: Path, tmp_path: Path) -> None:
    head = "id,姓名,手机号,地址\n" + "".join(
        f"{i},张三,1380013{i % 10000:04d},上海市浦东新区世纪大道{i}号\n" for i in range(30_000)
    )
    data = head.encode("gb18030")
    assert len(data) > HEAD_BYTES
    src = tmp_path / "rare.csv"
    src.write_bytes(data + "30000,刘䶮,13800139999,北京市朝阳区建国路8号\n".encode("gb18030"))
    assert "刘䶮".encode("gb18030") == b"\xc1\xf5\xfe\x9f"  # FE 9F: beyond GBK
    _, rows, _ = _read(src)
    assert len(rows) == 30_001 and rows[-1]["姓名"] == "刘䶮"
    res = cli(ws, "scan", str(src), "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["tables"][0]["rows"] == 30_001


def test_a_gbk_file_ascii_for_its_first_mib_is_read(ws: Path, tmp_path: Path) -> None:
    filler = _filler(HEAD_BYTES + 4096)
    src = tmp_path / "late_gbk.csv"
    src.write_bytes(
        ("id,note,phone,city\n" + filler + "999999,张三欠款,13800139999,上海\n").encode("gbk")
    )
    _, rows, notes = _read(src)
    assert rows[-1] == {"id": "999999", "note": "张三欠款", "phone": "13800139999", "city": "上海"}
    assert len(rows) == filler.count("\n") + 1
    assert "encoding GBK" in notes
    res = cli(ws, "scan", str(src), "--json")
    assert res.code == 0, res.err


def test_bytes_no_candidate_reads_are_refused_with_offset(ws: Path, tmp_path: Path) -> None:
    head = ("id,note,phone,city\n" + _filler(HEAD_BYTES + 4096)).encode()
    src = tmp_path / "junk.csv"
    src.write_bytes(head + "1,张三,1,2\n".encode("gbk") + b"2,\xff\xff,1,2\n")
    row = head.count(b"\n") + 2
    before = snapshot(ws)
    line = refused(ws, 2, "scan", str(src))
    offset = len(head) + len("1,张三,1,2\n".encode("gbk")) + 2
    assert f"junk.csv: row {row} (byte offset {offset}): bytes not valid GB18030" in line
    assert snapshot(ws) == before


def test_utf8_chinese_after_a_late_gbk_switch_is_refused(tmp_path: Path) -> None:
    head = ("id,note,phone,city\n" + _filler(HEAD_BYTES + 4096)).encode()
    gbk = "1,张三,1,2\n".encode("gbk")
    src = tmp_path / "mixed_late.csv"
    src.write_bytes(head + gbk + "2,北京市朝阳区建国路,1,2\n".encode())
    with pytest.raises(BadInput) as info:
        open_source(src).tables()
    row = head.count(b"\n") + 2  # the header and the filler, the GBK row, then UTF-8
    assert (
        f"mixed_late.csv: mixed encodings: the file starts in GBK but row {row} "
        f"(byte offset {len(head) + len(gbk)}) is UTF-8"
    ) in str(info.value)


# --- defect 4: an empty sheet ---------------------------------------------------------


def _workbook(path: Path, *, data: bool = True) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    sheet.title = "客户"
    if data:
        sheet.append(["id", "姓名", "手机号"])
        sheet.append([1, "张三", "13800138000"])
        sheet.append([2, "李四", "13900139000"])
    wb.create_sheet("空表")
    wb.save(path)
    return path


def test_an_empty_sheet_is_left_out_of_the_seal_and_named(ws: Path, tmp_path: Path) -> None:
    book = _workbook(tmp_path / "withempty.xlsx")
    res = cli(ws, "seal", str(book), "--out", str(tmp_path / "pkg"), "--json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert [t["name"] for t in doc["tables"]] == ["客户"] and doc["rows"] == 2
    assert doc["tables_without_columns"] == ["空表"]
    manifest = json.loads((tmp_path / "pkg" / "manifest.json").read_text("utf-8"))
    assert manifest["source"]["tables_without_columns"] == ["空表"]
    assert [t["name"] for t in manifest["tables"]] == ["客户"]
    res = cli(ws, "unseal", str(tmp_path / "pkg"), "--to", str(tmp_path / "buyer.db"), "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["rows"] == 2
    res = cli(ws, "backup", str(book), "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["tables_without_columns"] == ["空表"]
    # said on the screen and in the ledger too, never silent
    res = cli(ws, "seal", str(book), "--out", str(tmp_path / "pkg2"))
    assert res.code == 0 and "left out" in res.out and "空表" in res.out, res.out
    from handover.ledger import entries
    from handover.workspace import open_workspace

    w = open_workspace(ws)
    try:
        seals = entries(w, action="package.seal")
        assert seals[-1].details["tables_without_columns"] == ["空表"]
    finally:
        w.close()


def test_a_workbook_of_empty_sheets_is_refused(ws: Path, tmp_path: Path) -> None:
    """Nothing to seal: refused before any key is made (the seal's own scan of the
    workbook, run first by the seal flow, is kept as any scan is)."""
    book = _workbook(tmp_path / "allempty.xlsx", data=False)
    keys = sorted(p.name for p in (ws / "keys").rglob("*"))
    line = refused(ws, 2, "seal", str(book), "--out", str(tmp_path / "pkg"))
    assert "allempty.xlsx has no table to seal" in line
    assert not (tmp_path / "pkg").exists()
    assert not list(tmp_path.glob(".pkg.partial-*"))
    assert sorted(p.name for p in (ws / "keys").rglob("*")) == keys


def test_the_cluster_plan_refuses_a_table_without_columns() -> None:
    from handover.db.reflect import TableDef
    from handover.package.seal import plan_table

    with pytest.raises(BadInput, match="'空表' holds no column"):
        plan_table(TableDef("空表", []), {})


def test_a_file_whose_first_row_is_a_customer_is_refused_never_named_after_them(
    ws: Path, tmp_path: Path
) -> None:
    """Without a header the first customer would become the column names (shown in every
    report) and be lost as a row: a first row holding a mobile, ID or card number or an
    e-mail address is refused in one line naming the file and column, never the value."""
    for row, value in (
        ("13800138000,张三,100", "13800138000"),
        ("张三,11010519491231002X,100", "11010519491231002X"),
        ("客户,姓名,zhang@example.cn", "zhang@example.cn"),
    ):
        path = tmp_path / "cust.csv"
        path.write_text(row + "\n13900139000,李四,200\n", encoding="utf-8")
        line = refused(ws, 2, "scan", str(path))
        assert "cust.csv" in line and "header" in line and value not in line, line


def test_a_quote_never_closed_after_another_slip_is_still_found(tmp_path: Path) -> None:
    """A quote followed by more text (``"a"b``, which the parser reads as ``ab``) stops the
    strict ``csv`` module's search for a quote never closed; the search goes on from the
    next line, so the quote on line 3 is found and its row refused (or, allowed, left
    out), where rows 3 and 4 used to be folded into row 2's value without a word."""
    src = tmp_path / "slip.csv"
    src.write_bytes(b'id,v\n1,"a"b\n2,"never\n3,x\n4,y\n')
    with pytest.raises(BadInput, match=r"rows 3\).*opens a quote that is never closed"):
        _read(src)
    rows = _read(src, reading=FileReading(allow_bad_rows=1))[1]
    assert rows == [{"id": "1", "v": "ab"}]
    # a slip alone, every quote closed: read as before
    src.write_bytes(b'id,v\n1,"a"b\n2,"c"\n')
    assert _read(src)[1] == [{"id": "1", "v": "ab"}, {"id": "2", "v": "c"}]
