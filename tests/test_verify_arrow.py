"""SQLite digests over Arrow (handover.verify.arrow) against the digest statement they
replace: value by value for every kind and storage class, and segment by segment over
several driver batches. Where Arrow cannot be sure it must say so (None), never differ."""

from __future__ import annotations

import itertools
import math
import random
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from handover.db import dialects
from handover.db.adbc import ArrowReader
from handover.verify import arrow as A
from handover.verify.normalize import SideType, row_hash60
from handover.verify.sql import ArrowDigest, register_sqlite, select_sql
from handover.verify.verify import _from, _plan, _reflect, _segment_digests, _Sel, connect
from test_verify_engines import _doubles, run

KINDS = ["int", "decimal", "float", "text", "date", "timestamp"]

STAMPS: list[Any] = [
    "2024-01-02 03:04:05",
    "2024-01-02T03:04:05",
    " 2024-01-02 03:04:05",
    "2024-01-02 03:04:05 ",
    "2024-01-02 03:04:05.5",
    "2024-01-02 03:04:05.123456",
    "2024-01-02",
    "２０２４-01-02 03:04:05",
    "2024-1-2 3:04:05",
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


def _arrow_column(path: Path, where: str = "", params: tuple[Any, ...] = ()) -> pa.Array:
    reader = ArrowReader.open(path)
    assert reader is not None
    try:
        page = reader.page(f"SELECT v FROM t{where} ORDER BY id", params)
        assert page is not None
        return page.column(0).chunk(0)
    finally:
        reader.close()


_FILES = itertools.count()


def _flagged(path: Path, kind: str, row: int | None = None) -> bool:
    """Whether the select's flag column marks the rows (a date or time not stored as
    TEXT): then the whole statement is left to SQL, which digests() must say."""
    where = "" if row is None else f" WHERE id = {row}"
    sql = select_sql('"id"', ['"v"'], [kind], f" FROM t{where}")
    assert sql is not None
    con = sqlite3.connect(path)
    try:
        odd = con.execute(f"SELECT max(ho__odd) FROM ({sql})").fetchone()[0]
    finally:
        con.close()
    if not odd:
        return False
    assert A.digests(str(path), ArrowDigest(sql, (kind,), 0, 1)) is None
    return True


def _check(tmp_path: Path, values: list[Any], kind: str, *, sure: bool) -> bool:
    """Arrow's texts of ``values`` (one column) as ``kind`` equal the statement's;
    ``sure``: Arrow must render them (not answer None). True where it rendered."""
    path = tmp_path / f"{next(_FILES)}.db"
    _table(path, values)
    if _flagged(path, kind):
        return False
    column = _arrow_column(path)
    got = A.render(column, kind)
    if got is None:
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
        got = A.render(column, kind)
        if got is not None:
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
    assert _check(tmp_path, plain, "decimal", sure=True)
    assert _check(tmp_path, [1, 2, -(2**63), None], "int", sure=True)
    assert _check(tmp_path, [1.0, 2.0, -5.0, 2.0**52], "int", sure=True)


def test_a_hidden_storage_class_in_a_time_column_leaves_it_to_the_statement(
    tmp_path: Path,
) -> None:
    """A BLOB in a later batch of a text column reads as text: only the SQL flag tells."""
    path = tmp_path / "odd.db"
    values = ["2024-01-02 03:04:05"] * 10 + [b"2024-01-02 03:04:05"]
    _table(path, values)
    sql = select_sql('"id"', ['"v"'], ["timestamp"], " FROM t")
    assert sql is not None
    plan = ArrowDigest(sql, ("timestamp",), 0, 4)
    assert A.digests(str(path), plan) is None


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


def test_segment_digests_equal_the_statement_over_many_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole pieces of a table, over many small driver batches and segments: the rows
    Arrow computes are those of the statement verify would run."""
    path = tmp_path / "book.db"
    _book(path, 5000)
    monkeypatch.setattr(A, "BATCH_ROWS", 337)
    url = f"sqlite:///{path}"
    engine = connect(url)
    try:
        meta = _reflect(engine, url)
        plan = _plan(
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
        qcols = [side.quote(c) for c in side.columns]
        con = sqlite3.connect(path)
        register_sqlite(con)
        for origin, width, piece in [
            (1, 7, None),
            (1, 1000, None),
            (1, 50, [(1, 400), (3000, 9000)]),
        ]:
            src, where = _from(side, piece)
            assert where == ""
            sql = select_sql(side.seg_sql, qcols, side.kinds, src)
            assert sql is not None
            got = A.digests(str(path), ArrowDigest(sql, tuple(side.kinds), origin, width))
            assert got is not None
            cols = ", ".join(f"{v} AS c{i}" for i, v in enumerate(side.value_sqls))
            names = [f"c{i}" for i in range(len(side.value_sqls))]
            inner = f"SELECT {side.seg_sql} AS ho__seg, {cols}{src}"
            stmt = (
                f"SELECT (ho__seg - {origin}) / {width} AS b, count(*), "
                f"{side.sql.digest_sql(side.sql.row_expr(names))} FROM ({inner}) GROUP BY b"
            )
            want = [tuple(r) for r in con.execute(stmt)]
            assert got == want
            assert len(got) > 3
        con.close()
        # and through verify's own path (worker process or not): the same digests
        with_arrow = _segment_digests(side, 1, 7, _Sel(1, 7, tuple(range(0, 2000, 3))))
        monkeypatch.setattr("handover.verify.verify.select_sql", lambda *a: None)
        without = _segment_digests(side, 1, 7, _Sel(1, 7, tuple(range(0, 2000, 3))))
        assert with_arrow == without and len(without) > 500
    finally:
        engine.dispose()


def test_a_null_key_is_left_to_the_statement(tmp_path: Path) -> None:
    path = tmp_path / "nullkey.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (k INT PRIMARY KEY, v TEXT)")  # not a rowid: NULL allowed
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (None, "b")])
    con.commit()
    con.close()
    sql = select_sql('"k"', ['"k"', '"v"'], ["int", "text"], " FROM t")
    assert sql is not None
    assert A.digests(str(path), ArrowDigest(sql, ("int", "text"), 0, 1)) is None


def test_kinds_arrow_does_not_render_have_no_select() -> None:
    assert select_sql("k", ["k", "b"], ["int", "bool"], " FROM t") is None
    assert select_sql("k", ["k", "b"], ["int", "bytes"], " FROM t") is None
    assert select_sql("k", ["k", "b"], ["stored", "stored"], " FROM t") is None


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
        plan = _plan(
            "pay",
            engine,
            other,
            _reflect(engine, "s")["pay"],
            _reflect(other, "t")["pay"],
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
    # a text Arrow cannot vouch for (a REAL's spelling?): the SQLite side falls back to
    # its canonical texts for the piece, and still matches the server's digests
    con = sqlite3.connect(path)
    con.execute("INSERT INTO pay (id, name) VALUES (7, '1e5')")
    con.commit()
    con.close()
    run(url, "INSERT INTO pay (id, name) VALUES (7, '1e5')")
    assert A._arrow_digests(str(path), whole) is None
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
    side = plan.src
    sql = select_sql(side.seg_sql, [side.quote(c) for c in side.columns], side.kinds, " FROM pay")
    assert sql is not None
    canonical = f"SELECT {side.seg_sql}, {', '.join(side.value_sqls)} FROM pay"
    return ArrowDigest(sql, tuple(side.kinds), 1, 2, tuple(side.arrow_forms), canonical)


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
        acc = sums.setdefault((row[0] - plan.origin) // plan.width, [0, 0])
        acc[0] += 1
        acc[1] += row_hash60(encode_digest_row(texts, compact))
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
    assert rows[2] == "\x00" + encode_digest_row(["a,b", ""], [True, False])


def test_a_comma_in_a_compact_sqlite_text_marks_its_row(tmp_path: Path) -> None:
    """Text read from SQLite into a compact column ('1,2' in an INTEGER column) makes its
    row's digest text start with a NUL, over Arrow as in the fallback."""
    from handover.verify.normalize import encode_digest_row

    path = tmp_path / "comma.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a BIGINT, b BIGINT)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(1, "1,2", 3), (2, 5, 6)])
    con.commit()
    con.close()
    sql = select_sql('"id"', ['"id"', '"a"', '"b"'], ["int"] * 3, " FROM t")
    assert sql is not None
    forms = ((True, None),) * 3
    canonical = 'SELECT "id", CAST("id" AS TEXT), CAST("a" AS TEXT), CAST("b" AS TEXT) FROM t'
    plan = ArrowDigest(sql, ("int",) * 3, 1, 1, forms, canonical)
    want = [
        (0, 1, str(row_hash60("\x00" + encode_digest_row(["1", "1,2", "3"], [True] * 3)))),
        (1, 1, str(row_hash60(encode_digest_row(["2", "5", "6"], [True] * 3)))),
    ]
    assert A._arrow_digests(str(path), plan) == want
    assert A._canonical_digests(str(path), plan) == want
