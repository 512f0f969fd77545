"""A SQLite file against PostgreSQL merged row by row over Arrow (verify.rowmerge).

The merge only names the keys that may differ; the reference comparison decides. So
what matters is that it names every difference (a key on one side only, a value whose
text or nullness differs) across batch boundaries, and that the verdict is the digest
path's, key for key.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import sqlalchemy as sa

from handover.db.dialects.postgresql import PostgreSQL
from handover.errors import BadInput
from handover.verify import compare, rowmerge
from test_verify_engines import run


def _stream(rows: dict[Any, str | None], sizes: Iterator[int]) -> Iterator[Any]:
    keys = sorted(rows)
    i = 0
    while i < len(keys):
        part = keys[i : i + next(sizes)]
        i += len(part)
        texts = pa.array([rows[k] for k in part], pa.string())
        yield np.array(part, np.int64).reshape(len(part), -1), texts


def _sizes(rng: random.Random) -> Iterator[int]:
    while True:
        yield rng.choice([1, 2, 3, 7, 50, 200])


@pytest.mark.parametrize("seed", range(16))
def test_the_merge_names_every_key_that_differs_across_batches(seed: int) -> None:
    """Random key sets with gaps (one integer, or two: runs of rows sharing the first),
    rows on one side only at either end and in between, changed texts and NULLs against
    texts, cut into batches of random sizes on each side: the merge names exactly the
    first keys of the rows a dictionary comparison names."""
    rng = random.Random(seed)
    pair = seed % 2 == 1

    def key() -> Any:
        first = rng.randint(-500, 3000)
        return (first, rng.choice([-(2**63), -1, 0, 1, 2, 2**62])) if pair else first

    a: dict[Any, str | None] = {}
    for _ in range(rng.randint(0, 900)):
        a[key()] = rng.choice(["x", "y", "", None, "长文本"])
    b = {k: v for k, v in a.items() if rng.random() > 0.1}
    for _ in range(60):
        b.setdefault(key(), "x")
    for k in rng.sample(sorted(b), min(len(b), 40)):
        b[k] = rng.choice([None, "z", "", "x"])
    differ = [k for k in set(a) | set(b) if k not in a or k not in b or a[k] != b[k]]
    expected = sorted({k[0] if pair else k for k in differ})
    got = rowmerge._merge(_stream(a, _sizes(rng)), _stream(b, _sizes(rng)))
    assert got.keys == expected
    assert (got.lite_rows, got.server_rows) == (len(a), len(b))


@pytest.mark.parametrize("seed", range(8))
def test_the_same_keys_on_both_sides_are_compared_row_for_row(seed: int) -> None:
    """Both sides hold the same keys (the usual verify), only texts changed or NULL
    against text, cut alike or differently: the merge names exactly the keys whose texts
    differ (pairs of equal key runs are compared without sorting them)."""
    rng = random.Random(seed)
    pair = seed % 2 == 1
    firsts = sorted(rng.sample(range(-500, 5000), rng.randint(1, 1500)))
    keys = [(f, s) for f in firsts for s in range(rng.randint(1, 3))] if pair else firsts
    a: dict[Any, str | None] = {k: rng.choice(["x", "y", "", None, "长文本"]) for k in keys}
    b = dict(a)
    for k in rng.sample(keys, min(len(keys), rng.randint(0, 40))):
        b[k] = rng.choice([None, "z", "", "x", "长文本 "])
    expected = sorted({k[0] if pair else k for k in keys if a[k] != b[k]})
    sizes = _sizes(rng)
    cut = [next(sizes) for _ in range(len(keys))]
    alike = seed % 4 < 2
    got = rowmerge._merge(_stream(a, iter(cut)), _stream(b, iter(cut) if alike else _sizes(rng)))
    assert got.keys == expected
    assert (got.lite_rows, got.server_rows) == (len(a), len(b))


def test_a_key_twice_or_out_of_order_is_refused() -> None:
    """The merge relies on each side's keys rising strictly: a key read twice (a target
    that does not declare the key) or a row out of order, within a batch or across two,
    is refused (the digest path decides then)."""

    def rows(*batches: list[tuple[int, int]]) -> Iterator[Any]:
        for keys in batches:
            yield np.array(keys, np.int64), pa.array(["x"] * len(keys))

    good = [[(1, 1), (1, 2), (2, -5)], [(2, 0), (3, 0)]]
    assert rowmerge._merge(rows(*good), rows(*good)).keys == []
    for bad in (
        [[(1, 1), (1, 1)]],
        [[(1, 2), (1, 1)]],
        [[(1, 1), (2, 0)], [(2, 0)]],
        [[(2, 0)], [(1, 9)]],
    ):
        with pytest.raises(rowmerge._Refused):
            rowmerge._merge(rows(*good), rows(*bad))


def _keyless_target(tmp_path: Path, pg_url: str, odd_row: str) -> Path:
    """A file of 49 keyed rows; PostgreSQL the same rows in a table that does not declare
    its key, and ``odd_row`` besides. The file's path."""
    path = tmp_path / "seller.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR(5))")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(1, 50)])
    con.commit()
    con.close()
    run(
        pg_url,
        "CREATE TABLE t (id integer, v varchar(5))",
        "INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 49) i",
        f"INSERT INTO t VALUES {odd_row}",
    )
    return path


def test_a_target_without_its_key_holding_a_key_twice(tmp_path: Path, pg_url: str) -> None:
    """A target table that does not declare the key can hold a row twice: the merge
    refuses and the digest path reports it, as before."""
    path = _keyless_target(tmp_path, pg_url, "(20, 'v20')")
    result = compare(str(path), pg_url)
    assert result.tables[0].segment_key == "int"
    assert not result.equal and result.tables[0].target_rows == 50, result.to_json()


def test_key_ranges_cover_the_span_once() -> None:
    assert rowmerge.split(-3, 10, 2) == [(-3, 4), (4, 11)]
    assert rowmerge.split(5, 5, 2) == [(5, 6)]
    ranges = rowmerge.split(1, 1_000_003, 2)
    assert ranges[0][0] == 1 and ranges[-1][1] == 1_000_004
    assert all(x[1] == y[0] for x, y in itertools.pairwise(ranges))


_DDL = (
    "CREATE TABLE pay (id BIGINT PRIMARY KEY, amount DECIMAL(14,2), at TIMESTAMP{ts}, "
    "born DATE, name VARCHAR(40), paid BIGINT)"
)


def _rows(n: int) -> list[tuple[Any, ...]]:
    rng = random.Random(7)
    out = []
    for i in range(1, n + 1):
        out.append(
            (
                i * 3,
                round(rng.uniform(0, 99999), 2) if i % 11 else None,
                f"2024-0{1 + i % 9}-1{i % 10} 0{i % 10}:1{i % 6}:2{i % 10}"
                + (".250000" if i % 7 == 0 else ""),
                f"19{50 + i % 50}-0{1 + i % 9}-2{i % 9}",
                f"客户{i}" if i % 13 else None,
                i * 7,
            )
        )
    return out


def _pair(path: Path, url: str, lite: list[tuple[Any, ...]], server: list[tuple[Any, ...]]) -> None:
    con = sqlite3.connect(path)
    con.execute(_DDL.format(ts=""))
    con.executemany("INSERT INTO pay VALUES (?, ?, ?, ?, ?, ?)", lite)
    con.commit()
    con.close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(_DDL.format(ts="(6)")))
        conn.execute(
            sa.text("INSERT INTO pay VALUES (:i, :a, :t, :b, :n, :p)"),
            [dict(zip(("i", "a", "t", "b", "n", "p"), r, strict=True)) for r in server],
        )
    engine.dispose()


def _verdict(result: Any) -> dict[str, Any]:
    table = result.tables[0].to_json()
    return {k: table[k] for k in ("source_rows", "target_rows", "missing", "extra", "changed")}


def test_a_sqlite_file_against_postgresql_is_merged_with_the_digests_verdict(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed values of every kind, rows on one side only, NULL against '' and against
    a value, and texts equal only after NFC or a decimal's scale: the merge's verdict is
    the digest path's, key for key, and equal data fetches nothing."""
    rows = _rows(3000)
    path = tmp_path / "seller.db"
    _pair(path, pg_url, rows, rows)
    equal = compare(str(path), pg_url)
    assert equal.equal and equal.rows_fetched == 0, equal.to_json()
    assert equal.tables[0].segment_key == "row-merge"

    server = {r[0]: list(r) for r in rows}
    server[3][1] = server[3][1] + 0.01 if server[3][1] is not None else 1  # amount
    server[30][2] = "2024-02-11 01:11:21.000001"  # a microsecond
    server[60][3] = "1999-01-01"  # a date
    server[90][4] = "客户30 "  # a trailing space
    server[120][4] = ""  # '' against a name
    server[39][4] = ""  # '' against NULL (key 39: no name)
    server[600][5] = None  # NULL against a number
    del server[900], server[9000]  # missing, the last key too
    server[1] = [1, 1.5, None, None, "extra", 1]  # below every source key
    server[9001] = [9001, None, None, None, None, None]  # above
    lite = list(rows)
    nfd = unicodedata.normalize("NFD", "Café")
    lite[499] = (*lite[499][:4], nfd, lite[499][5])  # key 1500: NFD here, NFC there
    server[1500][4] = unicodedata.normalize("NFC", "Café")
    path.unlink()
    run(pg_url, "DROP TABLE pay")
    _pair(path, pg_url, lite, [tuple(v) for _k, v in sorted(server.items())])

    merged = compare(str(path), pg_url)
    assert merged.tables[0].segment_key == "row-merge"
    monkeypatch.setattr(PostgreSQL, "arrow_reads", lambda self, engine: None)
    digests = compare(str(path), pg_url)
    assert digests.tables[0].segment_key == "int"
    assert _verdict(merged) == _verdict(digests)
    got = _verdict(merged)
    assert got["missing"] == [900, 9000] and got["extra"] == [1, 9001]
    assert got["changed"] == [3, 30, 39, 60, 90, 120, 600], got
    assert (got["source_rows"], got["target_rows"]) == (3000, 3000)
    # PostgreSQL as the source, the file as the target: the same rows, sides swapped
    monkeypatch.undo()
    back = compare(pg_url, str(path))
    assert back.tables[0].segment_key == "row-merge"
    swapped = _verdict(back)
    assert (swapped["missing"], swapped["extra"]) == (got["extra"], got["missing"])
    assert swapped["changed"] == got["changed"]


def test_what_the_merge_cannot_render_goes_to_the_digests(tmp_path: Path, pg_url: str) -> None:
    """A date stored as an INTEGER (its text is SQLite's to render) sends the table to
    the digest path, which finds the same difference."""
    rows = _rows(200)
    path = tmp_path / "seller.db"
    _pair(path, pg_url, rows, rows)
    con = sqlite3.connect(path)
    con.execute("UPDATE pay SET born = 20240101 WHERE id = 30")
    con.commit()
    con.close()
    result = compare(str(path), pg_url)
    assert result.tables[0].segment_key == "int"
    assert result.tables[0].to_json()["changed"] == [30], result.to_json()


def test_a_key_of_two_integers_is_merged(tmp_path: Path, pg_url: str) -> None:
    """Rows sharing the first key column, told apart by the second: a changed value,
    a row on each side only, all under first keys that also hold equal rows."""
    path = tmp_path / "seller.db"
    rows = [(a, b, f"v{a}.{b}") for a in range(1, 400) for b in (-1, 0, 2)]
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (a BIGINT, b INTEGER, v VARCHAR(12), PRIMARY KEY (a, b))")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [*rows, (7, 5, "lite")])
    con.commit()
    con.close()
    run(pg_url, "CREATE TABLE t (a bigint, b integer, v varchar(12), PRIMARY KEY (a, b))")
    server = [
        (a, b, "changed" if (a, b) == (300, 0) else v) for a, b, v in rows if (a, b) != (9, 2)
    ]
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO t VALUES (:a, :b, :v)"),
            [dict(zip("abv", r, strict=True)) for r in [*server, (8, 9, "server")]],
        )
    engine.dispose()
    result = compare(str(path), pg_url)
    table = result.tables[0].to_json()
    assert result.tables[0].segment_key == "row-merge"
    assert (table["missing"], table["extra"], table["changed"]) == (
        [[7, 5], [9, 2]],
        [[8, 9]],
        [[300, 0]],
    ), table


def test_a_null_key_in_a_target_without_its_key_is_named(tmp_path: Path, pg_url: str) -> None:
    """A NULL key lies outside every key range: a target that does not declare its key and
    holds one is refused by name (exit 2 in the CLI), never counted equal without it."""
    path = _keyless_target(tmp_path, pg_url, "(NULL, 'x')")
    for pair in ((str(path), pg_url), (pg_url, str(path))):
        with pytest.raises(BadInput) as caught:
            compare(*pair)
        assert caught.value.message is not None and caught.value.message.key == "verify.null_key"


def test_a_plan_never_shows_the_servers_password() -> None:
    plan = rowmerge.MergePlan(
        path="a.db", lite_sql="", more_keys=(), table="t", columns=(), kinds=(), forms=(),
        conninfo="host=db user=u password=s3cret-pw", session=(), server_sql="",
    )  # fmt: skip
    assert "s3cret-pw" not in repr(plan)


def test_one_first_key_over_too_many_rows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows sharing one first key all wait in the buffer: past GROUP_ROWS the merge gives
    the table to the digests, which read it in constant memory."""
    monkeypatch.setattr(rowmerge, "GROUP_ROWS", 10)
    rows = {(1, i): "x" for i in range(30)} | {(2, 0): "y"}
    with pytest.raises(rowmerge._Refused):
        rowmerge._merge(_stream(rows, iter([4] * 20)), _stream(rows, iter([4] * 20)))
    fine = {(k, 0): "x" for k in range(30)}
    assert rowmerge._merge(_stream(fine, iter([4] * 20)), _stream(fine, iter([4] * 20))).keys == []
