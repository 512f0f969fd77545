"""Governance tables: organisations, people and roles, sessions, NDAs, training, vendors,
and grants with approvals. Authorisation decisions live in the ledger only
(``access.allow`` / ``access.refuse`` events).

Times are stored in UTC; SQLite hands them back naive, so readers go through
:func:`handover.governance.clock.utc`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.models import Base


class OrganisationRow(Base):
    """A party: seller, buyer, advisor or vendor (第三方)."""

    __tablename__ = "gov_organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PersonRow(Base):
    """A person who may log in; ``password_hash`` is an Argon2id PHC string."""

    __tablename__ = "gov_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int] = mapped_column(ForeignKey("gov_organisations.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: who set the current password, and when (None: before revision 0004pw)
    password_set_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    password_set_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    #: set by somebody else outside a demo: it only lets the person set their own
    password_one_time: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PersonRoleRow(Base):
    """One role a person holds."""

    __tablename__ = "gov_person_roles"

    person_id: Mapped[int] = mapped_column(ForeignKey("gov_people.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)


class SessionRow(Base):
    """A login session; only the SHA-256 of its token is stored."""

    __tablename__ = "gov_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("gov_people.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginAttemptRow(Base):
    """One password check (CLI login, console login, a validator's password, a password
    change): the name tried, the SHA-256 of where from, success or not — never the
    password. Failures are counted to throttle guessing (``session.throttled``)."""

    __tablename__ = "gov_login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    ok: Mapped[bool] = mapped_column(Boolean)


class ServiceTokenRow(Base):
    """A service account's token (``people service``): what a cron job presents in
    ``HANDOVER_SERVICE_TOKEN``; only its SHA-256 is stored. Issuing a new one revokes the
    older ones."""

    __tablename__ = "gov_service_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("gov_people.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NdaRow(Base):
    """A non-disclosure agreement (保密协议); its status is derived, never stored."""

    __tablename__ = "gov_ndas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    duties: Mapped[str] = mapped_column(Text)
    liability_clause: Mapped[str] = mapped_column(String(300))
    signed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    document_name: Mapped[str] = mapped_column(String(300))
    document_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class NdaPartyRow(Base):
    """An organisation that is party to an NDA (binds its staff)."""

    __tablename__ = "gov_nda_parties"

    nda_id: Mapped[int] = mapped_column(ForeignKey("gov_ndas.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("gov_organisations.id"), primary_key=True)


class NdaSignatoryRow(Base):
    """A person who signed an NDA."""

    __tablename__ = "gov_nda_signatories"

    nda_id: Mapped[int] = mapped_column(ForeignKey("gov_ndas.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("gov_people.id"), primary_key=True)


class NdaBreachRow(Base):
    """A recorded breach of an NDA: by whom, what happened, what follows."""

    __tablename__ = "gov_nda_breaches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nda_id: Mapped[int] = mapped_column(ForeignKey("gov_ndas.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("gov_people.id"))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    follow_up: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))


class CourseRow(Base):
    """A training course and its question bank (the whole course file as JSON)."""

    __tablename__ = "gov_courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class TrainingRecordRow(Base):
    """One assessment a person took: score, pass, and until when it counts."""

    __tablename__ = "gov_training_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("gov_people.id"))
    course_code: Mapped[str] = mapped_column(String(64))
    course_version: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    seed: Mapped[int] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class VendorRow(Base):
    """A third party (第三方) processing data for the transfer."""

    __tablename__ = "gov_vendors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("gov_organisations.id"), unique=True)
    services: Mapped[str] = mapped_column(Text)
    agreement_nda_id: Mapped[int | None] = mapped_column(ForeignKey("gov_ndas.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class VendorAssessmentRow(Base):
    """A security questionnaire result: weighted score, risk level, decision."""

    __tablename__ = "gov_vendor_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("gov_vendors.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    risk: Mapped[str] = mapped_column(String(10))
    decision: Mapped[str] = mapped_column(String(12))
    assessed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reassess_on: Mapped[dt.date] = mapped_column(Date)
    assessed_by: Mapped[str] = mapped_column(String(200))


class GrantRow(Base):
    """Permission for one person to touch a scope of data in one mode, for a purpose,
    within a time window; valid once enough distinct approvers approved it."""

    __tablename__ = "gov_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grantee_id: Mapped[int] = mapped_column(ForeignKey("gov_people.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("gov_people.id"))
    scope: Mapped[list[str]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[str] = mapped_column(String(300))
    actions: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    approvals_needed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class GrantApprovalRow(Base):
    """One approver's decision on a grant; one per approver per grant."""

    __tablename__ = "gov_grant_approvals"
    __table_args__ = (UniqueConstraint("grant_id", "approver_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("gov_grants.id"))
    approver_id: Mapped[int] = mapped_column(ForeignKey("gov_people.id"))
    decision: Mapped[str] = mapped_column(String(10))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
