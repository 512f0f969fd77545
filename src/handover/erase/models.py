"""Tables of ``handover shred``: one row per run, one row per destroyed or retained item.

Only counts, names, methods and outcomes are stored: never a sampled identifier (the
verification samples live in memory only, see docs/erase.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.models import Base


class EraseRunRow(Base):
    """One ``handover shred`` run: who, what, the verify gate, the outcome, the certificate."""

    __tablename__ = "erase_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str | None] = mapped_column(Text, nullable=True)
    executed_by: Mapped[str] = mapped_column(String(200))
    validated_by: Mapped[str] = mapped_column(String(200))
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    force_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    certificate: Mapped[str | None] = mapped_column(Text, nullable=True)
    certificate_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class EraseItemRow(Base):
    """One item of a run: a table, rows, a file, a package or a key; destroyed or retained."""

    __tablename__ = "erase_items"

    run_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("erase_runs.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    medium: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(16))  # destroy | retain
    method: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # planned | done | failed | retained
    rows: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
