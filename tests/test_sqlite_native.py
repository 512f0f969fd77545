"""The C reader of SQLite files (handover.db.sqlite_native): each batch typed as ADBC's
driver types a result, every value what sqlite3 gives, a later batch that does not fit
refused rather than converted, SQLite's errors raised (never a crash). That whole reads
equal sqlite3's is tests/test_sqlite_arrow.py, run through both readers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.test_sqlite_arrow import require_native

from handover.db import sqlite_native
from handover.db.url import read_only_uri


@pytest.fixture(autouse=True)
def _built() -> None:
    require_native()


def _db(path: Path, rows: list[tuple[Any, ...]], *, encoding: str = "UTF-8") -> Path:
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA encoding = '{encoding}'")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a, b)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()
    return path


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[Any]:
    rows = [(i, i * 3, f"客户{i}") for i in range(1, 11)]
    c = sqlite_native.connect(read_only_uri(_db(tmp_path / "t.db", rows)))
    yield c
    c.close()


def _read(conn: Any, sql: str, batch: int = 1000, params: Any = None) -> list[pa.RecordBatch]:
    return list(sqlite_native.batches(conn, sql, params, batch))


def test_it_links_the_sqlite_that_python_links() -> None:
    """The values and the SQL are those of sqlite3 (ADBC's driver bundles a newer SQLite
    that spells REALs differently)."""
    assert sqlite_native.version() == sqlite3.sqlite_version


def test_each_storage_class_has_the_drivers_type(tmp_path: Path) -> None:
    rows = [(1, 5, 2.5), (2, None, 3), (3, 2**62, None)]
    c = sqlite_native.connect(read_only_uri(_db(tmp_path / "k.db", rows)))
    try:
        (b,) = _read(c, "SELECT a, b, NULL AS n, x'00ff' AS bl, 'é' AS s FROM t ORDER BY id")
    finally:
        c.close()
    assert b.schema.types == [pa.int64(), pa.float64(), pa.int64(), pa.binary(), pa.string()]
    assert b.column(0).to_pylist() == [5, None, 2**62]  # integers exact, NULL a null
    assert b.column(1).to_pylist() == [2.5, 3.0, None]  # an INTEGER among REALs widened
    assert b.column(2).null_count == 3
    assert b.column(3).to_pylist() == [b"\x00\xff"] * 3
    assert b.column(4).to_pylist() == ["é"] * 3


def test_integers_among_text_are_their_decimal_text(tmp_path: Path) -> None:
    rows = [(1, -(2**63), "x"), (2, "y", None), (3, 0, "")]
    c = sqlite_native.connect(read_only_uri(_db(tmp_path / "i.db", rows)))
    try:
        (b,) = _read(c, "SELECT a, b FROM t ORDER BY id")
    finally:
        c.close()
    assert b.column(0).type == pa.string()
    assert b.column(0).to_pylist() == [str(-(2**63)), "y", "0"]
    assert b.column(1).to_pylist() == ["x", None, ""]  # an empty text is no NULL


@pytest.mark.parametrize(
    "values",
    [
        [1.5, "text"],  # a REAL among TEXT: the driver would spell it %e
        [b"ab", "text"],  # a BLOB among TEXT: the driver would give bytes
        [b"ab", 7],
        [b"ab", 0.5],
    ],
)
def test_a_batch_mixing_what_the_driver_would_convert_is_refused(
    tmp_path: Path, values: list[Any]
) -> None:
    rows = [(i + 1, v, None) for i, v in enumerate(values)]
    c = sqlite_native.connect(read_only_uri(_db(tmp_path / "m.db", rows)))
    try:
        with pytest.raises(sqlite_native.Mismatch):
            _read(c, "SELECT a FROM t")
    finally:
        c.close()


def test_later_batches_keep_the_first_batchs_types(tmp_path: Path) -> None:
    """Widened as the driver widens (integers into a double or text column, a batch of
    NULLs into any), refused where it would convert anything else."""
    rows = [(1, 1.5, "a"), (2, 7, 8), (3, None, None), (4, 2**53, "b")]
    c = sqlite_native.connect(read_only_uri(_db(tmp_path / "l.db", rows)))
    try:
        got = _read(c, "SELECT a, b FROM t WHERE id < 4 ORDER BY id", batch=1)
        assert [b.schema.types for b in got] == [[pa.float64(), pa.string()]] * 3
        assert [b.column(0)[0].as_py() for b in got] == [1.5, 7.0, None]
        assert [b.column(1)[0].as_py() for b in got] == ["a", "8", None]
        # an integer a double may have rounded
        with pytest.raises(sqlite_native.Mismatch):
            _read(c, "SELECT a FROM t WHERE id IN (1, 4) ORDER BY id", batch=1)
        # text after integers, a REAL after integers
        with pytest.raises(sqlite_native.Mismatch):
            _read(c, "SELECT b FROM t WHERE id IN (2, 1) ORDER BY id DESC", batch=1)
        with pytest.raises(sqlite_native.Mismatch):
            _read(c, "SELECT a FROM t WHERE id IN (2, 1) ORDER BY id DESC", batch=1)
    finally:
        c.close()


def test_an_empty_result_is_one_empty_batch_of_int64_columns(conn: Any) -> None:
    (b,) = _read(conn, "SELECT a, b FROM t WHERE 0")
    assert b.num_rows == 0 and b.schema.names == ["a", "b"]
    assert b.schema.types == [pa.int64(), pa.int64()]


def test_batches_split_the_rows_and_name_the_columns(conn: Any) -> None:
    got = _read(conn, 'SELECT id AS "编号", b FROM t ORDER BY id', batch=4)
    assert [b.num_rows for b in got] == [4, 4, 2]
    assert got[0].schema.names == ["编号", "b"]
    table = pa.Table.from_batches(got)
    assert table.column(0).to_pylist() == list(range(1, 11))
    assert table.column(1).to_pylist() == [f"客户{i}" for i in range(1, 11)]


def test_parameters_are_bound_by_position(conn: Any) -> None:
    sql = "SELECT ?, ?, ?, ?, ? FROM t WHERE id = ?"
    (b,) = _read(conn, sql, params=(2**63 - 1, 0.25, "张三", b"\x00", None, 3))
    assert b.num_rows == 1
    assert [b.column(i)[0].as_py() for i in range(5)] == [2**63 - 1, 0.25, "张三", b"\x00", None]
    (b,) = _read(conn, "SELECT ?, ?", params=(bytearray(b"ab"), memoryview(b"cd")))
    assert [b.column(i)[0].as_py() for i in range(2)] == [b"ab", b"cd"]  # as sqlite3 binds


@pytest.mark.parametrize(
    ("sql", "params", "words"),
    [
        ("SELECT ? FROM t", (2**63,), "out of range"),
        ("SELECT ? FROM t", (object(),), "unsupported type"),
        ("SELECT ? FROM t", ("\ud800",), "cannot be UTF-8"),
        ("SELECT ?, ? FROM t", (1,), "2 parameters expected, 1 given"),
        ("SELECT 1; SELECT 2", None, "more than one statement"),
        ("SELECT nope FROM t", None, "no such column"),
        ("INSERT INTO t VALUES (99, 1, 1)", None, "readonly"),
    ],
)
def test_a_bad_statement_is_sqlites_error_not_a_crash(
    conn: Any, sql: str, params: Any, words: str
) -> None:
    with pytest.raises(Exception, match=words) as got:
        _read(conn, sql, params=params)
    assert isinstance(got.value, sqlite_native.errors())


def test_text_of_a_utf16_database_arrives_as_utf8(tmp_path: Path) -> None:
    rows = [(1, "交接", "ü"), (2, "", None)]
    c = sqlite_native.connect(read_only_uri(_db(tmp_path / "u.db", rows, encoding="UTF-16le")))
    try:
        (b,) = _read(c, "SELECT a, b FROM t ORDER BY id")
    finally:
        c.close()
    assert b.column(0).to_pylist() == ["交接", ""]
    assert b.column(1).to_pylist() == ["ü", None]


def test_text_that_is_no_utf8_is_refused_by_the_reader(tmp_path: Path) -> None:
    """The bytes come as they are stored; the reader's validation refuses them, and
    sqlite3 then reads (and names the problem)."""
    from handover.db.adbc import ArrowReader

    path = tmp_path / "bad.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (a TEXT)")
    con.execute("INSERT INTO t VALUES (CAST(x'ff41' AS TEXT))")
    con.commit()
    con.close()
    reader = ArrowReader.open(path)
    assert reader is not None and reader.native
    try:
        stream = reader.stream("SELECT a FROM t", 10)
        assert list(stream.pages()) == [] and stream.refused
        assert reader.page("SELECT a FROM t", ()) is None
    finally:
        reader.close()


def test_a_statement_outlives_its_closed_connection(tmp_path: Path) -> None:
    """SQLite keeps a closed connection until its last statement is finalized."""
    rows = [(i, i, None) for i in range(1, 6)]
    c = sqlite_native.connect(read_only_uri(_db(tmp_path / "c.db", rows)))
    got = sqlite_native.batches(c, "SELECT a FROM t ORDER BY id", None, 2)
    first = next(got)
    c.close()
    rest = list(got)
    assert [x for b in [first, *rest] for x in b.column(0).to_pylist()] == [1, 2, 3, 4, 5]
    with pytest.raises(sqlite_native.errors(), match="connection closed"):
        _read(c, "SELECT 1")


def test_a_file_that_is_no_database_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"not a database at all" * 100)
    c = sqlite_native.connect(read_only_uri(path))  # SQLite opens lazily
    try:
        with pytest.raises(sqlite_native.errors(), match="not a database"):
            _read(c, "SELECT * FROM sqlite_master")
    finally:
        c.close()


def test_a_connection_steps_one_statement_at_a_time(tmp_path: Path) -> None:
    """The connection runs without SQLite's mutex and the interpreter lock is released
    while a statement steps: a second statement (or close) meanwhile is refused, never
    run at the same time (that crashed the interpreter)."""
    import threading

    rows = [(i, i, "x" * 50) for i in range(1, 200_001)]
    c = sqlite_native.connect(read_only_uri(_db(tmp_path / "two.db", rows)))
    try:
        one, two = c.execute("SELECT * FROM t ORDER BY b DESC"), c.execute("SELECT * FROM t")
        outcomes: list[str] = []
        start = threading.Barrier(2)

        def drain(stmt: Any) -> None:
            start.wait()
            n = 0
            try:
                while True:
                    got, done, _cols = stmt.fetch(20_000)
                    n += got
                    if done:
                        break
                outcomes.append(f"rows {n}")
            except sqlite_native.errors() as exc:
                outcomes.append(str(exc))

        for _ in range(3):
            threads = [threading.Thread(target=drain, args=(s,)) for s in (one, two)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # whatever interleaving: whole results or the refusal, never wrong counts
            assert set(outcomes) <= {"rows 200000", "connection in use", "the statement failed"}
            outcomes.clear()
            one.close()
            two.close()
            one, two = c.execute("SELECT * FROM t ORDER BY b DESC"), c.execute("SELECT * FROM t")
        one.close()
        two.close()
    finally:
        c.close()


def test_columns_changed_between_execute_and_the_first_fetch_are_refused(
    tmp_path: Path,
) -> None:
    """SQLite prepares a statement again at its first step when the schema changed: the
    columns named at execute() would label other values."""
    path = _db(tmp_path / "alter.db", [(1, 2, "three")])
    c = sqlite_native.connect(read_only_uri(path))
    try:
        stmt = c.execute("SELECT * FROM t")
        w = sqlite3.connect(path)
        w.execute("ALTER TABLE t DROP COLUMN a")
        w.commit()
        w.close()
        with pytest.raises(sqlite_native.errors(), match="columns changed"):
            stmt.fetch(10)
        with pytest.raises(sqlite_native.errors(), match="failed"):
            stmt.fetch(10)  # never the query again from its first row
        stmt.close()
        (b,) = _read(c, "SELECT * FROM t")  # a statement prepared now is fine
        assert b.schema.names == ["id", "b"] and b.to_pylist() == [{"id": 1, "b": "three"}]
    finally:
        c.close()


def test_a_statement_that_failed_stays_failed(conn: Any) -> None:
    """SQLite restarts a statement stepped after an error: the reader refuses instead."""
    stmt = conn.execute(
        "SELECT CASE WHEN id < 4 THEN id ELSE abs(-9223372036854775807 - 1) END FROM t"
    )
    got, done, _cols = stmt.fetch(3)
    assert (got, done) == (3, 0)
    with pytest.raises(sqlite_native.errors(), match="integer overflow"):
        stmt.fetch(3)
    with pytest.raises(sqlite_native.errors(), match="failed"):
        stmt.fetch(3)
    stmt.close()


def test_sql_holding_a_nul_is_refused_not_cut(conn: Any) -> None:
    with pytest.raises(sqlite_native.errors(), match="null character"):
        _read(conn, "SELECT 1\x00; DELETE FROM t")


def test_a_finished_statement_answers_no_rows_with_its_columns(conn: Any) -> None:
    stmt = conn.execute("SELECT id, b FROM t")
    while not stmt.fetch(4)[1]:
        pass
    got, done, cols = stmt.fetch(4)
    assert (got, done, len(cols)) == (0, 1, 2)
    stmt.close()
    assert stmt.fetch(4)[:2] == (0, 1)
