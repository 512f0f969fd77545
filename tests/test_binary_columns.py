"""Binary columns (SQLite BLOB, PostgreSQL bytea) through scan, seal → unseal and migrate.

Regression: a BLOB holding bytes that are not UTF-8 made the scan (and so ``seal`` and
the backup ``migrate`` takes first) fail with ``ArrowInvalid: Invalid UTF8``, and
PostgreSQL ``bytea`` was streamed as its ``\\x`` hex text. Every test here compares the
bytes read back with the plain drivers against the bytes written.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from handover.cli.main import app

runner = CliRunner()
BAD = b"\x00\xff\xfe"  # not UTF-8 (and a NUL): bytes, never text
ROWS = 120


def _blob(i: int) -> bytes | None:
    """Row ``i``'s photo: NULL, empty, non-UTF-8 bytes, or a JPEG-like header."""
    if i % 10 == 0:
        return None
    if i % 10 == 1:
        return b""
    if i % 2:
        return BAD + bytes([i % 256])
    return b"\xff\xd8\xff\xe0" + i.to_bytes(4, "big") + b"\x00JFIF"


def _mobile(i: int) -> bytes:
    return f"1381234{i:04d}".encode()


def _build(url: str) -> None:
    """Table ``photo``: a non-UTF-8 BLOB column, a BLOB of UTF-8 mobiles, a name."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(
        "photo",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("image", sa.LargeBinary),
        sa.Column("mobile_raw", sa.LargeBinary),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            table.insert(),
            [
                {
                    "id": i,
                    "name": f"张{'三四五六'[i % 4]}",
                    "image": _blob(i),
                    "mobile_raw": _mobile(i),
                }
                for i in range(1, ROWS + 1)
            ],
        )
    engine.dispose()


def _read(url: str) -> list[tuple[Any, ...]]:
    """``(id, image, mobile_raw)`` in id order, read with SQLAlchemy (bytes as bytes)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id, image, mobile_raw FROM photo ORDER BY id").all()
    finally:
        engine.dispose()
    return [(r[0], None if r[1] is None else bytes(r[1]), bytes(r[2])) for r in rows]


def _expected() -> list[tuple[Any, ...]]:
    return [(i, _blob(i), _mobile(i)) for i in range(1, ROWS + 1)]


def _sqlite_url(tmp_path: Path, name: str = "seller.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def _ws(tmp_path: Path) -> str:
    path = str(tmp_path / "ws")
    res = runner.invoke(app, ["-w", path, "init", "--demo"])
    assert res.exit_code == 0, res.output
    return path


# --- the UTF-8 sniffing kernel ------------------------------------------------------------


def test_utf8_text_mask_agrees_with_the_python_codec() -> None:
    """Random and edge-case byte strings: text iff Python's strict UTF-8 decodes them and
    they hold no NUL (the codec is the oracle; the kernel never decodes)."""
    from handover.detect.normalize import binary_as_text, utf8_text_mask

    rnd = random.Random(7)
    edge = [
        b"",
        b"abc",
        "张三".encode(),
        "😀".encode(),
        b"\xc0\xaf",  # overlong "/"
        b"\xed\xa0\x80",  # a surrogate
        b"\xf4\x90\x80\x80",  # past U+10FFFF
        b"\xe4\xb8",  # truncated
        b"\x80",
        b"a\x00b",
        BAD,
    ]
    values: list[bytes | None] = [*edge, None]
    for _ in range(3000):
        kind = rnd.randrange(4)
        if kind == 0:
            values.append(bytes(rnd.randrange(256) for _ in range(rnd.randrange(12))))
        elif kind == 1:
            values.append(chr(rnd.randrange(1, 0x110000)).encode("utf-8", "surrogatepass"))
        elif kind == 2:
            values.append("客户备注 ok".encode()[: rnd.randrange(16)])
        else:
            values.append(None)

    def is_text(v: bytes) -> bool:
        try:
            v.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return b"\x00" not in v

    arr = pa.array(values, pa.binary())
    expected = [None if v is None else is_text(v) for v in values]
    assert utf8_text_mask(arr).to_pylist() == expected
    text, not_text = binary_as_text(arr)
    assert not_text == sum(1 for e in expected if e is False)
    assert text.to_pylist() == [
        v.decode("utf-8") if v is not None and is_text(v) else None for v in values
    ]


# --- scan ---------------------------------------------------------------------------------


def _check_scan(spec: str) -> None:
    from handover.detect.scan import scan_source

    for full in (False, True):
        inv = scan_source(spec, full=full)
        (table,) = [t for t in inv.tables if t.name == "photo"]
        cols = {c.name: c for c in table.columns}
        image = cols["image"]
        assert not image.pii
        assert any(str(n).startswith("binary: ") for n in image.notes), image.notes
        # UTF-8 text kept in a BLOB is still text, and still scanned
        assert cols["mobile_raw"].primary == "cn_mobile"
        assert not any(str(n).startswith("binary") for n in cols["mobile_raw"].notes)
        assert cols["name"].primary == "person_name"


def test_scan_sqlite_blob(tmp_path: Path) -> None:
    url = _sqlite_url(tmp_path)
    _build(url)
    _check_scan(str(tmp_path / "seller.db"))


@pytest.mark.postgres
def test_scan_postgresql_bytea_is_bytes(pg_url: str) -> None:
    from handover.sources import open_source

    _build(pg_url)
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        db = conn.exec_driver_sql("SELECT current_database()").scalar()
        # Whatever the server's text form of bytea, the source hands over the bytes.
        conn.exec_driver_sql(f"ALTER DATABASE {db} SET bytea_output = 'escape'")
    engine.dispose()
    with open_source(pg_url) as src:
        info = src.table("photo")
        assert info.schema.field("image").type == pa.binary()
        t = pa.Table.from_batches(list(src.batches("photo", batch_size=50)))
        got = dict(zip(t.column("id").to_pylist(), t.column("image").to_pylist(), strict=True))
        assert got == {i: _blob(i) for i in range(1, ROWS + 1)}
        sample = src.sample("photo", 30, seed=1)
        assert sample.schema.field("mobile_raw").type == pa.binary()
    _check_scan(pg_url)


# --- seal → unseal -------------------------------------------------------------------------


def _seal_unseal(tmp_path: Path, source: str, target: str) -> None:
    ws = _ws(tmp_path)
    pkg = tmp_path / "pkg"
    res = runner.invoke(app, ["-w", ws, "seal", source, "--out", str(pkg), "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-w", ws, "unseal", str(pkg), "--to", target, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows"] == ROWS


def test_seal_unseal_sqlite_blob(tmp_path: Path) -> None:
    _build(_sqlite_url(tmp_path))
    target = tmp_path / "buyer.db"
    _seal_unseal(tmp_path, str(tmp_path / "seller.db"), str(target))
    assert _read(f"sqlite:///{target}") == _expected()


@pytest.mark.postgres
def test_seal_unseal_postgresql_bytea(tmp_path: Path, pg_url: str) -> None:
    _build(pg_url)
    target = tmp_path / "buyer.db"
    _seal_unseal(tmp_path, pg_url, str(target))
    assert _read(f"sqlite:///{target}") == _expected()


@pytest.mark.postgres
def test_seal_sqlite_unseal_into_postgresql(tmp_path: Path, pg_url: str) -> None:
    _build(_sqlite_url(tmp_path))
    _seal_unseal(tmp_path, str(tmp_path / "seller.db"), pg_url)
    assert _read(pg_url) == _expected()


# --- migrate (with its backup) -------------------------------------------------------------


def _migrate_with_backup(tmp_path: Path, source: str, target: str) -> dict[str, Any]:
    ws = _ws(tmp_path)
    res = runner.invoke(
        app, ["-w", ws, "--lang", "en", "migrate", source, target, "--batch-size", "17", "--json"]
    )
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.stdout)
    assert out["rows"] == ROWS and out["rejects"] == 0
    # the backup holds the same bytes: restore it and compare
    restored = tmp_path / "restored.db"
    pkg = out["backup"]["package"]
    res = runner.invoke(app, ["-w", ws, "restore", pkg, "--to", str(restored), "--json"])
    assert res.exit_code == 0, res.output
    assert _read(f"sqlite:///{restored}") == _expected()
    return out


def test_migrate_sqlite_blob_with_backup(tmp_path: Path) -> None:
    _build(_sqlite_url(tmp_path))
    target = tmp_path / "buyer.db"
    _migrate_with_backup(tmp_path, str(tmp_path / "seller.db"), str(target))
    assert _read(f"sqlite:///{target}") == _expected()


@pytest.mark.postgres
def test_migrate_sqlite_blob_to_postgresql(tmp_path: Path, pg_url: str) -> None:
    _build(_sqlite_url(tmp_path))
    _migrate_with_backup(tmp_path, str(tmp_path / "seller.db"), pg_url)
    assert _read(pg_url) == _expected()


@pytest.mark.postgres
def test_migrate_postgresql_bytea_to_sqlite(tmp_path: Path, pg_url: str) -> None:
    _build(pg_url)
    target = tmp_path / "buyer.db"
    _migrate_with_backup(tmp_path, pg_url, str(target))
    assert _read(f"sqlite:///{target}") == _expected()


def test_sqlite_text_and_numbers_in_a_blob_column_keep_their_bytes(tmp_path: Path) -> None:
    """SQLite lets any value into a BLOB column: text and numbers arrive as their UTF-8
    bytes (what CAST(x AS BLOB) gives), the scan still runs, nothing is lost."""
    from handover.detect.scan import scan_source
    from handover.sources import open_source

    db = tmp_path / "mixed.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, b BLOB)")
    con.executemany(
        "INSERT INTO m VALUES (?, ?)", [(1, BAD), (2, "张三"), (3, 42), (4, None), (5, 1.5)]
    )
    con.commit()
    con.close()
    with open_source(db) as src:
        t = pa.Table.from_batches(list(src.batches("m")))
    assert t.column("b").to_pylist() == [BAD, "张三".encode(), b"42", None, b"1.5"]
    inv = scan_source(str(db))
    (col,) = [c for c in inv.tables[0].columns if c.name == "b"]
    assert any(str(n).startswith("binary: 1 values") for n in col.notes), col.notes
