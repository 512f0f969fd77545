"""Test data for ``handover migrate``: a small loan book with every type that matters, and
an independent comparison of two databases (SQLAlchemy reads, ordered by primary key).

The builder writes with SQLAlchemy Core into any engine (SQLite file, PostgreSQL,
MariaDB), so the same rows exist whatever the source engine is.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def schema(meta: sa.MetaData, *, sqlite: bool) -> dict[str, sa.Table]:
    """The test loan book: branches → customers → loans → repayments (composite key)."""
    note18: Any = sa.Text(18) if sqlite else sa.Text()  # SQLite "text(18)" (pgloader bug)
    branch = sa.Table(
        "branch",
        meta,
        sa.Column("code", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("opened", sa.Date),
    )
    customer = sa.Table(
        "customer",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("id_no", sa.String(18), nullable=False, unique=True),
        sa.Column("income", sa.Numeric(14, 2)),
        sa.Column("born", sa.Date),
        sa.Column("created", sa.DateTime),
        sa.Column("active", sa.Boolean),
        sa.Column("score", sa.Float(53)),
        sa.Column("photo", sa.LargeBinary),
        sa.Column("note", sa.Text),
        sa.Column("tag", note18),
        sa.Column("branch_code", sa.String(8), sa.ForeignKey("branch.code")),
        sa.Index("ix_customer_branch", "branch_code"),
        sa.Index("ix_customer_born", "born"),
    )
    loan = sa.Table(
        "loan",
        meta,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("rate", sa.Numeric(7, 4)),
        sa.Column("start", sa.Date, nullable=False),
    )
    repayment = sa.Table(
        "repayment",
        meta,
        sa.Column("loan_id", sa.BigInteger, sa.ForeignKey("loan.id"), primary_key=True),
        sa.Column("period", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("principal", sa.Numeric(14, 2), nullable=False),
        sa.Column("paid_at", sa.DateTime),
    )
    return {"branch": branch, "customer": customer, "loan": loan, "repayment": repayment}


def build(url: str, customers: int = 300, seed: int = 7) -> dict[str, int]:
    """Create and fill the test loan book at ``url``; returns rows per table."""
    rnd = random.Random(seed)
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    tables = schema(meta, sqlite=engine.dialect.name == "sqlite")
    meta.create_all(engine)
    branches = [
        {"code": f"B{i:03d}", "name": f"杭州第{i}支行", "opened": dt.date(2010, 1, 1 + i)}
        for i in range(12)
    ]
    custs, loans, reps = [], [], []
    loan_id = 10_000_000_000
    for cid in range(1, customers + 1):
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(["", *GIVEN])
        custs.append(
            {
                "id": cid,
                "name": name,
                "id_no": f"33010{cid:013d}",
                "income": None if cid % 17 == 0 else Decimal(rnd.randint(0, 10**8)) / 100,
                "born": None
                if cid % 23 == 0
                else dt.date(1960, 1, 1) + dt.timedelta(rnd.randint(0, 15000)),
                "created": dt.datetime(2020, 1, 1)
                + dt.timedelta(seconds=rnd.randint(0, 10**8), microseconds=rnd.randint(0, 999999)),
                "active": None if cid % 29 == 0 else cid % 3 != 0,
                "score": rnd.random() * 1000 if cid % 5 else None,
                "photo": None
                if cid % 7
                else bytes(rnd.randint(0, 255) for _ in range(rnd.randint(0, 64))) + b"\x00",
                "note": None
                if cid % 11 == 0
                else ("客户备注:" + name + ",按时还款。" + "说明" * rnd.randint(0, 400)),
                "tag": rnd.choice(["优质", "一般", "关注", "", None]),
                "branch_code": None if cid % 31 == 0 else branches[cid % 12]["code"],
            }
        )
        for _ in range(rnd.randint(0, 3)):
            loan_id += 1
            start = dt.date(2021, 1, 1) + dt.timedelta(rnd.randint(0, 900))
            loans.append(
                {
                    "id": loan_id,
                    "customer_id": cid,
                    "amount": Decimal(rnd.randint(100_000, 50_000_000)) / 100,
                    "rate": None
                    if loan_id % 13 == 0
                    else Decimal(rnd.randint(100, 240_000)) / 10_000,
                    "start": start,
                }
            )
            for p in range(1, rnd.randint(2, 12)):
                reps.append(
                    {
                        "loan_id": loan_id,
                        "period": p,
                        "due": start + dt.timedelta(days=30 * p),
                        "principal": Decimal(rnd.randint(1, 10**7)) / 100,
                        "paid_at": None
                        if p % 4 == 0
                        else dt.datetime(2022, 1, 1, 8, 30)
                        + dt.timedelta(minutes=rnd.randint(0, 10**6)),
                    }
                )
    with engine.begin() as conn:
        for name, rows in (
            ("branch", branches),
            ("customer", custs),
            ("loan", loans),
            ("repayment", reps),
        ):
            if rows:
                conn.execute(sa.insert(tables[name]), rows)
    engine.dispose()
    return {
        "branch": len(branches),
        "customer": len(custs),
        "loan": len(loans),
        "repayment": len(reps),
    }


def _norm(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, memoryview | bytearray):
        return bytes(v)
    if isinstance(v, Decimal):
        return v.normalize()
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC).replace(tzinfo=None)
    return v


def dump(url: str, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table`` ordered by its primary key, values normalised."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        tbl = sa.Table(table, meta, autoload_with=engine)
        for col in tbl.columns:
            if isinstance(col.type, sa.Float):
                col.type.asdecimal = False  # MySQL DOUBLE reflects as a 10-place Decimal
        order = list(tbl.primary_key.columns)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(tbl).order_by(*order)).all()
        names = [c.name for c in tbl.columns]
        return [tuple(_norm(r._mapping[n]) for n in sorted(names)) for r in rows]
    finally:
        engine.dispose()


def assert_same(src_url: str, dst_url: str, tables: list[str]) -> None:
    """Row-for-row equality of ``tables`` in both databases (no row lost, none duplicated)."""
    for name in tables:
        a, b = dump(src_url, name), dump(dst_url, name)
        assert len(a) == len(b), f"{name}: {len(a)} source rows, {len(b)} target rows"
        for ra, rb in zip(a, b, strict=True):
            assert ra == rb, f"{name}: first difference at key {ra[:2]}"


TABLES = ["branch", "customer", "loan", "repayment"]


def _cli_child(argv: list[str], out: str) -> None:
    import sys

    import handover.cli.main

    # pytest's capture replaced sys.stdout/err in the parent: give the child real files.
    sys.stdout = open(out, "w", encoding="utf-8")  # noqa: SIM115
    sys.stderr = open(out + ".err", "w", encoding="utf-8")  # noqa: SIM115
    sys.argv = ["handover", *argv]
    handover.cli.main.main()


def start_cli(argv: list[str], out: Any) -> Any:
    """``handover ARGV`` in a forked child (modules already imported: no interpreter
    start-up), its stdout in ``out`` and stderr in ``out``.err; the started process."""
    import multiprocessing

    proc = multiprocessing.get_context("fork").Process(target=_cli_child, args=(argv, str(out)))
    proc.start()
    return proc


# --- the hardening tests' CLI runs (test_refuse_migrate, test_refuse_targets) -------------

#: a migration without backup, as the hardening tests run it
BASE = ["--no-backup", "--reason", "hardening test", "--progress", "none"]


def demo_ws(factory: Any, tag: str) -> Any:
    """A demo workspace for a test module (its folder named ``tag``)."""
    from handover.flows.workspace import init_workspace

    path = factory.mktemp(tag) / "ws"
    init_workspace(path, demo=True).close()
    return path


def run_cli(ws: Any, *args: str) -> Any:
    """``handover -w ws --lang en ARGS`` through the real CLI."""
    from typer.testing import CliRunner

    from handover.cli.main import app

    return CliRunner().invoke(app, ["-w", str(ws), "--lang", "en", *args])


def table_names(url: str) -> set[str]:
    """The table names at ``url``."""
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def spoil_last_customer(path: Any) -> int:
    """The last customer's note made text that is not UTF-8 in the SQLite file ``path``:
    a copy of ``customer`` fails after its first batches. Its id (:func:`mend_customer`)."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        (last,) = con.execute("SELECT max(id) FROM customer").fetchone()
        con.execute("UPDATE customer SET note = CAST(X'FF41' AS TEXT) WHERE id = ?", (last,))
        con.commit()
    finally:
        con.close()
    return int(last)


def mend_customer(path: Any, customer: int) -> None:
    """The note spoilt by :func:`spoil_last_customer` repaired."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute("UPDATE customer SET note = 'fixed' WHERE id = ?", (customer,))
        con.commit()
    finally:
        con.close()


def primary_key(url: str, table: str) -> list[str]:
    """The primary key columns of ``table`` at ``url`` (empty: none)."""
    engine = sa.create_engine(url)
    try:
        return list(sa.inspect(engine).get_pk_constraint(table)["constrained_columns"])
    finally:
        engine.dispose()
