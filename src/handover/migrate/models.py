"""Platform-store tables of ``handover migrate``: runs and their per-table checkpoints.

The authoritative checkpoint lives in the target database (``_handover_migrate_state``,
written in the same transaction as each batch); these rows mirror it so that a run can be
listed, reported and resumed from the workspace.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.models import Base


class MigrateRun(Base):
    """One ``handover migrate`` run (source/target stored without passwords)."""

    __tablename__ = "migrate_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class MigrateCheckpoint(Base):
    """Progress of one table in one run: the last key committed and the rows so far."""

    __tablename__ = "migrate_checkpoints"

    run_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("migrate_runs.id", ondelete="CASCADE"), primary_key=True
    )
    table_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    last_key: Mapped[str | None] = mapped_column(Text)
    rows_copied: Mapped[int] = mapped_column(BigInteger)
    rejects: Mapped[int] = mapped_column(BigInteger)
    source_rows: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
