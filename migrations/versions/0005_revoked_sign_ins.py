"""revoked_sign_ins: remembered sign-ins ended by signing out

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 21:45:00

A signed-out sign-in cookie's id (``jti``) is kept until the cookie would have expired, so
a copy of the cookie stops working on every replica at once. Rows older than their expiry
are deleted by the next sign-out.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_sign_ins",
        sa.Column("token_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_revoked_sign_ins_expires", "revoked_sign_ins", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_revoked_sign_ins_expires", table_name="revoked_sign_ins")
    op.drop_table("revoked_sign_ins")
