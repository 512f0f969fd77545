"""Migrate into a SQLite file through ADBC's bulk ingest (``SQLite.bulk_connection``).

The copy phase's writer binds each Arrow batch in C on ADBC's connection instead of
``executemany`` of Python rows on ``sqlite3``'s. ADBC links its own copy of SQLite, so the
engine holds no connection to the file while that writer is open (two copies of the
library with one file open corrupt it). Checked here: the file gets the very values
``sqlite3`` would have written, a refused row is a data error named by its column with
SQLite's own message, the engine cannot connect while the writer is open, and without
the driver ``sqlite3`` writes.
"""

from __future__ import annotations

import decimal
import gc
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from handover.cli.main import app
from handover.db.dialects import sqlite as lite
from handover.db.dialects.base import is_adbc
from handover.db.reflect import Catalog
from handover.migrate.writer import TargetWriter

pytest.importorskip("adbc_driver_sqlite")

DDL = (
    'CREATE TABLE "借据 ""x""" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amt NUMERIC, '
    "rate REAL, photo BLOB, flag INTEGER, at TEXT, CHECK (length(name) < 9))"
)


def _engine(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql(DDL)
    return engine


def _batch(ids: list[int], names: list[str | None]) -> pa.RecordBatch:
    n = len(ids)
    return pa.record_batch(
        {
            "id": pa.array(ids, pa.int64()),
            "name": pa.array(names, pa.string()),
            "amt": pa.array([decimal.Decimal("12.50")] * n, pa.decimal128(14, 2)),
            "rate": pa.array([0.1 * (i + 1) if i % 3 else None for i in range(n)]),
            "photo": pa.array([bytes([i % 256, 0, 255]) if i % 2 else None for i in range(n)]),
            "flag": pa.array([i % 2 == 0 for i in range(n)]),
            "at": pa.array(["2026-12-05 08:00:00.5"] * n),
        }
    )


def _stored(path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        cols = ("id", "name", "amt", "rate", "photo", "flag", "at")
        parts = ", ".join(f"typeof({c}), quote({c})" for c in cols)
        return conn.execute(f'SELECT {parts} FROM "借据 ""x""" ORDER BY id').fetchall()
    finally:
        conn.close()


def _write(path: Path, *, bulk: bool, batch: pa.RecordBatch) -> None:
    engine = _engine(path)
    table = Catalog(engine).table('借据 "x"')
    w = TargetWriter(engine, bulk=bulk, own_process=bulk)
    try:
        assert is_adbc(w.dbapi) is bulk
        w.begin()
        w.insert(table, batch)
        w.commit()
    finally:
        w.close()
    engine.dispose()


def test_ingest_stores_what_sqlite3_stores(tmp_path: Path) -> None:
    batch = _batch(list(range(1, 301)), [f"n{i}" for i in range(300)])
    _write(tmp_path / "adbc.db", bulk=True, batch=batch)
    _write(tmp_path / "py.db", bulk=False, batch=batch)
    got = _stored(tmp_path / "adbc.db")
    assert len(got) == 300
    assert got == _stored(tmp_path / "py.db")
    # storage classes as sqlite3 gives them: decimals as text into NUMERIC become numbers
    assert got[1][:6] == ("integer", "2", "text", "'n1'", "real", "12.5")


def test_a_refused_row_is_a_data_error_named_by_column(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "t.db")
    table = Catalog(engine).table('借据 "x"')
    w = TargetWriter(engine, bulk=True, own_process=True)
    try:
        w.begin()
        w.insert(table, _batch([1, 2], ["a", "b"]))
        w.commit()
        for ids, names, column, reason in (
            ([3, 1], ["c", "d"], "id", 'UNIQUE constraint failed: 借据 "x".id'),
            ([4], [None], "name", 'NOT NULL constraint failed: 借据 "x".name'),
            ([5], ["much too long"], "", "CHECK constraint failed: length(name) < 9"),
        ):
            w.begin()
            w.savepoint("s")
            with pytest.raises(Exception) as refused:
                w.insert(table, _batch(ids, names))
            assert w.is_data_error(refused.value)
            assert w.sql.describe_error(refused.value)[:2] == (column, reason)
            w.rollback_to("s")
            w.release("s")
            w.commit()
        # a statement SQLite cannot run at all is no refusal of rows
        with pytest.raises(Exception) as broken:
            w.execute("SELECT * FROM no_such_table")
        assert not w.is_data_error(broken.value)
        assert w.execute('SELECT count(*) FROM "借据 ""x"""') == [(2,)]
    finally:
        w.close()


PROBE = (
    "import sqlite3, sys\n"
    "c = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
    "try:\n"
    "    c.execute('BEGIN IMMEDIATE'); print('got the write lock'); c.execute('ROLLBACK')\n"
    "except sqlite3.OperationalError as e:\n"
    "    print(e)\n"
)


def _other_process_writes(path: Path) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True)
    return out.stdout.strip() or out.stderr.strip()


def test_a_refused_connection_keeps_the_writers_locks(tmp_path: Path) -> None:
    """The engine refuses before ``sqlite3`` opens the file: a handle opened and closed
    again would drop the ADBC writer's POSIX locks, and another process could write the
    file in the middle of the writer's transaction."""
    engine = _engine(tmp_path / "t.db")
    table = Catalog(engine).table('借据 "x"')
    w = TargetWriter(engine, bulk=True, own_process=True)
    try:
        w.begin()
        w.insert(table, _batch([1, 2], ["a", "b"]))  # the writer holds the write lock
        assert _other_process_writes(tmp_path / "t.db") == "database is locked"
        with pytest.raises(RuntimeError, match="open by ADBC"):
            engine.connect()
        gc.collect()
        assert _other_process_writes(tmp_path / "t.db") == "database is locked"
        w.commit()
    finally:
        w.close()
    assert _other_process_writes(tmp_path / "t.db") == "got the write lock"


def test_the_writer_waits_for_another_process_as_sqlite3_does(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "t.db")
    w = TargetWriter(engine, bulk=True, own_process=True)
    try:
        assert w.execute("PRAGMA busy_timeout") == [(lite.BUSY_MS,)]
    finally:
        w.close()


def test_a_failed_set_up_gives_the_engine_its_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(tmp_path / "t.db")

    def broken(self: Any, dbapi: Any) -> tuple[str, ...]:
        return ("PRAGMA no_such_pragma(",)

    monkeypatch.setattr(lite.SQLite, "prepare_writes", broken)
    with pytest.raises(Exception, match="incomplete input"):
        TargetWriter(engine, bulk=True, own_process=True)
    with engine.connect() as conn:  # no listener left behind, no ADBC handle open
        assert conn.exec_driver_sql('SELECT count(*) FROM "借据 ""x"""').scalar() == 0


def test_the_engine_holds_no_connection_while_the_writer_is_open(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "t.db")
    with engine.connect():  # pooled: closed when the writer opens
        pass
    assert engine.pool.checkedin() == 1
    w = TargetWriter(engine, bulk=True, own_process=True)
    try:
        assert engine.pool.checkedin() == 0
        with pytest.raises(RuntimeError, match="open by ADBC"):
            engine.connect()
    finally:
        w.close()
    with engine.connect() as conn:
        assert conn.exec_driver_sql('SELECT count(*) FROM "借据 ""x"""').scalar() == 0


def test_a_connection_in_use_keeps_sqlite3_writing(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "t.db")
    with engine.connect():
        w = TargetWriter(engine, bulk=True, own_process=True)
        try:
            assert isinstance(w.dbapi, sqlite3.Connection)
        finally:
            w.close()


def test_rollback_after_sqlite_ended_the_transaction_itself(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "t.db")
    w = TargetWriter(engine, bulk=True, own_process=True)
    try:
        w.begin()
        w.execute("ROLLBACK")  # as SQLite does by itself on a full disk or an I/O error
        w.rollback()  # the driver does not say no transaction is open: no error either
        w.begin()
        w.commit()
    finally:
        w.close()


def test_without_the_driver_sqlite3_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "adbc_driver_sqlite.dbapi", None)  # import fails
    engine = _engine(tmp_path / "t.db")
    w = TargetWriter(engine, bulk=True, own_process=True)
    try:
        assert not is_adbc(w.dbapi)
        assert isinstance(w.dbapi, sqlite3.Connection)
    finally:
        w.close()


def test_cli_copy_into_sqlite_equals_the_source(
    tmp_path: Path, ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: every row and value of a SQLite book arrives, counts reconciled;
    the CLI (a process of its own) writes through ADBC, a run of a shared process (the
    console's jobs, the flows' default) through ``sqlite3``."""
    opened: list[str] = []
    real = lite.SQLite.bulk_connection

    def spy(self: Any, engine: sa.Engine, *, own_process: bool) -> Any:
        got = real(self, engine, own_process=own_process)
        opened.append("adbc" if got is not None else "sqlite3")
        return got

    monkeypatch.setattr(lite.SQLite, "bulk_connection", spy)
    src = tmp_path / "seller.db"
    conn = sqlite3.connect(src)
    conn.executescript(
        "CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, limit_amt "
        "DECIMAL(14,2), photo BLOB, joined DATE);"
        "CREATE TABLE loan (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL "
        "REFERENCES customer(id), amount DECIMAL(14,2) NOT NULL, rate REAL);"
    )
    conn.executemany(
        "INSERT INTO customer VALUES (?, ?, ?, ?, ?)",
        [
            (i, f"客户{i}", f"{i * 7}.25", bytes([i % 256]) if i % 4 else None, "2026-01-02")
            for i in range(1, 2001)
        ],
    )
    conn.executemany(
        "INSERT INTO loan VALUES (?, ?, ?, ?)",
        [(i, 1 + i % 2000, f"{i}.10", 0.035 + i / 1e6) for i in range(1, 5001)],
    )
    conn.commit()
    conn.close()
    target = tmp_path / "buyer.db"
    args = ["--workspace", str(ws), "--lang", "en", "migrate", str(src), str(target)]
    res = CliRunner().invoke(app, [*args, "--no-backup", "--reason", "test", "--batch-size", "700"])
    assert res.exit_code == 0, res.output
    assert opened == ["adbc"]

    def same(target: Path) -> None:
        a, b = sqlite3.connect(src), sqlite3.connect(target)
        try:
            for t in ("customer", "loan"):
                q = f"SELECT * FROM {t} ORDER BY id"
                assert a.execute(q).fetchall() == b.execute(q).fetchall(), t
        finally:
            a.close()
            b.close()

    same(target)
    from handover.flows.migrate import migrate
    from handover.migrate.results import MigrateOptions
    from handover.workspace import open_workspace

    shared = open_workspace(ws)
    try:
        opts = MigrateOptions(no_backup=True, reason="test", batch_size=700)
        assert migrate(shared, str(src), str(tmp_path / "b2.db"), opts).status == "done"
    finally:
        shared.close()
    assert opened == ["adbc", "sqlite3"]  # the flow's default is refused ADBC's writer
    same(tmp_path / "b2.db")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    from handover.flows.workspace import init_workspace

    path = tmp_path / "ws"
    init_workspace(path, demo=True).close()
    return path
