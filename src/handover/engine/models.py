"""Platform-store tables of the engine: runs on a cluster and the shards they finished,
so that ``--resume RUN`` after a lost scheduler runs only the shards still missing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.models import Base


class EngineRun(Base):
    """One sharded run (``kind``: seal); source stored masked, options without secrets."""

    __tablename__ = "engine_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)


class EngineShard(Base):
    """A shard of a run whose one accepted result is recorded (counts and digests only)."""

    __tablename__ = "engine_shards"

    run_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("engine_runs.id", ondelete="CASCADE"), primary_key=True
    )
    task: Mapped[str] = mapped_column(String(64), primary_key=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    done_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
