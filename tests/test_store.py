"""The platform store migrates and works on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import select, text

from handover.db.url import mask
from handover.errors import BadInput
from handover.store import open_store
from handover.store.models import TransferRow
from handover.store.store import Store


def _roundtrip(url: str) -> None:
    store = open_store(url)
    try:
        assert "transfers" in store.tables()
        assert "alembic_version" in store.tables()
        with store.session() as s:
            s.add(
                TransferRow(name="交接", created_at=dt.datetime.now(dt.UTC), parties={"卖方": "甲"})
            )
        with store.session() as s:
            row = s.scalars(select(TransferRow)).one()
            assert row.parties == {"卖方": "甲"}
            assert row.name == "交接"
        # Upgrading again is a no-op, not an error (reruns are safe).
        store.upgrade()
        with store.engine.connect() as conn:
            heads = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
        assert heads, "alembic_version records the applied heads"
    finally:
        store.dispose()


def test_sqlite_store(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 'store.db'}")


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        store.dispose()


@pytest.mark.postgres
def test_postgres_store(pg_url: str) -> None:
    _roundtrip(pg_url)


def test_a_sqlite_store_lends_each_thread_its_own_connection(tmp_path: Path) -> None:
    """The ledger's appends use a connection of the thread's own (no pool check-out):
    the same one call after call, another in another thread, each with the store's
    session settings. Only its thread closes it: dispose closes the caller's own, and
    another thread's when that thread next asks (closing a connection another thread is
    using can crash the process)."""
    import sqlite3
    import threading

    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        first = store.own_connection()
        assert first is not None and store.own_connection() is first
        assert first.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert first.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        # detached: the pool's own connections are not this one
        with store.engine.connect() as conn:
            assert conn.connection.dbapi_connection is not first
        disposed, asked = threading.Event(), threading.Event()
        seen: list[object] = []

        def job() -> None:
            mine = store.own_connection()
            seen.append(mine is not first)
            asked.set()
            disposed.wait(30)
            # still usable after the dispose, closed when this thread asks again
            seen.append(mine.execute("SELECT 1").fetchone()[0])
            again = store.own_connection()
            seen.append(again is not mine)
            try:
                mine.execute("SELECT 1")
            except sqlite3.ProgrammingError:
                seen.append("closed")

        thread = threading.Thread(target=job)
        thread.start()
        asked.wait(30)
        store.dispose()
        disposed.set()
        thread.join()
        assert seen == [True, 1, True, "closed"]
        with pytest.raises(sqlite3.ProgrammingError):
            first.execute("SELECT 1")
        again = store.own_connection()
        assert again is not None and again is not first
        assert again.execute("SELECT count(*) FROM alembic_version").fetchone()[0] >= 1
    finally:
        store.dispose()
    memory = open_store("sqlite://")
    try:
        assert memory.own_connection() is None  # its pool's one connection is the database
    finally:
        memory.dispose()


def test_closing_a_workspace_while_another_thread_appends(workspace: object) -> None:
    """The console closes its workspace at shutdown while a job's thread may still be
    appending: each append finishes on its own connection (closing it under the thread
    crashed the process), and the ledger stays whole."""
    import threading

    from handover.ledger import record, verify_ledger
    from handover.workspace import Workspace

    assert isinstance(workspace, Workspace)
    errors: list[BaseException] = []
    done = [0]
    stop = threading.Event()

    def job() -> None:
        while not stop.is_set() or done[0] < 50:
            try:
                record(workspace, "tester", "scan.run", "subject", "purpose", {"i": done[0]})
                done[0] += 1
            except BaseException as exc:  # every failure is the finding
                errors.append(exc)
                return

    thread = threading.Thread(target=job)
    thread.start()
    for _ in range(50):
        workspace.close()
    stop.set()
    thread.join()
    assert errors == [] and done[0] >= 50
    report = verify_ledger(workspace)
    assert report.ok, report


def test_a_postgres_store_lends_no_connection_of_its_own(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        assert store.own_connection() is None  # a server's go through the pool's check
    finally:
        store.dispose()


def test_unreachable_store_is_bad_input_with_masked_password() -> None:
    with pytest.raises(BadInput) as info:
        open_store("postgresql+psycopg://u:s3cret@127.0.0.1:1/none")
    msg = str(info.value)
    assert "s3cret" not in msg
    assert "unreachable" in msg
    assert info.value.transient, "an unreachable server is worth retrying"


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://x/y"])
def test_bad_store_url(url: str) -> None:
    with pytest.raises(BadInput):
        open_store(url)


def test_mask_url() -> None:
    assert mask("mysql+pymysql://root:pw@h/db") == "mysql+pymysql://root:***@h/db"


def test_script_heads_agree_with_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from handover.store.store import MIGRATIONS, script_heads

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert script_heads() == set(ScriptDirectory.from_config(cfg).get_heads())


def test_store_at_heads_opens_without_alembic(tmp_path: Path) -> None:
    """A store already at the heads is not re-upgraded; a store behind them is."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(url).dispose()
    probe = (
        "import sys; from handover.store import open_store; "
        f"open_store({url!r}).dispose(); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    # one revision forgotten: the next open applies it again through Alembic
    store = open_store(url, upgrade=False)
    try:
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0007'"))
            conn.execute(text("DROP TABLE erase_items"))
            conn.execute(text("DROP TABLE erase_runs"))
    finally:
        store.dispose()
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
    store = open_store(url)
    try:
        assert "0007" in store.current_heads()
    finally:
        store.dispose()


def _downgraded_workspace(
    path: Path, store_url: str | None = None, revision: str = "0004pw"
) -> str:
    """A demo workspace (people, NDAs, grants: rows that name people by foreign key; a
    ledger) whose store is taken back to before ``revision`` (the password rules by
    default); its store URL."""
    from handover.flows.workspace import init_workspace

    kw = {"database_url": store_url} if store_url else {}
    ws = init_workspace(path, demo=True, **kw)
    url = ws.settings.store_url
    ws.close()
    _downgraded(url, revision).dispose()
    return url


def _downgraded(url: str, revision: str) -> Store:
    """The store at ``url`` taken back to before ``revision``, open (not upgraded)."""
    from alembic import command
    from alembic.config import Config

    from handover.store.store import MIGRATIONS

    store = open_store(url, upgrade=False)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, f"{revision}-1")
        assert revision not in store.current_heads()
    except BaseException:
        store.dispose()
        raise
    return store


def _upgrades_with_people(url: str) -> None:
    store = open_store(url)
    try:
        assert "0004pw" in store.current_heads()
        with store.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT count(*), sum(CASE WHEN password_one_time THEN 1 ELSE 0 END) FROM gov_people"
                )
            ).one()
        assert rows[0] > 0 and rows[1] == 0  # everybody kept, nobody's password made one-time
    finally:
        store.dispose()


def test_a_store_with_people_upgrades_to_the_password_rules(tmp_path: Path) -> None:
    """Revision 0004pw adds columns to ``gov_people``, which other tables reference by
    foreign key: on SQLite a batch copy of the table would be refused (FOREIGN KEY
    constraint failed), so an existing workspace could not be opened any more."""
    _upgrades_with_people(_downgraded_workspace(tmp_path / "ws"))


def test_a_postgres_store_with_people_upgrades_to_the_password_rules(
    tmp_path: Path, pg_url: str
) -> None:
    _upgrades_with_people(_downgraded_workspace(tmp_path / "ws", pg_url))


def _ledger_shape(store: Store) -> tuple[set[str], str, str]:
    """The ledger's index names, and how its two SQLite tables were made ("" elsewhere)."""
    from sqlalchemy import inspect

    indexes = {i["name"] for i in inspect(store.engine).get_indexes("ledger_entries")}
    if store.engine.dialect.name != "sqlite":
        return indexes, "", ""
    with store.engine.connect() as conn:
        sql = dict(
            conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
        )
    return indexes, sql["ledger_entries"], sql["ledger_nodes"]


def _ledger_upgrades(tmp_path: Path, store_url: str | None = None) -> None:
    """Revision 0002b rebuilds the ledger's tables on SQLite and drops the ``ts`` index:
    every row is kept as it was, so the log verifies with the same root, and appends,
    ``--since`` and the action filter work on the rebuilt tables."""
    from handover import ledger
    from handover.workspace import open_workspace

    url = _downgraded_workspace(tmp_path / "ws", store_url, "0002b")
    old = open_store(url, upgrade=False)
    try:
        indexes, entries_sql, nodes_sql = _ledger_shape(old)
        assert "ix_ledger_entries_ts" in indexes
        assert (
            "WITHOUT ROWID" not in nodes_sql and "INTEGER NOT NULL PRIMARY KEY" not in entries_sql
        )
    finally:
        old.dispose()
    ws = open_workspace(tmp_path / "ws")  # opening upgrades the store
    try:
        assert "0002c" in ws.store.current_heads()
        indexes, entries_sql, nodes_sql = _ledger_shape(ws.store)
        assert indexes == {"ix_ledger_entries_actor", "ix_ledger_entries_action"}
        if ws.store.engine.dialect.name == "sqlite":
            assert "seq INTEGER NOT NULL PRIMARY KEY" in entries_sql
            assert nodes_sql.endswith("WITHOUT ROWID")
        report = ledger.verify_ledger(ws)
        assert report.ok and report.size > 0, report.problems
        logged = ledger.entries(ws)
        assert [e.seq for e in logged] == list(range(report.size))
        first = dt.datetime.fromisoformat(logged[len(logged) // 2].ts)
        assert ledger.entries(ws, since=first) == [
            e for e in logged if dt.datetime.fromisoformat(e.ts) >= first
        ]
        actions = {e.action.split(".")[0] for e in logged}
        for a in actions:
            assert ledger.entries(ws, action=a) == [
                e for e in logged if e.action == a or e.action.startswith(a + ".")
            ]
        ledger.record(ws, "os:test", "test.after_upgrade", "s", "p")
        again = ledger.verify_ledger(ws)
        assert again.ok and again.size == report.size + 1
    finally:
        ws.close()


def _node_rows(store: Store) -> list[tuple[int, int, bytes]]:
    with store.engine.connect() as conn:
        return [
            (int(lv), int(i), bytes(h))
            for lv, i, h in conn.execute(
                text("SELECT level, idx, hash FROM ledger_nodes ORDER BY level, idx")
            )
        ]


def _node_floor_round_trip(tmp_path: Path, store_url: str | None = None) -> None:
    """Revision 0002c keeps subtree hashes from level 4 up: the upgrade deletes the lower
    rows, every proof is still the one the whole tree gives, appends store no lower row,
    and the downgrade hashes the lower levels back from the leaves, row for row."""
    from handover import ledger
    from handover.ledger import merkle
    from handover.ledger.models import LOWEST_STORED_LEVEL
    from handover.store.store import MIGRATIONS
    from handover.workspace import open_workspace

    spec = importlib.util.spec_from_file_location(
        "floor", MIGRATIONS / "versions" / "0002_02_ledger_nodes_floor.py"
    )
    assert spec is not None and spec.loader is not None
    floor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(floor)
    assert floor.LOWEST_STORED_LEVEL == LOWEST_STORED_LEVEL

    url = _downgraded_workspace(tmp_path / "ws", store_url, "0002c")
    old = open_store(url, upgrade=False)
    try:
        before = _node_rows(old)
        assert {lv for lv, _i, _h in before} >= {1, 2, 3}
    finally:
        old.dispose()
    ws = open_workspace(tmp_path / "ws")  # opening upgrades the store
    try:
        assert "0002c" in ws.store.current_heads()
        assert {lv for lv, _i, _h in _node_rows(ws.store)} <= set(range(LOWEST_STORED_LEVEL, 64))
        assert [r for r in before if r[0] >= LOWEST_STORED_LEVEL] == _node_rows(ws.store)
        ledger.record_many(
            ws,
            [ledger.Event("test.more", f"m{i}", "p", {"i": i}, actor="os:t") for i in range(70)],
        )
        size = ledger.ledger_size(ws)
        assert size > 64 + size % 16
        report = ledger.verify_ledger(ws)
        assert report.ok, report.problems
        bodies = [e.body for e in ledger.entries(ws)]
        leaves = [merkle.leaf_hash(b) for b in bodies]
        for n in (1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 48, 63, size):
            with ws.store.engine.connect() as conn:
                assert ledger.ledger.root_at(conn, n) == merkle.root_hash(bodies[:n])
                assert ledger.ledger.consistency_from_store(
                    conn, n, size
                ) == merkle.consistency_proof(bodies, n)
            for seq in range(n):
                proof = ledger.prove_at(ws, seq, n)
                assert proof.proof == merkle.inclusion_proof(bodies[:n], seq), (seq, n)
        after = _node_rows(ws.store)
        assert {lv for lv, _i, _h in after} == set(range(LOWEST_STORED_LEVEL, size.bit_length()))
    finally:
        ws.close()
    store = _downgraded(url, "0002c")
    try:
        levels = merkle.build_levels(b"".join(leaves))
        want = sorted(
            (lv, i, levels[lv][32 * i : 32 * i + 32])
            for lv in range(1, len(levels))
            for i in range(len(levels[lv]) // 32)
        )
        assert _node_rows(store) == want
    finally:
        store.dispose()


def test_the_node_floor_downgrade_refuses_a_log_with_a_gap(tmp_path: Path) -> None:
    """Hashed over a missing entry, every lower node after it would belong to another tree:
    the downgrade stops instead, and the store keeps its revision."""
    from handover.flows.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws", demo=True)
    url = ws.settings.store_url
    with ws.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries WHERE seq = 2"))
    ws.close()
    with pytest.raises(RuntimeError, match="from 0 to"):
        _downgraded(url, "0002c")
    store = open_store(url, upgrade=False)
    try:
        assert "0002c" in store.current_heads()
    finally:
        store.dispose()


def test_a_sqlite_ledger_keeps_nodes_from_level_4(tmp_path: Path) -> None:
    _node_floor_round_trip(tmp_path)


def test_a_postgres_ledger_keeps_nodes_from_level_4(tmp_path: Path, pg_url: str) -> None:
    _node_floor_round_trip(tmp_path, pg_url)


def test_a_sqlite_ledger_upgrades_to_the_lean_tables(tmp_path: Path) -> None:
    _ledger_upgrades(tmp_path)


def test_a_postgres_ledger_upgrades_to_the_lean_tables(tmp_path: Path, pg_url: str) -> None:
    _ledger_upgrades(tmp_path, pg_url)
