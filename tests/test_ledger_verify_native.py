"""The verifier's Arrow path on a SQLite store (``handover.ledger.verify_native``): it
proves a good log and never a tampered one, and the findings are the row loop's either
way; its C module (``_frames``) on its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from tests import test_ledger_tamper as tamper
from tests.conftest import require_built

from handover import ledger
from handover.crypto import tree
from handover.crypto.digest import arrow_buffers
from handover.flows.workspace import init_workspace
from handover.ledger import verify, verify_native
from handover.workspace import DEMO_TRANSFER, Workspace

try:
    from handover.ledger import _frames
except ImportError:
    _frames = None  # type: ignore[assignment]

_file_keyring = tamper._file_keyring  # the tamper suite's keyring, for signed checkpoints


@pytest.fixture(autouse=True)
def _built() -> None:
    require_built(
        _frames is not None and tree.native_built(),
        "handover.ledger._frames or handover.crypto._tree",
        "C compiler",
    )


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[Workspace]:
    ws = init_workspace(tmp_path / "ws", DEMO_TRANSFER)
    try:
        yield tamper.logged.__wrapped__(ws)  # type: ignore[attr-defined]
    finally:
        ws.close()


def _proof(ws: Workspace, chunk: int = 8) -> tuple[bytes | None, bool | None]:
    """What the Arrow path proves of ``ws``: the leaf hashes (None: not proved) and
    whether the stored nodes are the recomputed ones (None: not reached)."""
    with ws.store.engine.connect() as conn:
        verify._snapshot(conn)
        size, frontier = conn.execute(
            text("SELECT size, frontier FROM ledger_head WHERE id = 1")
        ).one()
        assert verify_native.available(conn)
        with verify_native.snapshot(conn, size, frontier) as native:
            assert native is not None
            level0 = verify._proved_leaves(native, conn, chunk, None)
            if level0 is None:
                return None, None
            levels = ledger.merkle.build_levels(level0)
            return level0, verify_native.nodes_equal(native, levels)


def _findings(ws: Workspace, monkeypatch: pytest.MonkeyPatch, *, arrow: bool) -> list[Any]:
    with monkeypatch.context() as m:
        if not arrow:
            m.setattr(verify_native, "available", lambda conn: False)
        report = ledger.verify_ledger(ws, chunk=8)
    return [report.ok, report.size, report.root, [p.to_json() for p in report.problems]]


def test_a_good_log_is_proved_without_the_row_loop(
    logged: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    level0, nodes = _proof(logged)
    assert level0 is not None and nodes is True
    assert level0 == ledger.merkle.leaf_hashes([e.body for e in ledger.entries(logged)])
    row_loop = _findings(logged, monkeypatch, arrow=False)

    def no_rows(*args: Any) -> Any:
        raise AssertionError("the row loop ran on a good log")

    monkeypatch.setattr(verify, "_read_leaves", no_rows)
    monkeypatch.setattr(verify, "_check_nodes", no_rows)
    for chunk in (1, 5, 8, 50_000):
        report = ledger.verify_ledger(logged, chunk=chunk)
        assert [report.ok, report.size, report.root, []] == row_loop
    assert row_loop[0] is True


@pytest.mark.parametrize("how", tamper.TAMPERS, ids=lambda f: f.__name__)
def test_a_tampered_log_gets_the_row_loops_findings(
    logged: Workspace, how: Callable[[Workspace, int], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    how(logged, ledger.ledger_size(logged))
    arrow = _findings(logged, monkeypatch, arrow=True)
    assert arrow == _findings(logged, monkeypatch, arrow=False)
    assert arrow[0] is False


@pytest.mark.parametrize("column", list(tamper.FORGED))
def test_a_forged_column_is_never_proved(
    logged: Workspace, column: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    k = ledger.ledger_size(logged) - 7
    tamper._forge(logged, k, column, tamper._forged_value(logged, k, column))
    if column != "seq":  # a seq moved out of the head's snapshot is a missing entry
        assert _proof(logged) == (None, None)
    arrow = _findings(logged, monkeypatch, arrow=True)
    assert arrow == _findings(logged, monkeypatch, arrow=False) and arrow[0] is False


@pytest.mark.parametrize(
    "sql",
    [
        # the stored stamp in another text form of the same instant
        "UPDATE ledger_entries SET ts = replace(ts, ' ', 'T') WHERE seq = 3",
        # a stamp before the one of the entry before it, in column and body alike
        "UPDATE ledger_entries SET ts = '2000-01-01 00:00:00.000000', "
        'body = replace(body, substr(body, instr(body, \'"ts":"\') + 6, 27), '
        "'2000-01-01T00:00:00.000000Z') WHERE seq = 20",
        # a body whose fields are read from its other end
        "UPDATE ledger_entries SET body = replace(body, ',\"seq\":', ',\"seq\": ') WHERE seq = 4",
        "UPDATE ledger_entries SET actor = actor || ' ' WHERE seq = 2",
        "UPDATE ledger_entries SET action = 5 WHERE seq = 2",
        "UPDATE ledger_entries SET body = CAST(body AS BLOB) WHERE seq = 2",
        "UPDATE ledger_entries SET leaf_hash = substr(leaf_hash, 1, 31) WHERE seq = 6",
        # text that is no UTF-8 (a blob joined by || is text in SQLite)
        "UPDATE ledger_entries SET root = root || x'00' WHERE seq = 6",
        "UPDATE ledger_entries SET body = CAST(body || x'ff' AS TEXT) WHERE seq = 7",
        "UPDATE ledger_nodes SET hash = x'0707' WHERE level = 4 AND idx = 1",
        "DELETE FROM ledger_nodes WHERE level = 5",
        # a node below the lowest stored level (revision 0002c), as an older store had
        "INSERT INTO ledger_nodes (level, idx, hash) VALUES (2, 0, x'" + "00" * 32 + "')",
        "INSERT INTO ledger_nodes (level, idx, hash) VALUES (1, 99, x'" + "00" * 32 + "')",
    ],
)
def test_raw_edits_are_never_proved(
    logged: Workspace, sql: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _proof(logged)
    with logged.store.engine.begin() as c:
        c.execute(text(sql))
    after = _proof(logged)
    assert after != before and after[1] is not True
    arrow = _findings(logged, monkeypatch, arrow=True)
    assert arrow == _findings(logged, monkeypatch, arrow=False)


def test_a_seq_that_is_no_integer_cannot_be_stored(logged: Workspace) -> None:
    """``seq`` is SQLite's rowid (store revision 0002b): the store itself refuses a text
    there, so the log stays as it was."""
    before = _proof(logged)
    with (
        pytest.raises(IntegrityError, match="datatype mismatch"),
        logged.store.engine.begin() as c,
    ):
        c.execute(text("UPDATE ledger_entries SET seq = '13x' WHERE seq = 13"))
    assert _proof(logged) == before and ledger.verify_ledger(logged).ok


def test_text_that_json_escapes_takes_the_row_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An actor or subject JSON must escape is not proved here, and the row loop finds
    the log good: the Arrow path is only ever a shortcut."""
    ws = init_workspace(tmp_path / "ws", DEMO_TRANSFER)
    try:
        ledger.record(ws, 'user:"王"', "test.odd", "a\tb", "p")
        assert _proof(ws) == (None, None)
        assert ledger.verify_ledger(ws).ok
        assert _findings(ws, monkeypatch, arrow=True) == _findings(ws, monkeypatch, arrow=False)
    finally:
        ws.close()


def test_a_commit_between_the_snapshots_falls_back(logged: Workspace) -> None:
    with logged.store.engine.connect() as conn:
        verify._snapshot(conn)
        size, frontier = conn.execute(
            text("SELECT size, frontier FROM ledger_head WHERE id = 1")
        ).one()
        with verify_native.snapshot(conn, size - 1, frontier) as native:
            assert native is None
        with verify_native.snapshot(conn, size, frontier[:-1]) as native:
            assert native is None
        with verify_native.snapshot(conn, size, frontier) as native:
            assert native is not None


def _pair(values: list[str], start: int = 0) -> tuple[memoryview, Any]:
    arr = pa.array(["x"] * start + values, pa.string())[start:]
    return arrow_buffers(arr)


def test_frames_finds_the_first_row_that_does_not_open_and_close_so() -> None:
    assert _frames is not None
    first = _frames.first_unframed
    values = _pair(['{"a":"x","b":1}', '{"a":"yy","b":22}', '{"a":"","b":3}'], 2)
    opening = (b'{"a":"', _pair(["x", "yy", ""], 1), b'"')
    closing = (b',"b":', _pair(["1", "22", "3"]), b"}")
    assert first(values, opening, closing) == -1
    assert first(values, (b'{"a":"', _pair(["x", "y", ""]), b'"'), closing) == 1
    assert first(values, opening, (b',"b":', _pair(["1", "22", "4"]), b"}")) == 2
    assert first(values, (), ()) == -1
    # a column's value must need no JSON escape, even where the text holds it as it is
    for odd in ('x"', "x\\", "x\n", "x\x01"):
        assert first(_pair([f"<{odd}>"]), (b"<", _pair([odd])), (b">",)) == 0
    assert first(_pair(["<\u4e2d\x7f>"]), (b"<", _pair(["\u4e2d\x7f"])), (b">",)) == -1
    # the opening and closing may not overlap: "ab" + "bc" do not frame "abc"
    assert first(_pair(["abc"]), (b"ab",), (b"bc",)) == 0
    assert first(_pair(["abcd"]), (b"ab",), (b"cd",)) == -1
    with pytest.raises(ValueError, match="int32 offsets"):
        first(_pair(["a", "b"]), (_pair(["a"]),), ())
    offsets, data = _pair(["abc"])
    with pytest.raises(ValueError, match="outside the data"):
        first((offsets, b"ab"), (), ())
    with pytest.raises(TypeError):
        first((offsets, data), [b"a"], ())  # type: ignore[arg-type]


def test_leaf_hashes_of_an_arrow_array_are_those_of_its_values() -> None:
    values = ["", "a", "中文" * 50, "x" * 1000]
    for arr in (pa.array(values), pa.array(["pad", *values])[1:], pa.array(values, pa.binary())):
        want = tree.leaf_hashes([v.encode() for v in values])
        assert tree.leaf_hashes_of(arr) == want
    assert tree.leaf_hashes_of(pa.array([], pa.string())) == b""
