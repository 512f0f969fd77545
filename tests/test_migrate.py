"""``handover migrate`` between SQLite, PostgreSQL and MariaDB on the machine's servers.

Every copy is checked by an independent comparison (SQLAlchemy reads of both sides,
ordered by primary key, normalised values), and the target's schema is inspected for
types, unique constraints, indexes and foreign keys.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from handover.cli.main import app
from migrate_data import TABLES, assert_same, build

runner = CliRunner()


def _cli(ws: Any, *args: str) -> Any:
    return runner.invoke(app, ["--workspace", str(ws.path), "--lang", "en", "migrate", *args])


def _sqlite_source(tmp_path: Path, customers: int = 300) -> tuple[Path, dict[str, int]]:
    db = tmp_path / "seller.db"
    counts = build(f"sqlite:///{db}", customers=customers)
    return db, counts


def _check_schema(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        names = set(insp.get_table_names())
        assert set(TABLES) <= names
        assert not any(n.startswith("_handover_migrate") for n in names), names
        cols = {c["name"]: c["type"] for c in insp.get_columns("customer")}
        income = cols["income"]
        assert isinstance(income, sa.Numeric) and not isinstance(income, sa.Float)
        assert (income.precision, income.scale) == (14, 2)
        rate = {c["name"]: c["type"] for c in insp.get_columns("loan")}["rate"]
        assert (rate.precision, rate.scale) == (7, 4)
        assert isinstance(cols["born"], sa.Date)
        assert isinstance(cols["created"], sa.DateTime)
        assert isinstance(cols["photo"], sa.LargeBinary | sa.types._Binary)
        fks = {
            (tuple(f["constrained_columns"]), f["referred_table"])
            for f in insp.get_foreign_keys("repayment")
        }
        assert ((("loan_id",), "loan")) in fks
        fk_c = {
            (tuple(f["constrained_columns"]), f["referred_table"])
            for f in insp.get_foreign_keys("customer")
        }
        assert (("branch_code",), "branch") in fk_c
        ix = {tuple(i["column_names"]) for i in insp.get_indexes("customer")}
        assert ("branch_code",) in ix and ("born",) in ix
        uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("customer")}
        uniques |= {tuple(i["column_names"]) for i in insp.get_indexes("customer") if i["unique"]}
        assert ("id_no",) in uniques
        pk = insp.get_pk_constraint("repayment")["constrained_columns"]
        assert pk == ["loan_id", "period"]
    finally:
        engine.dispose()


def _run_ok(ws: Any, source: str, target: str, *extra: str) -> dict[str, Any]:
    res = _cli(
        ws,
        source,
        target,
        "--no-backup",
        "--reason",
        "test",
        "--batch-size",
        "97",
        "--json",
        *extra,
    )
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.stdout))


def test_sqlite_to_postgresql(workspace: Any, tmp_path: Path, pg_url: str) -> None:
    db, counts = _sqlite_source(tmp_path)
    out = _run_ok(workspace, str(db), pg_url)
    assert out["rows"] == sum(counts.values()) and out["rejects"] == 0
    assert {t["table"]: t["rows"] for t in out["tables"]} == counts
    assert_same(f"sqlite:///{db}", pg_url, TABLES)
    _check_schema(pg_url)
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        # the SQLite "text(18)" column became TEXT; Chinese text and blobs survived
        typ = conn.execute(
            sa.text(
                "SELECT data_type FROM information_schema.columns WHERE table_name='customer' AND column_name='tag'"
            )
        ).scalar()
        assert typ == "text"
        assert (
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM customer WHERE name ~ '^[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗]'"
                )
            ).scalar()
            == counts["customer"]
        )
        assert (
            conn.execute(sa.text("SELECT count(*) FROM customer WHERE photo IS NOT NULL")).scalar()
            > 0
        )
    engine.dispose()
    # the run and the per-table checkpoints are in the platform store
    from handover.migrate.models import MigrateCheckpoint, MigrateRun

    with workspace.store.session() as s:
        run = s.get(MigrateRun, out["run_id"])
        assert run is not None and run.status == "done" and "password" not in run.target
        cps = s.scalars(
            sa.select(MigrateCheckpoint).where(MigrateCheckpoint.run_id == run.id)
        ).all()
        assert {c.table_name: c.rows_copied for c in cps} == counts
        assert all(c.status == "done" for c in cps)
    from handover.ledger import entries

    actions = [e.action for e in entries(workspace, action="migrate")]
    assert actions[0] == "migrate.start" and actions[-1] == "migrate.done"
    assert actions.count("migrate.table") == len(TABLES)


def test_sqlite_to_mariadb(workspace: Any, tmp_path: Path, mariadb_url: str) -> None:
    db, counts = _sqlite_source(tmp_path)
    out = _run_ok(workspace, str(db), mariadb_url)
    assert out["rows"] == sum(counts.values())
    assert_same(f"sqlite:///{db}", mariadb_url, TABLES)
    _check_schema(mariadb_url)
    engine = sa.create_engine(mariadb_url)
    with engine.connect() as conn:
        note = conn.execute(
            sa.text(
                "SELECT column_type FROM information_schema.columns WHERE table_schema=DATABASE() AND table_name='customer' AND column_name='note'"
            )
        ).scalar()
        assert note == "longtext"
    engine.dispose()


def test_mariadb_to_postgresql(workspace: Any, mariadb_url: str, pg_url: str) -> None:
    counts = build(mariadb_url, customers=250)
    out = _run_ok(workspace, mariadb_url, pg_url)
    assert out["rows"] == sum(counts.values())
    assert_same(mariadb_url, pg_url, TABLES)
    _check_schema(pg_url)


def test_postgresql_to_sqlite(workspace: Any, tmp_path: Path, pg_url: str) -> None:
    counts = build(pg_url, customers=250)
    target = tmp_path / "buyer.db"
    out = _run_ok(workspace, pg_url, str(target))
    assert out["rows"] == sum(counts.values())
    assert_same(pg_url, f"sqlite:///{target}", TABLES)
    _check_schema(f"sqlite:///{target}")


def test_table_without_key_from_postgresql(workspace: Any, tmp_path: Path, pg_url: str) -> None:
    """A table with no usable key is read in one statement (a server-side cursor, several
    batches) and copied whole."""
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE audit (at timestamp, who text, raw bytea)")
        conn.exec_driver_sql(
            "INSERT INTO audit SELECT timestamp '2024-01-01' + g * interval '1 minute', "
            "'用户' || g, CASE WHEN mod(g, 3) = 0 THEN NULL ELSE decode('00fffe', 'hex') END "
            "FROM generate_series(1, 500) g"
        )
    engine.dispose()
    target = tmp_path / "buyer.db"
    out = _run_ok(workspace, pg_url, str(target))
    assert out["rows"] == 500 and out["rejects"] == 0
    rows = {}
    for url in (pg_url, f"sqlite:///{target}"):
        eng = sa.create_engine(url)
        with eng.connect() as conn:
            got = conn.exec_driver_sql("SELECT at, who, raw FROM audit").all()
        eng.dispose()
        rows[url] = sorted(
            (str(r[0])[:19], r[1], None if r[2] is None else bytes(r[2])) for r in got
        )
    assert rows[pg_url] == rows[f"sqlite:///{target}"]
    assert rows[pg_url][1][2] == b"\x00\xff\xfe"


def test_type_mapping_per_engine() -> None:
    from handover.db.reflect import ColumnDef, neutral_column
    from handover.migrate.schema import target_type_name

    sqlite_money = neutral_column(
        "t", {"name": "m", "type": sa.DECIMAL(14, 2), "nullable": True}, "sqlite"
    )
    assert target_type_name(sqlite_money, "postgresql") == "NUMERIC(14, 2)"
    assert target_type_name(sqlite_money, "mysql") == "NUMERIC(14, 2)"
    text18 = neutral_column("t", {"name": "x", "type": sa.TEXT(18), "nullable": True}, "sqlite")
    assert target_type_name(text18, "postgresql") == "TEXT"
    assert target_type_name(text18, "mysql") == "LONGTEXT"
    varchar = neutral_column(
        "t", {"name": "v", "type": sa.VARCHAR(), "nullable": True}, "postgresql"
    )
    assert target_type_name(varchar, "postgresql") == "TEXT"
    real = neutral_column("t", {"name": "r", "type": sa.REAL(), "nullable": True}, "sqlite")
    assert target_type_name(real, "postgresql") == "DOUBLE PRECISION"  # SQLite REAL is 8 bytes
    ts = ColumnDef("c", "timestamp")
    assert target_type_name(ts, "mysql") == "DATETIME(6)"
    blob = ColumnDef("b", "binary")
    assert target_type_name(blob, "postgresql") == "BYTEA"
    assert target_type_name(blob, "mysql") == "LONGBLOB"


def test_no_backup_needs_reason(workspace: Any, tmp_path: Path) -> None:
    db, _ = _sqlite_source(tmp_path, customers=5)
    target = tmp_path / "buyer.db"
    res = _cli(workspace, str(db), str(target), "--no-backup")
    assert res.exit_code == 3 and "--reason" in res.output
    assert not target.exists()


def test_unreachable_target_exit_2_nothing_created(workspace: Any, tmp_path: Path) -> None:
    db, _ = _sqlite_source(tmp_path, customers=5)
    res = _cli(
        workspace, str(db), "postgresql://nobody@127.0.0.1:1/none", "--no-backup", "--reason", "t"
    )
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1 and "unreachable" in res.output
    from handover.migrate.models import MigrateRun

    with workspace.store.session() as s:
        assert s.scalars(sa.select(MigrateRun)).all() == []


def test_target_with_tables_is_refused(workspace: Any, tmp_path: Path) -> None:
    db, _ = _sqlite_source(tmp_path, customers=5)
    target = tmp_path / "buyer.db"
    build(f"sqlite:///{target}", customers=1)
    res = _cli(workspace, str(db), str(target), "--no-backup", "--reason", "t")
    assert res.exit_code == 2 and "already has table" in res.output


def _dirty_source(tmp_path: Path) -> Path:
    """A SQLite file with rows no strict engine accepts: a value too long, a bad date."""
    db = tmp_path / "dirty.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE person (id INTEGER PRIMARY KEY, name VARCHAR(4), born DATE, income DECIMAL(10,2))"
        )
        rows = [(i, f"张{i % 10}", f"1990-01-{1 + i % 28:02d}", f"{i}.5") for i in range(1, 401)]
        rows[123] = (124, "欧阳娜娜张伟", "1990-01-01", "1.25")  # 6 characters > VARCHAR(4)
        rows[250] = (251, "李四", "1990-02-30", "2.00")  # no such date
        rows[300] = (301, "王五", "1990-03-01", "3.125")  # more places than DECIMAL(10,2)
        conn.exec_driver_sql("INSERT INTO person VALUES (?, ?, ?, ?)", rows[0])
        for r in rows[1:]:
            conn.exec_driver_sql("INSERT INTO person VALUES (?, ?, ?, ?)", r)
    engine.dispose()
    return db


def test_rejects_go_to_file_and_fail_the_run(
    workspace: Any, tmp_path: Path, mariadb_url: str
) -> None:
    db = _dirty_source(tmp_path)
    res = _cli(
        workspace, str(db), mariadb_url, "--no-backup", "--reason", "t", "--batch-size", "64"
    )
    assert res.exit_code == 1, res.output
    assert "3 rows refused" in res.output
    files = list((workspace.path / "reports").glob("migrate-*-rejects.jsonl"))
    assert len(files) == 1
    lines = [json.loads(x) for x in files[0].read_text(encoding="utf-8").splitlines()]
    assert {(x["key"], x["column"], x["stage"]) for x in lines} == {
        ("124", "name", "write"),
        ("251", "born", "read"),
        ("301", "income", "read"),
    }
    text = files[0].read_text(encoding="utf-8")
    for clear in ("欧阳娜娜张伟", "1990-02-30", "3.125"):
        assert clear not in text
    engine = sa.create_engine(mariadb_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM person")).scalar() == 397
        assert conn.execute(sa.text("SELECT income FROM person WHERE id = 2")).scalar() == Decimal(
            "2.50"
        )
    engine.dispose()


def test_allow_rejects_lets_the_run_succeed(workspace: Any, tmp_path: Path, pg_url: str) -> None:
    db = _dirty_source(tmp_path)
    res = _cli(
        workspace, str(db), pg_url, "--no-backup", "--reason", "t", "--allow-rejects", "3", "--json"
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["rejects"] == 3 and out["rows"] == 397 and out["reject_file"]


def test_resume_without_a_run(workspace: Any) -> None:
    res = _cli(workspace, "--resume")
    assert res.exit_code == 2 and "no unfinished" in res.output


def test_backup_first_then_migrate_from_the_package(workspace: Any, tmp_path: Path) -> None:
    """Without --no-backup a sealed backup is taken first; that package is itself a source."""
    db, counts = _sqlite_source(tmp_path, customers=40)
    # The backup (seal, and the scan inside it) must carry blobs that are not UTF-8.
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE customer SET photo = x'00fffe' WHERE id = 1")
        blobs = conn.exec_driver_sql("SELECT count(*) FROM customer WHERE photo IS NOT NULL")
        assert int(blobs.scalar() or 0) > 1
    engine.dispose()
    first = tmp_path / "buyer.db"
    res = _cli(workspace, str(db), str(first), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    package = Path(out["backup"]["package"])
    assert package.is_dir() and package.name == f"backup-{out['run_id']}"
    assert_same(f"sqlite:///{db}", f"sqlite:///{first}", TABLES)
    second = tmp_path / "from-package.db"
    res = _cli(workspace, str(package), str(second), "--json", "--batch-size", "50")
    assert res.exit_code == 0, res.output
    out2 = json.loads(res.stdout)
    assert out2["backup"] is None and out2["rows"] == sum(counts.values())
    assert_same(f"sqlite:///{db}", f"sqlite:///{second}", TABLES)
