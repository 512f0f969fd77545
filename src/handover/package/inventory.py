"""The scan inventory of a source, as seal and dd-extract need it (never guessed).

The newest stored inventory is used when it was taken of this very source; otherwise
``handover scan`` runs now, through the scan library, and is stored and recorded like
any scan.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handover.governance import Decision
    from handover.workspace import Workspace

Columns = dict[tuple[str, str], dict[str, Any]]


def inventory_for(
    ws: Workspace, spec: str | Path, *, authorized: Decision | None = None
) -> tuple[Columns, int | None]:
    """``{(table, column): {"primary", "tier", "types", "free_text", "sensitive"}}`` and the scan id.

    A scan run here is a step of the calling command: its ``authorized`` decision covers it.
    """
    from handover.detect.store import latest_inventory
    from handover.sources import mask_spec

    shown = mask_spec(str(spec))
    inv = latest_inventory(ws)
    if inv is None or inv.get("source") != shown:
        from handover.detect.scan import run_scan

        run_scan(ws, str(spec), authorized=authorized)
        inv = latest_inventory(ws)
        assert inv is not None
    cols: Columns = {}
    for tb in inv["tables"]:
        for c in tb["columns"]:
            cols[(tb["name"], c["name"])] = {
                "primary": c.get("primary"),
                "tier": c.get("tier"),
                "types": [p["type"] for p in c.get("pii") or []],
                "free_text": bool(c.get("free_text")),
                "sensitive": bool(c.get("sensitive")),
            }
    return cols, inv.get("scan_id")
