"""Parquet Modular Encryption through handover keys, read back by stock pyarrow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from handover.crypto import DecryptionFailed, KeyDestroyed, Keys
from handover.crypto.parquet import (
    decryption_properties,
    encryption_properties,
    read_table,
    write_table,
)
from handover.errors import BadInput
from handover.flows.workspace import init_workspace
from handover.ledger import Recorder
from handover.workspace import Workspace

TABLE = pa.table(
    {
        "customer_id": pa.array([1, 2, 3], pa.int64()),
        "name": ["张三", "李四", "王五"],
        "resident_id": ["11010519491231002X", "440524188001010014", "110101199003074477"],
        "card_cvn": ["123", "456", "789"],
        "branch": ["西湖支行", "滨江支行", "西湖支行"],
    }
)


@pytest.fixture(scope="module")
def shared_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One demo workspace for the tests of this module (each test uses its own keys)."""
    ws = init_workspace(tmp_path_factory.mktemp("crypto") / "ws", demo=True)
    yield ws
    ws.close()


def _three_keys(ws: Workspace) -> tuple[dict[str, list[str]], str]:
    with Keys(ws, events=Recorder(ws, "os:test")) as keys:
        c3 = keys.create("transfer", "C3").key_id
        c2 = keys.create("transfer", "C2").key_id
        other = keys.create("transfer", "C1").key_id
        footer = keys.create("footer").key_id
    column_keys = {c3: ["card_cvn"], c2: ["name", "resident_id"], other: ["customer_id", "branch"]}
    return column_keys, footer


def test_three_column_keys_round_trip_with_stock_pyarrow(
    shared_ws: Workspace, tmp_path: Path
) -> None:
    column_keys, footer = _three_keys(shared_ws)
    path = tmp_path / "loans.parquet"
    write_table(shared_ws, TABLE, path, column_keys, footer)
    raw = path.read_bytes()
    assert raw[:4] == b"PARE" and raw[-4:] == b"PARE"  # encrypted footer magic
    assert "张三".encode() not in raw and b"11010519491231002X" not in raw
    # stock pyarrow cannot even read the schema without keys
    with pytest.raises(OSError):
        pq.read_table(path)
    # stock pyarrow with the KMS glue reads everything back
    with Keys(shared_ws, events=Recorder(shared_ws, "os:test")) as keys:
        props = decryption_properties(keys)
        assert pq.read_table(path, decryption_properties=props).equals(TABLE)
        assert pq.ParquetFile(path, decryption_properties=props).metadata.num_rows == 3
    assert read_table(shared_ws, path, columns=["name"]).column("name").to_pylist() == [
        "张三",
        "李四",
        "王五",
    ]


def test_encryption_properties_with_stock_writer(shared_ws: Workspace, tmp_path: Path) -> None:
    column_keys, footer = _three_keys(shared_ws)
    path = tmp_path / "t.parquet"
    with Keys(shared_ws, events=Recorder(shared_ws, "os:test")) as keys:
        props = encryption_properties(keys, column_keys, footer)
        pq.write_table(TABLE, path, encryption_properties=props)
    assert read_table(shared_ws, path).equals(TABLE)


def test_other_workspace_cannot_read(shared_ws: Workspace, tmp_path: Path) -> None:
    column_keys, footer = _three_keys(shared_ws)
    path = tmp_path / "loans.parquet"
    write_table(shared_ws, TABLE, path, column_keys, footer)
    other = init_workspace(tmp_path / "other", demo=True)
    try:
        with pytest.raises(DecryptionFailed) as err:
            read_table(other, path)
        assert str(err.value).startswith(f"{path}:")
    finally:
        other.close()


def test_destroyed_column_key_makes_columns_unreadable(
    shared_ws: Workspace, tmp_path: Path
) -> None:
    column_keys, footer = _three_keys(shared_ws)
    c3 = next(k for k, cols in column_keys.items() if cols == ["card_cvn"])
    path = tmp_path / "loans.parquet"
    write_table(shared_ws, TABLE, path, column_keys, footer)
    with Keys(shared_ws, events=Recorder(shared_ws, "os:test")) as keys:
        keys.destroy(c3, "C3 data must not be kept (JR/T 0171)")
    # the other columns still open: each column key is separate
    got = read_table(shared_ws, path, columns=["name", "branch"])
    assert got.column("branch").to_pylist() == ["西湖支行", "滨江支行", "西湖支行"]
    with pytest.raises(KeyDestroyed, match=c3):
        read_table(shared_ws, path, columns=["card_cvn"])
    with Keys(shared_ws, events=Recorder(shared_ws, "os:test")) as keys:
        keys.destroy(footer, "erase the file")
    with pytest.raises(KeyDestroyed, match=footer):
        read_table(shared_ws, path, columns=["name"])


def test_every_column_needs_a_key(shared_ws: Workspace, tmp_path: Path) -> None:
    column_keys, footer = _three_keys(shared_ws)
    del column_keys[next(iter(column_keys))]
    path = tmp_path / "x.parquet"
    with pytest.raises(BadInput, match="card_cvn"):
        write_table(shared_ws, TABLE, path, column_keys, footer)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_tampered_file_fails_opaquely(shared_ws: Workspace, tmp_path: Path) -> None:
    column_keys, footer = _three_keys(shared_ws)
    path = tmp_path / "loans.parquet"
    write_table(shared_ws, TABLE, path, column_keys, footer)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0x40
    path.write_bytes(bytes(raw))
    with pytest.raises(DecryptionFailed, match=r"loans\.parquet"):
        read_table(shared_ws, path)
