"""Tables of ``handover notices``: campaigns, the outbox (one row per recipient and channel)
and the rows that could not be reached.

No clear personal value is stored: recipients are keyed tokens, addresses are read from
the source when a notice is sent, names of unreachable rows are masked, and a sent
notice is kept as the SHA-256 of its text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.models import Base


class NoticeCampaignRow(Base):
    """One notice campaign: what is sent, to which tables' people, by which channels."""

    __tablename__ = "notice_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)  # the source spec, password masked
    lang: Mapped[str] = mapped_column(String(8))
    channels: Mapped[list[str]] = mapped_column(JSON)
    people: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    content: Mapped[dict[str, str]] = mapped_column(JSON)
    templates: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON)
    maker: Mapped[str] = mapped_column(String(200))
    grant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # created | queued | done
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    lease: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: ``notice`` (PIPL Art. 22), ``consent`` (a new purpose: PIPL Art. 14, 22) or
    #: ``breach`` (PIPL Art. 57: the people an incident concerns)
    kind: Mapped[str] = mapped_column(String(16), default="notice")
    #: the incident a breach campaign tells the people of
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: the people the campaign is limited to (audience.Restriction), None for everyone
    restriction: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: a drill's campaign: its channels are the drill channel, nothing leaves handover
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    #: how its source's files are read (``FileReading.to_options``); None: the plain reading
    reading: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


#: the outbox's index of address tags (receipts and replies find their notice by it)
TAG_INDEX = "ix_notice_outbox_tag"


class NoticeOutboxRow(Base):
    """One notice to one person by one channel and where it stands.

    ``key`` is the idempotency key of (campaign, recipient, channel): unique, and sent
    with the message (e-mail Message-ID, SMS OutId) so a resent in-doubt message is the
    same message.
    """

    __tablename__ = "notice_outbox"
    __table_args__ = (
        Index("ix_notice_outbox_pending", "campaign_id", "channel", "state"),
        Index(TAG_INDEX, "campaign_id", "channel", "address_tag"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("notice_campaigns.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(32), unique=True)
    recipient: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    provider_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: keyed token of the address (mobile, e-mail): finds the row of an SMS receipt or a
    #: reply without the clear number being stored
    address_tag: Mapped[str | None] = mapped_column(String(32), nullable=True)


class NoticeUnreachableRow(Base):
    """A source row no notice can reach, with the reason (name masked)."""

    __tablename__ = "notice_unreachable"

    campaign_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("notice_campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(String(300))
    row_key: Mapped[str] = mapped_column(String(300))
    name_masked: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(32))


class NoticeReplyRow(Base):
    """What a person answered: an objection, an opt-out, a deletion request, or yes/no to
    a consent campaign; kept per recipient token, never with the clear message."""

    __tablename__ = "notice_replies"
    __table_args__ = (
        Index("ix_notice_replies_recipient", "campaign_id", "recipient"),
        Index("uq_notice_replies_ref", "campaign_id", "ref", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("notice_campaigns.id", ondelete="CASCADE")
    )
    recipient: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    via: Mapped[str] = mapped_column(String(16))
    #: what makes the reply unique (the provider's sequence id, or a digest): seen twice,
    #: recorded once
    ref: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
