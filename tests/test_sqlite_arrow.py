"""SQLite read as Arrow columns by ADBC's driver gives exactly what the ``sqlite3`` reads
give: the same batches, keys, rejects and errors, whatever storage classes a column
mixes, wherever in the table the mixing starts."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from handover.errors import BadInput

pytestmark = pytest.mark.slow

#: declared type → the storage classes its values come in (SQLite's dynamic typing)
COLUMNS = {
    "i": "INTEGER",
    "s": "SMALLINT",
    "r": "REAL",
    "d": "DECIMAL(12,2)",
    "v": "VARCHAR(20)",
    "dt": "DATE",
    "ts": "TIMESTAMP",
    "b": "BOOLEAN",
    "bl": "BLOB",
    "tm": "TIME",
    "j": "JSON",
    "u": "",
}
BATCH = 200
ROWS = 25 * BATCH


def _pure(name: str, rnd: random.Random, i: int) -> Any:
    """The value a well-kept book would hold."""
    if name in ("i", "u"):
        return i * 7919
    if name == "s":
        return i % 300
    if name == "r":
        return i * 0.25 + 0.1
    if name == "d":
        return round(i * 1.5 + 0.25, 2)
    if name == "v":
        return f"客户{i}"
    if name == "dt":
        return f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
    if name == "ts":
        return f"2024-01-{1 + i % 28:02d} 12:{i % 60:02d}:00"
    if name == "b":
        return i % 2
    if name == "bl":
        return bytes([i % 256, 0, 255])
    if name == "tm":
        return f"{i % 24:02d}:30:00"
    return f'{{"k": {i}}}'


#: values of every storage class, the awkward ones included
ODD = [
    None,
    0,
    42,
    -7,
    2**53 + 1,
    2**62,
    1.5,
    0.1 + 0.2,
    -1e100,
    1e-300,
    3.0,
    "x",
    "1.500000e+00",
    "42",
    "2024-02-30",
    "",
    "张三",
    b"ab",
    b"\xff\xfe",
    b"",
]


TABLES = ["clean", *(f"mix_{c}" for c in COLUMNS)]
#: columns a typed Arrow page can carry; blobs and times always go through sqlite3
SLOW = ("bl", "tm")


def _book(path: Path, seed: int) -> None:
    """A clean table, and one per column where only that column mixes storage classes,
    from part-way through (inside a page, or from the first row): every odd value at
    least once, among the column's own values, so the other columns keep pages typed."""
    rnd = random.Random(seed)
    con = sqlite3.connect(path)
    for t in TABLES:
        names = [c for c in COLUMNS if c not in SLOW or t == f"mix_{c}"]
        cols = ", ".join(f'"{c}" {COLUMNS[c]}' for c in names)
        con.execute(f'CREATE TABLE "{t}" (id INTEGER PRIMARY KEY, {cols})')
        rows = [[i, *(_pure(c, rnd, i) for c in names)] for i in range(1, ROWS + 1)]
        if t != "clean":
            c = names.index(t.removeprefix("mix_")) + 1
            odd = ODD[:]
            rnd.shuffle(odd)
            for n, v in enumerate(odd):  # one a page, at its first row, inside or last
                at = rnd.choice([0, 1, 37, BATCH - 1])
                rows[(n + 2) * BATCH + at][c] = v
        marks = ", ".join("?" * (len(names) + 1))
        con.executemany(f'INSERT INTO "{t}" VALUES ({marks})', rows)
    con.commit()
    con.close()


@pytest.fixture(scope="module", params=[1, 2, 3])
def book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("arrow") / "mixed.db"
    _book(path, request.param)
    return path


@pytest.fixture(params=["native", "adbc"], autouse=True)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test reads through the C module (handover.db.sqlite_native) and through
    ADBC's driver: both must give what sqlite3 gives."""
    from handover.db import sqlite_native

    if request.param == "native":
        require_native()
    else:
        monkeypatch.setattr(sqlite_native, "_native", None)
    return str(request.param)


def require_native() -> None:
    """Skip without the C module; under CI=true its absence is a failure."""
    from tests.conftest import require_built

    from handover.db import sqlite_native

    require_built(
        sqlite_native.built(), "handover.db._sqlite_arrow", "C compiler or SQLite headers"
    )


def _outcome(fn: Any) -> Any:
    try:
        return ("ok", fn())
    except BadInput as exc:
        return ("refused", str(exc))


def _scan(path: Path, arrow: bool, **kw: Any) -> Any:
    from handover.sources import open_source

    with open_source(path) as src:
        if not arrow:
            assert src._arrow is not None
            src._arrow.close()
            src._arrow = None
        out = []
        for name in TABLES:
            out.append(_outcome(lambda n=name: pa.Table.from_batches(list(src.batches(n, **kw)))))
        return out


@pytest.mark.parametrize("kw", [{"batch_size": BATCH}, {"batch_size": BATCH, "order_by": ["id"]}])
def test_scan_batches_equal_the_sqlite3_reads(book: Path, kw: dict[str, Any]) -> None:
    arrow = _scan(book, True, **kw)
    plain = _scan(book, False, **kw)
    assert [a[0] for a in arrow] == [p[0] for p in plain]
    for a, p in zip(arrow, plain, strict=True):
        if a[0] == "ok":
            assert a[1].schema == p[1].schema
            assert a[1].equals(p[1])
        else:
            assert a[1] == p[1]
    # the clean table really was read as Arrow: nothing to fall back for
    assert arrow[0][0] == "ok" and arrow[0][1].num_rows == ROWS


def _migrate_read(path: Path, arrow: bool) -> list[Any]:
    from handover.migrate.reader import DatabaseSource

    src = DatabaseSource(path)
    try:
        if not arrow:
            assert src.reader._arrow is not None  # type: ignore[attr-defined]
            src.reader._arrow.close()  # type: ignore[attr-defined]
            src.reader._arrow = None  # type: ignore[attr-defined]
        out = []
        for t in src.schema():
            for sb in src.read(t, after=None, batch_size=BATCH):
                out.append(
                    (
                        t.name,
                        sb.data,
                        sb.keys,
                        sb.last_key,
                        sb.rows_read,
                        [r.to_json() for r in sb.rejects],
                    )
                )
        return out
    finally:
        src.close()


def test_migration_reads_equal_the_sqlite3_reads(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handover.migrate import reader

    typed: dict[str, list[bool]] = {}
    whole = reader._from_arrow

    def counted(rows: Any, table: Any, *args: Any) -> Any:
        got = whole(rows, table, *args)
        typed.setdefault(table.name, []).append(got is not None)
        return got

    monkeypatch.setattr(reader, "_from_arrow", counted)
    arrow = _migrate_read(book, True)
    # the clean table's pages went as Arrow, and each mixed table's odd pages did not
    pages = ROWS // BATCH
    assert typed["clean"] == [True] * pages
    for c in COLUMNS:
        if c in SLOW:
            assert not any(typed[f"mix_{c}"])
        else:  # the pages before the first odd value, at least, and some after it
            assert typed[f"mix_{c}"][:2] == [True, True]
            # an odd page is refused by the reader (C module) or by _from_arrow (ADBC)
            assert 0 < pages - typed[f"mix_{c}"].count(True) <= len(ODD), c
    plain = _migrate_read(book, False)
    assert len(arrow) == len(plain) == len(TABLES) * (ROWS // BATCH)
    rejects = 0
    for a, p in zip(arrow, plain, strict=True):
        assert a[0] == p[0]
        assert a[1].schema == p[1].schema
        assert a[1].equals(p[1]), a[0]
        assert a[2:] == p[2:]
        rejects += len(a[5])
    assert rejects > 0  # the odd values really were there, and named


def test_faithful_names_what_the_driver_may_have_widened() -> None:
    from handover.db.adbc import faithful

    assert faithful(pa.array([1, 2**62], pa.int64()))
    assert faithful(pa.array([None, None], pa.int64()))
    assert faithful(pa.array([1.5, -(2.0**53) + 1], pa.float64()))
    assert not faithful(pa.array([1.5, 2.0**53], pa.float64()))  # may be a rounded INTEGER
    assert faithful(pa.array(["x", "42", "2024-01-31", "+86 138", "1.2.3"], pa.string()))
    assert faithful(pa.array(["12.25", "1.5", "0.0001", "99999999999999.5"], pa.string()))
    odd = ("-1.500000e+00", "1.000000e-300", "0.30000000000000004", "1.0e+16", "0.00001", "Inf")
    for real in odd:  # a REAL's text the two SQLite versions may spell apart
        assert not faithful(pa.array(["x", real], pa.string())), real
    assert not faithful(pa.array([b"ab"], pa.binary()))  # may hold numbers and text


def test_a_page_the_driver_refuses_is_read_by_sqlite3(tmp_path: Path) -> None:
    """Text after a whole batch of integers: the driver refuses the later batch; the
    stream goes on through sqlite3 from exactly that row."""
    from handover.sources import open_source

    db = tmp_path / "late.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(i, i) for i in range(1, 1001)])
    con.execute("INSERT INTO t VALUES (1001, 'text')")
    con.commit()
    con.close()
    with open_source(db) as src:
        assert src._arrow is not None
        stream = src._arrow.stream('SELECT "a" FROM "t"', 100)
        pages = list(stream.pages())
        assert stream.refused and sum(p.num_rows for p in pages) == 1000
        read = pa.Table.from_batches(list(src.batches("t", batch_size=100)))
    assert read.num_rows == 1001
    assert read.column("id").to_pylist() == list(range(1, 1002))


def test_threads_reading_one_source_each_have_their_own_connection(book: Path) -> None:
    """migrate's lanes read two tables of one source at once: each statement runs on a
    connection no other runs on (at most as many as run at once), and both threads get
    what one thread reading alone gets."""
    from concurrent.futures import ThreadPoolExecutor

    from handover.migrate.reader import DatabaseSource

    alone = {t: _rows_of(book, t) for t in ("clean", "mix_d")}
    src = DatabaseSource(book)
    try:
        defs = {t.name: t for t in src.schema()}

        def read(name: str) -> pa.Table:
            batches = [sb.data for sb in src.read(defs[name], after=None, batch_size=BATCH)]
            return pa.Table.from_batches(batches)

        names = list(alone) * 3
        with ThreadPoolExecutor(2) as pool:
            got = list(pool.map(read, names))
        arrow = src.reader._arrow  # type: ignore[attr-defined]
        assert arrow is not None and 1 <= len(arrow._all) <= 2  # one per statement at once
    finally:
        src.close()
    for name, table in zip(names, got, strict=True):
        assert table.equals(alone[name])


def _rows_of(book: Path, name: str) -> pa.Table:
    from handover.migrate.reader import DatabaseSource

    src = DatabaseSource(book)
    try:
        t = next(t for t in src.schema() if t.name == name)
        return pa.Table.from_batches([sb.data for sb in src.read(t, after=None, batch_size=BATCH)])
    finally:
        src.close()


def test_a_page_the_driver_builds_in_several_batches_is_read_by_sqlite3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its first batch the driver keeps the first batch's types: a text column takes
    a BLOB or a REAL as text. A page of several batches is therefore never used."""
    from handover.db import adbc

    path = tmp_path / "mixed.db"
    _book(path, 5)
    monkeypatch.setattr(adbc, "PAGE_ROWS", BATCH // 4)
    reader = adbc.ArrowReader.open(path)
    assert reader is not None
    try:
        assert reader.page('SELECT * FROM "clean" LIMIT 10', ()) is not None
        assert reader.page(f'SELECT * FROM "clean" LIMIT {BATCH}', ()) is None
    finally:
        reader.close()
    assert [a[1:] for a in _migrate_read(path, True)] == [p[1:] for p in _migrate_read(path, False)]


def _table(path: Path, sql: list[str | tuple[str, tuple[Any, ...]]]) -> Path:
    con = sqlite3.connect(path)
    for s in sql:
        con.execute(*s) if isinstance(s, tuple) else con.execute(s)
    con.commit()
    con.close()
    return path


def _both_reads(path: Path, batch: int) -> tuple[list[Any], list[Any]]:
    global BATCH
    saved, BATCH = BATCH, batch
    try:
        return _migrate_read(path, True), _migrate_read(path, False)
    finally:
        BATCH = saved


@pytest.mark.parametrize(
    ("sql", "batch"),
    [
        # a key mixing integers and text: an integer sorts before any text, so a key
        # read as "5" instead of 5 would page past (2, 6) and (2, 7)
        (
            [
                "CREATE TABLE t (k1 INTEGER NOT NULL, k2 NOT NULL, v DATE,"
                " PRIMARY KEY (k1, k2)) WITHOUT ROWID",
                "INSERT INTO t VALUES (1, 'a', '2024-01-01'), (2, 5, '2024-02-30'),"
                " (2, 6, '2024-01-01'), (2, 7, '2024-01-03'), (3, 'b', '2024-01-01')",
            ],
            2,
        ),
        (
            [
                "CREATE TABLE t (k PRIMARY KEY, v DATE) WITHOUT ROWID",
                "INSERT INTO t VALUES (5, '2024-02-30'), ('a', '2024-01-01'), (7, '2024-01-01')",
            ],
            10,
        ),
        # REALs read as text: this driver's SQLite spells them with up to 17 digits
        (
            [
                "CREATE TABLE t (id INTEGER PRIMARY KEY, amount NUMERIC)",
                ("INSERT INTO t (amount) VALUES (?), (?), (?)", (0.1 + 0.2, 12.5, 1e16)),
            ],
            10,
        ),
    ],
)
def test_keys_and_reals_as_text_read_as_sqlite3_reads_them(
    tmp_path: Path, sql: list[Any], batch: int
) -> None:
    arrow, plain = _both_reads(_table(tmp_path / "k.db", sql), batch)
    assert [a[1:] for a in arrow] == [p[1:] for p in plain]
    assert sum(a[4] for a in arrow) == sum(p[4] for p in plain) >= 3


def test_a_real_in_a_column_scan_reads_as_text(tmp_path: Path) -> None:
    """Scan reads a NUMERIC column through CAST(… AS TEXT); a REAL's text differs between
    the driver's SQLite and Python's, so such a batch is read by sqlite3."""
    db = _table(
        tmp_path / "n.db",
        [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, amount NUMERIC, note)",
            ("INSERT INTO t (amount) VALUES (?), (?), (?)", (0.1 + 0.2, 12.5, 1e16)),
        ],
    )
    assert _scan_one(db, True).equals(_scan_one(db, False))


def _scan_one(db: Path, arrow: bool) -> pa.Table:
    from handover.sources import open_source

    with open_source(db) as src:
        if not arrow:
            src._arrow.close()
            src._arrow = None
        return pa.Table.from_batches(list(src.batches("t", batch_size=2)))


def test_connections_are_as_many_as_statements_at_once(tmp_path: Path) -> None:
    """Each table read in a thread of its own (migrate's read-ahead) reuses the
    connections: one open file per statement running at once, not per thread."""
    import threading

    from handover.sources import open_source

    db = _table(
        tmp_path / "many.db",
        ["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO t VALUES (1, 'x')"],
    )
    with open_source(db) as src:
        for _ in range(50):
            th = threading.Thread(target=lambda: list(src.batches("t", order_by=["id"])))
            th.start()
            th.join()
        assert src._arrow is not None and len(src._arrow._all) == 1


def test_a_reals_text_is_trusted_only_where_both_sqlite_versions_spell_it_alike(
    tmp_path: Path,
) -> None:
    """The driver's SQLite and Python's spell a REAL's text differently (17 digits
    against 15, plain against exponent notation). Of the texts the driver gives for
    CAST(x AS TEXT), every one ``faithful`` lets through equals sqlite3's, over random
    doubles of every magnitude, amounts, and the edges of the rule."""
    import math
    import struct

    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow.compute as pc

    from handover.db.adbc import _REAL_AS_TEXT, _same_in_both

    rnd = random.Random(11)
    vals = [struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0] for _ in range(30000)]
    vals = [v for v in vals if math.isfinite(v)]
    vals += [round(rnd.uniform(-1e12, 1e12), rnd.randint(0, 6)) for _ in range(30000)]
    vals += [round(rnd.uniform(-1, 1), rnd.randint(0, 8)) for _ in range(10000)]
    vals += [0.1 + 0.2, 1e16, 1e15, 999999999999999.9, 1e-4, 1e-5, 0.00012, 2**53, -0.0, 1 / 3]
    db = tmp_path / "reals.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x REAL)")
    con.executemany("INSERT INTO t (x) VALUES (?)", [(v,) for v in vals])
    con.commit()
    theirs = [r[0] for r in con.execute("SELECT CAST(x AS TEXT) FROM t ORDER BY id")]
    con.close()
    with adbc.connect(str(db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT CAST(x AS TEXT) FROM t ORDER BY id")
        ours = cur.fetch_arrow_table().column(0).combine_chunks()
    trusted = pc.or_(pc.invert(pc.match_substring_regex(ours, _REAL_AS_TEXT)), _same_in_both(ours))
    kept = [
        (a, b) for a, b, ok in zip(theirs, ours.to_pylist(), trusted.to_pylist(), strict=True) if ok
    ]
    assert len(kept) > len(vals) // 4  # the rule lets the usual amounts through
    assert [a for a, _b in kept] == [b for _a, b in kept]


def test_only_columns_of_text_affinity_skip_the_check_for_a_reals_text(tmp_path: Path) -> None:
    """A column of TEXT affinity stores a number written to it as its text (the writer's
    spelling, which both readers then give alike), so its text needs no REAL check; any
    other affinity may keep a REAL, and a virtual table returns what its module gives."""
    from handover.sources import open_source

    db = _table(
        tmp_path / "aff.db",
        [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR(20), c CLOB, n NUMERIC, "
            "d DATE, r REAL, u, b BLOB, x TEXT)",
            ("INSERT INTO t VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)", (0.1 + 0.2,) * 8),
            "CREATE VIRTUAL TABLE box USING rtree(id, x0, x1, +note TEXT)",
        ],
    )
    with open_source(db) as src:
        cols = ["id", "v", "c", "n", "d", "r", "u", "b", "x", "rowid"]
        assert src.reals("t", cols) == [
            *(True, False, False, True, True, True, True, True, False, True)
        ]
        assert src.reals("box", ["id", "note"]) is None
        assert src.reals("no_such_table", ["id"]) is None
        # what the TEXT columns hold is the writer's text of the REAL: both reads agree
        assert _scan_one(db, True).equals(_scan_one(db, False))
    con = sqlite3.connect(db)
    kinds = con.execute("SELECT typeof(v), typeof(x), typeof(n), typeof(u) FROM t").fetchone()
    con.close()
    assert kinds == ("text", "text", "real", "real")
