"""Which stored inventory a command uses (``flows.scan.inventory_for``, for dd-extract and
the notices): the one taken of this very file. ``seller.db``, ``./seller.db`` and its full
path are one file (no second scan); ``seller.db`` typed in another folder is another file,
whose columns the first file's inventory would have misclassified."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from handover.db.url import place
from handover.detect.store import latest_inventory
from handover.flows.scan import inventory_for, run_scan
from handover.flows.workspace import init_workspace
from handover.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = init_workspace(tmp_path / "ws", demo=True)
    yield w
    w.close()


def _book(path: Path, table: str, column: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    with con:
        con.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {column} TEXT)")
        con.executemany(
            f"INSERT INTO {table} VALUES (?, ?)",
            [(i, f"1380013{i:04d}") for i in range(1, 60)],
        )
    con.close()
    return path


def _scans(ws: Workspace) -> int:
    inv = latest_inventory(ws)
    return int(inv["scan_id"]) if inv else 0


def test_one_file_by_any_spelling_another_file_by_the_same_name(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _book(tmp_path / "a" / "seller.db", "customers", "phone")
    _book(tmp_path / "b" / "seller.db", "loans", "contact")
    monkeypatch.chdir(first.parent)
    run_scan(ws, "seller.db")
    scan = _scans(ws)
    for spelling in (str(first), "./seller.db", "seller.db", "sqlite:///seller.db"):
        cols, scan_id = inventory_for(ws, spelling)
        assert scan_id == scan and _scans(ws) == scan, spelling  # no second scan
        assert {t for t, _c in cols} == {"customers"}
    assert latest_inventory(ws)["located"] == str(first)  # type: ignore[index]

    monkeypatch.chdir(tmp_path / "b")
    cols, scan_id = inventory_for(ws, "seller.db")
    assert scan_id != scan and {t for t, _c in cols} == {"loans"}
    assert place("seller.db") == str(tmp_path / "b" / "seller.db")
    assert place(f"sqlite:///{first}") == str(first)
    # a SQLite URL in another folder is another file too
    cols, again = inventory_for(ws, "sqlite:///seller.db")
    assert again == scan_id
    # a server database by where it is: no password, whatever driver or user
    for url in ("postgresql://loan:s3cret@db/book", "postgresql+psycopg://dpo@db:5432/book"):
        assert place(url) == "postgresql://db:5432/book"
