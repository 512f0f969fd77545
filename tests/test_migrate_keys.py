"""Into PostgreSQL a table's primary key is added after its rows (``keys_after_load``):
the key still refuses duplicate values (the table is copied again with the key in place
and each duplicate row is named as a reject), a run interrupted in the middle of a table
resumes into keyed tables (``tests/test_migrate_lanes.py``)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from handover.db.dialects import get
from migrate_data import BASE, demo_ws, primary_key
from migrate_data import run_cli as _cli


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_ws(tmp_path_factory, "keys")


def test_postgresql_adds_keys_after_the_rows_the_others_with_the_table() -> None:
    assert get("postgresql").keys_after_load
    assert not get("sqlite").keys_after_load
    assert not get("mysql").keys_after_load


def _duplicate_source(path: Path) -> None:
    """Two key values SQLite keeps apart (texts that differ in case, left as text by
    NUMERIC affinity) that are one value for PostgreSQL's NUMERIC (NaN)."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE ledger (code NUMERIC PRIMARY KEY, memo VARCHAR(20))")
    con.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY, memo VARCHAR(20))")
    rows: list[tuple[object, str]] = [(i, f"m{i}") for i in range(1, 299)]
    rows.insert(100, ("NaN", "first"))
    rows.insert(200, ("nan", "twin"))
    con.executemany("INSERT INTO ledger VALUES (?, ?)", rows)
    con.executemany("INSERT INTO plain VALUES (?, ?)", [(i, f"p{i}") for i in range(1, 501)])
    con.commit()
    con.close()


def test_a_duplicate_key_is_refused_by_the_key_built_after_the_rows(
    ws: Path, tmp_path: Path, pg_url: str
) -> None:
    src = tmp_path / "dup.db"
    _duplicate_source(src)
    res = _cli(ws, "migrate", str(src), pg_url, *BASE, "--batch-size", "64")
    assert res.exit_code == 1, res.output
    assert "1 rows refused" in res.output or "1 row refused" in res.output, res.output
    files = sorted(
        (ws / "reports").glob("migrate-*-rejects.jsonl"), key=lambda p: p.stat().st_mtime
    )
    lines = [json.loads(x) for x in files[-1].read_text(encoding="utf-8").splitlines()]
    assert [(x["table"], x["stage"]) for x in lines] == [("ledger", "write")]
    assert "duplicate key" in lines[0]["reason"]
    assert lines[0]["key"] == "***"  # the key is masked text
    # the copy is complete and keyed: every other row, the key in place
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ledger")).scalar() == 299
        memo = conn.execute(sa.text("SELECT memo FROM ledger WHERE code = 'NaN'")).scalar()
        assert memo == "first"  # the first in rowid order stays, its twin is the reject
        assert conn.execute(sa.text("SELECT count(*) FROM plain")).scalar() == 500
    engine.dispose()
    assert primary_key(pg_url, "ledger") == ["code"]
    assert primary_key(pg_url, "plain") == ["id"]
    # kept with --allow-rejects: the note says why the table was copied twice
    run_id = files[-1].name.removeprefix("migrate-").removesuffix("-rejects.jsonl")
    res = _cli(
        ws, "migrate", "--resume", run_id, "--allow-rejects", "1", "--progress", "none", "--json"
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "done" and out["rejects"] == 1 and out["rows"] == 799
    from handover.ledger import entries
    from handover.workspace import open_workspace

    w = open_workspace(ws)
    try:
        refused = [e for e in entries(w, action="migrate.key_refused") if run_id in e.subject]
    finally:
        w.close()
    assert len(refused) == 1 and refused[0].subject.endswith("/ledger")
