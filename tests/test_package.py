"""Sealed packages: round trips into SQLite/PostgreSQL/MariaDB, stock pyarrow, tamper, keys.

Equality is checked by digests this file computes itself from rows read with the plain
database drivers, not by the package code under test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import sqlite3
import struct
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe
import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.errors import HandoverError

runner = CliRunner()
CUSTOMERS = 150
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?$")


# --- an independent normaliser ------------------------------------------------------------


def _norm(v: Any) -> str | None:
    """Driver values of any engine → one text form (independent of handover's code)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        v = Decimal(repr(v))
    if isinstance(v, Decimal):
        return "0" if v == 0 else format(v.normalize(), "f")
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).hex()
    s = str(v)
    if _STAMP.match(s):
        return dt.datetime.fromisoformat(s).isoformat(sep=" ", timespec="microseconds")
    return s


def _rows(url_or_path: str) -> dict[str, list[tuple[str | None, ...]]]:
    """Every table's rows, normalised and sorted, read with the plain drivers."""
    out: dict[str, list[tuple[str | None, ...]]] = {}
    if "://" not in url_or_path:
        con = sqlite3.connect(url_or_path)
        names = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for n in names:
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{n}")')]
            sel = ", ".join(f'"{c}"' for c in sorted(cols))
            out[n] = sorted(
                (tuple(_norm(v) for v in row) for row in con.execute(f'SELECT {sel} FROM "{n}"')),
                key=repr,
            )
        con.close()
        return out
    import sqlalchemy as sa

    eng = sa.create_engine(url_or_path)
    try:
        insp = sa.inspect(eng)
        with eng.connect() as conn:
            for n in insp.get_table_names():
                cols = sorted(c["name"] for c in insp.get_columns(n))
                q = eng.dialect.identifier_preparer.quote
                sel = ", ".join(q(c) for c in cols)
                res = conn.exec_driver_sql(f"SELECT {sel} FROM {q(n)}")
                out[n] = sorted((tuple(_norm(v) for v in row) for row in res), key=repr)
    finally:
        eng.dispose()
    return out


def _digest(tables: dict[str, list[tuple[str | None, ...]]]) -> dict[str, str]:
    return {
        n: hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
        for n, rows in tables.items()
    }


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seller_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from handover.synth import synthesize

    path = tmp_path_factory.mktemp("seller") / "seller.db"
    synthesize(str(path), customers=CUSTOMERS, seed=7)
    return str(path)


def _init_ws(path: Path) -> str:
    res = runner.invoke(app, ["-w", str(path), "init", "--demo"])
    assert res.exit_code == 0, res.output
    return str(path)


def _seal(ws_path: str, source: str, pkg: Path) -> Path:
    res = runner.invoke(app, ["-w", ws_path, "seal", source, "--out", str(pkg), "--json"])
    assert res.exit_code == 0, res.output
    return pkg


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, seller_db: str) -> tuple[str, Path]:
    """One workspace and one package for the tests that only read them."""
    base = tmp_path_factory.mktemp("shared")
    ws_path = _init_ws(base / "ws")
    return ws_path, _seal(ws_path, seller_db, base / "pkg")


@pytest.fixture
def ws_path(shared: tuple[str, Path]) -> str:
    return shared[0]


@pytest.fixture
def sealed(shared: tuple[str, Path]) -> Path:
    return shared[1]


@pytest.fixture
def own_ws(tmp_path: Path) -> str:
    """A workspace of the test's own (for tests that destroy keys or migrate)."""
    return _init_ws(tmp_path / "own-ws")


def _open_ws(ws_path: str) -> Any:
    from handover.workspace import open_workspace

    return open_workspace(Path(ws_path))


# --- round trips ----------------------------------------------------------------------------


def _round_trip(ws_path: str, seller_db: str, pkg: Path, target: str) -> None:
    res = runner.invoke(app, ["-w", ws_path, "unseal", str(pkg), "--to", target, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    source_rows = _rows(seller_db)
    target_rows = _rows(target)
    target_rows = {k: v for k, v in target_rows.items() if not k.startswith("_handover")}
    assert set(target_rows) == set(source_rows)
    for name in source_rows:
        assert len(target_rows[name]) == len(source_rows[name]), name
    assert _digest(target_rows) == _digest(source_rows)
    assert doc["rows"] == sum(len(v) for v in source_rows.values())


def test_round_trip_sqlite(ws_path: str, seller_db: str, sealed: Path, tmp_path: Path) -> None:
    _round_trip(ws_path, seller_db, sealed, str(tmp_path / "buyer.db"))
    ws = _open_ws(ws_path)
    try:
        from handover.ledger import entries

        actions = [e.action for e in entries(ws)]
        seal_ev = next(e for e in entries(ws) if e.action == "package.seal")
        unseal_ev = next(e for e in entries(ws) if e.action == "package.unseal")
    finally:
        ws.close()
    assert "package.seal" in actions and "package.unseal" in actions
    body = json.dumps([seal_ev.details, unseal_ev.details], ensure_ascii=False)
    assert "package-c2-" in body and "package-c3-" in body  # key ids, never material
    manifest = json.loads((sealed / "manifest.json").read_text("utf-8"))
    assert seal_ev.details["rows"] == sum(t["rows"] for t in manifest["tables"])


def test_round_trip_postgresql(ws_path: str, seller_db: str, sealed: Path, pg_url: str) -> None:
    _round_trip(ws_path, seller_db, sealed, pg_url)


def test_round_trip_mariadb(ws_path: str, seller_db: str, sealed: Path, mariadb_url: str) -> None:
    _round_trip(ws_path, seller_db, sealed, mariadb_url)


def test_column_keys_follow_inventory_tiers(sealed: Path) -> None:
    manifest = json.loads((sealed / "manifest.json").read_text("utf-8"))
    keys = manifest["crypto"]["column_keys"]
    assert set(keys) == {"C2", "C3", "other"} and len(set(keys.values())) == 3
    cols = {(t["name"], c["name"]): c for t in manifest["tables"] for c in t["columns"]}
    assert cols[("sys_user", "password_hash")]["key"] == "C3"
    assert cols[("yhk_info", "cvn2")]["key"] == "C3"
    assert cols[("cust_info", "zjhm")]["key"] == "C2"
    assert cols[("cust_info", "khbh")]["key"] == "other"
    assert manifest["crypto"]["encrypted_footer"] is True


# --- the buyer's side: stock pyarrow ----------------------------------------------------------


class _WrongKms(pe.KmsClient):  # type: ignore[misc]
    """A KMS that hands out a random key: decryption must fail, never return data."""

    def __init__(self, _config: pe.KmsConnectionConfig) -> None:
        super().__init__()

    def wrap_key(self, key_bytes: bytes, master_key_identifier: str) -> str:
        raise NotImplementedError

    def unwrap_key(self, wrapped_key: str, master_key_identifier: str) -> bytes:
        import os

        return os.urandom(32)


def _stock_props(keys: Any) -> pe.FileDecryptionProperties:
    """Decryption properties built with pyarrow's own CryptoFactory around a KmsClient."""
    from handover.crypto.parquet import HandoverKmsClient

    factory = pe.CryptoFactory(lambda _cfg: HandoverKmsClient(keys))
    return factory.file_decryption_properties(
        pe.KmsConnectionConfig(), pe.DecryptionConfiguration(cache_lifetime=dt.timedelta(seconds=1))
    )


def test_stock_pyarrow_reads_package(ws_path: str, seller_db: str, sealed: Path) -> None:
    from handover.crypto import Keys

    manifest = json.loads((sealed / "manifest.json").read_text("utf-8"))
    entry = next(t for t in manifest["tables"] if t["name"] == "cust_info")
    path = sealed / entry["file"]
    ws = _open_ws(ws_path)
    try:
        with Keys(ws) as keys:
            table = pq.read_table(path, decryption_properties=_stock_props(keys))
    finally:
        ws.close()
    con = sqlite3.connect(seller_db)
    src = con.execute("SELECT khbh, zjhm, sjhm FROM cust_info ORDER BY khbh").fetchall()
    con.close()
    got = list(
        zip(
            table.column("khbh").to_pylist(),
            table.column("zjhm").to_pylist(),
            table.column("sjhm").to_pylist(),
            strict=True,
        )
    )
    assert got == src
    # Without keys, or with wrong ones, stock pyarrow cannot read a single value.
    with pytest.raises((OSError, pa.ArrowException)):
        pq.read_table(path)
    wrong = pe.CryptoFactory(_WrongKms).file_decryption_properties(
        pe.KmsConnectionConfig(), pe.DecryptionConfiguration()
    )
    with pytest.raises((OSError, pa.ArrowException)):
        pq.read_table(path, decryption_properties=wrong)
    # The footer is encrypted too: not even the schema is readable without keys.
    with pytest.raises((OSError, pa.ArrowException)):
        pq.read_schema(path)


# --- tamper -----------------------------------------------------------------------------------


def _unseal_refused(ws_path: str, pkg: Path, target: Path) -> str:
    res = runner.invoke(app, ["-w", ws_path, "unseal", str(pkg), "--to", str(target)])
    assert res.exit_code == 1, res.output
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert not target.exists(), "nothing may be written to the target"
    return err


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


def test_flipped_byte_in_every_file_is_refused(ws_path: str, sealed: Path, tmp_path: Path) -> None:
    files = sorted(p for p in sealed.rglob("*") if p.is_file())
    assert len(files) >= 17  # 15 tables + manifest + signature
    for i, f in enumerate(files):
        copy = tmp_path / f"t{i}"
        shutil.copytree(sealed, copy)
        victim = copy / f.relative_to(sealed)
        _flip(victim, victim.stat().st_size // 2)
        err = _unseal_refused(ws_path, copy, tmp_path / f"t{i}.db")
        if f.suffix == ".parquet":
            assert "SHA-256" in err or "哈希" in err or "SHA" in err, err
        else:
            assert "manifest" in err or "清单" in err or "签名" in err, err


def test_dropped_or_added_file_is_refused(ws_path: str, sealed: Path, tmp_path: Path) -> None:
    dropped = tmp_path / "dropped"
    shutil.copytree(sealed, dropped)
    victim = sorted((dropped / "tables").iterdir())[3]
    victim.unlink()
    err = _unseal_refused(ws_path, dropped, tmp_path / "d.db")
    assert victim.name in err
    no_sig = tmp_path / "nosig"
    shutil.copytree(sealed, no_sig)
    (no_sig / "manifest.sig").unlink()
    assert "manifest.sig" in _unseal_refused(ws_path, no_sig, tmp_path / "s.db")
    added = tmp_path / "added"
    shutil.copytree(sealed, added)
    (added / "tables" / "extra.parquet").write_bytes(b"PAR1")
    assert "extra.parquet" in _unseal_refused(ws_path, added, tmp_path / "a.db")


def test_edited_manifest_is_refused_even_when_resigned(
    ws_path: str, sealed: Path, tmp_path: Path
) -> None:
    from handover.package.manifest import Manifest, write_signed

    edited = tmp_path / "edited"
    shutil.copytree(sealed, edited)
    doc = json.loads((edited / "manifest.json").read_text("utf-8"))
    doc["tables"][0]["rows"] += 1
    (edited / "manifest.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    _unseal_refused(ws_path, edited, tmp_path / "e.db")
    # An insider holding the signing key re-signs the edit: the row digests still refuse it.
    ws = _open_ws(ws_path)
    try:
        write_signed(ws, edited, Manifest.from_json(doc))
    finally:
        ws.close()
    err = _unseal_refused(ws_path, edited, tmp_path / "e2.db")
    assert doc["tables"][0]["name"] in err


def test_v2_package_from_an_earlier_release_still_opens(
    ws_path: str, seller_db: str, sealed: Path, tmp_path: Path
) -> None:
    """A package whose manifest carries handover-row-v2 digests (per-row leaves and the
    order-free row_set, as sealed before v3) is checked with them: it unseals, and a
    wrong row_set is refused."""
    from handover.package import rows
    from handover.package.manifest import Manifest, write_signed
    from handover.package.source import PackageSource

    old = tmp_path / "v2"
    shutil.copytree(sealed, old)
    doc = json.loads((old / "manifest.json").read_text("utf-8"))
    ws = _open_ws(ws_path)
    try:
        with PackageSource(ws, old) as src:
            for d, entry in zip(src.schema(), doc["tables"], strict=True):
                v2 = rows.RowDigest(rows.CHAIN_ENCODING)
                for sb in src.read(d, after=None, batch_size=1000):
                    v2.add_batch(sb.data)
                entry.update(v2.to_json())
        doc["row_digest"] = {"encoding": rows.CHAIN_ENCODING}
        write_signed(ws, old, Manifest.from_json(doc))
    finally:
        ws.close()
    _round_trip(ws_path, seller_db, old, str(tmp_path / "from-v2.db"))
    doc["tables"][1]["row_set"] = "0" * 64
    ws = _open_ws(ws_path)
    try:
        write_signed(ws, old, Manifest.from_json(doc))
    finally:
        ws.close()
    err = _unseal_refused(ws_path, old, tmp_path / "bad-v2.db")
    assert doc["tables"][1]["name"] in err


def test_row_digest_v3_every_type_any_batching() -> None:
    from handover.package import rows

    t = pa.table(
        {
            "n": pa.nulls(5),
            "b": [True, None, False, True, True],
            "d": pa.array(
                [Decimal("1.50"), None, Decimal("-2.00"), None, Decimal("0")], pa.decimal128(10, 2)
            ),
            "ts": pa.array([dt.datetime(2020, 1, 1), None, None, None, dt.datetime(2021, 1, 1)]),
            "day": pa.array([dt.date(2020, 1, 1), None, dt.date(1970, 1, 1), None, None]),
            "f": [0.5, None, -0.0, 1e300, None],
            "bin": pa.array([b"x", None, b"", b"yy", None]),
            "lst": pa.array([[1], None, [], [2, 3], [4]]),
            "dict": pa.array(["a", "b", None, "a", "c"]).dictionary_encode(),
            "big": pa.array(["张", None, "", "三", "x"], pa.large_string()),
        }
    )
    base = rows.digest_table(t).root()
    for size in (1, 2, 3, 4):
        assert rows.digest_table(t, batch_rows=size).root() == base, size
    # a sliced array (non-zero offsets) digests as its copy does
    tail = t.slice(1)
    assert rows.digest_table(tail).root() == rows.digest_table(tail.combine_chunks()).root()
    # every column matters, NULL differs from the empty value and from False
    for name, values in {
        "b": [True, None, False, True, False],
        "d": [Decimal("1.50"), None, Decimal("-2.00"), None, Decimal("0.01")],
        "f": [0.5, None, 0.0, 1e300, None],
        "bin": [b"x", b"", b"", b"yy", None],
        "big": ["张", None, None, "三", "x"],
    }.items():
        i = t.schema.get_field_index(name)
        changed = t.set_column(i, name, pa.array(values, t.schema.field(i).type))
        assert rows.digest_table(changed).root() != base, name


def test_swapped_table_files_are_refused(ws_path: str, sealed: Path, tmp_path: Path) -> None:
    """Same keys, valid files, but a row root that is not this table's: the digest refuses."""
    from handover.package.manifest import Manifest, write_signed

    swapped = tmp_path / "swapped"
    shutil.copytree(sealed, swapped)
    doc = json.loads((swapped / "manifest.json").read_text("utf-8"))
    doc["tables"][1]["row_root"] = doc["tables"][2]["row_root"]
    ws = _open_ws(ws_path)
    try:
        write_signed(ws, swapped, Manifest.from_json(doc))
    finally:
        ws.close()
    err = _unseal_refused(ws_path, swapped, tmp_path / "w.db")
    assert doc["tables"][1]["name"] in err


def test_other_workspace_cannot_open(sealed: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert runner.invoke(app, ["-w", str(other), "init", "--demo"]).exit_code == 0
    err = _unseal_refused(str(other), sealed, tmp_path / "o.db")
    assert "signing" in err or "签名" in err


def test_destroyed_keys_make_package_unopenable(
    own_ws: str, seller_db: str, tmp_path: Path
) -> None:
    from handover.crypto import Keys

    ws_path = own_ws
    sealed = _seal(ws_path, seller_db, tmp_path / "pkg")

    manifest = json.loads((sealed / "manifest.json").read_text("utf-8"))
    key_ids = sorted(set(manifest["crypto"]["column_keys"].values()))
    for key_id in key_ids:
        res = runner.invoke(
            app, ["-w", ws_path, "keys", "destroy", key_id, "--reason", "deal closed", "--yes"]
        )
        assert res.exit_code == 0, res.output
    err = _unseal_refused(ws_path, sealed, tmp_path / "k.db")
    assert "destroyed" in err or "销毁" in err
    res = runner.invoke(app, ["-w", ws_path, "unseal", str(sealed), "--check-only"])
    assert res.exit_code == 1
    res = runner.invoke(app, ["-w", ws_path, "migrate", str(sealed), str(tmp_path / "m.db")])
    assert res.exit_code != 0 and not (tmp_path / "m.db").exists()
    # Stock pyarrow through the project's KmsClient: the backend has no key material left.
    ws = _open_ws(ws_path)
    try:
        with Keys(ws) as keys:
            for entry in manifest["tables"]:
                with pytest.raises((OSError, pa.ArrowException, HandoverError)):
                    pq.read_table(sealed / entry["file"], decryption_properties=_stock_props(keys))
            backend_refs = set(keys.backend.list())
        from handover.ledger import entries

        destroyed = {e.subject for e in entries(ws) if e.action == "key.destroy"}
    finally:
        ws.close()
    assert set(key_ids) <= destroyed
    assert not any(r.startswith(tuple(key_ids)) for r in backend_refs)


# --- backup before a migration, restore ---------------------------------------------------------


def test_migrate_takes_backup_and_restore_rebuilds(
    own_ws: str, seller_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handover.db.dialects.sqlite import SQLite

    writers: list[bool] = []  # whether each SQLite copy wrote through ADBC's own writer
    real = SQLite.bulk_connection

    def spy(self: SQLite, engine: Any, *, own_process: bool) -> Any:
        got = real(self, engine, own_process=own_process)
        writers.append(got is not None)
        return got

    monkeypatch.setattr(SQLite, "bulk_connection", spy)
    ws_path = own_ws
    res = runner.invoke(
        app, ["-w", ws_path, "migrate", seller_db, str(tmp_path / "new.db"), "--json"]
    )
    assert res.exit_code == 0, res.output
    backup = json.loads(res.stdout)["backup"]
    assert backup and backup["purpose"] == "backup"
    pkg = Path(backup["package"])
    assert pkg.parent == Path(ws_path) / "packages"
    target = tmp_path / "restored.db"
    res = runner.invoke(app, ["-w", ws_path, "restore", str(pkg), "--to", str(target), "--json"])
    assert res.exit_code == 0, res.output
    assert _digest(_rows(str(target))) == _digest(_rows(seller_db))
    assert writers == [True, True]  # the CLI's migrate and restore: processes of their own


# --- units: the digest and the reader ----------------------------------------------------------


def test_row_digest_root_is_rfc6962(monkeypatch: pytest.MonkeyPatch) -> None:
    from handover.ledger import merkle
    from handover.package import rows

    monkeypatch.setattr(rows, "CHUNK", 4)
    monkeypatch.setattr(rows, "CHUNK_ROWS", 4)
    for n in [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33]:
        table = pa.table(
            {"id": list(range(n)), "name": [f"名{i}" if i % 3 else None for i in range(n)]},
            schema=pa.schema([("id", pa.int64()), ("name", pa.string())]),
        )
        v1 = rows.RowDigest(rows.MERKLE_ENCODING)
        v2 = rows.RowDigest(rows.CHAIN_ENCODING)
        v3 = rows.RowDigest()
        for b in table.to_batches(max_chunksize=3):  # chunks of 4 straddle batches of 3
            v1.add_batch(b)
            v2.add_batch(b)
            v3.add_batch(b)
        encoded = rows.canonical_rows(table).to_pylist() if n else []
        assert v1.root() == merkle.root_hash(encoded), n
        assert v1.count == v2.count == v3.count == n
        # v2: SHA-256 over the concatenated leaf hashes; the set digest is the same in both
        leaves = b"".join(merkle.leaf_hash(r) for r in encoded)
        assert v2.root() == hashlib.sha256(leaves).digest(), n
        assert v2.set_digest() == v1.set_digest()
        # v3: RFC 6962 root over chunks of 4 rows laid out column by column (validity
        # bytes, then int64 little-endian / 8-byte lengths + UTF-8), rebuilt here by hand
        ids, names = table.column("id").to_pylist(), table.column("name").to_pylist()
        chunks = []
        for a in range(0, n, 4):
            part = range(a, min(a + 4, n))
            blob = bytes(1 for _ in part) + b"".join(struct.pack("<q", ids[i]) for i in part)
            blob += bytes(0 if names[i] is None else 1 for i in part)
            utf8 = [(names[i] or "").encode() for i in part]
            blob += b"".join(struct.pack("<q", len(u)) for u in utf8) + b"".join(utf8)
            chunks.append(blob)
        assert v3.root() == merkle.root_hash(chunks), n
        assert v3.set_digest() is None
        assert "row_set" not in v3.to_json()


def test_row_digest_v3_sees_order_and_every_byte() -> None:
    from handover.package import rows

    table = pa.table({"id": list(range(10_000)), "v": [f"值{i}" for i in range(10_000)]})
    base = rows.digest_table(table, batch_rows=999).root()
    assert rows.digest_table(table, batch_rows=4096).root() == base  # batching is irrelevant
    swapped = table.take([1, 0, *range(2, 10_000)])
    assert rows.digest_table(swapped).root() != base
    changed = table.set_column(1, "v", pa.array([*table.column("v").to_pylist()[:-1], "值x"]))
    assert rows.digest_table(changed).root() != base
    # the order-free set is the same for both orders and differs for a changed value
    sets = []
    for t in (table, swapped, changed):
        rs = rows.RowSet()
        rs.add_batch(t)
        sets.append(rs.hex())
    assert sets[0] == sets[1] != sets[2]


def test_canonical_rows_match_verify_encoding() -> None:
    from handover.package.rows import canonical_rows
    from handover.verify.normalize import encode_row, render_value

    values = [
        (1, "张三", dt.date(1990, 1, 2), True),
        (2, None, None, False),
        (3, "a:b~", dt.date(2000, 2, 29), None),
    ]
    table = pa.table(
        {
            "id": [v[0] for v in values],
            "name": [v[1] for v in values],
            "d": pa.array([v[2] for v in values], pa.date32()),
            "b": [v[3] for v in values],
        }
    )
    kinds = ["int", "text", "date", "bool"]
    expected = [
        encode_row([render_value(x, k) for x, k in zip(row, kinds, strict=True)]).encode()
        for row in values
    ]
    assert canonical_rows(table).to_pylist() == expected


def test_package_source_resumes_after_key(ws_path: str, sealed: Path) -> None:
    from handover.package import PackageSource

    ws = _open_ws(ws_path)
    try:
        with PackageSource(ws, sealed) as src:
            d = next(x for x in src.schema() if x.name == "cust_info")
            first = [sb for sb in src.read(d, after=None, batch_size=40)]
            assert sum(sb.data.num_rows for sb in first) == CUSTOMERS
            rest = list(src.read(d, after=first[0].last_key, batch_size=40))
            assert sum(sb.data.num_rows for sb in rest) == CUSTOMERS - 40
            assert rest[0].data.column("khbh")[0].as_py() == first[1].data.column("khbh")[0].as_py()
    finally:
        ws.close()


def test_seal_refuses_existing_out_and_leaves_nothing(
    ws_path: str, seller_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "exists"
    out.mkdir()
    res = runner.invoke(app, ["-w", ws_path, "seal", seller_db, "--out", str(out)])
    assert res.exit_code == 2
    bad = tmp_path / "bad.db"
    con = sqlite3.connect(bad)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    con.execute("INSERT INTO t VALUES (1, 'not a number')")
    con.commit()
    con.close()
    res = runner.invoke(app, ["-w", ws_path, "seal", str(bad), "--out", str(tmp_path / "p")])
    assert res.exit_code == 2, res.output
    assert "'t'" in res.stderr or " t " in res.stderr
    assert not (tmp_path / "p").exists()
    assert not any(p.name.startswith(".p.partial") for p in tmp_path.iterdir())


def _iter_files(p: Path) -> Iterator[Path]:
    yield from (x for x in p.rglob("*") if x.is_file())


def test_only_columns_whose_values_repeat_get_a_dictionary(ws_path: str, sealed: Path) -> None:
    """The sealed file dictionary-encodes a column of few values and writes a column of
    distinct ones plain (handover.parquet_layout); the rows read back the same."""
    from handover.crypto import Keys

    manifest = json.loads((sealed / "manifest.json").read_text("utf-8"))
    entry = next(t for t in manifest["tables"] if t["name"] == "hkls")
    ws = _open_ws(ws_path)
    try:
        with Keys(ws) as keys:
            pf = pq.ParquetFile(sealed / entry["file"], decryption_properties=_stock_props(keys))
            meta = pf.metadata.row_group(0)
            encodings = {
                meta.column(i).path_in_schema: set(meta.column(i).encodings)
                for i in range(meta.num_columns)
            }
            channels = pf.read(columns=["还款渠道"]).column(0)
    finally:
        ws.close()
    assert "RLE_DICTIONARY" in encodings["还款渠道"], encodings  # 5 channels
    assert "RLE_DICTIONARY" not in encodings["流水号"], encodings  # one per row
    assert "RLE_DICTIONARY" not in encodings["订单号"], encodings
    assert channels.null_count == 0 and len(set(channels.to_pylist())) <= 5
