"""SQLite's digest statements run in worker processes (its hash aggregate is Python and
holds the interpreter lock for every row): the digests are those of the same statement
run in this process, a SQLite error is still one line, and a process that may not start
children (a Dask worker) runs the statement itself."""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from handover.errors import BadInput
from handover.flows.verify import verify
from handover.verify import sql as q
from handover.verify.plan import connect, plan_table, reflect
from handover.verify.verify import _segment_digests
from test_verify_engines import build, run


def _digests(url: str, table: str) -> dict[int, tuple[int, int]]:
    engine = connect(url)
    try:
        meta = reflect(engine, url)
        plan = plan_table(table, engine, engine, meta[table], meta[table], ("m", "m"))
        return _segment_digests(plan.src, 0, 7, None)
    finally:
        engine.dispose()


def test_worker_digests_equal_those_run_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'src.db'}"
    build(url, n=500)
    calls: list[str] = []
    real = q.sqlite_rows

    def counted(path: str, stmt: str, arrow: Any = None) -> Any:
        calls.append(path)
        return real(path, stmt, arrow)

    monkeypatch.setattr(q, "sqlite_rows", counted)
    in_workers = {t: _digests(url, t) for t in ("loans", "repayments", "codes")}
    assert calls and set(calls) == {str(tmp_path / "src.db")}
    monkeypatch.setattr(
        q, "sqlite_rows", lambda path, stmt, arrow=None: None
    )  # this process runs it
    here = {t: _digests(url, t) for t in ("loans", "repayments", "codes")}
    assert in_workers == here
    assert sum(c for c, _h in in_workers["loans"].values()) == 500


def test_differences_are_found_through_the_workers(tmp_path: Path, pg_url: str) -> None:
    src = f"sqlite:///{tmp_path / 'src.db'}"
    build(src, n=300)
    build(pg_url, n=300)
    run(pg_url, "UPDATE loans SET amount = amount + 1 WHERE id IN (6, 90)")
    result = verify(src, pg_url, tables=["loans"])
    assert result.tables[0].to_json()["changed"] == [6, 90]


def test_a_sqlite_error_in_a_worker_is_raised_as_sqlite_raised_it(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);")
    con.close()
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        q.sqlite_rows(str(db), "SELECT count(*) FROM missing")
    from handover.verify.normalize import row_hash60

    got = q.sqlite_rows(str(db), "SELECT count(*), ho_sum60('x') FROM t")
    assert got == [(1, str(row_hash60("x")))]


def test_a_vanished_file_is_one_line_naming_both_sides(tmp_path: Path, pg_url: str) -> None:
    """The file goes between reflection and digests: the worker cannot open it."""
    src = tmp_path / "src.db"
    build(f"sqlite:///{src}", n=50)
    build(pg_url, n=50)
    real = q.sqlite_rows

    def vanish(path: str, stmt: str, arrow: Any = None) -> Any:
        # the first statement moves it; any later one (the two workers ask at once: both
        # may have seen it still there) finds it gone
        with contextlib.suppress(FileNotFoundError):
            src.rename(tmp_path / "gone.db")
        return real(path, stmt, arrow)

    mp = pytest.MonkeyPatch()
    mp.setattr(q, "sqlite_rows", vanish)
    try:
        with pytest.raises(BadInput) as err:
            verify(str(src), pg_url, tables=["loans"])
    finally:
        mp.undo()
    text = str(err.value)
    assert "\n" not in text and "→" in text
    # the table, and SQLite's own reason (its messages name no value)
    assert "at table 'loans' (unable to open database file)" in text, text


def _in_daemon(path: str, out: Any) -> None:
    out.put(q.sqlite_rows(path, "SELECT 1"))


def test_a_daemonic_process_runs_the_statement_itself(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    sqlite3.connect(db).close()
    ctx = multiprocessing.get_context("forkserver")
    out = ctx.Queue()
    p = ctx.Process(target=_in_daemon, args=(str(db), out), daemon=True)
    p.start()
    got = out.get(timeout=60)
    p.join(timeout=60)
    assert got is None  # no worker pool inside a daemon: the caller runs it
    assert q.sqlite_rows(str(db), "SELECT 1") == [(1,)]
