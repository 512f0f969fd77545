"""Half-written targets (issue 15): the whole schema plan is checked against the target's
rules before anything is created, every conflict named; a run that fails leaves the
target as it found it or resumable, with a documented way forward.

Each case drives the real CLI (``migrate``) into real SQLite, PostgreSQL and MariaDB
databases and checks the exit code, the names in the one-line message, and that the
target holds exactly what it held before (no table, no bookkeeping table, no new file).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from migrate_data import BASE, demo_ws
from migrate_data import run_cli as _cli
from migrate_data import table_names as _tables


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_ws(tmp_path_factory, "h15t")


def _run(url: str, *statements: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for stmt in statements:
                conn.exec_driver_sql(stmt)
    finally:
        engine.dispose()


def _sqlite(tmp_path: Path, *ddl: str) -> Path:
    path = tmp_path / "seller.db"
    _run(f"sqlite:///{path}", *ddl)
    return path


def _refused(res: Any, *names: str) -> str:
    assert res.exit_code == 2, res.output
    assert "nothing was created" in res.output, res.output
    assert "Traceback" not in res.output and "internal error" not in res.output
    for n in names:
        assert n in res.output, (n, res.output)
    return str(res.output)


# --- names -----------------------------------------------------------------------------


def test_table_name_longer_than_postgresql_allows(ws: Path, tmp_path: Path, pg_url: str) -> None:
    long = "customer_repayment_schedule_with_collection_notes_archived_2019_q4_finals"
    assert len(long) == 73
    src = _sqlite(
        tmp_path,
        f"CREATE TABLE {long} (id INTEGER PRIMARY KEY, note TEXT)",
        "CREATE TABLE ok_table (id INTEGER PRIMARY KEY)",
        f"INSERT INTO {long} VALUES (1, 'x')",
    )
    res = _cli(ws, "migrate", str(src), pg_url, *BASE)
    _refused(res, f"table {long}: the name is 73 bytes (UTF-8) long; PostgreSQL allows 63")
    assert _tables(pg_url) == set()


def test_chinese_column_name_over_63_bytes_into_postgresql(
    ws: Path, tmp_path: Path, pg_url: str
) -> None:
    column = "客户最近一次逾期还款的催收记录备注说明文字内容"  # 23 characters, 69 bytes
    src = _sqlite(tmp_path, f'CREATE TABLE t (id INTEGER PRIMARY KEY, "{column}" TEXT)')
    res = _cli(ws, "migrate", str(src), pg_url, *BASE)
    _refused(res, f"table t column {column}: the name is 69 bytes")
    assert _tables(pg_url) == set()


def test_case_collisions_into_sqlite(ws: Path, tmp_path: Path, pg_url: str) -> None:
    _run(
        pg_url,
        'CREATE TABLE "Users" (id int PRIMARY KEY, "Name" text, name text)',
        "CREATE TABLE users (id int PRIMARY KEY)",
    )
    target = tmp_path / "buyer.db"
    res = _cli(ws, "migrate", pg_url, str(target), *BASE)
    _refused(
        res,
        "table Users: columns name and Name are the same name",
        "table users and table Users are the same name",
    )
    assert not target.exists()


def test_case_and_charset_conflicts_into_mariadb(ws: Path, pg_url: str, mariadb_url: str) -> None:
    _run(
        pg_url,
        'CREATE TABLE "Users" (id int PRIMARY KEY, "Name" text, name text)',
        'CREATE TABLE "客户😀" (id int PRIMARY KEY, "手机号码" text)',
        'CREATE TABLE "Résumé" (id int PRIMARY KEY, "Résumé" text, resume text)',
    )
    before = _tables(mariadb_url)
    res = _cli(ws, "migrate", pg_url, mariadb_url, *BASE)
    _refused(
        res,
        "(3 conflicts",
        "table Users: columns name and Name are the same name",
        "table 客户😀: MariaDB/MySQL cannot store the character U+1F600",
        "table Résumé: columns resume and Résumé are the same name",
    )
    assert _tables(mariadb_url) == before


def test_chinese_names_into_mariadb_are_fine(ws: Path, tmp_path: Path, mariadb_url: str) -> None:
    src = _sqlite(
        tmp_path,
        'CREATE TABLE "客户" (id INTEGER PRIMARY KEY, "手机号码" TEXT, "姓名" TEXT)',
        "INSERT INTO \"客户\" VALUES (1, '13800000000', '张三')",
    )
    res = _cli(ws, "migrate", str(src), mariadb_url, *BASE)
    assert res.exit_code == 0, res.output
    assert _tables(mariadb_url) == {"客户"}


def test_reserved_sqlite_name(ws: Path, pg_url: str, tmp_path: Path) -> None:
    _run(pg_url, "CREATE TABLE sqlite_stats_copy (id int PRIMARY KEY)")
    target = tmp_path / "buyer.db"
    res = _cli(ws, "migrate", pg_url, str(target), *BASE)
    _refused(res, "table sqlite_stats_copy: names beginning sqlite_ are reserved")
    assert not target.exists()


# --- privileges -----------------------------------------------------------------------


@pytest.fixture
def pg_reader(pg_url: str) -> Any:
    """A login role that may connect to the test database but create nothing in it."""
    role = f"h15b_ro_{uuid.uuid4().hex[:8]}"
    _run(pg_url, f"CREATE ROLE {role} LOGIN", "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    try:
        yield make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    finally:
        _run(pg_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_read_only_postgresql_role(ws: Path, tmp_path: Path, pg_url: str, pg_reader: str) -> None:
    src = _sqlite(tmp_path, "CREATE TABLE t (id INTEGER PRIMARY KEY)", "INSERT INTO t VALUES (1)")
    res = _cli(ws, "migrate", str(src), pg_reader, *BASE)
    _refused(res, "the account lacks CREATE on schema public")
    assert _tables(pg_url) == set()


def test_read_only_postgresql_session(ws: Path, tmp_path: Path, pg_url: str) -> None:
    src = _sqlite(tmp_path, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    db = make_url(pg_url).database
    _run(pg_url, f"ALTER DATABASE {db} SET default_transaction_read_only = on")
    res = _cli(ws, "migrate", str(src), pg_url, *BASE)
    _refused(res, "the PostgreSQL server or session is read-only")
    _run(
        pg_url,
        "SET default_transaction_read_only = off",
        f"ALTER DATABASE {db} RESET default_transaction_read_only",
    )
    assert _tables(pg_url) == set()


@pytest.fixture
def maria_reader(mariadb_url: str) -> Any:
    """An account with SELECT only on the test database."""
    user = f"h15b_ro_{uuid.uuid4().hex[:6]}"
    db = make_url(mariadb_url).database
    _run(
        mariadb_url,
        f"CREATE USER '{user}'@'%%'",
        f"CREATE USER '{user}'@'localhost'",
        f"GRANT SELECT ON `{db}`.* TO '{user}'@'%%'",
        f"GRANT SELECT ON `{db}`.* TO '{user}'@'localhost'",
    )
    try:
        yield make_url(mariadb_url).set(username=user).render_as_string(hide_password=False)
    finally:
        _run(mariadb_url, f"DROP USER '{user}'@'%%'", f"DROP USER '{user}'@'localhost'")


def test_select_only_mariadb_account(
    ws: Path, tmp_path: Path, mariadb_url: str, maria_reader: str
) -> None:
    src = _sqlite(tmp_path, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    res = _cli(ws, "migrate", str(src), maria_reader, *BASE)
    out = _refused(res, "the account lacks INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER")
    assert "SELECT," not in out
    assert _tables(mariadb_url) == set()


# --- a table the server refuses although the plan passed -----------------------------


def test_table_refused_while_creating_leaves_the_target_as_found(
    ws: Path, pg_url: str, mariadb_url: str
) -> None:
    # MariaDB refuses a row of more than 65,535 bytes at CREATE TABLE: 300 VARCHAR(100)
    # columns are 120,000 bytes in utf8mb4. The first table is created before that.
    cols = ", ".join(f"c{i} varchar(100)" for i in range(300))
    _run(
        pg_url,
        "CREATE TABLE a_first (id int PRIMARY KEY)",
        f"CREATE TABLE b_wide (id int PRIMARY KEY, {cols})",
    )
    before = _tables(mariadb_url)
    res = _cli(ws, "migrate", pg_url, mariadb_url, *BASE)
    assert res.exit_code == 2, res.output
    assert "target refused to create table b_wide" in res.output
    assert "what this run had created was removed" in res.output
    assert _tables(mariadb_url) == before


# --- a failed run has a way forward -----------------------------------------------------


def test_failed_run_way_forward(ws: Path, tmp_path: Path, pg_url: str) -> None:
    _run(
        pg_url,
        "CREATE TABLE ev (id int PRIMARY KEY, at timestamp)",
        "INSERT INTO ev VALUES (1, '2020-01-01'), (2, 'infinity'), (3, '2021-01-01')",
    )
    target = tmp_path / "buyer.db"
    res = _cli(ws, "migrate", pg_url, str(target), *BASE)
    assert res.exit_code == 1, res.output
    run = re.search(r"migration run (\S+):", res.output)
    assert run, res.output
    rid = run.group(1)
    # a fresh run names the failed run that created the table and both ways forward
    res = _cli(ws, "migrate", pg_url, str(target), *BASE)
    assert res.exit_code == 2, res.output
    assert f"created by migration run {rid} (status failed)" in res.output
    assert f"--rollback {rid}" in res.output
    # --resume alone does not silently keep it; --resume RUN without allowance fails again
    res = _cli(ws, "migrate", "--resume", rid, "--progress", "none")
    assert res.exit_code == 1, res.output
    # roll back: the target is as found (the file the run created is gone)
    res = _cli(ws, "migrate", "--rollback", rid)
    assert res.exit_code == 0, res.output
    assert not target.exists()
    # then a fresh run that allows the reject succeeds
    res = _cli(ws, "migrate", pg_url, str(target), *BASE, "--allow-rejects", "1")
    assert res.exit_code == 0, res.output
    assert _tables(f"sqlite:///{target}") == {"ev"}


def test_rollback_refuses_a_finished_run(ws: Path, tmp_path: Path) -> None:
    src = _sqlite(tmp_path, "CREATE TABLE t (id INTEGER PRIMARY KEY)", "INSERT INTO t VALUES (1)")
    target = tmp_path / "buyer.db"
    res = _cli(ws, "migrate", str(src), str(target), *BASE, "--json")
    assert res.exit_code == 0, res.output
    rid = re.search(r'"run_id": "([^"]+)"', res.stdout)
    assert rid
    res = _cli(ws, "migrate", "--rollback", rid.group(1))
    assert res.exit_code == 2, res.output
    assert "has status done: there is nothing to roll back" in res.output
    assert _tables(f"sqlite:///{target}") == {"t"}
