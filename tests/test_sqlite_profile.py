"""The date/time spelling profile computed from Arrow columns gives the row the profile
query gives, batch by batch, for every mix of spellings, NULLs and misfits; where a
column holds blobs the query runs."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.test_sqlite_arrow import backend  # noqa: F401  (both readers, every test)

from handover.db.adbc import ArrowReader
from handover.db.dialects import sqlite as lite
from handover.db.reflect import reflect

GOOD = {
    "d": ["2024-01-31", "1999-12-01"],
    "ts": [
        "2024-01-31 12:00:00",
        "2024-01-31T12:00:00",
        "2024-01-31 12:00:00.5",
        "2024-01-31 12:00:00.120",
        "2024-01-31 12:00:00.123456",
        "2024-01-31 12:00:00.100000",
    ],
    "tm": ["12:00:00", "23:59:59.250", "01:02:03.000001"],
}
ODD = [
    "2024-1-31",
    "２０２４-01-31",
    "2024-01-31 12:00:00.1234567",
    "2024-01-31 12:00:00.",
    "2024-01-31 12:00",
    "24:00:00x",
    "",
    20240131,
    -5,
    1.5,
    b"2024-01-31",
    "2024-01-31\x00 trailing",  # SQLite's length() and GLOB stop at the NUL
]


def _book(path: Path, seed: int) -> list[str]:
    """Tables whose temporal columns mix spellings (and, in some, misfits) per seed."""
    rnd = random.Random(seed)
    con = sqlite3.connect(path)
    names = []
    for n in range(12):
        name = f"t{n}"
        names.append(name)
        con.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, d DATE, ts TIMESTAMP, tm TIME)")
        pick = {k: rnd.sample(v, rnd.randint(1, len(v))) for k, v in GOOD.items()}
        rows = []
        for i in range(rnd.choice([0, 1, 250, 700])):
            row: list[Any] = [i]
            for k in ("d", "ts", "tm"):
                v: Any = rnd.choice(pick[k]) if rnd.random() > 0.1 else None
                if n % 3 == 0 and rnd.random() < 0.01:
                    v = rnd.choice(ODD)
                row.append(v)
            rows.append(row)
        con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?)", rows)
    for n, odd in enumerate(ODD):  # each odd value alone among good ones, in every column
        name = f"odd{n}"
        names.append(name)
        con.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, d DATE, ts TIMESTAMP, tm TIME)")
        rows = [[i, GOOD["d"][0], GOOD["ts"][2], GOOD["tm"][1]] for i in range(300)]
        rows[rnd.randrange(300)][1:] = [odd, odd, odd]
        con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return names


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_arrow_profile_gives_the_query_row(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lite, "PROFILE_BATCH", 100)  # several batches per table
    db = tmp_path / "dates.db"
    names = _book(db, seed)
    engine = sa.create_engine(f"sqlite:///{db}")
    arrow = ArrowReader.open(db)
    assert arrow is not None
    used = 0
    try:
        defs = {d.name: d for d in reflect(engine, names, spellings=False)}
        with engine.connect() as conn:
            for name in names:
                d = defs[name]
                query = list(conn.exec_driver_sql(str(lite._profile_query(d))).one())
                got = lite._arrow_profile(arrow, d)
                if got is None:
                    continue
                used += 1
                for i, c in enumerate(c for c in d.columns if c.kind in lite.TEMPORAL):
                    a, b = query[5 * i : 5 * i + 5], got[5 * i : 5 * i + 5]
                    assert lite._decide(c.kind, a) == lite._decide(c.kind, b), (name, c.name)
                    # the misfits, the T separators and the values: always the query's
                    assert a[:2] == b[:2], (name, c.name)
                    if int(a[0] or 0) < lite._MISFIT:  # no misfit: every figure is the query's
                        assert a == b, (name, c.name)
    finally:
        arrow.close()
        engine.dispose()
    assert used >= 8 + len(ODD) - 2  # all but the blob's and the NUL's went as Arrow


def test_a_blob_among_dates_leaves_the_profile_to_the_query(tmp_path: Path) -> None:
    db = tmp_path / "blob.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, d DATE)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "2024-01-01"), (2, b"2024-01-02")])
    con.commit()
    con.close()
    engine = sa.create_engine(f"sqlite:///{db}")
    arrow = ArrowReader.open(db)
    assert arrow is not None
    try:
        (d,) = reflect(engine, ["t"], spellings=False)
        assert lite._arrow_profile(arrow, d) is None
        (spelt,) = reflect(engine, ["t"])  # the whole path: the query decides
        assert spelt.column("d").spelling is None
    finally:
        arrow.close()
        engine.dispose()


@contextmanager
def _opened(db: Path) -> Iterator[tuple[sa.Engine, ArrowReader]]:
    engine = sa.create_engine(f"sqlite:///{db}")
    arrow = ArrowReader.open(db)
    assert arrow is not None
    try:
        yield engine, arrow
    finally:
        arrow.close()
        engine.dispose()


def _one_table(db: Path, columns: str, rows: list[Any], options: str = "") -> Path:
    """``db`` holding table ``t`` (``columns``, then ``options``) with ``rows``."""
    con = sqlite3.connect(db)
    con.execute(f"CREATE TABLE t ({columns}) {options}")
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(rows[0]))})", rows)
    con.commit()
    con.close()
    return db


def _same_as_query(db: Path, name: str) -> list[Any] | None:
    with _opened(db) as (engine, arrow):
        (d,) = reflect(engine, [name], spellings=False)
        with engine.connect() as conn:
            query = list(conn.exec_driver_sql(str(lite._profile_query(d))).one())
        got = lite._arrow_profile(arrow, d)
        if got is None:
            # the C reader refuses a page the driver would convert (a REAL or a BLOB
            # among text): the query decides, as for any page the driver refuses
            assert arrow.native
            return query
        for i, c in enumerate(c for c in d.columns if c.kind in lite.TEMPORAL):
            a, b = query[5 * i : 5 * i + 5], got[5 * i : 5 * i + 5]
            assert lite._decide(c.kind, a) == lite._decide(c.kind, b)
            # with a misfit the lengths are the driver's text's: they decide nothing
            assert a == b if int(a[0] or 0) < lite._MISFIT else a[:2] == b[:2]
        return got


def test_every_row_is_profiled_whatever_the_rowids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages end at the rowid the table's tree gives: the extreme rowids, gaps and
    negative ones are all read, once (the value counts are the query's)."""
    monkeypatch.setattr(lite, "PROFILE_BATCH", 100)
    ids = [-(1 << 63), -5, 0, 7, 10**12, (1 << 63) - 1, *range(1000, 1300)]
    rows = [(i, "2024-01-31", f"2024-01-31 12:00:0{k % 10}") for k, i in enumerate(ids)]
    db = _one_table(tmp_path / "ids.db", "id INTEGER PRIMARY KEY, d DATE, ts TIMESTAMP", rows)
    got = _same_as_query(db, "t")
    assert got is not None and got[1] == got[6] == len(ids)


@pytest.mark.parametrize("odd", [20240131, 1.5, -5])
def test_a_number_among_dates_in_a_later_page_is_a_misfit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: Any
) -> None:
    """A page read alone shows a number among text as its text, which no shape matches:
    the misfit the query counts by ``typeof``, wherever the page."""
    monkeypatch.setattr(lite, "PROFILE_BATCH", 100)
    rows: list[list[Any]] = [[i, "2024-01-31"] for i in range(300)]
    rows[250][1] = odd
    db = _one_table(tmp_path / "num.db", "id INTEGER PRIMARY KEY, d DATE", rows)
    got = _same_as_query(db, "t")
    assert got is not None and got[0] >= lite._MISFIT


def test_a_table_without_rowid_is_profiled_with_each_values_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No rowid, no pages of its own: one statement, and a BLOB the driver turns into
    text in a later batch is still a misfit (its ``typeof`` is read beside it)."""
    monkeypatch.setattr(lite, "PROFILE_BATCH", 100)
    rows: list[list[Any]] = [[i, "2024-01-31"] for i in range(300)]
    rows[250][1] = b"2024-01-31"
    db = _one_table(
        tmp_path / "norowid.db", "id INTEGER PRIMARY KEY, d DATE", rows, "WITHOUT ROWID"
    )
    with _opened(db) as (engine, arrow):
        (d,) = reflect(engine, ["t"], spellings=False)
        assert lite._own_pages(arrow, d, ['"d"']) is None
    got = _same_as_query(db, "t")
    assert got is not None and got[0] >= lite._MISFIT


def test_a_column_of_empty_texts_and_nulls_is_profiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages whose text is all empty (no bytes at all) or NULL: misfits, as in the query."""
    monkeypatch.setattr(lite, "PROFILE_BATCH", 100)
    rows = [(i, "" if i % 3 else None, None) for i in range(250)]
    db = _one_table(tmp_path / "empty.db", "id INTEGER PRIMARY KEY, d DATE, ts TIMESTAMP", rows)
    got = _same_as_query(db, "t")
    assert got is not None and got[0] >= lite._MISFIT and got[5] == 0


@pytest.mark.parametrize(
    "columns",
    ["rowid INTEGER, d DATE", "rowid TEXT, _rowid_ INTEGER, oid REAL, d DATE"],
)
def test_a_column_named_rowid_does_not_page_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    """A column named rowid hides the real one: the pages go by an alias no column takes
    (or, all three taken, by one statement with typeof), so a row whose column is NULL
    or text is still read — here the one misfit."""
    monkeypatch.setattr(lite, "PROFILE_BATCH", 2)
    n = columns.count(",")
    rows = [(*([None] * n), "31/01/2024")] + [(*([k] * n), "2024-01-31") for k in range(1, 6)]
    rows += [(*(["2024-01-31"] * n), "2024-01-31")]
    db = _one_table(tmp_path / "shadow.db", columns, rows)
    got = _same_as_query(db, "t")
    assert got is not None and got[0] >= lite._MISFIT and got[1] == len(rows)
