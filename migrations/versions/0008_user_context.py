"""user context: connected calendars, their cache, budget and big rocks per user, meeting types, prep sessions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:20:00

Each user's own calendar (Google or ICS, secrets encrypted), the last good copy of its
events shared by every replica, the user's budget and big rocks (versioned), meeting-type
overrides, and the binding of a prep session to its meeting.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_connections",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("secret_enc", sa.Text, nullable=True),
        sa.Column("ics_data", sa.LargeBinary, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "calendar_cache",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("events_json", sa.Text, nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "user_context",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("data_json", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind", name="pk_user_context"),
    )
    op.create_table(
        "meeting_overrides",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("meeting_key", sa.String(128), nullable=False),
        sa.Column("meeting_type", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "meeting_key", name="pk_meeting_overrides"),
    )
    op.create_table(
        "session_meetings",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("meeting_id", sa.String(128), nullable=False),
        sa.Column("series_id", sa.String(128), nullable=True),
        sa.Column("meeting_title", sa.String(200), nullable=False),
        sa.Column("meeting_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_session_meetings_user_meeting", "session_meetings", ["user_id", "meeting_id"])


def downgrade() -> None:
    op.drop_index("ix_session_meetings_user_meeting", table_name="session_meetings")
    for name in ("session_meetings", "meeting_overrides", "user_context", "calendar_cache", "calendar_connections"):
        op.drop_table(name)
