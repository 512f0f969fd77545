"""Save a scan's inventory in the platform store and read the latest one back.

Evidence and notes are stored language-neutrally, each as ``{"key", "params", "text"}``
(``text`` in English); inventories stored before that hold plain English strings, which
are read back as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from handover.detect.messages import from_json, keys_json, to_json
from handover.detect.models import InventoryColumnRow, InventoryScanRow, InventoryTableRow
from handover.sources import FileReading

if TYPE_CHECKING:
    from handover.detect.scan import Inventory
    from handover.workspace import Workspace


def save_inventory(ws: Workspace, inv: Inventory) -> int:
    """Store ``inv`` in one transaction (all rows or none); returns the scan id."""
    with ws.store.session() as s:
        scan = InventoryScanRow(
            created_at=inv.started_at,
            source=inv.source[:500],
            kind=inv.kind,
            mode=inv.mode,
            sample=inv.sample,
            seed=inv.seed,
            seconds=inv.seconds,
            summary={
                **inv.counts(),
                **({"located": inv.located} if inv.located else {}),
                **({} if inv.header else {"header": False}),
                **({"escapes": inv.escapes} if inv.escapes else {}),
            },
        )
        s.add(scan)
        s.flush()
        for t in inv.tables:
            s.add(
                InventoryTableRow(
                    scan_id=scan.id,
                    name=t.name[:300],
                    rows=t.rows,
                    scanned_rows=t.scanned_rows,
                    notes=[to_json(n) for n in t.notes],
                )
            )
            for c in t.columns:
                j = c.to_json()
                evidence = [to_json(e) for e in c.evidence + c.notes]
                s.add(
                    InventoryColumnRow(
                        scan_id=scan.id,
                        table_name=t.name[:300],
                        column_name=c.name[:300],
                        db_type=c.db_type[:100],
                        primary_type=c.primary,
                        tier=c.tier,
                        level=c.level,
                        sensitive=c.sensitive,
                        free_text=c.free_text,
                        confidence=c.confidence,
                        pii=j["pii"],
                        evidence=evidence,
                    )
                )
        return int(scan.id)


def latest_inventory(ws: Workspace) -> dict[str, Any] | None:
    """The newest stored scan in the ``--json`` shape (plus ``scan_id``), or ``None``.

    ``evidence`` is English; ``evidence_keys`` holds the catalogue keys and values
    (``key`` null for an item stored as plain text by an older version)."""
    with ws.store.session() as s:
        scan = s.scalars(select(InventoryScanRow).order_by(InventoryScanRow.id.desc())).first()
        if scan is None:
            return None
        tables = s.scalars(
            select(InventoryTableRow)
            .where(InventoryTableRow.scan_id == scan.id)
            .order_by(InventoryTableRow.id)
        ).all()
        cols = s.scalars(
            select(InventoryColumnRow)
            .where(InventoryColumnRow.scan_id == scan.id)
            .order_by(InventoryColumnRow.id)
        ).all()
        out: dict[str, Any] = {"scan_id": scan.id, "source": scan.source, "tables": []}
        out["located"] = (scan.summary or {}).get("located")
        out["header"] = (scan.summary or {}).get("header", True)
        out["escapes"] = (scan.summary or {}).get("escapes", "")
        for t in tables:
            out["tables"].append(
                {
                    "name": t.name,
                    "rows": t.rows,
                    "columns": [
                        {
                            "name": c.column_name,
                            "db_type": c.db_type,
                            "primary": c.primary_type,
                            "tier": c.tier,
                            "level": c.level,
                            "sensitive": c.sensitive,
                            "free_text": c.free_text,
                            "confidence": c.confidence,
                            "pii": c.pii,
                            "evidence": [str(n) for n in notes],
                            "evidence_keys": [keys_json(n) for n in notes],
                        }
                        for c in cols
                        if c.table_name == t.name
                        for notes in [[from_json(x) for x in c.evidence]]
                    ],
                }
            )
        return out


def inventory_reading(inv: dict[str, Any]) -> FileReading:
    """How the source of the stored inventory ``inv`` (:func:`latest_inventory`) was read:
    to open it again alike (its columns are named by it)."""
    return FileReading(header=bool(inv.get("header", True)), escapes=str(inv.get("escapes") or ""))
