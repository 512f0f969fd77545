"""SQLite copies keep the seller's stored text and declared types (issue 14, part 3).

SQLite → SQLite, SQLite → package → SQLite and SQLite → PostgreSQL → SQLite must give a
file whose every table has the same ``PRAGMA table_info`` and the same rows as SQLite
returns them (``quote(col)``, ``typeof(col)``), on the synthetic book and on a book whose
timestamps are spelt in every way SQLite accepts. ``verify`` of two SQLite files compares
what the engine stores; across engines it says what it normalised.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from handover.cli.main import app
from handover.db import spelling as dbsp
from handover.flows.migrate import migrate
from handover.migrate import MigrateOptions
from handover.migrate import spelling as sp

runner = CliRunner()

MIXED_SCHEMA = """
CREATE TABLE jk (
  id INTEGER PRIMARY KEY,
  cjsj TIMESTAMP,
  xgsj DATETIME,
  rq DATE,
  sj TIME,
  ts3 TIMESTAMP NOT NULL,
  mc VARCHAR(20),
  zjhm TEXT(18),
  je NUMERIC(16,2),
  bl REAL,
  flag BOOLEAN,
  pic BLOB
);
CREATE TABLE code_map (code VARCHAR(8) PRIMARY KEY, label TEXT, day DATE);
"""
#: every spelling SQLite's date functions accept, one after the other
STAMPS = [
    "2019-03-02 12:57:{s:02d}",
    "2019-03-02 12:57:{s:02d}.5",
    "2019-03-02T12:57:{s:02d}",
    "2019-03-02 12:57:{s:02d}+08:00",
    "2019-03-02 12:57:{s:02d}.000000",
    "2019-03-02 12:57",
    None,
]
ZONED = ["2019-03-02 12:57:{s:02d}Z", "2019-03-02T12:57:{s:02d}.25-05:00", "2019-03-02"]
TIMES = ["08:30:{s:02d}", "08:30:{s:02d}.25", "8:30:{s:02d}", None]


def mixed_book(path: Path, rows: int = 60) -> str:
    """The hand-made book: mixed timestamp spellings and the declared types that matter."""
    con = sqlite3.connect(path)
    con.executescript(MIXED_SCHEMA)
    data = []
    for i in range(1, rows + 1):
        s = i % 60
        stamp = STAMPS[i % len(STAMPS)]
        data.append(
            (
                i,
                None if stamp is None else stamp.format(s=s),
                ZONED[i % len(ZONED)].format(s=s),
                None if i % 9 == 0 else f"2019-03-{1 + i % 28:02d}",
                None if TIMES[i % 4] is None else str(TIMES[i % 4]).format(s=s),
                # one spelling, with a T and at least three digits: typed in PostgreSQL
                f"2019-03-{1 + i % 28:02d}T12:57:46.{(i * 37) % 1000:03d}",
                f"名称{i}" if i % 5 else None,
                f"11010119900307{i:04d}",
                [1500.5, 12, "99.99", 0, None][i % 5],
                (0.1 + 0.2) * i,
                i % 2,
                bytes([i, 0, 255]) if i % 3 == 0 else None,
            )
        )
    con.executemany(f"INSERT INTO jk VALUES ({', '.join('?' * 12)})", data)
    con.executemany(
        "INSERT INTO code_map VALUES (?, ?, ?)",
        [(f"C{i:03d}", f"类别 {i}", f"2020-01-{1 + i % 28:02d}") for i in range(20)],
    )
    con.commit()
    con.close()
    return str(path)


def stored(path: str) -> dict[str, Any]:
    """Per table: ``PRAGMA table_info`` and every row as (quote, typeof) pairs, sorted."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out: dict[str, Any] = {}
        names = con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        for (name,) in names:
            info = con.execute(f'PRAGMA table_info("{name}")').fetchall()
            cols = ", ".join(f'quote("{c[1]}"), typeof("{c[1]}")' for c in info)
            rows = sorted(con.execute(f'SELECT {cols} FROM "{name}"').fetchall(), key=repr)
            out[name] = {"info": info, "rows": rows}
        return out
    finally:
        con.close()


def assert_identical(source: str, copy: str) -> None:
    a, b = stored(source), stored(copy)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name]["info"] == b[name]["info"], name
        assert len(a[name]["rows"]) == len(b[name]["rows"]), name
        for x, y in zip(a[name]["rows"], b[name]["rows"], strict=True):
            assert x == y, name


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from handover.synth import synthesize

    base = tmp_path_factory.mktemp("books")
    synth = base / "seller.db"
    synthesize(str(synth), customers=120, seed=11)
    return {"synthetic": str(synth), "mixed": mixed_book(base / "mixed.db")}


OPTS = MigrateOptions(no_backup=True, reason="test")


@pytest.mark.parametrize("book", ["synthetic", "mixed"])
def test_sqlite_to_sqlite_is_byte_identical(
    book: str, books: dict[str, str], workspace: Any, tmp_path: Path
) -> None:
    copy = str(tmp_path / "buyer.db")
    result = migrate(workspace, books[book], copy, OPTS)
    assert result.rejects == 0
    assert_identical(books[book], copy)
    # the seller's own queries give the same answers
    if book == "mixed":
        for db in (books[book], copy):
            con = sqlite3.connect(db)
            hits = con.execute("SELECT count(*) FROM jk WHERE cjsj = '2019-03-02 12:57:07'")
            assert hits.fetchone()[0] == 1
            con.close()


@pytest.mark.parametrize("book", ["synthetic", "mixed"])
def test_sqlite_package_sqlite_is_byte_identical(
    book: str, books: dict[str, str], workspace: Any, tmp_path: Path
) -> None:
    from handover.flows.seal import seal
    from handover.flows.unseal import unseal

    seal(workspace, books[book], tmp_path / "pkg")
    manifest = json.loads((tmp_path / "pkg" / "manifest.json").read_text("utf-8"))
    copy = str(tmp_path / "buyer.db")
    unseal(workspace, tmp_path / "pkg", copy)
    assert_identical(books[book], copy)
    if book == "mixed":
        jk = next(t for t in manifest["tables"] if t["name"] == "jk")
        cols = {c["name"]: c for c in jk["schema"]["columns"]}
        assert cols["cjsj"]["stored_text"] and cols["cjsj"]["spelling"] is None
        assert cols["ts3"]["spelling"] == "YYYY-MM-DDTHH:MM:SS.fff"
        assert cols["zjhm"]["sqlite_type"] == "TEXT(18)"


@pytest.mark.parametrize("book", ["synthetic", "mixed"])
def test_sqlite_postgresql_sqlite_is_byte_identical(
    book: str, books: dict[str, str], workspace: Any, tmp_path: Path, pg_url: str
) -> None:
    there = migrate(workspace, books[book], pg_url, OPTS)
    assert there.rejects == 0
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            kinds = dict(
                conn.execute(
                    sa.text(
                        "SELECT table_name || '.' || column_name, data_type "
                        "FROM information_schema.columns WHERE table_schema = 'public'"
                    )
                ).all()
            )
            comment = conn.execute(
                sa.text("SELECT col_description('jk'::regclass, 2)")
                if book == "mixed"
                else sa.text("SELECT col_description('login_log'::regclass, 3)")
            ).scalar()
    finally:
        engine.dispose()
    assert comment is not None and comment.startswith(dbsp.COMMENT_PREFIX)
    if book == "synthetic":
        # one spelling per column: every date and timestamp is typed in PostgreSQL
        declared = {
            f"{name}.{c[1]}": c[2] for name, v in stored(books[book]).items() for c in v["info"]
        }
        temporal = {c: kinds[c] for c, d in declared.items() if d in ("DATE", "TIMESTAMP")}
        assert len(temporal) > 10
        assert set(temporal.values()) == {"date", "timestamp without time zone"}
    else:
        # several spellings: carried as text, and the run says so
        assert kinds["jk.cjsj"] == kinds["jk.xgsj"] == kinds["jk.sj"] == "text"
        assert kinds["jk.ts3"] == "timestamp without time zone"
        assert kinds["jk.rq"] == "date"
        assert any("jk.cjsj" in n and "not all spelt one way" in n for n in map(str, there.notes))
    copy = str(tmp_path / "back.db")
    back = migrate(workspace, pg_url, copy, OPTS)
    assert back.rejects == 0
    assert_identical(books[book], copy)


def test_sqlite_mariadb_sqlite_is_byte_identical(
    books: dict[str, str], workspace: Any, tmp_path: Path, mariadb_url: str
) -> None:
    """The column comment carries the SQLite types and spellings through MariaDB too."""
    there = migrate(workspace, books["mixed"], mariadb_url, OPTS)
    assert there.rejects == 0
    copy = str(tmp_path / "back.db")
    migrate(workspace, mariadb_url, copy, OPTS)
    assert_identical(books["mixed"], copy)


def test_verify_sees_a_respelt_timestamp(tmp_path: Path) -> None:
    """``…46`` and ``…46.000000`` are different text to SQLite: verify must say so."""
    paths = []
    for name, value in (("a.db", "2019-03-02 12:57:46"), ("b.db", "2019-03-02 12:57:46.000000")):
        path = tmp_path / name
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, cjsj TIMESTAMP, je NUMERIC(16,2))")
        con.executemany(
            "INSERT INTO t VALUES (?, ?, ?)",
            [(i, value if i == 7 else "2020-01-01 00:00:00", 1500.5) for i in range(1, 200)],
        )
        con.commit()
        con.close()
        paths.append(str(path))
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["-w", str(ws), "init", "--demo"]).exit_code == 0
    res = runner.invoke(app, ["-w", str(ws), "--lang", "en", "verify", *paths, "--json"])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert doc["tables"][0]["changed"] == [7]
    assert [n["code"] for n in doc["normalisations"]] == ["stored"]
    res = runner.invoke(app, ["-w", str(ws), "--lang", "en", "verify", *paths])
    assert res.exit_code == 1
    assert "Compared as:" in res.output and "as the engine stores them" in res.output
    res = runner.invoke(app, ["-w", str(ws), "verify", *paths])
    assert res.exit_code == 1
    assert "比较口径" in res.output and "存储类型与每个字节" in res.output


def test_verify_names_its_normalisations_across_engines(
    books: dict[str, str], workspace: Any, pg_url: str
) -> None:
    from handover.flows.verify import verify

    migrate(workspace, books["mixed"], pg_url, OPTS)
    result = verify(books["mixed"], pg_url)
    assert result.equal, result.to_json()
    codes = result.to_json()["normalisations"]
    assert {"timestamp_instant", "decimal_value", "text_nfc"} <= {c["code"] for c in codes}
    texts = {c["code"]: c["text"] for c in result.to_json("zh-CN")["normalisations"]}
    assert "微秒" in texts["timestamp_instant"]
    jk = next(t for t in result.to_json()["tables"] if t["name"] == "jk")
    assert "timestamp_instant" in jk["normalisations"]


def test_invalid_dates_and_times_are_still_rejected(tmp_path: Path, workspace: Any) -> None:
    """Keeping the text is not accepting anything: misfits stay rejects (key and column)."""
    src = tmp_path / "bad.db"
    con = sqlite3.connect(src)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, at TIMESTAMP, t TIME)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [
            (1, "2019-03-02 12:57:46+08:00", "08:30:00"),
            (2, "2019-02-30 00:00:00", "08:30:00"),
            (3, 1551531466, "08:30:00"),
            (4, "2019-03-02", "25:00:00"),
            (5, "2019-03-02T12:57", "8:30:00.5"),
        ],
    )
    con.commit()
    con.close()
    opts = MigrateOptions(no_backup=True, reason="test", allow_rejects=3)
    result = migrate(workspace, str(src), str(tmp_path / "out.db"), opts)
    assert result.rejects == 3
    assert result.reject_file is not None
    lines = [json.loads(x) for x in result.reject_file.read_text("utf-8").splitlines()]
    assert sorted((r["key"], r["column"]) for r in lines) == [("2", "at"), ("3", "at"), ("4", "t")]
    out = sqlite3.connect(tmp_path / "out.db")
    kept = out.execute("SELECT id, at, t FROM t ORDER BY id").fetchall()
    out.close()
    assert kept == [
        (1, "2019-03-02 12:57:46+08:00", "08:30:00"),
        (5, "2019-03-02T12:57", "8:30:00.5"),
    ]


@pytest.mark.parametrize(
    ("kind", "spelling", "texts"),
    [
        ("timestamp", "YYYY-MM-DD HH:MM:SS", ["2019-03-02 12:57:46", "1969-12-31 23:59:59.25"]),
        (
            "timestamp",
            "YYYY-MM-DDTHH:MM:SS.fff",
            ["2019-03-02T12:57:46.120", "0005-01-01T00:00:00.123456"],
        ),
        ("timestamp", "YYYY-MM-DD HH:MM:SS.ffffff", ["2019-03-02 12:57:46.000000"]),
        ("date", "YYYY-MM-DD", ["2019-03-02", "1900-01-01"]),
        ("time", "HH:MM:SS", ["08:30:00", "23:59:59.5"]),
        ("time", "HH:MM:SS.ff", ["08:30:00.10", "00:00:00.123"]),
    ],
)
def test_render_parse_round_trip(kind: str, spelling: str, texts: list[str]) -> None:
    strings = pa.array([*texts, None], pa.string())
    typed, bad = sp.parse(strings, kind)
    assert bad == []
    assert sp.render(typed, kind, spelling).to_pylist() == [*texts, None]


ZONE_FORMS = [
    ("2019-03-02 12:57:46+08:00", "2019-03-02 04:57:46"),
    ("2019-03-02T12:57:46Z", "2019-03-02 12:57:46"),
    ("2019-03-02 12:57Z", "2019-03-02 12:57:00"),
    ("2019-03-02 12:57:46+0800", "2019-03-02 04:57:46"),
    ("2019-03-02 12:57:46+08", "2019-03-02 04:57:46"),
    ("2019-03-02 12:57:46-05", "2019-03-02 17:57:46"),
    ("2019-03-02 12:57:46.5-05:30", "2019-03-02 18:27:46.500000"),
    ("2019-03-02T00:05:00.123456+08:00", "2019-03-01 16:05:00.123456"),
]


@pytest.mark.parametrize(("text", "utc"), ZONE_FORMS)
def test_a_zoned_text_is_its_instant_in_utc_alone_and_among_others(text: str, utc: str) -> None:
    """parse's fast path (one cast) holds only because Arrow's cast to a timestamp without
    a zone refuses every zoned text: pinned here, with the instant each one stands for,
    alone, first or last in a batch of plain texts, and beside a misfit."""
    import pyarrow.compute as pc

    with pytest.raises(pa.ArrowInvalid):
        pc.cast(pa.array([text]), pa.timestamp("us"))
    plain = {
        "2019-03-02 12:57:46": "2019-03-02 12:57:46",
        "2019-03-02T08:00": "2019-03-02 08:00:00",
    }
    for texts in ([text], [text, *plain, None], [None, *plain, text]):
        typed, bad = sp.parse(pa.array(texts, pa.string()), "timestamp")
        assert bad == []
        got = [None if v is None else str(v) for v in typed.to_pylist()]
        assert got == [utc if t == text else plain.get(t) if t else None for t in texts]
    typed, bad = sp.parse(pa.array([text, "2019-02-30 00:00:00", None]), "timestamp")
    assert bad == [1]
    assert [None if v is None else str(v) for v in typed.to_pylist()] == [utc, None, None]


def test_the_profile_finds_one_spelling_or_none(tmp_path: Path) -> None:
    from handover.db.reflect import reflect

    # column: declared type, its two values, the spelling they share (None: no one)
    cases: dict[str, tuple[str, Any, Any, str | None]] = {
        "a": ("TIMESTAMP", "2019-03-02 12:57:46", "2019-03-02 12:57:47", "YYYY-MM-DD HH:MM:SS"),
        "b": (
            "TIMESTAMP",
            "2019-03-02T12:57:46.5",
            "2019-03-02T12:57:46.25",
            "YYYY-MM-DDTHH:MM:SS.f",
        ),
        "c": (
            "DATETIME",
            "2019-03-02 12:57:46.100",
            "2019-03-02 12:57:46.123456",
            "YYYY-MM-DD HH:MM:SS.fff",
        ),
        "d": ("DATE", "2019-03-02", None, "YYYY-MM-DD"),
        "e": ("TIME", "08:00:00", "08:00:01", "HH:MM:SS"),
        # ".10" needs two digits, ".1" has one
        "f": ("TIMESTAMP", "2019-03-02 12:57:46.10", "2019-03-02 12:57:46.1", None),
        "g": ("DATE", "2019-03-02", "2019-03-02 00:00:00", None),  # a date and a timestamp
        "h": ("TIMESTAMP", "2019-03-02 12:57:46", 1551531466, None),  # a number (a reject)
        "i": ("TIMESTAMP", "2019-03-02 12:57:46", "2019-03-02T12:57:46", None),  # " " and T
        "j": ("TIMESTAMP", None, None, "YYYY-MM-DD HH:MM:SS"),  # nothing to go by: default
    }
    db = tmp_path / "p.db"
    con = sqlite3.connect(db)
    cols = ", ".join(f"{name} {case[0]}" for name, case in cases.items())
    con.execute(f"CREATE TABLE p (id INTEGER PRIMARY KEY, {cols})")
    marks = ", ".join("?" * (len(cases) + 1))
    for row in (1, 2):
        con.execute(f"INSERT INTO p VALUES ({marks})", [row, *(c[row] for c in cases.values())])
    con.commit()
    con.close()
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        (p,) = reflect(engine)
        (unscanned,) = reflect(engine, spellings=False)
    finally:
        engine.dispose()
    assert {c.name: c.spelling for c in p.columns if c.stored_text} == {
        name: case[3] for name, case in cases.items()
    }
    assert {c.name: c.sqlite_type for c in p.columns}["c"] == "DATETIME"
    assert all(c.spelling is None for c in unscanned.columns)


def test_a_column_comment_is_honoured_only_when_it_fits() -> None:
    text = (
        'handover:{"kind":"timestamp","nullable":true,'
        '"spelling":"YYYY-MM-DDTHH:MM:SS.fff","sqlite_type":"TIMESTAMP"}'
    )
    assert dbsp.from_comment(text, "timestamp") == {
        "sqlite_type": "TIMESTAMP",
        "spelling": "YYYY-MM-DDTHH:MM:SS.fff",
        "nullable": True,
    }
    assert dbsp.from_comment(text, "int64") is None  # the column was altered since
    for bad in (
        'handover:{"kind":"text","sqlite_type":"TEXT NOT NULL"}',
        'handover:{"kind":"text","sqlite_type":"TEXT); DROP TABLE t; --"}',
        "handover:{not json",
        "a DBA's own description",
    ):
        assert dbsp.from_comment(bad, "text") is None, bad
