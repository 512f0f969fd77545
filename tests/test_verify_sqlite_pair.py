"""SQLite against SQLite: both files read by one connection (ATTACH) and joined on the key.

Every case is also compared the other way (the digest path, with the join switched off)
and both verdicts must be the same, key for key.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from handover.db.dialects import sqlite as sqlite_pair_sql
from handover.verify import VerifyResult, compare, pair
from handover.verify import verify as kernel


def _db(path: Path, ddl: str, rows: list[tuple[Any, ...]], *more: str) -> str:
    con = sqlite3.connect(path)
    con.executescript(ddl)
    if rows:
        marks = ",".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO t VALUES ({marks})", rows)
    for stmt in more:
        con.execute(stmt)
    con.commit()
    con.close()
    return str(path)


def _pair(tmp: Path, ddl: str, rows: list[tuple[Any, ...]], *changes: str) -> tuple[str, str]:
    """A source file and a target file holding the same rows, then ``changes``."""
    return _db(tmp / "a.db", ddl, rows), _db(tmp / "b.db", ddl, rows, *changes)


def _both(a: str, b: str, monkeypatch: pytest.MonkeyPatch) -> VerifyResult:
    """The join's verdict, checked against the digest path's on the same files."""
    joined = compare(a, b)
    with monkeypatch.context() as m:
        m.setattr(kernel, "open_links", lambda _src, _dst: None)
        digests = compare(a, b)
    assert [t.segment_key for t in digests.tables] != ["sqlite-join"] * len(digests.tables)
    assert [t.to_json() for t in joined.tables] == [t.to_json() for t in digests.tables]
    return joined


DDL = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, amount DECIMAL(14,2), at TIMESTAMP)"
ROWS = [(i, f"客户{i}", i * 1.25, f"2024-01-{1 + i % 28:02d} 10:00:00") for i in range(1, 201)]


def test_equal_files_fetch_no_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = _db(tmp_path / "a.db", DDL, ROWS)
    b = _db(tmp_path / "b.db", DDL, list(reversed(ROWS)))
    res = _both(a, b, monkeypatch)
    table = res.tables[0]
    assert res.equal and table.segment_key == "sqlite-join"
    assert (table.source_rows, table.target_rows, table.rows_fetched) == (200, 200, 0)
    assert res.normalisations == ["stored"]


def test_one_changed_cell_deleted_and_inserted_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _pair(
        tmp_path,
        DDL,
        ROWS,
        "UPDATE t SET amount = amount + 0.01 WHERE id = 17",
        "DELETE FROM t WHERE id IN (3, 150)",
        "INSERT INTO t VALUES (500, 'new', 1, NULL), (0, 'zero', 2, NULL)",
    )
    table = _both(a, b, monkeypatch).tables[0].to_json()
    assert table["changed"] == [17]
    assert table["missing"] == [3, 150]
    assert table["extra"] == [0, 500]
    assert (table["source_rows"], table["target_rows"]) == (200, 200)


def test_null_is_not_the_empty_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ddl = "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, n INTEGER)"
    a = _db(tmp_path / "a.db", ddl, [(1, None, 1), (2, "", 2), (3, None, None), (4, "x", 0)])
    b = _db(tmp_path / "b.db", ddl, [(1, "", 1), (2, None, 2), (3, None, None), (4, "x", None)])
    assert _both(a, b, monkeypatch).tables[0].to_json()["changed"] == [1, 2, 4]


def test_storage_classes_and_bytes_are_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``quote()`` tells apart: 5 / 5.0 / '5' / X'35', case, a trailing space, NFC,
    the one INTEGER/REAL pair of equal value a NUMERIC column keeps (-2^63)."""
    ddl = "CREATE TABLE t (id INTEGER PRIMARY KEY, anyv, num NUMERIC, txt TEXT COLLATE NOCASE)"
    low = -(2**63)
    a_rows = [
        (1, 5, 1, "a"),
        (2, 5, 1, "a"),
        (3, "5", 1, "a"),
        (4, b"5", 1, "a"),
        (5, 1, low, "a"),
        (6, 1, 1, "Abc"),
        (7, 1, 1, "x"),
        (8, 1, 1, "é"),
        (9, 2.5, 12.5, "same"),
    ]
    b_rows = [
        (1, 5, 1, "a"),
        (2, 5.0, 1, "a"),
        (3, 5, 1, "a"),
        (4, "5", 1, "a"),
        (5, 1, float(low), "a"),
        (6, 1, 1, "abc"),
        (7, 1, 1, "x "),
        (8, 1, 1, "e\u0301"),
        (9, 2.5, "12.5", "same"),
    ]
    a = _db(tmp_path / "a.db", ddl, a_rows)
    b = _db(tmp_path / "b.db", ddl, b_rows)
    # 1 and 9 are equal ('12.5' is stored as REAL 12.5 in a NUMERIC column)
    assert _both(a, b, monkeypatch).tables[0].to_json()["changed"] == [2, 3, 4, 5, 6, 7, 8]


def test_columns_of_other_affinities_compare_storage_classes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'5' in a TEXT column against 5 in an INTEGER column compares equal in SQL: the
    join still reports it (and 5 against 5.0 in INTEGER against REAL)."""
    a = _db(
        tmp_path / "a.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, w INTEGER)",
        [(1, "5", 5), (2, "x", 5), (3, None, None)],
    )
    b = _db(
        tmp_path / "b.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, w REAL)",
        [(1, 5, 6), (2, "x", 5), (3, None, None)],
    )
    res = _both(a, b, monkeypatch)
    assert res.tables[0].to_json()["changed"] == [1, 2]


def test_composite_text_key_and_a_key_collation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ddl = "CREATE TABLE t (k TEXT, n INTEGER, v TEXT, PRIMARY KEY (k, n)) WITHOUT ROWID"
    rows = [(f"k{i % 7}", i, f"v{i}") for i in range(100)]
    a, b = _pair(
        tmp_path,
        ddl,
        rows,
        "UPDATE t SET v = 'changed' WHERE k = 'k3' AND n = 3",
        "DELETE FROM t WHERE k = 'k1' AND n = 8",
        "INSERT INTO t VALUES ('K1', 8, 'v8')",
    )
    res = _both(a, b, monkeypatch)
    table = res.tables[0]
    assert table.segment_key == "sqlite-join"
    assert table.to_json()["changed"] == [["k3", 3]]
    assert table.to_json()["missing"] == [["k1", 8]]
    assert table.to_json()["extra"] == [["K1", 8]]
    # a key compared without case cannot be joined one to one: the digests compare it
    nocase = "CREATE TABLE t (k TEXT COLLATE NOCASE PRIMARY KEY, v TEXT)"
    c = _db(tmp_path / "c.db", nocase, [("a", "1"), ("b", "2")])
    d = _db(tmp_path / "d.db", nocase, [("A", "1"), ("b", "3")])
    res = compare(c, d)
    assert res.tables[0].segment_key != "sqlite-join"
    assert res.tables[0].to_json()["missing"] == ["a"]
    assert res.tables[0].to_json()["extra"] == ["A"]
    assert res.tables[0].to_json()["changed"] == ["b"]


def test_large_table_split_in_key_ranges_with_null_keys(tmp_path: Path) -> None:
    """Above PAIR_SPLIT_ROWS the join runs as key ranges; a key that is not the rowid
    may be NULL (SQLite allows it) and is still compared."""
    n = pair.PAIR_SPLIT_ROWS + 5_000
    ddl = "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT, x REAL)"
    rnd = random.Random(3)
    rows: list[tuple[Any, ...]] = [(i, f"v{i}", i / 7) for i in range(1, n + 1)]
    a = _db(tmp_path / "a.db", ddl, [*rows, (None, "null key", 1.0)])
    picks = rnd.sample(range(1, n + 1), 60)
    changed, missing = sorted(picks[:30]), sorted(picks[30:])
    b_rows = [r for r in rows if r[0] not in set(missing)]
    b_rows = [(i, v + "!" if i in set(changed) else v, x) for i, v, x in b_rows]
    b = _db(tmp_path / "b.db", ddl, [*b_rows, (n + 10, "extra", 0.5), (None, "null key", 2.0)])
    # (the digest path cannot place a NULL key in a segment: no comparison with it here)
    res = compare(a, b)
    table = res.tables[0].to_json()
    assert res.tables[0].segment_key == "sqlite-join" and res.tables[0].queries > 6
    # the NULL keys meet in the Python comparison and differ in x
    assert table["changed"] == [*changed, None] or table["changed"] == [None, *changed]
    assert table["missing"] == missing
    assert table["extra"] == [n + 10]
    assert res.tables[0].rows_fetched < 200


def test_a_sqlite_url_and_a_path_are_joined_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = _db(tmp_path / "a.db", DDL, ROWS)
    b = _db(tmp_path / "b b.db", DDL, ROWS, "DELETE FROM t WHERE id = 9")
    for src, dst in ((f"sqlite:///{a}", b), (a, f"sqlite:///{b}")):
        res = _both(src, dst, monkeypatch)
        assert res.tables[0].segment_key == "sqlite-join"
        assert res.tables[0].to_json()["missing"] == [9]
    # the target file is opened read-only and left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.db", "b b.db"]


def test_a_null_key_keeps_a_cluster_part_whole(tmp_path: Path) -> None:
    """A cluster cuts a table into key ranges, which never hold a NULL key: a table whose
    key holds one is one part, which the join compares (NULL keys included)."""
    ddl = "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)"
    rows: list[tuple[Any, ...]] = [(i, f"v{i}") for i in range(1, 301)]
    a = _db(tmp_path / "a.db", ddl, [*rows, (None, "null key")])
    b = _db(tmp_path / "b.db", ddl, [*rows, (None, "changed")])
    cut = kernel.parts(a, b, None, 100)
    assert cut == [kernel.Part("t")]
    res = kernel.merge_parts([kernel.compare_part(a, b, p) for p in cut])
    assert res.to_json()["changed"] == [None] and (res.source_rows, res.target_rows) == (301, 301)
    c = _db(tmp_path / "c.db", ddl, rows)
    assert len(kernel.parts(c, c, None, 100)) == 3


def test_keys_joined_equal_still_differ_by_storage_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key columns are no longer compared column by column (the join found them
    equal), but for the pairs a join calls equal and ``quote()`` does not: -2^63 as an
    INTEGER and as a REAL in a NUMERIC key, 5 and 5.0 in a key of BLOB affinity. Such
    keys are two keys, as the digests tell them: a missing row and an extra one."""
    low = -(2**63)
    num = "CREATE TABLE t (k NUMERIC, j INTEGER, v TEXT, PRIMARY KEY (k, j))"
    a = _db(tmp_path / "a.db", num, [(low, 1, "x"), (1, 1, "x"), (2, low, "x")])
    b = _db(tmp_path / "b.db", num, [(float(low), 1, "x"), (1, 1, "x"), (2, float(low), "x")])
    table = _both(a, b, monkeypatch).tables[0]
    assert table.segment_key == "sqlite-join"
    assert (table.n_missing, table.n_extra, table.n_changed) == (2, 2, 0)
    assert table.to_json()["missing"] == [[low, 1], [2, low]]
    blob = "CREATE TABLE t (k PRIMARY KEY, v TEXT)"
    c = _db(tmp_path / "c.db", blob, [(5, "x"), (6, "x"), ("7", "x")])
    d = _db(tmp_path / "d.db", blob, [(5.0, "x"), (6, "x"), ("7", "x")])
    table = _both(c, d, monkeypatch).tables[0]
    assert table.segment_key == "sqlite-join"
    assert (table.changed, table.missing, table.extra) == ([], [5], [5.0])


def test_rows_appended_after_the_last_key_need_no_anti_join(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Target rows past the source's last key (or before its first) are found by the
    key's index; where they are not all the unmatched rows (one in the middle, a NULL
    key), the anti-join finds every one."""
    ddl = "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)"
    rows: list[tuple[Any, ...]] = [(i, f"v{i}") for i in range(10, 210, 2)]
    extras = [(0, "before"), (500, "after"), (501, "after")]
    a, b = _pair(tmp_path, ddl, rows, "DELETE FROM t WHERE id = 50")
    _db(Path(b), "", extras)
    anti: list[str] = []
    real_extra = sqlite_pair_sql.PairSQL.extra

    def extra(self: Any, where: str = "1") -> str:
        anti.append(where)
        return real_extra(self, where)

    monkeypatch.setattr(sqlite_pair_sql.PairSQL, "extra", extra)
    table = compare(a, b).tables[0].to_json()
    assert (table["missing"], table["extra"]) == ([50], [0, 500, 501]) and anti == []
    _db(Path(b), "", [(55, "inside")])
    table = compare(a, b).tables[0].to_json()
    assert (table["missing"], table["extra"]) == ([50], [0, 55, 500, 501]) and anti
    anti.clear()
    _db(Path(b), "", [(None, "null key")])
    table = compare(a, b).tables[0]
    assert table.n_extra == 5 and None in table.extra and anti


def test_every_key_range_runs_costliest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large table is cut into key ranges of about equal cost; all ranges of all
    tables are queued costliest first (the links end together); the verdict is the
    same as one join's."""
    monkeypatch.setattr(pair, "PAIR_SPLIT_ROWS", 100)
    con = sqlite3.connect(tmp_path / "a.db")
    con.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT, w TEXT)")
    con.execute("CREATE TABLE mid (a INTEGER, b INTEGER, v TEXT, PRIMARY KEY (a, b))")
    con.execute("CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT)")
    con.executemany("INSERT INTO big VALUES (?, ?, ?)", [(i, f"v{i}", "w") for i in range(4000)])
    con.executemany("INSERT INTO mid VALUES (?, ?, ?)", [(i // 3, i % 3, "m") for i in range(900)])
    con.executemany("INSERT INTO small VALUES (?, ?)", [(i, "s") for i in range(50)])
    con.commit()
    con.close()
    a, b = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    shutil.copyfile(a, b)
    _db(Path(b), "", [], "UPDATE big SET v = 'x' WHERE id IN (1, 3999)")
    _db(Path(b), "", [], "DELETE FROM mid WHERE a = 7 AND b = 1")
    queued: list[str] = []
    real_later = pair.Links.later

    def later(self: Any, fn: Any, *args: Any) -> Any:
        # a statement, or the parts of a table whose key is not the rowid (by rowid)
        queued.append(
            args[0].split(" FROM ")[1].split()[0] if fn == self.run else args[0].plan.name
        )
        return real_later(self, fn, *args)

    monkeypatch.setattr(pair.Links, "later", later)
    res = compare(a, b)
    by_name = {t.name: t.to_json() for t in res.tables}
    assert by_name["big"]["changed"] == [1, 3999]
    assert by_name["mid"]["missing"] == [[7, 1]]
    assert by_name["small"]["changed"] == []
    # costs: big 4,000 rows x (6 + 3 columns), mid 900 x (6 + 3: its key is not the
    # rowid, but both copies kept the rowids), small 50 x (6 + 2); 8 pieces of 5,562 →
    # big in 7 ranges, mid in 2 (of its rowids), small whole (below PAIR_SPLIT_ROWS);
    # the costliest first
    assert queued == ['main."big"'] * 7 + ["mid"] * 2 + ['main."small"']
    with monkeypatch.context() as m:
        m.setattr(pair, "PAIR_SPLIT_ROWS", 10**9)
        whole = compare(a, b)
    assert [t.to_json() for t in whole.tables] == [t.to_json() for t in res.tables]


COMPOSITE = "CREATE TABLE t (loan INTEGER, period INTEGER, due TEXT, paid NUMERIC, PRIMARY KEY (loan, period))"
PLAN_ROWS = [(i // 6, i % 6, f"2024-{1 + i % 12:02d}-15", i * 10) for i in range(600)]


def _rowid_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the by-rowid statements the comparisons build (a list to read)."""
    made: list[str] = []
    for name in (
        "changed_by_rowid",
        "changed_of",
        "extra_by_rowid",
        "extra_of",
        "changed",
        "extra",
    ):
        real = getattr(sqlite_pair_sql.PairSQL, name)

        def wrapped(self: Any, *args: Any, _real: Any = real, _name: str = name) -> str:
            made.append(_name)
            return str(_real(self, *args))

        monkeypatch.setattr(sqlite_pair_sql.PairSQL, name, wrapped)
    return made


def test_a_key_that_is_not_the_rowid_pairs_rows_by_rowid_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the target kept the source's rowids, a row's partner is sought at the same
    rowid (one seek); a row whose rowid holds another key there (or none) is looked up by
    key: a key moved to a new rowid (equal or changed), a key changed in place, rows
    added inside the key range and past it. The verdict is the digests'."""
    a, b = _pair(
        tmp_path,
        COMPOSITE,
        PLAN_ROWS,
        "UPDATE t SET paid = paid + 1 WHERE loan = 3 AND period = 2",
        # the same row again, at a new rowid; and a changed one
        "DELETE FROM t WHERE loan = 5 AND period IN (1, 2)",
        "INSERT INTO t VALUES (5, 1, '2024-08-15', 310), (5, 2, '2024-09-15', 0)",
        "UPDATE t SET period = 9 WHERE loan = 7 AND period = 0",  # a key changed in place
        "DELETE FROM t WHERE loan = 8 AND period = 3",
        "INSERT INTO t VALUES (8, 7, 'inside', 1), (200, 0, 'after', 2)",
    )
    made = _rowid_statements(monkeypatch)
    table = _both(a, b, monkeypatch).tables[0].to_json()
    assert table["changed"] == [[3, 2], [5, 2]]
    assert table["missing"] == [[7, 0], [8, 3]]
    assert table["extra"] == [[200, 0], [7, 9], [8, 7]]  # keys sort as their text
    assert "changed_by_rowid" in made and "changed_of" in made and "extra_by_rowid" in made
    assert "changed" not in made and "extra" in made  # extra_of asks extra() for its rows


def test_a_renumbered_copy_is_joined_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy whose rowids differ (rows written in another order) pairs few rows by
    rowid: past the cap the part is joined by key, and the target's unmatched rows are
    found by the anti-join. WITHOUT ROWID tables, and tables with a column named
    ``_rowid_``, are joined by key from the start."""
    monkeypatch.setattr(pair, "ROWID_CAP", 5)
    a = _db(tmp_path / "a.db", COMPOSITE, PLAN_ROWS)
    changes = [
        "UPDATE t SET due = 'x' WHERE loan = 1 AND period = 1",
        "DELETE FROM t WHERE loan = 4",
    ]
    b = _db(tmp_path / "b.db", COMPOSITE, list(reversed(PLAN_ROWS)), *changes)
    _db(Path(b), "", [(2, 9, "inside", 1)])
    made = _rowid_statements(monkeypatch)
    table = _both(a, b, monkeypatch).tables[0].to_json()
    assert table["changed"] == [[1, 1]]
    assert table["missing"] == [[4, p] for p in range(6)]
    assert table["extra"] == [[2, 9]]
    assert made.count("changed_by_rowid") == 1 and "changed" in made and "changed_of" not in made
    assert "extra_by_rowid" in made and "extra_of" not in made
    for ddl in (
        COMPOSITE.replace("))", ")) WITHOUT ROWID"),
        COMPOSITE.replace("paid NUMERIC", '"_ROWID_" NUMERIC'),
    ):
        c = _db(tmp_path / "c.db", ddl, PLAN_ROWS)
        d = _db(tmp_path / "d.db", ddl, PLAN_ROWS, "UPDATE t SET due = 'y' WHERE loan = 2")
        made.clear()
        table = _both(c, d, monkeypatch).tables[0].to_json()
        assert table["changed"] == [[2, p] for p in range(6)]
        assert "changed_by_rowid" not in made
        (tmp_path / "c.db").unlink()
        (tmp_path / "d.db").unlink()


def test_both_files_of_a_join_are_read_through_memory_maps(tmp_path: Path) -> None:
    """A join reads every page of both files: each is mapped (no system call a page);
    detaching unmaps the main file again, whose connection goes back to its pool."""
    a = _db(tmp_path / "a.db", DDL, ROWS)
    b = _db(tmp_path / "b.db", DDL, ROWS)
    d = sqlite_pair_sql.SQLite()
    con = sqlite3.connect(a)
    assert con.execute("PRAGMA main.mmap_size").fetchone()[0] == 0
    assert d.attach(con, b, uri=False)
    for schema in ("main", sqlite_pair_sql.PAIR):
        assert con.execute(f"PRAGMA {schema}.mmap_size").fetchone()[0] > 0
    d.detach(con)
    assert con.execute("PRAGMA main.mmap_size").fetchone()[0] == 0
    con.close()


def test_a_key_column_collation_does_not_pair_keys_that_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key's index compares BINARY while its column declares NOCASE (or RTRIM): the
    join compares the keys BINARY too, or 'A' would pair with 'a' and, the key columns
    not being compared again, the table would be called equal."""
    for coll, src, dst in (("NOCASE", "A", "a"), ("RTRIM", "a", "a ")):
        ddl = f"CREATE TABLE t (k TEXT COLLATE {coll}, v TEXT, PRIMARY KEY (k COLLATE BINARY))"
        a = _db(tmp_path / "a.db", ddl, [(src, "x"), ("same", "y")])
        b = _db(tmp_path / "b.db", ddl, [(dst, "x"), ("same", "y")])
        table = _both(a, b, monkeypatch).tables[0]
        assert table.segment_key == "sqlite-join"
        assert (table.missing, table.extra, table.changed) == ([src], [dst], [])
        (tmp_path / "a.db").unlink()
        (tmp_path / "b.db").unlink()


def test_a_null_in_a_later_key_column_is_compared_by_the_digests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key ranges part the first key column only: a NULL in a later one lies inside them,
    and a split scan compares it (it was refused as a NULL key)."""
    rows: list[tuple[Any, ...]] = [(i, None, f"v{i}") for i in range(1, 401)]
    a = _db(
        tmp_path / "a.db", "CREATE TABLE t (a INTEGER, b INTEGER, v TEXT, PRIMARY KEY (a, b))", rows
    )
    # another affinity of b: the join cannot pair the keys, the digests compare them
    ddl_b = "CREATE TABLE t (a INTEGER, b NUMERIC, v TEXT, PRIMARY KEY (a, b))"
    b = _db(tmp_path / "b.db", ddl_b, rows, "UPDATE t SET v = 'x' WHERE a = 300")
    res = compare(a, b)
    table = res.tables[0]
    assert table.segment_key != "sqlite-join"
    assert table.to_json()["changed"] == [[300, None]]
    assert kernel.parts(a, b, None, 100)[0].lo is not None


def test_closing_the_links_interrupts_the_statement_under_way(tmp_path: Path) -> None:
    """A failure elsewhere or Ctrl-C closes the links: the range under way is interrupted
    (it could take seconds), the ranges queued are dropped."""
    a = _db(tmp_path / "a.db", DDL, ROWS)
    b = _db(tmp_path / "b.db", DDL, ROWS)
    engine = kernel.connect(a)
    links = pair.open_links(engine, kernel.connect(b))
    assert links is not None
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"
    running = links.submit(endless)
    queued = [links.submit(endless) for _ in range(3)]
    while not running.running():
        time.sleep(0.01)
    links.close()
    with pytest.raises(pair.LinkFailed, match="interrupt"):
        running.result()
    assert all(f.cancelled() or f.exception() is not None for f in queued)
    engine.dispose()


def test_a_cluster_part_tells_a_database_failure_as_the_databases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the files' joined connections fails for the databases, not for a table:
    a cluster's part tells it as the whole comparison does (``verify.db_failed``)."""
    import sqlalchemy as sa

    from handover.errors import BadInput

    a, b = _pair(tmp_path, DDL, ROWS)

    def refused(_src: Any, _dst: Any) -> None:
        raise sa.exc.OperationalError("ATTACH", {}, sqlite3.OperationalError("unable to open"))

    monkeypatch.setattr(kernel, "open_links", refused)
    for run in (lambda: compare(a, b), lambda: kernel.compare_part(a, b, kernel.Part("t"))):
        with pytest.raises(BadInput) as caught:
            run()
        assert caught.value.message is not None
        assert caught.value.message.key == "verify.db_failed"
