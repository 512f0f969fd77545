"""Incident alerts: the e-mails of reminders and escalations to the DPO and the people
responsible, an outbox with an idempotency key per (duty, kind, address) (issue 17,
docs/incidents.md).

Revision ID: 0017al
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017al"
down_revision = "0017"
branch_labels = None
depends_on = None

AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incident_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column(
            "obligation_id",
            sa.Integer(),
            sa.ForeignKey(
                "incident_obligations.id",
                ondelete="CASCADE",
                name="fk_incident_alerts_obligation_id_incident_obligations",
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", AWARE, nullable=True),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("sent_at", AWARE, nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.UniqueConstraint("key", name="uq_incident_alerts_key"),
    )
    op.create_index("ix_incident_alerts_obligation_id", "incident_alerts", ["obligation_id"])


def downgrade() -> None:
    op.drop_table("incident_alerts")
