"""The console's tables: web sessions, login attempts (for throttling), background jobs.

A session row keeps only the SHA-256 of its token, like the CLI's ``gov_sessions``; a login
attempt keeps the name tried and the SHA-256 of the client address, never a password.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.models import Base


class WebSessionRow(Base):
    """A console login: expires at ``expires_at`` or after idling; ended by logout/revoke."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("gov_people.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_why: Mapped[str | None] = mapped_column(String(20), nullable=True)


class WebJobRow(Base):
    """A long job started from the console (scan, seal, migrate, verify, notices send,
    shred), run in the background; its progress and outcome are read back by any page
    load, so a reload loses nothing."""

    __tablename__ = "web_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(500))  # masked: no password
    status: Mapped[str] = mapped_column(String(12))  # running | done | failed | interrupted
    steps: Mapped[int] = mapped_column(Integer)
    current: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the error as a catalogue message ``{"key", "params"}`` (shown in the reader's language)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: what the job was started with, masked (no password, no secret): shown, and enough
    #: to resume it (revision 0019b)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: the progress protocol's state: ``{"phase", "tasks": [{"name", "total", "done",
    #: "rejects"}]}``
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: the job this one resumes (a failed or interrupted one of the same kind)
    resume_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
