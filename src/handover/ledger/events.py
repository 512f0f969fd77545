"""Ledger events of the foundation's commands that have no package of their own to
record them (synth, demo). Stages with a package record their own events."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.ledger.ledger import LedgerEntry, checkpoint_if_new, record

if TYPE_CHECKING:
    from handover.workspace import Workspace


def record_synth(ws: Workspace, result: Any) -> LedgerEntry:
    """Record ``synth.generate`` for a :class:`handover.synth.SynthResult` (target masked)."""
    return record(
        ws,
        None,
        "synth.generate",
        str(result.target),
        "生成合成测试数据 / generate synthetic test data",
        {
            "kind": result.kind,
            "customers": result.customers,
            "seed": result.seed,
            "tables": dict(result.tables),
            "total_rows": result.total_rows,
        },
    )


def record_synth_in(workspace: Path | None, result: Any) -> LedgerEntry | None:
    """Record the synth run in the workspace at ``workspace`` when one exists there, then
    sign the head; None when there is no workspace (synth does not need one)."""
    from handover.settings import TOML_NAME, resolve_workspace
    from handover.workspace import open_workspace

    path = resolve_workspace(workspace)
    if not (path / TOML_NAME).is_file():
        return None
    ws = open_workspace(path)
    try:
        entry = record_synth(ws, result)
        checkpoint_if_new(ws)
        return entry
    finally:
        ws.close()


def record_demo_step(ws: Workspace, n: int, key: str, line: str) -> LedgerEntry:
    """Record that demo step ``n`` (message key ``key``) finished, with its summary line."""
    return record(
        ws,
        None,
        "demo.step",
        key,
        "演示流程 / demo run",
        {"n": n, "summary": line[:500]},
    )
