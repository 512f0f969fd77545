"""Files written by MySQL's ``SELECT … INTO OUTFILE`` read with ``--mysql-escapes``: every
value as the database holds it (``\\N`` NULL, an empty field an empty text, backslashes,
tabs, line breaks, quotes and a NUL kept), whatever the chunk the stream is cut at, in UTF-8
and GBK; the files the real MariaDB server writes, three ways; a NUL byte and the option
on a non-CSV source refused in one line; the CLI and the console carry the option, and an
inventory taken one way serves no command reading the other way.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from handover.errors import BadInput
from handover.sources import FileReading, open_source
from handover.sources import escapes as esc
from hardening_support import cli, demo_workspace, refused, snapshot

ESCAPED = FileReading(header=False, escapes="unenclosed")
ENCLOSED = FileReading(header=False, escapes="enclosed")

#: a file as ``SELECT … INTO OUTFILE`` writes it (tab, no enclosure, backslash escapes),
#: with the values it stands for, and the pairs only ``LOAD DATA`` reads (``\\t`` …)
OUTFILE = (
    b"1\t\xe5\xbc\xa0\xe4\xb8\x89\ta\\\tb\n"  # an escaped tab
    b"2\t\\N\tline1\\\nline2\n"  # NULL; an escaped line feed
    b'3\t\tback\\\\slash "q" ,\n'  # an empty text; a backslash; quotes kept
    b"4\tN\t\\\\N\n"  # the letter N; a backslash and an N
    b"5\tnul\\0x\tcr\rend\n"  # a NUL; a carriage return inside a value
    b"6\ta\\Nb\t\\t\\n\\r\\b\\Z\\q\n"  # \N inside a text is an N; LOAD DATA's letters
    b"7\t\\\\\t\\\\\\\\\\N\n"  # a lone backslash; two, then an N
)
VALUES = [
    ["1", "张三", "a\tb"],
    ["2", None, "line1\nline2"],
    ["3", "", 'back\\slash "q" ,'],
    ["4", "N", "\\N"],
    ["5", "nul\x00x", "cr\rend"],
    ["6", "aNb", "\t\n\r\b\x1aq"],
    ["7", "\\", "\\\\N"],
]


def _read(path: Path, reading: FileReading = ESCAPED) -> list[list[Any]]:
    with open_source(path, reading=reading) as src:
        (info,) = src.tables()
        rows = pa.Table.from_batches(list(src.batches(info.name))).to_pylist()
        assert info.rows == len(rows)
    return [list(r.values()) for r in rows]


def test_every_escape_is_read_as_mysql_wrote_it(tmp_path: Path) -> None:
    path = tmp_path / "customers.tsv"
    path.write_bytes(OUTFILE)
    assert _read(path) == VALUES
    # a NUL beside other marks and the control characters their codes are
    path.write_bytes(b"1\t\\0\\n\\0\x05\\0\x0b\x0c\t\\N\\0\n")
    assert _read(path) == [["1", "\x00\n\x00\x05\x00\x0b\x0c", "N\x00"]]
    path.write_bytes(OUTFILE)
    # read the plain way, its escaped tabs and line breaks make ragged rows: refused
    with pytest.raises(BadInput) as caught:
        _read(path, FileReading(header=False))
    assert "customers.tsv" in str(caught.value) and "--allow-bad-rows" in str(caught.value)
    # and where it is not ragged, the plain way reads other values: the option matters
    path.write_bytes(b"1\t\\N\t\n2\tx\ty\n")
    assert _read(path, FileReading(header=False)) == [["1", "\\N", None], ["2", "x", "y"]]
    with open_source(path, reading=FileReading(header=False)) as src:
        assert "sources.note.mysql_like" in [getattr(n, "key", n) for n in src.tables()[0].notes]
    with open_source(path, reading=ESCAPED) as src:
        keys = [getattr(n, "key", n) for n in src.tables()[0].notes]
        assert "sources.note.escapes" in keys and "sources.note.mysql_like" not in keys
    assert _read(path) == [["1", None, ""], ["2", "x", "y"]]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_the_stream_gives_the_same_values_wherever_it_is_cut(
    tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk may end inside a pair, a run of backslashes or a CRLF line end."""
    monkeypatch.setattr(esc, "CHUNK", chunk)
    path = tmp_path / "customers.tsv"
    path.write_bytes(OUTFILE + b"8\tcr\tend\r\n9\t\\\\\\\\\t\\\r\n")
    # LINES TERMINATED BY '\n': a carriage return before one is in the value
    assert _read(path) == [*VALUES, ["8", "cr", "end\r"], ["9", "\\\\", "\r"]]
    # LINES TERMINATED BY '\r\n': a line feed alone is in the value, a CR escaped
    path.write_bytes(b"1\ta\nb\t\\\rc\r\n2\t\\N\tx\r\n3\t\t\\\\\r\n")
    crlf = FileReading(header=False, escapes="unenclosed-crlf")
    assert _read(path, crlf) == [["1", "a\nb", "\rc"], ["2", None, "x"], ["3", "", "\\"]]


def test_the_stated_line_end_is_read_and_checked(tmp_path: Path) -> None:
    """A -crlf layout for a file with no CRLF is refused (MySQL wrote LF). An LF layout
    for a file whose every line ends with CRLF is read as stated, with a note: MySQL
    writes that for CRLF, and for values ending in a CR (a LOAD DATA of a Windows file)."""
    path = tmp_path / "customers.tsv"
    path.write_bytes(b"1\ta\n2\tb\n")
    with pytest.raises(BadInput) as caught:
        _read(path, FileReading(header=False, escapes="enclosed-crlf"))
    assert "customers.tsv" in str(caught.value) and "--mysql-escapes enclosed-crlf" in str(
        caught.value
    )
    path.write_bytes(b"1\talpha\r\n2\tbeta\r\n")
    assert _read(path) == [["1", "alpha\r"], ["2", "beta\r"]]
    with open_source(path, reading=ESCAPED) as src:
        assert "sources.note.all_crlf" in [getattr(n, "key", n) for n in src.tables()[0].notes]
    crlf = FileReading(header=False, escapes="unenclosed-crlf")
    assert _read(path, crlf) == [["1", "alpha"], ["2", "beta"]]
    # one value ending in a CR at a line's end: no note
    path.write_bytes(b"1\twin\r\n2\tx\n")
    assert _read(path) == [["1", "win\r"], ["2", "x"]]
    with open_source(path, reading=ESCAPED) as src:
        assert "sources.note.all_crlf" not in [getattr(n, "key", n) for n in src.tables()[0].notes]


def test_blank_lines(tmp_path: Path) -> None:
    """In a table of one column a blank line is an empty text (MySQL writes it so); in a
    table of more, the parser would make it a row of empty texts: it is passed, as in any
    CSV."""
    path = tmp_path / "customers.tsv"
    path.write_bytes(b"1\ta\tb\n\n2\tc\td\n\n")
    assert _read(path) == [["1", "a", "b"], ["2", "c", "d"]]
    path.write_bytes(b"a\n\nb\n")
    assert _read(path) == [["a"], [""], ["b"]]


def test_a_header_row_with_marks_loses_no_row(tmp_path: Path) -> None:
    """The parser's own skipping of a header miscounts rows holding a NUL (every mark
    begins with one): the header is dropped after parsing."""
    path = tmp_path / "customers.tsv"
    body = b"1\ta\n2\tb\n3\tc\n4\td\n"
    for header, names in (
        (b"id\t\\N\n", ["id", "column_2"]),
        (b"id\tna\\tme\n", ["id", "na\tme"]),
        (b"id\tna\rme\n", ["id", "na\rme"]),
    ):
        path.write_bytes(header + body)
        reading = FileReading(escapes="unenclosed")
        with open_source(path, reading=reading) as src:
            assert src.tables()[0].column_names == names
        assert _read(path, reading) == [["1", "a"], ["2", "b"], ["3", "c"], ["4", "d"]]


def test_a_ragged_row_is_counted_and_may_be_allowed(tmp_path: Path) -> None:
    path = tmp_path / "customers.tsv"
    path.write_bytes(b"1\ta\n2\tb\textra\n3\t\\N\n")
    with pytest.raises(BadInput) as caught:
        _read(path)
    assert "rows 2" in str(caught.value) and "--allow-bad-rows 1" in str(caught.value)
    allowed = FileReading(allow_bad_rows=1, header=False, escapes="unenclosed")
    assert _read(path, allowed) == [["1", "a"], ["3", None]]
    with open_source(path, reading=allowed) as src:
        assert src.skipped() == {"customers": [2]}


def test_a_first_value_beyond_the_csv_modules_limit(tmp_path: Path) -> None:
    """A TEXT value of 140,000 characters in the first row (the ``csv`` module stops at
    131,072): read whole, in both layouts."""
    path = tmp_path / "customers.tsv"
    path.write_bytes(b"1\t" + b"x" * 140_000 + b"\n2\tb\n")
    assert _read(path) == [["1", "x" * 140_000], ["2", "b"]]
    # and one beyond the parser's first block (a MiB): a MEDIUMTEXT
    path.write_bytes(b"1\t" + b"y" * 1_500_000 + b"\n2\tb\n")
    assert _read(path) == [["1", "y" * 1_500_000], ["2", "b"]]
    path.write_bytes(b'1\t"' + b"x" * 140_000 + b'"\n2\t"b"\n')
    assert _read(path, ENCLOSED) == [["1", "x" * 140_000], ["2", "b"]]


def test_a_cut_export_loses_only_its_cut_row(tmp_path: Path) -> None:
    """The row a cut left with a quote open is the one refused (or, allowed, left out);
    the rows before it are kept."""
    path = tmp_path / "customers.csv"
    path.write_bytes(b'1,"a","b"\n2,"c\n')
    allowed = FileReading(allow_bad_rows=1, header=False, escapes="enclosed")
    assert _read(path, allowed) == [["1", "a", "b"]]
    with open_source(path, reading=allowed) as src:
        assert src.skipped() == {"customers": [2]}


def test_a_quote_never_closed_in_an_enclosed_export(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(b'1,"b"\n2,"' + b"x" * 140_000 + b'"\n3,"x\\"\n')
    with pytest.raises(BadInput) as caught:
        _read(path, ENCLOSED)
    assert "customers.csv" in str(caught.value) and "quote" in str(caught.value)
    allowed = FileReading(allow_bad_rows=1, header=False, escapes="enclosed")
    assert _read(path, allowed) == [["1", "b"], ["2", "x" * 140_000]]


def test_escaped_delimiters_do_not_steer_the_sniffing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(
        "1,北京\\, 海淀,a\tb\n2,广州,c\td\n3,深圳\\, 南山\\, 科技园,e\tf\n4,上海,g\th\n".encode()
    )
    assert _read(path) == [
        ["1", "北京, 海淀", "a\tb"],
        ["2", "广州", "c\td"],
        ["3", "深圳, 南山, 科技园", "e\tf"],
        ["4", "上海", "g\th"],
    ]


def test_a_gbk_export_with_a_bad_byte_is_told_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.tsv"
    path.write_bytes("1\t张三\tx\n".encode("gbk") * 100_000 + b"2\t\xff\xff\ty\n")
    with pytest.raises(BadInput) as caught:
        _read(path)
    assert "customers.tsv" in str(caught.value) and "100001" in str(caught.value)


def test_a_mysqldump_tab_folder(tmp_path: Path) -> None:
    """``mysqldump --tab`` writes each table's rows to ``<table>.txt`` (and its schema to
    ``<table>.sql``, not read): with the escapes, the .txt files are the tables."""
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "cust.sql").write_text("CREATE TABLE cust (id INT);\n")
    (tmp_path / "dump" / "cust.txt").write_bytes(b"1\t\\N\n2\t\n")
    (tmp_path / "dump" / "loan.txt").write_bytes(b"7\t1.50\n")
    with open_source(tmp_path / "dump", reading=ESCAPED) as src:
        assert [t.name for t in src.tables()] == ["cust", "loan"]
        rows = pa.Table.from_batches(list(src.batches("cust"))).to_pylist()
        assert [list(r.values()) for r in rows] == [["1", None], ["2", ""]]
    with pytest.raises(BadInput):
        open_source(tmp_path / "dump", reading=FileReading(header=False))
    # mysqldump --tab --fields-terminated-by=, writes commas
    (tmp_path / "commas").mkdir()
    (tmp_path / "commas" / "cust.txt").write_bytes(b"1,zhang,a\\,b\n2,\\N,c\n")
    with open_source(tmp_path / "commas", reading=ESCAPED) as src:
        rows = pa.Table.from_batches(list(src.batches("cust"))).to_pylist()
        assert [list(r.values()) for r in rows] == [["1", "zhang", "a,b"], ["2", None, "c"]]
    # every file is closed once read: a dump of many tables holds no descriptor per table
    many = tmp_path / "many"
    many.mkdir()
    for i in range(60):
        (many / f"t{i}.txt").write_bytes(b"1\t\\N\n")
    fds = Path("/proc/self/fd")
    before = len(list(fds.iterdir()))
    with open_source(many, reading=ESCAPED) as src:
        for t in src.tables():
            assert sum(b.num_rows for b in src.batches(t.name)) == 1
        assert len(list(fds.iterdir())) < before + 10
    # an empty table's file is empty: told naming it, not "unreadable"
    (tmp_path / "dump" / "none.txt").write_bytes(b"")
    with pytest.raises(BadInput) as caught:
        open_source(tmp_path / "dump", reading=ESCAPED)
    assert "none.txt" in str(caught.value) and "0 bytes" in str(caught.value)


def test_a_gbk_file_whose_characters_end_in_a_backslash_byte(tmp_path: Path) -> None:
    """A GBK character may end in 0x5C, the byte of a backslash: the file is decoded
    before any escape is looked for."""
    trail = [c for c in map(chr, range(0x4E00, 0x9FA6)) if c.encode("gbk")[-1:] == b"\\"]
    assert len(trail) > 50
    text = "".join(trail[:40])
    values = [["1", text, "\t" + text], ["2", None, text + "\\"]]
    body = f"1\t{text}\t\\\t{text}\n2\t\\N\t{text}\\\\\n"
    path = tmp_path / "customers.csv"
    path.write_bytes(("x" * 2000 + "\t0\t0\n").encode("ascii") + body.encode("gbk"))
    got = _read(path)
    assert got[1:] == values


def test_a_random_book_survives_the_round_trip(tmp_path: Path) -> None:
    """2,000 values of the hard characters, escaped as MySQL escapes them on the way out
    (docs of SELECT … INTO OUTFILE), read back equal, in both of its usual layouts."""
    rng = random.Random(20261207)
    alphabet = ["\\", "\t", "\n", "\r", '"', ",", "N", "0", "张", "a", " ", "\x00", "'"]
    rows = [
        [
            None if rng.random() < 0.1 else "".join(rng.choices(alphabet, k=rng.randint(0, 8)))
            for _ in range(4)
        ]
        for _ in range(500)
    ]

    def field(v: str | None, delim: str, enclosed: bool) -> str:
        if v is None:
            return "\\N"
        out = v.replace("\\", "\\\\").replace("\x00", "\\0")
        if enclosed:
            return '"' + out.replace('"', '\\"') + '"'
        return out.replace(delim, "\\" + delim).replace("\n", "\\\n")

    for name, delim, enclosed in (("tab.tsv", "\t", False), ("enclosed.csv", ",", True)):
        path = tmp_path / name
        lines = (delim.join(field(v, delim, enclosed) for v in r) + "\n" for r in rows)
        path.write_bytes("".join(lines).encode("utf-8"))
        assert _read(path, ENCLOSED if enclosed else ESCAPED) == rows, name


def test_a_nul_byte_is_refused_naming_its_row(tmp_path: Path) -> None:
    path = tmp_path / "customers.tsv"
    path.write_bytes(b"1\ta\n2\tb\x00c\n")
    with pytest.raises(BadInput) as caught:
        _read(path)
    assert "customers.tsv" in str(caught.value) and "2" in str(caught.value)
    assert "b\x00c" not in str(caught.value)


def test_the_option_is_refused_where_no_csv_file_would_honour_it(tmp_path: Path) -> None:
    db = tmp_path / "book.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (a)")
    with pytest.raises(BadInput) as caught:
        open_source(db, reading=FileReading(escapes="enclosed"))
    assert "--mysql-escapes" in str(caught.value)
    with pytest.raises(BadInput) as caught:
        FileReading(escapes="quoted")
    assert "--mysql-escapes quoted" in str(caught.value) and "enclosed" in str(caught.value)
    # the API's field admits the same layouts, spelt twice (a Literal names its values)
    from typing import get_args

    from handover.sources import MYSQL_LAYOUTS
    from handover.web.api import MysqlLayout

    assert get_args(MysqlLayout) == ("", *MYSQL_LAYOUTS)


# --- the files the real server writes ------------------------------------------------------

TRICKY = [
    (1, "张三", "a\tb", "1.50"),
    (2, None, "line1\nline2", None),
    (3, "", 'back\\slash "q" ,comma', "3.00"),
    (4, "N", "\\N", "4.00"),
    (5, "nul\x00x", "cr\rend\r\n", "5.00"),
    (6, "\\", "\\\\", "0.00"),
    (7, "'single' 单引号", "", "-1.25"),
]


@pytest.fixture
def outdir() -> Iterator[Path]:
    """A folder the database server (another user) may write into."""
    path = Path(tempfile.mkdtemp(prefix="ho_outfile_", dir="/tmp"))
    os.chmod(path, 0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _exported(
    url: str, create: str, insert: tuple[str, list[dict[str, Any]]], export: str
) -> list[list[Any]]:
    """Make a table on the server, fill it, export it; its rows as the server holds them."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(create))
            conn.execute(text(insert[0]), insert[1])
            table = create.split()[2]
            stored = [list(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            conn.execute(text(export))
        return stored
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("name", "clause", "charset", "layout"),
    [
        ("default.tsv", "", "utf8mb4", "unenclosed"),
        (
            "enclosed.csv",
            "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\n'",
            "utf8mb4",
            "enclosed",
        ),
        ("all_enclosed.csv", "FIELDS TERMINATED BY ',' ENCLOSED BY '\"'", "utf8mb4", "enclosed"),
        ("gbk.tsv", "", "gbk", "unenclosed"),
        ("crlf.tsv", "LINES TERMINATED BY '\\r\\n'", "utf8mb4", "unenclosed-crlf"),
        (
            "crlf.csv",
            "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\r\\n'",
            "gbk",
            "enclosed-crlf",
        ),
    ],
)
def test_the_files_mariadb_writes_read_back_equal(
    mariadb_url: str, outdir: Path, name: str, clause: str, charset: str, layout: str
) -> None:

    rng = random.Random(name)
    alphabet = ["\\", "\t", "\n", "\r", '"', ",", "N", "0", "张", "功", "a", "\x00"]
    rows = TRICKY + [
        (
            i,
            "".join(rng.choices(alphabet, k=rng.randint(0, 6))),
            None if i % 7 == 0 else "".join(rng.choices(alphabet, k=rng.randint(0, 9))),
            f"{i}.{i % 100:02d}",
        )
        for i in range(100, 400)
    ]
    out = outdir / name
    stored = _exported(
        mariadb_url,
        "CREATE TABLE esc (id INT PRIMARY KEY, name VARCHAR(50), note TEXT, "
        f"amt DECIMAL(10,2)) DEFAULT CHARSET {charset}",
        (
            "INSERT INTO esc VALUES (:i, :n, :t, :a)",
            [dict(zip("inta", r, strict=True)) for r in rows],
        ),
        f"SELECT * FROM esc ORDER BY id INTO OUTFILE '{out}' CHARACTER SET {charset} {clause}",
    )
    expected = [[str(r[0]), r[1], r[2], None if r[3] is None else str(r[3])] for r in stored]
    assert _read(out, FileReading(header=False, escapes=layout)) == expected


def test_a_table_of_one_column_keeps_its_empty_texts(mariadb_url: str, outdir: Path) -> None:
    """MySQL writes an empty text of a one-column table as a blank line: a row."""
    out = outdir / "one.tsv"
    _exported(
        mariadb_url,
        "CREATE TABLE one (id INT PRIMARY KEY, v VARCHAR(10))",
        (
            "INSERT INTO one VALUES (:i, :v)",
            [{"i": i, "v": v} for i, v in enumerate(["a", "", "", "b"])],
        ),
        f"SELECT v FROM one ORDER BY id INTO OUTFILE '{out}'",
    )
    out.write_bytes(out.read_bytes() + b"\\N\n")  # and a NULL, as MySQL writes one
    assert out.read_bytes() == b"a\n\n\nb\n\\N\n"  # the server's bytes, and ours
    assert _read(out) == [["a"], [""], [""], ["b"], [None]]


# --- the commands and the console ----------------------------------------------------------


def test_scan_and_seal_read_an_outfile_and_keep_how(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    path = tmp_path / "customers.tsv"
    path.write_bytes(
        b"1\t\xe5\xbc\xa0\xe4\xb8\x89\t13800138000\t\\N\n"
        b"2\t\xe6\x9d\x8e\xe5\x9b\x9b\t13900139000\tnote\\\twith tab\n"
    )
    before = snapshot(ws)
    db = tmp_path / "book.db"
    sqlite3.connect(db).close()
    line = refused(ws, 2, "scan", str(db), "--mysql-escapes", "unenclosed")
    assert "--mysql-escapes" in line and "book.db" in line, line
    line = refused(ws, 2, "scan", str(path), "--no-header", "--mysql-escapes", "quoted")
    assert "--mysql-escapes quoted" in line and "unenclosed | enclosed" in line, line
    # read as RFC 4180, the escaped tab makes a ragged row: refused, naming the option to use
    line = refused(ws, 2, "scan", str(path), "--no-header")
    assert "customers.tsv" in line and "--mysql-escapes unenclosed" in line, line
    assert "13900139000" not in line
    assert snapshot(ws) == before
    escapes = ("--no-header", "--mysql-escapes", "unenclosed")
    res = cli(ws, "scan", str(path), *escapes, "--json")
    assert res.code == 0, res.err
    (table,) = json.loads(res.out)["tables"]
    assert table["rows"] == 2
    from handover.detect.store import inventory_reading, latest_inventory
    from handover.workspace import open_workspace

    w = open_workspace(ws)
    try:
        inv = latest_inventory(w)
        assert inv is not None and inventory_reading(inv) == ESCAPED
    finally:
        w.close()
    res = cli(ws, "seal", str(path), "--out", str(ws / "p"), *escapes)
    assert res.code == 0, res.err


@pytest.mark.parametrize("reading", [FileReading(), FileReading(escapes="unenclosed")])
def test_a_row_longer_than_a_batchs_block_is_read_whole(
    tmp_path: Path, reading: FileReading
) -> None:
    """A value of 30 MB (a LONGTEXT) is longer than the 13 MB a batch's parser block
    holds, and than two of them: the counting reads the file again with a larger block,
    and every later reading takes it, so each row arrives whole and the counts agree."""
    path = tmp_path / "notes.csv"
    big = "y" * 30_000_000
    path.write_bytes(b"id,note\n1,a\n2," + big.encode() + b"\n3,b\n")
    with open_source(path, reading=reading) as src:
        (info,) = src.tables()
        assert info.rows == 3
        rows = pa.Table.from_batches(list(src.batches(info.name, batch_size=2))).to_pylist()
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[1]["note"] == big


@pytest.mark.parametrize("reading", [FileReading(), FileReading(escapes="unenclosed")])
def test_a_row_longer_than_the_largest_block_is_told_in_one_line(
    tmp_path: Path, reading: FileReading, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond the largest block (made 16 MiB here) the file is refused in one line that
    names it, the data row from which the long one is, and the limit."""
    from handover.sources import files

    monkeypatch.setattr(files, "LARGEST_BLOCK", 16 << 20)
    path = tmp_path / "notes.csv"
    rows = b"".join(b"%d,short\n" % i for i in range(1, 200_001))  # 2.6 MB before it
    path.write_bytes(b"id,note\n" + rows + b"0," + b"y" * 40_000_000 + b"\n")
    with pytest.raises(BadInput) as caught, open_source(path, reading=reading) as src:
        src.tables()
    text = str(caught.value)
    assert "notes.csv" in text and "16 MiB" in text and "\n" not in text
    row = int(text.split("data row ")[1].split()[0])
    assert 1 <= row <= 200_001  # the long row is the 200,001st: told as it or one before


def test_a_first_row_longer_than_the_largest_block_is_told_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a header, an export's first row is read whole to count its columns; one
    beyond the largest block is the same one-line refusal, at data row 1."""
    from handover.sources import files

    monkeypatch.setattr(files, "LARGEST_BLOCK", 1 << 20)
    path = tmp_path / "notes.tsv"
    path.write_bytes(b"1\t" + b"y" * 3_000_000 + b"\n2\tb\n")
    with pytest.raises(BadInput, match=r"notes\.tsv: data row 1 or one after it .* 1 MiB"):
        _read(path)


@pytest.mark.parametrize("size", [0, 2_000_000])
def test_a_quote_the_first_row_never_closes_in_an_enclosed_export(
    tmp_path: Path, size: int
) -> None:
    """A quote the first row opens and never closes swallows the file: with a header row
    it is the header that cannot be read; without one, the first row is the unreadable
    one, refused or (allowed) left out, as in a plain CSV; also where the file is longer
    than the first block the parser is given."""
    path = tmp_path / "customers.csv"
    path.write_bytes(b'"id,name\n1,a\n2,' + b"x" * size + b"\n")
    header = FileReading(escapes="enclosed")
    with pytest.raises(BadInput) as caught:
        _read(path, header)
    assert "header" in str(caught.value) and "row 1 opens a quote" in str(caught.value)
    bare = FileReading(header=False, escapes="enclosed")
    with pytest.raises(BadInput, match=r"rows 1\).*--allow-bad-rows 1"):
        _read(path, bare)
    allowed = FileReading(header=False, escapes="enclosed", allow_bad_rows=1)
    with open_source(path, reading=allowed) as src:
        (info,) = src.tables()
        assert info.rows == 0 and info.column_names == ["column_1"]
        assert sum(b.num_rows for b in src.batches(info.name)) == 0
        assert src.skipped() == {"customers": [1]}


def test_a_quote_that_swallows_more_than_the_csv_modules_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain CSV whose third line opens a quote never closed, with 1.5 MB and 55 MB
    after it: the strict ``csv`` module stops at a value of 128 KiB, which is no closed
    quote; the row is refused (or, allowed, left out), never read as the file's end with
    the rows it swallowed silently lost. Beyond the largest block (made 4 MiB here) the
    refusal names the quote's row."""
    from handover.sources import files

    for name, rows in (("small.csv", 100_000), ("large.csv", 3_000_000)):
        path = tmp_path / name
        lines = b"".join(b"%d,row %d\n" % (i, i) for i in range(4, rows))
        path.write_bytes(b'id,note\n1,a\n2,"never closed\n3,c\n' + lines)
        with pytest.raises(BadInput, match=r"rows 3\).*opens a quote that is never closed"):
            _read(path, FileReading())
        assert _read(path, FileReading(allow_bad_rows=1)) == [["1", "a"]]
    monkeypatch.setattr(files, "LARGEST_BLOCK", 4 << 20)
    monkeypatch.setattr(files, "DEFAULT_BATCH", 1)
    with pytest.raises(BadInput, match=r"large\.csv: row 3 opens a quote .* 4 MiB"):
        _read(tmp_path / "large.csv", FileReading(allow_bad_rows=1))


@pytest.mark.parametrize("reading", [FileReading(), FileReading(escapes="unenclosed")])
def test_a_long_row_the_counting_read_is_read_by_smaller_batches_too(
    tmp_path: Path, reading: FileReading
) -> None:
    """A 9 MB row fits the counting's block (13 MB) but not the 3 MB of a 16,384-row
    batch (the notices' audience reads so): every later reading takes the counting's
    block, so it arrives whole."""
    path = tmp_path / "notes.csv"
    path.write_bytes(b"id,note\n1,a\n2," + b"x" * 9_000_000 + b"\n3,c\n")
    with open_source(path, reading=reading) as src:
        (info,) = src.tables()
        for size in (16_384, 1_000):
            got = pa.Table.from_batches(list(src.batches(info.name, batch_size=size)))
            assert got.column("id").to_pylist() == ["1", "2", "3"]


def test_the_row_too_long_is_told_by_its_data_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row named is the data row after those read, good or unreadable: a long first
    row is row 1; after 9 rows, an allowed ragged one and a row of two lines, row 12."""
    from handover.sources import files

    monkeypatch.setattr(files, "LARGEST_BLOCK", 4 << 20)
    monkeypatch.setattr(files, "DEFAULT_BATCH", 1)
    path = tmp_path / "notes.csv"
    path.write_bytes(b"id,note\n1," + b"x" * 10_000_000 + b"\n2,c\n")
    with pytest.raises(BadInput, match="data row 1 or one after it"):
        _read(path, FileReading())
    body = b"".join(b"%d,r\n" % i for i in range(1, 10)) + b'10,b,extra\n11,"two\nlines"\n'
    path.write_bytes(b"id,note\n" + body + b"12," + b"x" * 10_000_000 + b"\n13,c\n")
    with pytest.raises(BadInput, match="data row 12 or one after it"):
        _read(path, FileReading(allow_bad_rows=5))


def test_blank_lines_and_a_long_first_row_in_an_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With MySQL's escapes: a file of blank lines only is no row too long (it is told as
    a plain CSV of blank lines is); blank lines before a header that opens a quote never
    closed name the header's line; a header longer than the largest block (made 1 MiB
    here) is the header that cannot be read."""
    from handover.sources import files

    path = tmp_path / "export.csv"
    path.write_bytes(b"\n\n\n")
    for reading in (FileReading(escapes="enclosed"), FileReading(escapes="unenclosed")):
        with pytest.raises(BadInput) as caught:
            _read(path, reading)
        assert "longer than" not in str(caught.value)
    path.write_bytes(b'\n\n"id,name\n1,a\n')
    with pytest.raises(BadInput, match=r"header .* row 3 opens a quote"):
        _read(path, FileReading(escapes="enclosed"))
    monkeypatch.setattr(files, "LARGEST_BLOCK", 1 << 20)
    path.write_bytes(b"id" + b"x" * 3_000_000 + b"\tname\n1\ta\n")
    with pytest.raises(BadInput, match=r"header .* longer than 1 MiB"):
        _read(path, FileReading(escapes="unenclosed"))
