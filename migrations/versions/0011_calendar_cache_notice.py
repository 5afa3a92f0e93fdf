"""calendar_cache.notice: what the user should know about a copy read in full but cut short

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 03:10:00

A calendar whose events repeat every minute expanded to ~90,000 meetings over the cache
window. The ICS sources now keep at most a few thousand and leave out series that repeat too
often; the sentence saying so is kept with the copy, so every replica shows it for as long as
the copy is served (it is not an error: ``last_error`` stays for failed reads).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_cache") as batch_op:
        batch_op.add_column(sa.Column("notice", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calendar_cache") as batch_op:
        batch_op.drop_column("notice")
