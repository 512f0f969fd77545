"""The inventory tables (platform store): one row per scan, per table, per column.

Only :mod:`handover.detect.store` writes them. No clear values are stored: evidence
holds masked examples only, as catalogue keys and values (rendered per reader's language).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.models import Base


class InventoryScanRow(Base):
    """One run of ``handover scan``."""

    __tablename__ = "inventory_scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(500))  # masked spec
    kind: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10))  # sample | full
    sample: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class InventoryTableRow(Base):
    """One table of a scan: rows and reading problems."""

    __tablename__ = "inventory_tables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_scans.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    rows: Mapped[int] = mapped_column(Integer)
    scanned_rows: Mapped[int] = mapped_column(Integer)
    notes: Mapped[list[Any]] = mapped_column(JSON)  # see handover.detect.messages.to_json


class InventoryColumnRow(Base):
    """One column of a scan with its classification."""

    __tablename__ = "inventory_columns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_scans.id", ondelete="CASCADE"), index=True
    )
    table_name: Mapped[str] = mapped_column(String(300))
    column_name: Mapped[str] = mapped_column(String(300))
    db_type: Mapped[str] = mapped_column(String(100))
    primary_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    tier: Mapped[str | None] = mapped_column(String(2), nullable=True)
    level: Mapped[int] = mapped_column(Integer)
    sensitive: Mapped[bool] = mapped_column(Boolean)
    free_text: Mapped[bool] = mapped_column(Boolean)
    confidence: Mapped[float] = mapped_column(Float)
    pii: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # {"key", "params", "text"} items (plain English strings before they were keyed).
    evidence: Mapped[list[Any]] = mapped_column(JSON)
