"""send_log: the per-user message rate limit shared by every replica

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 22:00:00

One row per accepted send (user, time); the limit counts a user's rows in the last minute.
Rows older than an hour are deleted as the user sends.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_send_log_user_sent", "send_log", ["user_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_send_log_user_sent", table_name="send_log")
    op.drop_table("send_log")
