"""The console's tables: web sessions and login attempts (for throttling).

A session row keeps only the SHA-256 of its token, like the CLI's ``gov_sessions``; a login
attempt keeps the name tried and the SHA-256 of the client address, never a password.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
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


class WebLoginAttemptRow(Base):
    """One console login attempt: which name, from which client (hashed), success or not."""

    __tablename__ = "web_login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
