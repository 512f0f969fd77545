"""The incidents tables (platform store). Only :mod:`handover.incidents` writes them; every
change is also a ledger event, from which the timeline is derived.

No clear personal values are stored: an incident names tables and columns, counts and
categories, never a customer's data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.models import Base


class SecurityEventRow(Base):
    """A security event as reported (安全事件): what, when noticed, by whom, what it touches."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    noticed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    noticed_by: Mapped[str] = mapped_column(String(200))
    reported_by: Mapped[str] = mapped_column(String(200))
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    systems: Mapped[list[str]] = mapped_column(JSON)
    data: Mapped[list[str]] = mapped_column(JSON)  # table or table.column items
    source: Mapped[str] = mapped_column(String(100))  # manual | warning:<rule> | drill
    # early-warning findings open one event each: the finding's key makes reruns idempotent
    warning_key: Mapped[str | None] = mapped_column(String(300), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # open | promoted | dismissed
    drill_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class IncidentRow(Base):
    """An incident (网络安全事件) promoted from an event by a recorded decision."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("incident_events.id"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(40))
    aware_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    promoted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    promoted_by: Mapped[str] = mapped_column(String(200))
    operator_kind: Mapped[str] = mapped_column(String(20))
    grade: Mapped[str] = mapped_column(String(20))
    grade_basis: Mapped[dict[str, Any]] = mapped_column(JSON)
    people_affected: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    affected: Mapped[dict[str, Any]] = mapped_column(JSON)  # how the count was computed
    direct_loss_cny: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    suspected_crime: Mapped[bool] = mapped_column(Boolean)
    personal_information: Mapped[bool] = mapped_column(Boolean)
    lead: Mapped[str] = mapped_column(String(200))  # the responsible person (责任人)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)  # report items, see incidents.FACTS
    status: Mapped[str] = mapped_column(String(16))  # open | handled | closed
    handled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    drill_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ObligationRow(Base):
    """One duty of an incident: report ``kind`` to ``recipient`` under ``regime`` by ``due_at``."""

    __tablename__ = "incident_obligations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(String(100))
    regime: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(100))
    recipient_name: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    hours: Mapped[float] = mapped_column(Float)
    legal_clock: Mapped[bool] = mapped_column(Boolean)  # False: internal target for 立即
    source: Mapped[str] = mapped_column(Text)
    verified: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))  # open | met | waived
    met_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    met_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    report_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    waiver: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ReportRow(Base):
    """A filed report (initial, supplement, summary): its files and their SHA-256."""

    __tablename__ = "incident_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)  # 1st, 2nd supplement ...
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    filed_by: Mapped[str] = mapped_column(String(200))
    folder: Mapped[str] = mapped_column(Text)
    files: Mapped[dict[str, str]] = mapped_column(JSON)  # file name -> sha256
    obligations: Mapped[list[int]] = mapped_column(JSON)


class ActionRow(Base):
    """A follow-up action (整改措施) with its owner and due date."""

    __tablename__ = "incident_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    what: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DrillRow(Base):
    """A drill (应急演练): a scenario run against the incident workflow, flagged as a drill."""

    __tablename__ = "incident_drills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario: Mapped[str] = mapped_column(String(60))
    scheduled_for: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    participants: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # scheduled | running | finished
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class AlertRow(Base):
    """An e-mail about a duty's clock (a reminder at 80 %, an escalation once missed) to one
    of the DPO's or responsible people's addresses, and where it stands. ``key`` is its
    idempotency key and Message-ID: a mail resent after a crash is the same mail."""

    __tablename__ = "incident_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    obligation_id: Mapped[int] = mapped_column(
        ForeignKey("incident_obligations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # remind | escalate
    address: Mapped[str] = mapped_column(String(320))  # staff, from [incidents.mail]
    # queued | sending | sent | retry | failed | obsolete (duty met or incident closed)
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
