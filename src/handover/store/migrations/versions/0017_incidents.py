"""Incidents: security events, incidents, obligations with legal clocks, filed reports,
follow-up actions and drills (issue 17, docs/incidents.md).

Revision ID: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0001"
branch_labels = None
depends_on = None

AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("noticed_at", AWARE, nullable=False),
        sa.Column("noticed_by", sa.String(200), nullable=False),
        sa.Column("reported_by", sa.String(200), nullable=False),
        sa.Column("reported_at", AWARE, nullable=False),
        sa.Column("systems", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("warning_key", sa.String(300), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.UniqueConstraint("warning_key", name="uq_incident_events_warning_key"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey("incident_events.id", name="fk_incidents_event_id_incident_events"),
            nullable=False,
        ),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("aware_at", AWARE, nullable=False),
        sa.Column("promoted_at", AWARE, nullable=False),
        sa.Column("promoted_by", sa.String(200), nullable=False),
        sa.Column("operator_kind", sa.String(20), nullable=False),
        sa.Column("grade", sa.String(20), nullable=False),
        sa.Column("grade_basis", sa.JSON(), nullable=False),
        sa.Column("people_affected", sa.BigInteger(), nullable=True),
        sa.Column("affected", sa.JSON(), nullable=False),
        sa.Column("direct_loss_cny", sa.BigInteger(), nullable=True),
        sa.Column("suspected_crime", sa.Boolean(), nullable=False),
        sa.Column("personal_information", sa.Boolean(), nullable=False),
        sa.Column("lead", sa.String(200), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("handled_at", AWARE, nullable=True),
        sa.Column("closed_at", AWARE, nullable=True),
        sa.Column("review", sa.JSON(), nullable=True),
        sa.Column("drill_id", sa.Integer(), nullable=True),
        sa.UniqueConstraint("event_id", name="uq_incidents_event_id"),
    )
    op.create_table(
        "incident_obligations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey(
                "incidents.id",
                ondelete="CASCADE",
                name="fk_incident_obligations_incident_id_incidents",
            ),
            nullable=False,
        ),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("regime", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(100), nullable=False),
        sa.Column("recipient_name", sa.String(300), nullable=False),
        sa.Column("starts_at", AWARE, nullable=False),
        sa.Column("due_at", AWARE, nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("legal_clock", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("verified", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("met_at", AWARE, nullable=True),
        sa.Column("met_by", sa.String(200), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("waiver", sa.JSON(), nullable=True),
        sa.Column("reminded_at", AWARE, nullable=True),
        sa.Column("escalated_at", AWARE, nullable=True),
    )
    op.create_index("ix_incident_obligations_incident_id", "incident_obligations", ["incident_id"])
    op.create_table(
        "incident_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey(
                "incidents.id", ondelete="CASCADE", name="fk_incident_reports_incident_id_incidents"
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("filed_at", AWARE, nullable=False),
        sa.Column("filed_by", sa.String(200), nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("obligations", sa.JSON(), nullable=False),
    )
    op.create_index("ix_incident_reports_incident_id", "incident_reports", ["incident_id"])
    op.create_table(
        "incident_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey(
                "incidents.id", ondelete="CASCADE", name="fk_incident_actions_incident_id_incidents"
            ),
            nullable=False,
        ),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("done_at", AWARE, nullable=True),
    )
    op.create_index("ix_incident_actions_incident_id", "incident_actions", ["incident_id"])
    op.create_table(
        "incident_drills",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scenario", sa.String(60), nullable=False),
        sa.Column("scheduled_for", AWARE, nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", AWARE, nullable=True),
        sa.Column("finished_at", AWARE, nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("incident_drills")
    op.drop_index("ix_incident_actions_incident_id", "incident_actions")
    op.drop_table("incident_actions")
    op.drop_index("ix_incident_reports_incident_id", "incident_reports")
    op.drop_table("incident_reports")
    op.drop_index("ix_incident_obligations_incident_id", "incident_obligations")
    op.drop_table("incident_obligations")
    op.drop_table("incidents")
    op.drop_table("incident_events")
