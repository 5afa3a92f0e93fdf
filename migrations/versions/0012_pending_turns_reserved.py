"""pending_turns.reserved_usd: what an answer being written holds back of the daily budget

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 14:45:00

Several sends started at the same moment (tabs, replicas, the CLI, a comparison) each read the
day's spend before any of their answers was priced, so all of them ran past the daily budget.
A running question now holds its answer's expected cost until the turn's usage is stored (the
commit deletes the row) or fails (the row becomes failed, holding nothing); the limits read
the user's running questions through ``ix_pending_turns_user``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pending_turns") as batch_op:
        batch_op.add_column(sa.Column("reserved_usd", sa.Float(), nullable=False, server_default="0"))
    op.create_index("ix_pending_turns_user", "pending_turns", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_pending_turns_user", table_name="pending_turns")
    with op.batch_alter_table("pending_turns") as batch_op:
        batch_op.drop_column("reserved_usd")
