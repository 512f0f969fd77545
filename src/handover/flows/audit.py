"""``handover audit export``: the offline evidence bundle, its export recorded as the actor's."""

from __future__ import annotations

from pathlib import Path

from handover.governance import current_actor
from handover.ledger.export import ExportResult, export_bundle
from handover.workspace import Workspace


def export(ws: Workspace, folder: Path) -> ExportResult:
    """Write the evidence bundle of the ledger to ``folder`` (see :func:`export_bundle`)."""
    return export_bundle(ws, folder, actor=current_actor(ws))
