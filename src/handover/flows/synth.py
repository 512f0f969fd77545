"""``handover synth``: the synthetic loan book, recorded in the workspace when there is one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from handover.governance import current_actor
from handover.ledger import LedgerEntry, checkpoint_if_new, record
from handover.settings import TOML_NAME, resolve_workspace
from handover.workspace import Workspace, open_workspace

if TYPE_CHECKING:
    from handover.synth import SynthResult


def record_synth(ws: Workspace, actor: str, result: SynthResult) -> LedgerEntry:
    """Record ``synth.generate`` for ``result`` (target masked by the ledger's guard)."""
    return record(
        ws,
        actor,
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


def record_synth_in(workspace: Path | None, result: SynthResult) -> LedgerEntry | None:
    """Record the synth run in the workspace at ``workspace`` when one exists there, then
    sign the head; None when there is no workspace (synth does not need one)."""
    path = resolve_workspace(workspace)
    if not (path / TOML_NAME).is_file():
        return None
    ws = open_workspace(path)
    try:
        actor = current_actor(ws)
        entry = record_synth(ws, actor, result)
        checkpoint_if_new(ws, actor=actor)
        return entry
    finally:
        ws.close()
