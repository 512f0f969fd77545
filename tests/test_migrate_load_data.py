"""``migrate`` into MariaDB through ``LOAD DATA LOCAL INFILE``: the text Arrow builds
escapes everything the server would read as structure, every value arrives exactly, and a
value the server cuts (LOCAL turns the refusal into a warning) is still a named reject
isolated by bisection, not a silently changed row."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pymysql
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from handover.cli.main import app
from handover.db.dialects.mysql import load_text

runner = CliRunner()

TEXTS = [
    "tab\there",
    "line\nnext",
    "cr\r\nlf",
    "back\\slash\\",
    "\\N",
    "NULL",
    "",
    None,
    'say "hi", then go',
    "nul\x00inside",
    "客户备注:按时还款 😀",
    "\\t not a tab",
]
BLOBS = [b"", None, b"\x00\xff\t\n\\", b"plain"]
FLOATS = [0.1 + 0.2, 1e300, 5e-324, -2.5, None, 123456789.123456789]


def test_load_text_escapes_structure_and_marks_null() -> None:
    arrays = [
        pa.array([1, None, 3], pa.int64()),
        pa.array(["a\tb", None, "c\\N\n"]),
        pa.array([b"\x00\xff", None, b""]),
        pa.array([True, None, False]),
        pa.array([0.1 + 0.2, None, 1e300]),
    ]
    body = bytes(load_text(arrays, ["int64", "text", "binary", "bool", "float64"]))
    assert body == (
        b"1\ta\\tb\t00ff\t1\t0.30000000000000004\n"
        b"\\N\t\\N\t\\N\t\\N\t\\N\n"
        b"3\tc\\\\N\\n\t\t0\t1e+300\n"
    )
    # a slice of a batch (offset into its buffers) gives only its own rows
    sliced = [a.slice(2, 1) for a in arrays]
    assert bytes(load_text(sliced, ["int64", "text", "binary", "bool", "float64"])) == (
        b"3\tc\\\\N\\n\t\t0\t1e+300\n"
    )


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("a\x00b", b"a\\0b\n"),
        ("a\\b", b"a\\\\b\n"),
        ("a\tb", b"a\\tb\n"),
        ("a\nb", b"a\\nb\n"),
        ("a\rb", b"a\\rb\n"),
        ('plain, "quoted"', b'plain, "quoted"\n'),
    ],
)
def test_each_special_character_alone_is_escaped(value: str, line: bytes) -> None:
    # a column is escaped only when a scan finds one of them: each alone must be found
    assert bytes(load_text([pa.array([value])], ["text"])) == line


def _source(path: Path, *, long_code_at: int | None = None) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE tricky (id INTEGER PRIMARY KEY, t TEXT, b BLOB, f REAL, "
        "ok BOOLEAN, code VARCHAR(4))"
    )
    rows = []
    for i in range(1, 41):
        code = f"c{i}" if i != long_code_at else "toolong"
        rows.append(
            (
                i,
                TEXTS[i % len(TEXTS)],
                BLOBS[i % len(BLOBS)],
                FLOATS[i % len(FLOATS)],
                None if i % 5 == 0 else i % 2,
                code,
            )
        )
    con.executemany("INSERT INTO tricky VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return rows


def _migrate(ws: Any, src: Path, url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    res = runner.invoke(
        app,
        [
            "--workspace",
            str(ws.path),
            "--lang",
            "en",
            "migrate",
            str(src),
            url,
            "--no-backup",
            "--reason",
            "test",
            "--json",
            "--batch-size",
            "16",
            *extra,
        ],
    )
    start = res.output.find("{")
    return res.exit_code, json.loads(res.output[start:]) if start >= 0 else {}


def _target_rows(url: str) -> list[tuple[Any, ...]]:
    u = sa.engine.make_url(url)
    conn = pymysql.connect(
        host=u.host, port=u.port or 3306, user=u.username, database=u.database, charset="utf8mb4"
    )
    try:
        cur = conn.cursor()
        cur.execute("SELECT id, t, b, f, ok, code FROM tricky ORDER BY id")
        return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


@pytest.fixture(params=[16_384, 5], ids=["one-piece", "pieces-of-5"])
def piece(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """A batch's text as one piece, or built and fed five rows at a time (a batch of 16
    rows is then four pieces, the last one short)."""
    import handover.db.dialects.mysql as my

    monkeypatch.setattr(my, "LOAD_PIECE", request.param)
    return int(request.param)


def test_every_value_arrives_exactly(
    workspace: Any, tmp_path: Path, mariadb_url: str, piece: int
) -> None:
    src = tmp_path / "seller.db"
    rows = _source(src)
    code, out = _migrate(workspace, src, mariadb_url)
    assert code == 0, out
    assert out["rows"] == len(rows) and out["rejects"] == 0
    got = _target_rows(mariadb_url)
    want = [(i, t, b, f, ok, c) for (i, t, b, f, ok, c) in rows]
    assert got == want


def test_a_value_the_server_would_cut_is_a_named_reject(
    workspace: Any, tmp_path: Path, mariadb_url: str, piece: int
) -> None:
    src = tmp_path / "seller.db"
    rows = _source(src, long_code_at=23)
    code, out = _migrate(workspace, src, mariadb_url, "--allow-rejects", "1")
    assert code == 0, out
    assert out["rows"] == len(rows) - 1 and out["rejects"] == 1
    (line,) = Path(out["reject_file"]).read_text(encoding="utf-8").splitlines()
    reject = json.loads(line)
    assert (reject["key"], reject["column"], reject["stage"]) == ("23", "code", "write")
    assert "toolong" not in line
    got = _target_rows(mariadb_url)
    assert [r[0] for r in got] == [r[0] for r in rows if r[0] != 23]
    assert all(r[5] == f"c{r[0]}" for r in got)  # nothing cut, nothing shifted


def test_a_file_is_sent_only_during_our_own_load(tmp_path: Path, mariadb_url: str) -> None:
    """The target engine's connections announce LOCAL, but every one of them — the
    writer's, the catalogue's, the check query's — refuses a server's request for a file
    outside our own LOAD DATA statement: a hostile server cannot ask for the workspace's
    keys in answer to any other query."""
    from handover.db.connect import connect

    secret = tmp_path / "key.txt"
    secret.write_text("not for the server\n", encoding="utf-8")
    engine = connect(mariadb_url, writes=True)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE TABLE leak (line VARCHAR(100))"))
            conn.commit()
        asked = f"LOAD DATA LOCAL INFILE '{secret}' INTO TABLE leak"
        for _ in range(2):  # each a new connection of the pool
            engine.dispose()
            raw = engine.raw_connection()
            try:
                assert raw.driver_connection.client_flag & pymysql.constants.CLIENT.LOCAL_FILES
                with pytest.raises(RuntimeError, match="local_infile"):
                    raw.driver_connection.cursor().execute(asked)
            finally:
                raw.invalidate()
        engine.dispose()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM leak")).scalar() == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("error", [ValueError, pa.ArrowIOError])
def test_a_piece_that_fails_to_build_is_raised_as_itself(error: type[Exception]) -> None:
    # The pipe's reader (the driver) sees a file cut short; the statement's caller must
    # get the builder's own error, not a load of "too few rows" to bisect as rejects —
    # also an error of the OSError family (pyarrow's IO errors are), which a failed write
    # to the pipe also raises: the values are converted on the feeding thread.
    import os

    from handover.db.dialects.mysql import _piped

    def pieces() -> Any:
        yield memoryview(b"1\tone\n")
        raise error("piece two could not be built")

    got = b""
    with pytest.raises(error, match="piece two"), _piped(pieces()) as path:
        fd = os.open(path, os.O_RDONLY)
        try:
            while chunk := os.read(fd, 1 << 16):
                got += chunk
        finally:
            os.close(fd)
    assert got == b"1\tone\n"
