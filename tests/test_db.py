"""The database layer: URLs, masking, connecting with session settings, one engine per
source (real SQLite files and the machine's PostgreSQL and MariaDB)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from handover.db import dialects
from handover.db.connect import Wording, connect
from handover.db.url import backend, is_url, mask, parse, sqlite_path, to_url
from handover.errors import BadInput


def test_parse_gives_handovers_drivers_and_utf8mb4() -> None:
    assert parse("postgresql://u:pw@h/db").drivername == "postgresql+psycopg"
    assert parse("postgres://u@h/db").drivername == "postgresql+psycopg"  # the old alias
    assert parse("postgresql+psycopg2://u@h/db").drivername == "postgresql+psycopg2"
    assert parse("postgresql+psycopg2://u@h/db", own_driver=True).drivername == (
        "postgresql+psycopg"
    )
    my = parse("mariadb://root@h/db")
    assert my.drivername == "mariadb+pymysql" and my.query == {"charset": "utf8mb4"}
    assert parse("mysql://root@h/db?charset=latin1").query == {"charset": "latin1"}
    assert parse("sqlite:///x.db").drivername == "sqlite"
    assert parse("oracle://u@h/db").drivername == "oracle"  # unknown: left as named


def test_bad_urls_are_one_masked_line() -> None:
    for spec in ("postgresql://u:secret@host:notaport/db", "://", "not a url"):
        with pytest.raises(BadInput, match="not a database URL") as e:
            parse(spec)
        assert "secret" not in str(e.value)
    assert mask("postgresql://u:secret@host:notaport/db") == "<unparseable URL>"
    assert mask("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert mask("postgresql://u@h/db") == "postgresql://u@h/db"
    assert mask("/data/seller.db") == "/data/seller.db"


def test_paths_and_sqlite_urls(tmp_path: Path) -> None:
    f = tmp_path / "a b.db"
    assert not is_url(f) and is_url("sqlite:///x.db")
    assert to_url(f) == f"sqlite:///{f.resolve()}"
    assert to_url("mysql://root@h/d") == "mysql+pymysql://root@h/d?charset=utf8mb4"
    assert sqlite_path(f) == f
    assert sqlite_path(f"sqlite:///{f}") == f
    assert sqlite_path("sqlite://") is None and sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://u@h/db") is None
    assert sqlite_path("postgresql://u:pw@h:x/db") is None  # does not parse: no file
    assert backend(f) == "sqlite" and backend("mariadb://h/d") == "mysql"
    assert dialects.family("mariadb") == "mysql" and dialects.find("oracle") is None


def test_unreachable_names_the_masked_url_in_the_callers_words() -> None:

    with pytest.raises(BadInput) as e:
        connect("postgresql://bob:s3cret@127.0.0.1:1/nope")
    assert e.value.transient and "s3cret" not in str(e.value)
    assert str(e.value).startswith("postgresql://bob:***@127.0.0.1:1/nope is unreachable: ")
    words = Wording("verify.bad_url", "verify.unreachable")
    with pytest.raises(BadInput, match=r"^cannot connect to postgresql://bob:\*\*\*@"):
        connect("postgresql://bob:s3cret@127.0.0.1:1/nope", wording=words)
    with pytest.raises(BadInput, match=r"^cannot use nosuchdb://u:\*\*\*@h/db: NoSuchModuleError"):
        connect("nosuchdb://u:pw@h/db", wording=words)


def test_sqlite_sessions_and_read_only(tmp_path: Path) -> None:
    f = tmp_path / "s.db"
    store = connect(f"sqlite:///{f}", session="store")
    with store.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.commit()
    store.dispose()
    ro = connect(f, read_only=True)
    with ro.connect() as conn, pytest.raises(sa.exc.OperationalError, match="readonly"):
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    ro.dispose()
    assert sqlite3.connect(f).execute("SELECT count(*) FROM t").fetchone() == (0,)


@pytest.mark.postgres
def test_postgresql_verify_session(pg_url: str) -> None:
    engine = connect(pg_url, session="verify")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW DateStyle").scalar().startswith("ISO")
        assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
    engine.dispose()


@pytest.mark.mariadb
def test_mariadb_verify_session(mariadb_url: str) -> None:
    engine = connect(mariadb_url, session="verify")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT @@session.time_zone").scalar() == "+00:00"
        assert conn.exec_driver_sql("SELECT @@character_set_client").scalar() == "utf8mb4"
    engine.dispose()


def _pg_backends(admin: sa.Engine) -> int:
    with admin.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar_one()
        )


@pytest.mark.postgres
def test_migration_source_opens_the_database_once(pg_url: str) -> None:
    from handover.migrate.reader import DatabaseSource

    admin = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id integer PRIMARY KEY, name text)")
        conn.exec_driver_sql("INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, 50) g")
    src = DatabaseSource(pg_url)
    try:
        (table,) = src.schema()
        assert src.count(table) == 50
        assert sum(b.data.num_rows for b in src.read(table, after=None, batch_size=20)) == 50
        assert src.engine is src.reader.engine
        assert _pg_backends(admin) == 1
    finally:
        src.close()
    # a closed connection's backend leaves pg_stat_activity when its process has ended,
    # a moment after the client hung up (seen under the load of two test runs at once)
    gone = _pg_backends(admin)
    for _ in range(200):
        if gone == 0:
            break
        time.sleep(0.05)
        gone = _pg_backends(admin)
    assert gone == 0
    admin.dispose()


def test_sqlite_migration_source_reflects_through_its_own_connection(tmp_path: Path) -> None:
    from handover.migrate.reader import DatabaseSource
    from handover.sources.sqlite import SqliteSource

    f = tmp_path / "one.db"
    con = sqlite3.connect(f)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, d TIMESTAMP)")
    con.execute("INSERT INTO t VALUES (1, '2019-03-02 12:57:46')")
    con.commit()
    con.close()
    src = DatabaseSource(f)
    try:
        (table,) = src.schema()
        assert table.column("d").spelling == "YYYY-MM-DD HH:MM:SS"
        assert isinstance(src.reader, SqliteSource)
        with src.engine.connect() as conn:
            assert conn.connection.driver_connection is src.reader.conn
        rows = [b.data.to_pylist() for b in src.read(table, after=None, batch_size=10)]
        assert rows == [[{"id": 1, "d": "2019-03-02 12:57:46"}]]
    finally:
        src.close()


@pytest.mark.parametrize("read_only", [True, False])
def test_a_sqlite_path_with_uri_characters_opens_that_file(tmp_path: Path, read_only: bool) -> None:
    """ "?", "#", "%" and spaces are part of a file name, not a URI's query or fragment."""
    import sqlite3

    from handover.db.connect import connect

    folder = tmp_path / "a?b#c %41"
    folder.mkdir()
    with sqlite3.connect(folder / "s.db") as con:
        con.execute("CREATE TABLE t (x INTEGER)")
        con.execute("INSERT INTO t VALUES (42)")
    engine = connect(str(folder / "s.db"), read_only=read_only)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT x FROM t").scalar() == 42
    finally:
        engine.dispose()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a?b#c %41"]


def test_a_step_an_engine_cannot_do_is_one_translated_line() -> None:
    """Capability hooks an engine lacks refuse by name (never NotImplementedError)."""
    sqlite = dialects.find("sqlite")
    assert sqlite is not None
    with pytest.raises(BadInput) as info:
        sqlite.sample_sql(0.1, 7)
    assert info.value.render("en") == "SQLite cannot do this: server-side sampling"
    assert info.value.render("zh-CN") == "SQLite 不支持:服务器端抽样"
