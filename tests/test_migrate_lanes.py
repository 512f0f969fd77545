"""``migrate`` into PostgreSQL and MariaDB copies two tables at once (``Dialect.copy_lanes``), each on
its own connection: every table arrives whole, the ledger has one event per table, and a
lane that fails stops the run with the failing table named, leaving a target that
``--resume`` finishes exactly (every table keyed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from handover.db.dialects import get
from migrate_data import (
    BASE,
    TABLES,
    assert_same,
    build,
    demo_ws,
    mend_customer,
    primary_key,
    spoil_last_customer,
)
from migrate_data import run_cli as _cli


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_ws(tmp_path_factory, "lanes")


def test_servers_take_two_streams_a_sqlite_file_one() -> None:
    assert get("postgresql").copy_lanes == 2
    assert get("mysql").copy_lanes == 2
    assert get("sqlite").copy_lanes == 1  # one writer per file


def _interrupted_then_resumed(
    ws: Path, tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch, customer_key: list[str]
) -> None:
    """A lane whose reader fails stops the run naming its table, the table half copied
    (with ``customer_key`` as its primary key then); ``--resume`` of the repaired source
    then finishes every table exactly. Both runs copy in two lanes."""
    from handover.migrate.migrate import CopyJob

    lanes: list[int] = []
    real = CopyJob._copy_in_lanes

    def spy(self: CopyJob, ls: list[Any], todo: list[Any], done: dict[str, Any]) -> None:
        lanes.append(len(ls))
        real(self, ls, todo, done)

    monkeypatch.setattr(CopyJob, "_copy_in_lanes", spy)
    src = tmp_path / "seller.db"
    build(f"sqlite:///{src}", customers=300, seed=7)
    # the reader of customer fails after its first batches
    last = spoil_last_customer(src)
    res = _cli(ws, "migrate", str(src), url, *BASE, "--batch-size", "50")
    assert res.exit_code == 2, res.output
    assert "customer" in res.output and "Traceback" not in res.output
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        state = dict(
            conn.execute(sa.text("SELECT table_name, status FROM _handover_migrate_state")).all()
        )
        copied = conn.execute(sa.text("SELECT count(*) FROM customer")).scalar()
    engine.dispose()
    assert state["customer"] != "done" and 0 < (copied or 0) < 300
    assert primary_key(url, "customer") == customer_key
    mend_customer(src, last)  # the source repaired: the resumed run copies the rest once
    res = _cli(ws, "migrate", "--resume", str(src), url, "--progress", "none", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "done" and out["rejects"] == 0
    assert_same(f"sqlite:///{src}", url, TABLES)
    assert all(primary_key(url, t) for t in TABLES)
    assert lanes == [2, 2]


def test_a_failing_lane_stops_the_run_and_resume_finishes(
    ws: Path, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # into PostgreSQL a key is added after the table's rows: a half-copied table has none
    _interrupted_then_resumed(ws, tmp_path, pg_url, monkeypatch, customer_key=[])


def test_two_lanes_into_mariadb_stop_together_and_resume(
    ws: Path, tmp_path: Path, mariadb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # into MariaDB the key comes with the table (InnoDB clusters the rows by it)
    _interrupted_then_resumed(ws, tmp_path, mariadb_url, monkeypatch, customer_key=["id"])


def _foreign_keys(url: str) -> dict[str, bool]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT conrelid::regclass::text || '.' || conname, convalidated "
                "FROM pg_constraint WHERE contype = 'f'"
            )
        ).all()
    engine.dispose()
    return {str(r[0]): bool(r[1]) for r in rows}


BROKEN = "loan.fk_loan_customer_id_customer"


def _break_a_loan_and_migrate(ws: Path, src: Path, url: str, keys: set[str]) -> str:
    """A loan of ``src`` pointing at no customer (SQLite did not enforce the key), copied
    into the emptied ``url``: the run fails naming that key of ``keys``, in one line that
    holds no value of the rows; that line."""
    assert BROKEN in keys
    e = sa.create_engine(f"sqlite:///{src}")
    with e.begin() as conn:
        conn.execute(
            sa.text("UPDATE loan SET customer_id = 999999 WHERE id = (SELECT min(id) FROM loan)")
        )
    e.dispose()
    res = _cli(ws, "migrate", str(src), url, *BASE, "--json")
    assert res.exit_code == 1, res.output
    line = res.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert f"1 constraints or indexes could not be created (first: {BROKEN}: " in line
    assert "migrate --rollback" in line
    assert "999999" not in res.output  # the value does not reach the report
    return line


def test_foreign_keys_are_checked_after_and_a_broken_one_is_named_and_dropped(
    ws: Path, tmp_path: Path, pg_url: str
) -> None:
    # Into PostgreSQL the foreign keys are added NOT VALID and validated two tables at a
    # time: an intact book ends with every key validated; a loan pointing at no customer
    # (SQLite did not enforce the key) fails the run, names that key, and leaves no
    # unchecked key behind, as when adding it failed outright.
    src = tmp_path / "seller.db"
    build(f"sqlite:///{src}", customers=120, seed=11)
    res = _cli(ws, "migrate", str(src), pg_url, *BASE, "--json")
    assert res.exit_code == 0, res.output
    whole = _foreign_keys(pg_url)
    assert len(whole) >= 3 and all(whole.values()), whole
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for t in reversed(TABLES):
            conn.execute(sa.text(f"DROP TABLE {t} CASCADE"))
    engine.dispose()

    line = _break_a_loan_and_migrate(ws, src, pg_url, set(whole))
    assert "violates foreign key" in line
    now = _foreign_keys(pg_url)
    assert all(now.values()), now  # nothing left NOT VALID
    assert set(whole) - set(now) == {BROKEN}, (whole, now)


def _maria_foreign_keys(url: str) -> set[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
                "WHERE CONSTRAINT_SCHEMA = DATABASE()"
            )
        ).all()
    engine.dispose()
    return {f"{r[0]}.{r[1]}" for r in rows}


def test_a_broken_foreign_key_into_mariadb_is_named_and_dropped(
    ws: Path, tmp_path: Path, mariadb_url: str
) -> None:
    # Into MariaDB the foreign keys are added with foreign_key_checks off (InnoDB would
    # copy the whole table to check them) and each is checked by an anti-join after: a
    # loan pointing at no customer fails the run and names that key, which is dropped.
    # The writers' sessions run with the checks off too: the check must not depend on
    # which pooled connection adds the key.
    src = tmp_path / "seller.db"
    build(f"sqlite:///{src}", customers=120, seed=11)
    res = _cli(ws, "migrate", str(src), mariadb_url, *BASE, "--json")
    assert res.exit_code == 0, res.output
    whole = _maria_foreign_keys(mariadb_url)
    assert len(whole) >= 3, whole
    engine = sa.create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.execute(sa.text("SET foreign_key_checks = 0"))
        for t in TABLES:
            conn.execute(sa.text(f"DROP TABLE {t}"))
    engine.dispose()

    line = _break_a_loan_and_migrate(ws, src, mariadb_url, whole)
    assert "1 rows reference no row of customer" in line
    assert whole - _maria_foreign_keys(mariadb_url) == {BROKEN}


def test_indexes_are_built_two_tables_at_a_time_and_failures_named_in_order(
    ws: Path, tmp_path: Path, mariadb_url: str
) -> None:
    # After the data the indexes of two tables are built at once (Dialect.ddl_lanes),
    # the largest table (alpha) first; a refused one is still named, and the report lists
    # the refusals in the order of the tables (alpha first, though zulu's small index is
    # refused sooner), not in the order the lanes finish. MariaDB's PAD SPACE
    # collation makes 'a' and 'a ' one value: the unique indexes SQLite kept fail there.
    assert get("mysql").ddl_lanes == 2 and get("postgresql").ddl_lanes == 2
    assert get("sqlite").ddl_lanes == 1
    src = tmp_path / "seller.db"
    e = sa.create_engine(f"sqlite:///{src}")
    with e.begin() as conn:
        for name, n in (("alpha", 3000), ("zulu", 10), ("mid", 50)):
            conn.execute(sa.text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, code TEXT)"))
            conn.execute(sa.text(f"CREATE UNIQUE INDEX ux_{name}_code ON {name} (code)"))
            conn.execute(sa.text(f"CREATE INDEX ix_{name}_id_code ON {name} (id, code)"))
            rows = [{"i": i, "c": f"c{i}"} for i in range(1, n + 1)]
            conn.execute(sa.text(f"INSERT INTO {name} VALUES (:i, :c)"), rows)
        for name in ("alpha", "zulu"):
            conn.execute(sa.text(f"UPDATE {name} SET code = 'c1 ' WHERE id = 2"))
    e.dispose()
    res = _cli(ws, "migrate", str(src), mariadb_url, *BASE, "--json")
    assert res.exit_code == 1, res.output
    line = res.stderr.strip()
    assert "2 constraints or indexes could not be created (first: alpha.ux_alpha_code: " in line
    engine = sa.create_engine(mariadb_url)
    with engine.connect() as conn:
        got = conn.execute(
            sa.text(
                "SELECT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS "
                "WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY' "
                "GROUP BY TABLE_NAME, INDEX_NAME"
            )
        ).all()
    engine.dispose()
    built = {f"{t}.{i}" for t, i in got}
    assert built == {
        "alpha.ix_alpha_id_code",
        "zulu.ix_zulu_id_code",
        "mid.ix_mid_id_code",
        "mid.ux_mid_code",
    }


def test_a_failing_lane_after_the_data_is_raised_without_waiting_for_the_other(
    tmp_path: Path,
) -> None:
    # The lanes after the data are daemon threads: a failure (or an interrupt) is raised
    # at once, not after the other lane's statement, which could run for minutes.
    import threading
    from types import SimpleNamespace

    from handover.migrate.migrate import CopyJob

    job = CopyJob.__new__(CopyJob)
    job.engine = sa.create_engine(f"sqlite:///{tmp_path / 't.db'}")
    job.sql = SimpleNamespace(ddl_lanes=2)  # type: ignore[assignment]
    job.result = SimpleNamespace(tables=[], target="t.db")  # type: ignore[assignment]
    release, finished = threading.Event(), threading.Event()

    def work(table: str, conn: sa.Connection) -> int:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1  # each lane's own connection
        if table == "slow":
            release.wait(60)
            finished.set()
            return 1
        raise RuntimeError("the other lane failed")

    with job.engine.connect() as conn, pytest.raises(RuntimeError, match="other lane"):
        job._in_lanes(conn, ["slow", "bad"], work)
    assert not finished.is_set()  # raised while the slow lane still ran
    release.set()
    job.engine.dispose()


def test_the_index_a_mariadb_key_needs_is_built_beside_the_others(
    ws: Path, tmp_path: Path, mariadb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """InnoDB builds an index for a foreign key whose columns no index starts with, one
    ALTER at a time; the run builds it among the other indexes (two tables at once), under
    the key's name, so the target ends with the indexes InnoDB would have made: none for
    a key an index already serves."""
    import sqlite3

    from handover.migrate.migrate import CopyJob

    src = tmp_path / "fk.db"
    conn = sqlite3.connect(src)
    conn.executescript(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, code VARCHAR(8) UNIQUE);"
        "CREATE TABLE child (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES parent(id), "
        "code VARCHAR(8) REFERENCES parent(code), note VARCHAR(20));"
        "CREATE INDEX ix_child_code_note ON child (code, note);"
    )
    conn.executemany("INSERT INTO parent VALUES (?, ?)", [(i, f"p{i}") for i in range(1, 51)])
    conn.executemany(
        "INSERT INTO child VALUES (?, ?, ?, ?)",
        [(i, 1 + i % 50, f"p{1 + i % 7}", f"n{i}") for i in range(1, 401)],
    )
    conn.commit()
    conn.close()
    built: dict[str, list[str]] = {}
    real = CopyJob._side_by_side

    def spy(self: CopyJob, conn: Any, per_table: dict[str, list[tuple[str, str]]]) -> Any:
        for table, statements in per_table.items():
            built.setdefault(table, []).extend(sql for sql, _ in statements)
        return real(self, conn, per_table)

    monkeypatch.setattr(CopyJob, "_side_by_side", spy)
    res = _cli(ws, "migrate", str(src), mariadb_url, *BASE, "--json")
    assert res.exit_code == 0, res.output
    engine = sa.create_engine(mariadb_url)
    insp = sa.inspect(engine)
    keys = {tuple(fk["constrained_columns"]): fk["name"] for fk in insp.get_foreign_keys("child")}
    indexes = {ix["name"]: tuple(ix["column_names"]) for ix in insp.get_indexes("child")}
    engine.dispose()
    uniques = sa.inspect(sa.create_engine(mariadb_url)).get_unique_constraints("parent")
    assert [u["column_names"] for u in uniques] == [["code"]]  # SQLite's column UNIQUE
    pid_key = keys[("pid",)]
    assert indexes == {pid_key: ("pid",), "ix_child_code_note": ("code", "note")}
    made = [sql.replace("`", "") for sql in built["child"]]
    assert f"CREATE INDEX {pid_key} ON child (pid)" in made
    assert not any(keys[("code",)] in sql for sql in made)


def test_a_column_level_unique_of_sqlite_is_reflected(tmp_path: Path) -> None:
    """``code VARCHAR(8) UNIQUE`` (SQLite keeps it as an automatic index; SQLAlchemy's
    reflection misses a column UNIQUE after a type with parentheses) is a unique
    constraint of the table, as is ``UNIQUE (a, b)``, each once; a key's own index is
    none; a named unique index on the same columns keeps its name."""
    import sqlite3

    from handover.db.reflect import Catalog

    db = tmp_path / "u.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE t (k TEXT PRIMARY KEY, code VARCHAR(8) UNIQUE, a INT, b INT, UNIQUE (a, b));"
        "CREATE TABLE n (id INTEGER PRIMARY KEY, code VARCHAR(8) UNIQUE);"
        "CREATE UNIQUE INDEX ux_code ON n (code);"
    )
    conn.close()
    engine = sa.create_engine(f"sqlite:///{db}")
    table, named = Catalog(engine).table("t"), Catalog(engine).table("n")
    engine.dispose()
    assert sorted(ix.columns for ix in table.uniques) == [("a", "b"), ("code",)]
    # a named unique index on the same columns is the one kept, with its name
    assert [(ix.name, ix.columns) for ix in named.uniques] == [("ux_code", ("code",))]


def test_resume_adds_a_key_whose_index_was_built_before_the_stop(
    ws: Path, tmp_path: Path, mariadb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into MariaDB a key's index is built before the key under the key's name: a run
    stopped between the two must still get the key from ``--resume`` (it once saw the
    index's name and took the key for added; found by review)."""
    import sqlite3

    from handover.migrate.migrate import CopyJob

    src = tmp_path / "fk.db"
    conn = sqlite3.connect(src)
    conn.executescript(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
        "CREATE TABLE child (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES parent(id));"
    )
    conn.executemany("INSERT INTO parent VALUES (?)", [(i,) for i in range(1, 11)])
    conn.executemany("INSERT INTO child VALUES (?, ?)", [(i, 1 + i % 10) for i in range(1, 51)])
    conn.commit()
    conn.close()

    def stop(self: Any, table: str, fk: Any) -> str:
        raise KeyboardInterrupt  # the operator's Ctrl-C once the indexes are built

    with monkeypatch.context() as m:
        m.setattr(CopyJob, "_add_foreign_key_sql", stop)
        res = _cli(ws, "migrate", str(src), mariadb_url, *BASE)
    assert res.exit_code == 130, res.output
    engine = sa.create_engine(mariadb_url)
    try:
        assert sa.inspect(engine).get_foreign_keys("child") == []
        assert [ix["column_names"] for ix in sa.inspect(engine).get_indexes("child")] == [["pid"]]
    finally:
        engine.dispose()
    res = _cli(ws, "migrate", "--resume", str(src), mariadb_url, "--progress", "none")
    assert res.exit_code == 0, res.output
    engine = sa.create_engine(mariadb_url)
    try:
        keys = sa.inspect(engine).get_foreign_keys("child")
        indexes = sa.inspect(engine).get_indexes("child")
    finally:
        engine.dispose()
    assert [k["constrained_columns"] for k in keys] == [["pid"]]
    assert [ix["column_names"] for ix in indexes] == [["pid"]]  # built once
