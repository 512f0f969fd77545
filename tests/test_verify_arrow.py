"""SQLite digests over Arrow (handover.verify.arrow) against the digest statement they
replace: value by value for every kind and storage class, and segment by segment over
several driver batches. Where Arrow cannot be sure it must say so (None), never differ."""

from __future__ import annotations

import itertools
import math
import random
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import sqlalchemy as sa
from tests.test_sqlite_arrow import backend  # noqa: F401  (both readers, every test)

from handover.db import dialects
from handover.db.adbc import ArrowReader
from handover.verify import arrow as A
from handover.verify.normalize import SideType, row_hash60
from handover.verify.plan import connect, plan_table, reflect
from handover.verify.sql import ArrowDigest, select_sql
from handover.verify.verify import _arrow, _from, _segment_digests, _Sel
from test_verify_engines import STAMP_SPELLINGS, _doubles, run

KINDS = ["int", "decimal", "float", "text", "date", "timestamp", "time"]

STAMPS: list[Any] = [
    *STAMP_SPELLINGS,
    "",
    "还款时间 2024",
    None,
]
TEXTS: list[Any] = [
    "12.50",
    "1500.00",
    "0",
    "-0.0",
    "1e5",
    "1E5.0",
    "12",
    "1.2.30",
    "abc.00",
    "张三",
    " 6222 ",
    "",
    "x\u0301",
    None,
]


def _table(path: Path, values: list[Any]) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v)")  # no affinity: kept as given
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    con.commit()
    con.close()


def _sql_texts(path: Path, kind: str) -> list[Any]:
    """The digest statement's text of each value (the dialect's own expression)."""
    expr = dialects.get("sqlite").value_expr('"v"', kind, SideType(kind))
    con = sqlite3.connect(path)
    try:
        return [r[0] for r in con.execute(f"SELECT {expr} FROM t ORDER BY id")]
    finally:
        con.close()


def _arrow_column(path: Path, where: str = "", params: tuple[Any, ...] = ()) -> pa.Array | None:
    """The reader's column; None where it refuses the page (the C reader refuses what the
    driver would convert: a REAL or a BLOB among text, …); ADBC's driver answers every
    page here."""
    reader = ArrowReader.open(path)
    assert reader is not None
    try:
        page = reader.page(f"SELECT v FROM t{where} ORDER BY id", params)
        assert page is not None or reader.native
        return None if page is None else page.column(0).chunk(0)
    finally:
        reader.close()


_FILES = itertools.count()


def _flagged(path: Path, kind: str, row: int | None = None) -> bool:
    """Whether the select's flag column marks the rows (a date or time not stored as
    TEXT): then the whole statement is left to SQL, which digests() must say."""
    where = "" if row is None else f" WHERE id = {row}"
    sql = select_sql('"id"', ['"v"'], [kind], f" FROM t{where}")
    con = sqlite3.connect(path)
    try:
        odd = con.execute(f"SELECT max(ho__odd) FROM ({sql})").fetchone()[0]
    finally:
        con.close()
    if not odd:
        return False
    assert A._arrow_digests(str(path), _plan_of(sql, [kind])) is None
    return True


def _plan_of(
    sql: str, kinds: list[str], origin: int = 0, width: int = 1, cols: tuple[str, ...] = ("v",)
) -> ArrowDigest:
    """An ArrowDigest of ``sql`` (a select_sql of table t keyed by "id") in compact forms."""
    forms = tuple((True, None) for _k in kinds)
    lite = dialects.get("sqlite")
    values = [lite.value_expr(f'"{c}"', k, SideType(k)) for c, k in zip(cols, kinds, strict=True)]
    canonical = f'SELECT ("id" - {origin}) / {width}, {", ".join(values)} FROM t'
    return ArrowDigest(sql, tuple(kinds), origin, width, forms, canonical)


def _check(tmp_path: Path, values: list[Any], kind: str, *, sure: bool) -> bool:
    """Arrow's texts of ``values`` (one column) as ``kind`` equal the statement's;
    ``sure``: Arrow must render them (not answer None). True where it rendered."""
    path = tmp_path / f"{next(_FILES)}.db"
    _table(path, values)
    if _flagged(path, kind):
        return False
    column = _arrow_column(path)
    got = None if column is None else A.render(column, kind)
    if column is None or got is None:
        assert not sure, (kind, values[:5])
        return False
    want = _sql_texts(path, kind)
    assert got.to_pylist() == want
    for form in _forms(kind):
        digest = A.render(column, kind, form)
        assert digest is not None
        assert digest.to_pylist() == _digest_of(want, kind, form)
    return True


def _forms(kind: str) -> list[tuple[bool, int | None]]:
    """The server digest forms a column of ``kind`` may take (decimals: padded by
    Arrow itself up to three decimals, beyond that from the text)."""
    if kind in ("decimal", "float"):
        return [(True, None), (True, 1), (True, 2), (True, 4), (True, 6)]
    return [(True, None), (False, None)]


def _digest_of(canonical: list[Any], kind: str, form: tuple[bool, int | None]) -> list[Any]:
    """The digest texts of the statement's canonical texts (Arrow's rule, checked against
    normalize.pad_scale and the trimmed fraction in test_digest_texts_are_the_reference)."""
    return A.digest_values([pa.array(canonical, pa.string())], [kind], [form])[0].to_pylist()


def _check_each(tmp_path: Path, values: list[Any], kind: str) -> int:
    """:func:`_check` of each value alone (a column of one row); how many Arrow rendered."""
    path = tmp_path / f"{next(_FILES)}.db"
    _table(path, values)
    want = _sql_texts(path, kind)
    rendered = 0
    for i, text in enumerate(want):
        if _flagged(path, kind, i):
            continue
        column = _arrow_column(path, " WHERE id = ?", (i,))
        got = None if column is None else A.render(column, kind)
        if column is not None and got is not None:
            assert got.to_pylist() == [text], (kind, values[i])
            for form in _forms(kind):
                digest = A.render(column, kind, form)
                assert digest is not None
                assert digest.to_pylist() == _digest_of([text], kind, form), (kind, form, values[i])
            rendered += 1
    return rendered


def test_decimals_in_plain_range_render_as_sqlite_prints_them(tmp_path: Path) -> None:
    """printf('%.15g') of every double of at most 15 significant digits in
    10^-3..10^14 (and +0.0, and integers the driver widened among them)."""
    rng = random.Random(2026)
    values: list[Any] = [0.0, 1e-3, 1e14, -1e14, 0.001, 99999999999999.9, 12.3, 1500.0]
    for _ in range(4000):
        digits = rng.randint(1, 15)
        scale = rng.randint(0, 17)
        x = rng.randint(1, 10**digits - 1) / 10**scale * rng.choice((1, -1))
        if 1e-3 <= abs(x) <= 1e14:
            values.append(float(f"{x:.15g}"))
    values += [5, -7, 10**14, None]  # INTEGERs and a NULL among the REALs
    for kind in ("decimal", "float"):
        assert _check(tmp_path, values, kind, sure=True)


def test_every_double_renders_as_the_statement_or_not_at_all(tmp_path: Path) -> None:
    """The seeded doubles on both sides of every bound: each alone (one value per
    column), as int, decimal, float and text; the ones Arrow leaves alone are the ones
    outside its rules."""
    rng = random.Random(7)
    doubles = [*_doubles(rng)[:600], math.inf, -math.inf, 2.0**53, 2.0**53 + 2, -0.0]
    rendered = 0
    for kind in ("int", "decimal", "text"):
        rendered += _check_each(tmp_path, doubles, kind)
    assert rendered > 300


@pytest.mark.parametrize("kind", KINDS)
def test_texts_and_mixed_classes_render_as_the_statement_or_not_at_all(
    tmp_path: Path, kind: str
) -> None:
    """Text spellings, INTEGERs, REALs and BLOBs mixed in one column (the driver widens
    them to text or bytes) and each alone."""
    mixes: list[list[Any]] = [
        STAMPS,
        TEXTS,
        [*TEXTS, 5, -7],
        [*TEXTS, 1.5],
        [*TEXTS, 0.1 + 0.2],
        [*STAMPS, 20240102],
        [*STAMPS, b"2024-01-02 03:04:05"],
        ["a\x00b", "c"],
        [b"\x01\x02", "x"],
        [1, 2, 3, None],
        [2**62, -(2**63)],
    ]
    for mix in mixes:
        _check(tmp_path, mix, kind, sure=False)
    _check_each(tmp_path, [*STAMPS, *TEXTS, 5, 1.5, 2**62, b"abc"], kind)


def test_usual_columns_are_rendered_here(tmp_path: Path) -> None:
    """What a loan book holds is rendered by Arrow, not left to the statement."""
    assert _check(tmp_path, [*STAMPS[:8], None], "timestamp", sure=True)
    assert _check(tmp_path, ["2024-01-02 03:04:05", None], "timestamp", sure=True)
    assert _check(tmp_path, ["2024-01-02", "2024-01-02 03:04:05", None], "date", sure=True)
    plain = [v for v in TEXTS if v is None or "e" not in v.lower()]
    assert _check(tmp_path, plain, "text", sure=True)
    assert _check(tmp_path, [1, 2, -(2**63), None], "int", sure=True)
    assert _check(tmp_path, [1.0, 2.0, -5.0, 2.0**52], "int", sure=True)
    times = ["03:03:03.000000", "04:04:04.500", "05:05:05", "01:01:01.010+00", "12:00:00.", None]
    assert _check(tmp_path, times, "time", sure=True)


def test_a_hidden_storage_class_in_a_time_column_leaves_it_to_the_statement(
    tmp_path: Path,
) -> None:
    """A BLOB in a later batch of a text column reads as text: only the SQL flag tells."""
    path = tmp_path / "odd.db"
    values = ["2024-01-02 03:04:05"] * 10 + [b"2024-01-02 03:04:05"]
    _table(path, values)
    sql = select_sql('"id"', ['"v"'], ["timestamp"], " FROM t")
    plan = _plan_of(sql, ["timestamp"], 0, 4)
    assert A._arrow_digests(str(path), plan) is None
    assert A.digests(str(path), plan) == A._canonical_digests(str(path), plan)


def test_row_hashes_are_the_reference(tmp_path: Path) -> None:
    rows = pa.array(["", "1:a~", "张三" * 40, "x" * 1000])
    assert A.row_hashes60(rows).tolist() == [row_hash60(r) for r in rows.to_pylist()]


def _book(path: Path, n: int) -> None:
    rng = random.Random(11)
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE loans (id INTEGER PRIMARY KEY, cust BIGINT, amount DECIMAL(14,2), "
        "rate DECIMAL(6,4), name VARCHAR(20), born DATE, at TIMESTAMP, note TEXT)"
    )
    rows = []
    for i in range(n):
        rows.append(
            (
                i * 3 + 1,
                rng.randint(1, 10**12),
                rng.choice([round(rng.uniform(0, 1e6), 2), 1500, None, 0.0]),
                round(rng.uniform(0, 0.3), 4),
                rng.choice(["张三", "李四", "O'Brien", "x\u0301", ""]),
                f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                rng.choice(["2024-01-02 03:04:05", "2024-01-02T03:04:05.5", None]),
                rng.choice(["12.50", "n/a", None, "1.5"]),
            )
        )
    con.executemany("INSERT INTO loans VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()


def test_segment_digests_equal_sqlites_texts_over_many_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole pieces of a table, over many small driver batches and segments, in the
    digest forms a server pair takes: Arrow's rows are those built from SQLite's own
    canonical texts and those of the Python reference."""
    path = tmp_path / "book.db"
    _book(path, 5000)
    monkeypatch.setattr(A, "BATCH_ROWS", 337)
    url = f"sqlite:///{path}"
    engine = connect(url)
    try:
        meta = reflect(engine, url)
        plan = plan_table(
            "loans", engine, engine, meta["loans"], meta["loans"], (url, url), stored=False
        )
        side = plan.src
        assert side.kinds == [
            "int",
            "int",
            "decimal",
            "decimal",
            "text",
            "date",
            "timestamp",
            "text",
        ]
        mixed = [(True, None), (True, None), (True, 2), (True, 4), (False, None), (True, None)]
        for forms in ([*mixed, (True, None), (False, None)], [(False, None)] * 8):
            side.arrow_forms = forms
            for origin, width, piece in [
                (1, 7, None),
                (1, 1000, None),
                (1, 50, [(1, 400), (3000, 9000)]),
            ]:
                src, where = _from(side, piece)
                assert where == ""
                job = _arrow(side, src, origin, width)
                assert job is not None
                got = A._arrow_digests(str(path), job)
                assert got is not None
                assert got == sorted(A._canonical_digests(str(path), job))
                assert got == _reference(path, job)
                assert len(got) > 3
        # through verify's own path (a worker process): the segments of the rows it read
        with_arrow = _segment_digests(side, 1, 7, _Sel(1, 7, tuple(range(0, 2000, 3))))
        segments = [(i * 3) // 7 for i in range(5000)]
        assert sum(n for n, _h in with_arrow.values()) == sum(
            1 for b in segments if b % 3 == 0 and b < 2000
        )
    finally:
        engine.dispose()


def test_a_null_or_odd_key_is_left_to_sqlite(tmp_path: Path) -> None:
    """A key SQLite stores as NULL, TEXT or BLOB: Arrow leaves the piece to SQLite, and a
    NULL key is the one segment None, which the caller names (a TEXT, REAL or BLOB key
    never gets here: verify refuses the table first, see below)."""
    path = tmp_path / "oddkey.db"
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE t ("id" BIGINT PRIMARY KEY, "v" TEXT)')  # not a rowid
    rows = [(1, "a"), (None, "b"), ("x", "c"), (b"9", "d")]
    con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    con.commit()
    con.close()
    sql = select_sql('"id"', ['"id"', '"v"'], ["int", "text"], " FROM t")
    job = _plan_of(sql, ["int", "text"], cols=("id", "v"))
    assert A._arrow_digests(str(path), job) is None
    assert A.digests(str(path), job) == [(None, 1, "0")]


def test_kinds_arrow_does_not_render_keep_the_statement(tmp_path: Path) -> None:
    """A SQLite file against a server is digested over Arrow only with an integer key and
    kinds Arrow renders, and only for a file (an in-memory database has no path)."""
    from sqlalchemy import create_engine

    from handover.verify.plan import arrow_pair

    lite = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    memory = create_engine("sqlite://")
    sqls = (dialects.get("sqlite"), dialects.get("postgresql"))
    assert arrow_pair((lite, lite), sqls, ["int", "decimal", "text"], int_key=True)
    assert arrow_pair((lite, lite), sqls, ["int", "time", "text"], int_key=True)
    assert not arrow_pair((lite, lite), sqls, ["int", "bool"], int_key=True)
    assert not arrow_pair((lite, lite), sqls, ["int", "bytes"], int_key=True)
    assert not arrow_pair((lite, lite), sqls, ["text", "int"], int_key=False)
    assert not arrow_pair((memory, memory), sqls, ["int", "text"], int_key=True)
    both = (dialects.get("sqlite"), dialects.get("sqlite"))
    assert not arrow_pair((lite, lite), both, ["int", "text"], int_key=True)


# --- a SQLite file against a server: the server's digest text, rendered over Arrow --------

_SERVER_ROWS: list[tuple[Any, ...]] = [
    # id, amount DECIMAL(14,2), rate DECIMAL(6,4), at TIMESTAMP, born DATE, name, paid INTEGER
    (1, 12.3, 0.0435, "2024-01-02 03:04:05", "1990-01-02", "张三", 5),
    (2, 1500.0, 0.1, "2024-01-02T03:04:05.5", "1990-01-02", "O'Brien", None),
    (3, 0.0, 0.0001, "2024-01-02 03:04:05.123456", "2000-02-29", "", 0),
    (4, None, None, None, None, None, None),
    (5, 99999999.99, 0.3, "2024-01-02", "1990-12-31", "x,y", -7),
    (6, 1500, 5, "2024-01-02 03:04:05.000000", "1990-01-02", "5", 2**40),
]


def _server_pair(sqlite_path: Path, server_url: str, rows: list[tuple[Any, ...]]) -> None:
    con = sqlite3.connect(sqlite_path)
    con.execute(
        "CREATE TABLE pay (id INTEGER PRIMARY KEY, amount DECIMAL(14,2), rate DECIMAL(6,4), "
        "at TIMESTAMP, born DATE, name VARCHAR(20), paid BIGINT)"
    )
    con.executemany("INSERT INTO pay VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    engine = sa.create_engine(server_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE pay (id INTEGER PRIMARY KEY, amount DECIMAL(14,2), "
                "rate DECIMAL(6,4), at TIMESTAMP(6) NULL, born DATE, name VARCHAR(20), "
                "paid BIGINT)"
            )
        )
        conn.execute(
            sa.text("INSERT INTO pay VALUES (:id, :amount, :rate, :at, :born, :name, :paid)"),
            [
                dict(zip(("id", "amount", "rate", "at", "born", "name", "paid"), r, strict=True))
                for r in rows
            ],
        )
    engine.dispose()


@pytest.mark.parametrize("server", ["pg", "mariadb"])
def test_a_sqlite_file_against_a_server_digests_the_servers_text(
    tmp_path: Path, server: str, request: pytest.FixtureRequest
) -> None:
    """Equal rows are equal at the first level (nothing fetched); Arrow's rows, SQLite's
    canonical texts' (the fallback) and the Python reference's are the same; changed
    values are found, one of them text with a comma in a compact column (no server
    number has one)."""
    from handover.verify import compare

    url = request.getfixturevalue(f"{server}_url")
    path = tmp_path / "seller.db"
    _server_pair(path, url, _SERVER_ROWS)
    engine, other = connect(str(path)), connect(url)
    try:
        plan = plan_table(
            "pay",
            engine,
            other,
            reflect(engine, "s")["pay"],
            reflect(other, "t")["pay"],
            ("s", "t"),
        )
    finally:
        engine.dispose()
        other.dispose()
    assert plan.src.arrow_forms is not None and plan.dst.digest_sqls is not None
    assert plan.src.arrow_forms[1] == (True, 2)  # amount: compact, two decimals
    result = compare(str(path), url)
    assert result.equal and result.rows_fetched == 0, result.to_json()
    whole = _whole(plan)
    arrow = A.digests(str(path), whole)
    # where Arrow cannot render a piece SQLite renders the canonical texts: same rows,
    # and both are the Python reference's, row by row
    assert arrow == A._canonical_digests(str(path), whole) == _reference(path, whole)
    mp = pytest.MonkeyPatch()
    mp.setattr(A, "_arrow_digests", lambda p, d: None)
    try:
        assert A.digests(str(path), whole) == arrow
    finally:
        mp.undo()
    # a text that reads as a REAL: in a column of TEXT affinity (VARCHAR) it is the stored
    # text, rendered over Arrow; where the declared types are not known Arrow cannot vouch
    # for it and the piece falls back to SQLite's canonical texts; the digests agree
    con = sqlite3.connect(path)
    con.execute("INSERT INTO pay (id, name) VALUES (7, '1e5')")
    con.commit()
    con.close()
    run(url, "INSERT INTO pay (id, name) VALUES (7, '1e5')")
    typed = A._arrow_digests(str(path), whole)
    assert typed is not None and A._arrow_digests(str(path), replace(whole, table="")) is None
    assert typed == A._canonical_digests(str(path), whole)
    result = compare(str(path), url)
    assert result.equal and result.rows_fetched == 0, result.to_json()
    con = sqlite3.connect(path)
    con.execute("UPDATE pay SET amount = 12.31 WHERE id = 1")
    con.execute("UPDATE pay SET paid = '5,' WHERE id = 6")  # a comma in a compact column
    con.commit()
    con.close()
    changed = compare(str(path), url)
    assert changed.tables[0].to_json()["changed"] == [1, 6]


def _whole(plan: Any) -> ArrowDigest:
    job = _arrow(plan.src, " FROM pay", 1, 2)
    assert job is not None
    return job


def _reference(path: Path, plan: ArrowDigest) -> list[tuple[int, int, str]]:
    """The digest rows by :mod:`handover.verify.normalize`, one row at a time."""
    from handover.verify.normalize import encode_digest_row, render_digest

    assert plan.forms is not None
    compact = [c for c, _s in plan.forms]
    sums: dict[int, list[int]] = {}
    con = sqlite3.connect(path)
    for row in con.execute(plan.sql):
        texts = [
            render_digest(v, k, sc)
            for v, k, (_c, sc) in zip(row[1:-1], plan.kinds, plan.forms, strict=True)
        ]
        text = encode_digest_row(texts, compact)
        acc = sums.setdefault((row[0] - plan.origin) // plan.width, [0, 0])
        acc[0] += 1
        acc[1] += row_hash60(text)
    con.close()
    return [(b, n, str(h)) for b, (n, h) in sorted(sums.items())]


def test_digest_texts_are_the_reference() -> None:
    """Timestamps' fractions and decimals' scales over Arrow, text for text."""
    from handover.verify.normalize import encode_digest_row, pad_scale

    stamps = [
        "2024-01-02 03:04:05.000000",
        "2024-01-02 03:04:05.500000",
        "2024-01-02 03:04:05.000001",
        "2024-01-02 03:04",
        "x" * 26,
        None,
    ]
    decimals = ["12.3", "0", "-0.5", "12.345", "1500", "abc", "1e5", "-12", "0.05", None]
    for scale in (1, 2, 4):
        got = A._pad_scale(pa.array(decimals, pa.string()), scale).to_pylist()
        assert got == [None if d is None else pad_scale(d, scale) for d in decimals]
    got = A._stamp_digest(pa.array(stamps, pa.string())).to_pylist()
    assert got == [
        "2024-01-02 03:04:05",
        "2024-01-02 03:04:05.5",
        "2024-01-02 03:04:05.000001",
        "2024-01-02 03:04",
        "x" * 26,
        None,
    ]
    cols = [pa.array(["1", None, "a,b"]), pa.array(["张三", None, ""])]
    rows = A.digest_texts(cols, [(True, None), (False, None)], 3, [True, True]).to_pylist()
    assert rows[:2] == [
        encode_digest_row(["1", "张三"], [True, False]),
        encode_digest_row([None, None], [True, False]),
    ]
    assert rows[2] == "\x00a,b,0:" == encode_digest_row(["a,b", ""], [True, False])


def test_a_comma_or_nothing_in_a_compact_sqlite_text_marks_its_row(tmp_path: Path) -> None:
    """Text read from SQLite into a compact column holding a comma ('1990,01-02' in a
    DATE) or nothing ('': a server NULL's bare ',') makes its row's digest text start
    with a NUL, over Arrow as in the fallback."""
    from handover.verify.normalize import encode_digest_row

    path = tmp_path / "comma.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v DATE, w BIGINT)")
    rows = [(1, "1990,01-02", 3), (2, "", 6), (3, "1990-01-02", 7), (4, None, 8)]
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()
    sql = select_sql('"id"', ['"v"', '"w"'], ["date", "int"], " FROM t")
    job = _plan_of(sql, ["date", "int"], 1, 1, cols=("v", "w"))
    compact = [True, True]
    want = [
        (0, 1, str(row_hash60("\x001990,01-02,3,"))),
        (1, 1, str(row_hash60("\x00,6,"))),
        (2, 1, str(row_hash60(encode_digest_row(["1990-01-02", "7"], compact)))),
        (3, 1, str(row_hash60(encode_digest_row([None, "8"], compact)))),
    ]
    assert encode_digest_row(["1990,01-02", "3"], compact) == "\x001990,01-02,3,"
    assert encode_digest_row(["", "6"], compact) == "\x00,6,"
    assert A._arrow_digests(str(path), job) == want
    assert sorted(A._canonical_digests(str(path), job)) == want


@pytest.mark.parametrize("server", ["pg", "mariadb"])
def test_what_a_server_cannot_hold_is_never_equal_to_it(
    tmp_path: Path, server: str, request: pytest.FixtureRequest
) -> None:
    """SQLite values no server column holds, against the server value they would pass
    for: '' against NULL in numbers and dates, a BLOB against the number or date its
    bytes spell, a timestamp text with a tail beyond the microseconds. Each is reported
    changed, never hidden by equal digests."""
    from handover.verify import compare

    url = request.getfixturevalue(f"{server}_url")
    path = tmp_path / "odd.db"
    ddl = (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n BIGINT, a DECIMAL(10,2), d DATE, "
        "s TIMESTAMP(6) NULL)"
    )
    sqlite_rows = [
        (1, "", None, None, None),
        (2, None, "", None, None),
        (3, None, None, "", None),
        (4, b"5", None, None, None),
        (5, None, None, b"2024-01-02", None),
        (6, None, None, None, "2024-01-02 03:04:05.123456 (moved)"),
        (7, 7, 7.5, "2024-01-02", "2024-01-02 03:04:05.5"),
    ]
    server_rows = [
        (1, None, None, None, None),
        (2, None, None, None, None),
        (3, None, None, None, None),
        (4, 5, None, None, None),
        (5, None, None, "2024-01-02", None),
        (6, None, None, None, "2024-01-02 03:04:05.123456"),
        (7, 7, 7.5, "2024-01-02", "2024-01-02 03:04:05.5"),
    ]
    con = sqlite3.connect(path)
    con.execute(ddl.replace("TIMESTAMP(6) NULL", "TIMESTAMP"))
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", sqlite_rows)
    con.commit()
    con.close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(ddl))
        conn.execute(
            sa.text("INSERT INTO t VALUES (:i, :n, :a, :d, :s)"),
            [dict(zip("inads", r, strict=True)) for r in server_rows],
        )
    engine.dispose()
    result = compare(str(path), url)
    assert result.tables[0].to_json()["changed"] == [1, 2, 3, 4, 5, 6], result.to_json()


def test_a_decimal_scale_beyond_the_padding_table(tmp_path: Path, pg_url: str) -> None:
    """A declared scale of 25 pads REALs and texts without limit (and equal data is
    equal at the first level)."""
    from handover.verify import compare

    path = tmp_path / "scale.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v NUMERIC(40,25))")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, 1.5), (2, 3), (3, None), (4, 0.25)])
    con.commit()
    con.close()
    run(
        pg_url,
        "CREATE TABLE t (id integer PRIMARY KEY, v numeric(40,25))",
        "INSERT INTO t VALUES (1, 1.5), (2, 3), (3, NULL), (4, 0.25)",
    )
    result = compare(str(path), pg_url)
    assert result.equal and result.rows_fetched == 0, result.to_json()


def test_a_dead_worker_leaves_arrows_rows_to_this_process(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that dies: this process computes the same digest rows (not the canonical
    statement, whose text the server does not hash), so equal rows stay unfetched."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from handover.verify import compare
    from handover.verify import sql as q

    class Dying:
        def submit(self, *_a: Any, **_k: Any) -> Future[Any]:
            f: Future[Any] = Future()
            f.set_exception(BrokenProcessPool("killed"))
            return f

    path = tmp_path / "seller.db"
    _server_pair(path, pg_url, _SERVER_ROWS)
    monkeypatch.setattr(q, "_workers", Dying)
    monkeypatch.setattr(q, "_end", lambda pool, kill: None)
    result = compare(str(path), pg_url)
    assert result.equal and result.rows_fetched == 0, result.to_json()


@pytest.mark.parametrize("odd", ["x", b"3", 2.5, -0.5])
def test_an_integer_key_holding_something_else_is_refused_by_name(
    tmp_path: Path, pg_url: str, odd: Any
) -> None:
    """SQLite keeps TEXT, BLOB or REAL in a BIGINT key of a table with its own rowid: key
    ranges never find such a row and its segment stands for another, so verify refuses
    the table in one line, naming it and the key (an extra row once passed unseen). A
    rowid alias holds integers only and is not scanned for it."""
    from handover.errors import BadInput
    from handover.verify import compare

    path = tmp_path / "odd.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(odd, "odd"), *((i, "v") for i in range(1, 6))])
    con.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT)")
    con.executemany("INSERT INTO r VALUES (?, ?)", [(i, "v") for i in range(1, 6)])
    con.commit()
    con.close()
    run(
        pg_url,
        "CREATE TABLE t (id bigint PRIMARY KEY, v text)",
        "INSERT INTO t SELECT g, 'v' FROM generate_series(1, 5) g",
        "CREATE TABLE r (id bigint PRIMARY KEY, v text)",
        "INSERT INTO r SELECT g, 'v' FROM generate_series(1, 5) g",
    )
    with pytest.raises(BadInput) as err:
        compare(str(path), pg_url, tables=["t"])
    text = str(err.value)
    assert "\n" not in text and "t" in text and "id" in text
    assert compare(str(path), pg_url, tables=["r"]).equal


@pytest.mark.parametrize(
    ("declared", "over_arrow"),
    [("VARCHAR(40)", True), ("TEXT", True), ("NUMERIC", False), ("", False)],
)
def test_only_a_column_that_cannot_hold_a_real_skips_the_real_text_check(
    tmp_path: Path, declared: str, over_arrow: bool
) -> None:
    """A text the two SQLite versions could spell differently as a REAL
    (``0.30000000000000004``: 17 digits) sends its piece back to SQLite's own texts,
    unless the column's declared type has TEXT affinity (SQLite then stores any number
    as its text); either way the digests are those of SQLite's texts."""
    path = tmp_path / "t.db"
    con = sqlite3.connect(path)
    con.execute(f'CREATE TABLE t (id INTEGER PRIMARY KEY, "v" {declared})')
    con.executemany(
        "INSERT INTO t VALUES (?, ?)",
        [(1, "0.30000000000000004"), (2, "张三"), (3, None), (4, 0.1 + 0.2 if declared else "x")],
    )
    con.commit()
    con.close()
    sql = select_sql('"id"', ['"v"'], ["text"], " FROM t")
    base = _plan_of(sql, ["text"])
    plan = ArrowDigest(*[getattr(base, f) for f in ("sql", "kinds", "origin", "width", "forms",
                                                   "canonical")], "t", ("v",))  # fmt: skip
    rows = A._arrow_digests(str(path), plan)
    assert (rows is not None) is over_arrow
    assert A._arrow_digests(str(path), base) is None  # without the declared types: checked
    assert A.digests(str(path), plan) == A._canonical_digests(str(path), base)


def test_a_nul_is_found_in_any_slice() -> None:
    arr = pa.array(["ab", "c\x00d", None, "ef", ""], pa.string())
    assert A._holds_nul(arr)
    assert A._holds_nul(arr.slice(1, 1))
    assert not A._holds_nul(arr.slice(2))
    assert not A._holds_nul(arr.slice(0, 1))
    assert not A._holds_nul(arr.slice(5))
    assert not A._holds_nul(pa.nulls(3, pa.string()))
    assert A._holds_nul(pa.array(["x", "\x00"], pa.large_string()))


def test_the_usual_stamps_are_the_regular_expressions() -> None:
    """The byte matrix answers True only where the regular expression matches every value."""
    rng = random.Random(5)
    good = "2024-01-02 03:04:05"
    odd = [
        "2024-01-02T03:04:05",
        "2024-01-02 03:04:5",
        "2024-01-02 03:04:055",
        "２024-01-02 03:04:05",
        "2024/01/02 03:04:05",
        "2024-01-02 03:04:0a",
        "2024-01-02 03-04:05",
        "",
    ]
    for _ in range(300):
        values: list[str | None] = [
            None if rng.random() < 0.2 else good.replace("4", str(rng.randint(0, 9)))
            for _ in range(rng.randint(1, 6))
        ]
        if rng.random() < 0.5:
            values[rng.randrange(len(values))] = rng.choice(odd)
        arr = pa.array(values, pa.string())
        for part in (arr, arr.slice(1)):
            regex = pc.all(pc.match_substring_regex(part, A._STAMP)).as_py() is not False
            assert A._usual_stamps(part) == regex, part
    # a NULL spanning bytes (not what the readers give) leaves the answer to the expression
    spanning = pa.Array.from_buffers(
        pa.string(),
        2,
        [
            pa.py_buffer(bytes([0b10])),
            pa.py_buffer(np.array([0, 3, 22], np.int32)),
            pa.py_buffer(b"abc" + good.encode()),
        ],
    )
    assert not A._usual_stamps(spanning)
    assert pc.all(pc.match_substring_regex(spanning, A._STAMP)).as_py()


def test_a_date_of_ten_bytes_is_kept_whole() -> None:
    arr = pa.array(["2024-01-02", None, "2024-01-02 10:00:00", "２０２４年１月２日了"])
    assert A._text(arr.slice(0, 2), "date").to_pylist() == ["2024-01-02", None]
    assert A._text(arr, "date").to_pylist() == [
        "2024-01-02",
        None,
        "2024-01-02",
        "２０２４年１月２日了",
    ]
