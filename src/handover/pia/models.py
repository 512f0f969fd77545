"""Tables of the pia room: assessments with immutable versions and their maker-checker
decisions, signed exports, and the risk register.

Times are stored in UTC; SQLite hands them back naive (readers use :func:`utc`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.models import Base


class PiaAssessmentRow(Base):
    """One impact assessment (个人信息保护影响评估) and where it stands."""

    __tablename__ = "pia_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12))  # draft | submitted | approved | rejected
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    submitted_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approved_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    retain_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class PiaVersionRow(Base):
    """One immutable version of an assessment: the whole document and its SHA-256."""

    __tablename__ = "pia_versions"
    __table_args__ = (UniqueConstraint("assessment_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("pia_assessments.id"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)


class PiaDecisionRow(Base):
    """A step of the maker-checker path on one version: submit, approve or reject."""

    __tablename__ = "pia_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("pia_assessments.id"))
    version: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PiaExportRow(Base):
    """A signed export of one version: the folder, the SHA-256 of ``pia.json``, the signature."""

    __tablename__ = "pia_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("pia_assessments.id"))
    version: Mapped[int] = mapped_column(Integer)
    folder: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[dict[str, Any]] = mapped_column(JSON)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class RiskRow(Base):
    """An entry of the risk register (风险登记册), optionally a finding of an assessment.

    ``incident_ids`` is where incidents (docs/incidents.md, once that room exists) link
    the risks they realised.
    """

    __tablename__ = "pia_risks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("pia_assessments.id"), nullable=True
    )
    finding: Mapped[str | None] = mapped_column(String(40), nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20))
    impact: Mapped[str] = mapped_column(String(12))
    likelihood: Mapped[str] = mapped_column(String(12))
    level: Mapped[str] = mapped_column(String(12))
    owner: Mapped[str] = mapped_column(String(200))
    controls: Mapped[list[str]] = mapped_column(JSON)
    review_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # open | mitigated | accepted | closed
    incident_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
