"""pending_turns: a question is kept from before the model is called until its turn is stored

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 21:30:00

One row per session with a question in flight or failed: a process killed mid-answer, a
lost race between two tabs or a model error leaves the question visible with Retry,
across reloads and replicas. The turn's commit deletes the row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_turns",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("turn_idx", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error_category", sa.String(32), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("retryable", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pending_turns")
