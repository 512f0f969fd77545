"""Crash safety of ``handover migrate``: kill -9 the process at random points, resume,
and check that the target equals the source every time (no row lost, none duplicated).

Each trial is small (a ~3,000-row loan book, 150-row batches, a 5 ms pause per batch
through a hidden test-only option) so that 20+ trials across engines stay fast. The
migration runs in a forked child process (the CLI's ``main`` with the modules already
imported, so no interpreter start-up per launch) that is killed with SIGKILL.
Half the trials kill at a random time after launch (which also hits table creation and
the constraint phase); the others wait until rows are being copied, then kill.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from migrate_data import TABLES, assert_same, build, start_cli

CUSTOMERS = 300


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from handover.flows.workspace import init_workspace

    path = tmp_path_factory.mktemp("mig") / "ws"
    init_workspace(path, demo=True).close()
    return path


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("src") / "seller.db"
    build(f"sqlite:///{db}", customers=CUSTOMERS, seed=11)
    return db


def _cmd(ws: Path, *args: str) -> list[str]:
    return ["--workspace", str(ws), "--lang", "en", "migrate", *args]


def _start(argv: list[str], out: Path) -> multiprocessing.process.BaseProcess:
    return start_cli(argv, out)


def _run(argv: list[str], out: Path) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one migration run in a forked child."""
    proc = _start(argv, out)
    proc.join(120)
    assert proc.exitcode is not None, "migration did not finish in 120 s"
    err = Path(str(out) + ".err").read_text(encoding="utf-8")
    return proc.exitcode, out.read_text(encoding="utf-8"), err


def _copied(target_url: str) -> int:
    """Rows committed so far according to the target's own checkpoint table (0 if none)."""
    engine = sa.create_engine(target_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT coalesce(sum(rows_copied), 0) FROM _handover_migrate_state")
                ).scalar()
                or 0
            )
    except sa.exc.DBAPIError:
        return 0
    finally:
        engine.dispose()


def _kill_at_random(
    cmd: list[str], rnd: random.Random, target_url: str, mode: str, out: Path
) -> int | None:
    proc = _start(cmd, out)
    try:
        if mode == "time":
            time.sleep(rnd.uniform(0.05, 2.0))
        else:
            deadline = time.monotonic() + 30
            while proc.is_alive() and time.monotonic() < deadline and _copied(target_url) == 0:
                time.sleep(0.02)
            time.sleep(rnd.uniform(0.0, 0.4))
        if proc.is_alive() and proc.pid is not None:
            os.kill(proc.pid, signal.SIGKILL)  # no cleanup, no atexit, no client rollback
    finally:
        proc.join(60)
    return proc.exitcode


def _trial(ws: Path, source: str, target: str, target_url: str, seed: int, tmp: Path) -> None:
    rnd = random.Random(seed)
    base = ["--no-backup", "--reason", "crash test", "--batch-size", "150", "--batch-pause-ms", "5"]
    log = tmp / "run.log"
    _kill_at_random(
        _cmd(ws, source, target, *base), rnd, target_url, rnd.choice(["time", "rows"]), log
    )
    if rnd.random() < 0.4:  # sometimes the resumed run is killed too
        _kill_at_random(
            _cmd(ws, "--resume", source, target, "--json"), rnd, target_url, "time", log
        )
    code, text, err = _run(_cmd(ws, "--resume", source, target, "--json"), log)
    if code == 2 and "no unfinished" in err:
        # Killed before the run was recorded (nothing to resume), or it had finished.
        engine = sa.create_engine(target_url)
        empty = not sa.inspect(engine).get_table_names()
        engine.dispose()
        if empty:
            code, text, err = _run(_cmd(ws, source, target, *base[:-2], "--json"), log)
            assert code == 0, err
    else:
        assert code == 0, err
        out = json.loads(text)
        assert out["status"] == "done" and out["rejects"] == 0
    assert_same(source if "://" in source else f"sqlite:///{source}", target_url, TABLES)
    engine = sa.create_engine(target_url)
    try:
        names = set(sa.inspect(engine).get_table_names())
        assert not any(n.startswith("_handover_migrate") for n in names)
    finally:
        engine.dispose()


@pytest.mark.parametrize("seed", range(8))
def test_kill9_sqlite_to_postgresql(
    ws_path: Path, sqlite_source: Path, pg_url: str, seed: int, tmp_path: Path
) -> None:
    _trial(ws_path, str(sqlite_source), pg_url, pg_url, 100 + seed, tmp_path)


@pytest.mark.parametrize("seed", range(7))
def test_kill9_sqlite_to_mariadb(
    ws_path: Path, sqlite_source: Path, mariadb_url: str, seed: int, tmp_path: Path
) -> None:
    _trial(ws_path, str(sqlite_source), mariadb_url, mariadb_url, 200 + seed, tmp_path)


@pytest.mark.parametrize("seed", range(5))
def test_kill9_postgresql_to_sqlite(ws_path: Path, tmp_path: Path, pg_url: str, seed: int) -> None:
    build(pg_url, customers=CUSTOMERS, seed=11)
    target = tmp_path / "buyer.db"
    _trial(ws_path, pg_url, str(target), f"sqlite:///{target}", 300 + seed, tmp_path)


@pytest.mark.parametrize("seed", range(3))
def test_kill9_mariadb_to_postgresql(
    ws_path: Path, mariadb_url: str, pg_url: str, seed: int, tmp_path: Path
) -> None:
    build(mariadb_url, customers=CUSTOMERS, seed=11)
    _trial(ws_path, mariadb_url, pg_url, pg_url, 400 + seed, tmp_path)


def test_resume_reports_the_same_totals(
    ws_path: Path, sqlite_source: Path, pg_url: str, tmp_path: Path
) -> None:
    """After a kill mid-copy, the resumed run's counts add up to the source's."""
    rnd = random.Random(5)
    base = [
        "--no-backup",
        "--reason",
        "crash test",
        "--batch-size",
        "100",
        "--batch-pause-ms",
        "20",
    ]
    log = tmp_path / "run.log"
    _kill_at_random(_cmd(ws_path, str(sqlite_source), pg_url, *base), rnd, pg_url, "rows", log)
    code, text, err = _run(_cmd(ws_path, "--resume", str(sqlite_source), pg_url, "--json"), log)
    assert code == 0, err
    out: dict[str, Any] = json.loads(text)
    assert out["resumed"] is True
    src = sa.create_engine(f"sqlite:///{sqlite_source}")
    with src.connect() as conn:
        total = sum(
            int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() or 0) for t in TABLES
        )
    src.dispose()
    assert out["rows"] == total


def test_kill_between_dropping_bookkeeping_tables(
    ws_path: Path, sqlite_source: Path, tmp_path: Path
) -> None:
    """Killed after the state table was dropped but before the rejects table: the resumed run
    drops what is left and records the end (CI once caught this window with kill -9)."""
    from handover.migrate.models import MigrateRun
    from handover.migrate.results import REJECT_TABLE
    from handover.workspace import open_workspace

    target = f"sqlite:///{tmp_path / 'buyer.db'}"
    log = tmp_path / "run.log"
    code, text, err = _run(
        _cmd(ws_path, str(sqlite_source), target, "--no-backup", "--reason", "t", "--json"), log
    )
    assert code == 0, err
    run_id = json.loads(text)["run_id"]
    engine = sa.create_engine(target)
    with engine.begin() as conn:  # the state of that window, recreated
        conn.exec_driver_sql(f'CREATE TABLE "{REJECT_TABLE}" (x INTEGER)')
    ws = open_workspace(ws_path)
    try:
        with ws.store.session() as s:
            row = s.get(MigrateRun, run_id)
            assert row is not None
            row.status = "finishing"
    finally:
        ws.close()
    code, text, err = _run(_cmd(ws_path, "--resume", str(sqlite_source), target, "--json"), log)
    assert code == 0, err
    assert json.loads(text)["status"] == "done"
    assert REJECT_TABLE not in sa.inspect(engine).get_table_names()
    engine.dispose()
    assert_same(f"sqlite:///{sqlite_source}", target, TABLES)
