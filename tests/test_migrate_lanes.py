"""``migrate`` into PostgreSQL copies two tables at once (``Dialect.copy_lanes``), each on
its own connection: every table arrives whole, the ledger has one event per table, and a
lane that fails stops the run with the failing table named, leaving a target that
``--resume`` finishes exactly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from handover.db.dialects import get
from migrate_data import BASE, TABLES, assert_same, build, demo_ws
from migrate_data import run_cli as _cli


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_ws(tmp_path_factory, "lanes")


def test_postgresql_takes_two_streams_the_others_one() -> None:
    assert get("postgresql").copy_lanes == 2
    assert get("sqlite").copy_lanes == 1  # one writer per file
    assert get("mysql").copy_lanes == 1


def test_a_failing_lane_stops_the_run_and_resume_finishes(
    ws: Path, tmp_path: Path, pg_url: str
) -> None:
    src = tmp_path / "seller.db"
    build(f"sqlite:///{src}", customers=300, seed=7)
    con = sqlite3.connect(src)
    # text that is not UTF-8 in the last customer: the reader of that table fails after
    # its first batches, while the other lane copies the other tables
    (last,) = con.execute("SELECT max(id) FROM customer").fetchone()
    con.execute("UPDATE customer SET note = CAST(X'FF41' AS TEXT) WHERE id = ?", (last,))
    con.commit()
    res = _cli(ws, "migrate", str(src), pg_url, *BASE, "--batch-size", "50")
    assert res.exit_code == 2, res.output
    assert "customer" in res.output and "Traceback" not in res.output
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        state = dict(
            conn.execute(sa.text("SELECT table_name, status FROM _handover_migrate_state")).all()
        )
    engine.dispose()
    assert state["customer"] != "done"
    # the source repaired, the resumed run copies what is missing, once
    con.execute("UPDATE customer SET note = 'fixed' WHERE id = ?", (last,))
    con.commit()
    con.close()
    res = _cli(ws, "migrate", "--resume", str(src), pg_url, "--progress", "none", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "done" and out["rejects"] == 0
    assert_same(f"sqlite:///{src}", pg_url, TABLES)
