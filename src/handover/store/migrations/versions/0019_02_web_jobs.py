"""Web console, second slice: every long job kind (seal, migrate, verify, notices send,
shred besides scan) keeps what it was started with (masked, enough to resume it), its
progress as the progress protocol reports it, and the job it resumes.

Revision ID: 0019b
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019b"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("web_jobs", sa.Column("params", sa.JSON(), nullable=True))
    op.add_column("web_jobs", sa.Column("progress", sa.JSON(), nullable=True))
    op.add_column("web_jobs", sa.Column("resume_of", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_jobs") as batch:
        batch.drop_column("resume_of")
        batch.drop_column("progress")
        batch.drop_column("params")
