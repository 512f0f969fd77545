"""Web console: sessions, login attempts and background jobs (handover serve).

Revision ID: 0019
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0019"
# Sessions belong to people (a foreign key to gov_people): the branch grows from the
# governance revision, so PostgreSQL never creates it before the table it references.
down_revision = "0004"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("gov_people.id", name="fk_web_sessions_person_id_gov_people"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("last_seen_at"),
        _ts("ended_at", nullable=True),
        sa.Column("ended_why", sa.String(20), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
    )
    op.create_index("ix_web_sessions_person_id", "web_sessions", ["person_id"])
    op.create_table(
        "web_login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ts("at"),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_web_login_attempts_at", "web_login_attempts", ["at"])
    op.create_index("ix_web_login_attempts_name", "web_login_attempts", ["name"])
    op.create_index("ix_web_login_attempts_client", "web_login_attempts", ["client"])
    op.create_table(
        "web_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("current", sa.String(300), nullable=False),
        _ts("started_at"),
        _ts("updated_at"),
        _ts("finished_at", nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.JSON(), nullable=True),
    )
    op.create_index("ix_web_jobs_actor", "web_jobs", ["actor"])


def downgrade() -> None:
    op.drop_table("web_jobs")
    op.drop_table("web_login_attempts")
    op.drop_table("web_sessions")
