"""Workspace creation: files, folders, store; bad input leaves nothing behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from handover import ledger
from handover.errors import BadInput
from handover.flows.workspace import init_workspace
from handover.workspace import open_workspace


def test_init_creates_everything(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
        root = tmp_path / "ws"
        assert (root / "handover.toml").is_file()
        assert (root / "handover.db").is_file()
        for sub in ("keys", "packages", "reports", "exports"):
            assert (root / sub).is_dir()
        assert stat.S_IMODE((root / "keys").stat().st_mode) == 0o700
        assert ws.settings.demo is True
        assert ws.settings.transfer is not None
        assert "小额贷款" in ws.settings.transfer.seller.name
        assert "transfers" in ws.store.tables()
    finally:
        ws.close()
    reopened = open_workspace(tmp_path / "ws")
    try:
        assert reopened.settings.transfer == ws.settings.transfer
    finally:
        reopened.close()


def test_init_refuses_existing_workspace_and_changes_nothing(tmp_path: Path) -> None:
    init_workspace(tmp_path / "ws", demo=True).close()
    before = (tmp_path / "ws" / "handover.toml").read_bytes()
    with pytest.raises(BadInput, match=r"already exists|已存在"):
        init_workspace(tmp_path / "ws", demo=True)
    assert (tmp_path / "ws" / "handover.toml").read_bytes() == before


def test_init_without_parties_outside_demo_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="--seller"):
        init_workspace(tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


def test_invalid_transfer_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"\[transfer\]"):
        init_workspace(tmp_path / "ws", {"name": "x", "seller": {"name": "甲"}})
    assert not (tmp_path / "ws").exists()


def test_unreachable_store_rolls_back_the_new_workspace(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="unreachable"):
        init_workspace(
            tmp_path / "ws", demo=True, database_url="postgresql+psycopg://x:pw@127.0.0.1:1/nope"
        )
    assert not (tmp_path / "ws").exists()


def test_unreachable_store_in_existing_dir_removes_only_what_it_made(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(BadInput):
        init_workspace(tmp_path, demo=True, database_url="postgresql+psycopg://x@127.0.0.1:1/n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; permission test is moot")
def test_unwritable_parent(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(BadInput, match="not writable"):
        init_workspace(ro / "ws", demo=True)


def test_workspace_path_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(BadInput, match="not a directory"):
        init_workspace(tmp_path / "f", demo=True)


def test_open_missing_workspace(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="handover init"):
        open_workspace(tmp_path / "nothing", lang="en")


@pytest.mark.postgres
def test_workspace_with_postgres_store(tmp_path: Path, pg_url: str) -> None:
    ws = init_workspace(tmp_path / "ws", demo=True, database_url=pg_url)
    try:
        assert ws.store.engine.dialect.name == "postgresql"
        assert not (tmp_path / "ws" / "handover.db").exists()
        assert "transfers" in ws.store.tables()
        # appends go through the driver's own cursor (%s placeholders, FOR UPDATE)
        one = ledger.record(ws, "os:tester", "test.one", "s", "purpose", {"n": 1})
        events = [ledger.Event("test.many", f"s{i}", "p", {"i": i}, actor="os:t") for i in range(5)]
        many = ledger.record_many(ws, events)
        assert [e.seq for e in many] == list(range(one.seq + 1, one.seq + 6))
        assert ledger.ledger_size(ws) == one.seq + 6
        report = ledger.verify_ledger(ws)
        assert report.ok, report.problems
        got = [e.action for e in ledger.entries(ws, action="test")]
        assert got == ["test.one", *["test.many"] * 5]
    finally:
        ws.close()
