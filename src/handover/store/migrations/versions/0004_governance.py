"""Governance: organisations, people, roles, sessions, NDAs, training, vendors, grants.

Revision ID: 0004
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "gov_organisations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "gov_people",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("gov_organisations.id"), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "gov_person_roles",
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("gov_people.id"), primary_key=True),
        sa.Column("role", sa.String(40), primary_key=True),
    )
    op.create_table(
        "gov_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("gov_people.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("ended_at", nullable=True),
    )
    op.create_table(
        "gov_ndas",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("duties", sa.Text(), nullable=False),
        sa.Column("liability_clause", sa.String(300), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("document_name", sa.String(300), nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "gov_nda_parties",
        sa.Column("nda_id", sa.Integer(), sa.ForeignKey("gov_ndas.id"), primary_key=True),
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("gov_organisations.id"), primary_key=True),
    )
    op.create_table(
        "gov_nda_signatories",
        sa.Column("nda_id", sa.Integer(), sa.ForeignKey("gov_ndas.id"), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("gov_people.id"), primary_key=True),
    )
    op.create_table(
        "gov_nda_breaches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nda_id", sa.Integer(), sa.ForeignKey("gov_ndas.id"), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("gov_people.id"), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.Text(), nullable=False),
        _ts("recorded_at"),
        sa.Column("recorded_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "gov_courses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "gov_training_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("gov_people.id"), nullable=False),
        sa.Column("course_code", sa.String(64), nullable=False),
        sa.Column("course_version", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        _ts("taken_at"),
        _ts("expires_at", nullable=True),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_table(
        "gov_vendors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "org_id",
            sa.Integer(),
            sa.ForeignKey("gov_organisations.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("services", sa.Text(), nullable=False),
        sa.Column("agreement_nda_id", sa.Integer(), sa.ForeignKey("gov_ndas.id"), nullable=True),
        _ts("created_at"),
    )
    op.create_table(
        "gov_vendor_assessments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("vendor_id", sa.Integer(), sa.ForeignKey("gov_vendors.id"), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("risk", sa.String(10), nullable=False),
        sa.Column("decision", sa.String(12), nullable=False),
        _ts("assessed_at"),
        sa.Column("reassess_on", sa.Date(), nullable=False),
        sa.Column("assessed_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "gov_grants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("grantee_id", sa.Integer(), sa.ForeignKey("gov_people.id"), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), sa.ForeignKey("gov_people.id"), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("purpose", sa.String(300), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        _ts("valid_from"),
        _ts("valid_until"),
        sa.Column("approvals_needed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        _ts("created_at"),
        _ts("decided_at", nullable=True),
    )
    op.create_table(
        "gov_grant_approvals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("grant_id", sa.Integer(), sa.ForeignKey("gov_grants.id"), nullable=False),
        sa.Column("approver_id", sa.Integer(), sa.ForeignKey("gov_people.id"), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        _ts("decided_at"),
        sa.UniqueConstraint("grant_id", "approver_id"),
    )


def downgrade() -> None:
    for name in (
        "gov_grant_approvals",
        "gov_grants",
        "gov_vendor_assessments",
        "gov_vendors",
        "gov_training_records",
        "gov_courses",
        "gov_nda_breaches",
        "gov_nda_signatories",
        "gov_nda_parties",
        "gov_ndas",
        "gov_sessions",
        "gov_person_roles",
        "gov_people",
        "gov_organisations",
    ):
        op.drop_table(name)
