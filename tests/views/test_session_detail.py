"""The session detail: what the viewer may do with an opened session, and the feedback shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from assistant.sessions.base import SessionMeta
from assistant.views import session_detail as detail

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Who:
    user_id: str
    is_admin: bool = False


ALICE = Who("alice")
ADMIN = Who("root", is_admin=True)


def _meta(user_id: str, state: str = "active", email: str | None = "alice@example.com") -> SessionMeta:
    return SessionMeta(
        id="s", user_id=user_id, title="t", state=state, created_at=T0, updated_at=T0, model="offline",  # type: ignore[arg-type]
        user_email=email,
    )  # fmt: skip


def test_detail_access() -> None:
    assert detail.detail_access(ALICE, _meta("alice")) == detail.DetailAccess(True, "resume", None)
    assert detail.detail_access(ALICE, _meta("alice", "completed")).action == "continue"
    assert detail.detail_access(ALICE, _meta("alice", "expired")).action == "continue"
    other = detail.detail_access(ADMIN, _meta("alice"))
    assert other == detail.DetailAccess(False, None, "Viewing alice@example.com's session (read-only)")
    assert detail.detail_access(ADMIN, _meta("alice", email=None)).banner == "Viewing alice's session (read-only)"


def test_feedback_text() -> None:
    assert detail.feedback_text(1) == "Rated helpful"
    assert detail.feedback_text(-1) == "Rated not helpful"
    assert detail.feedback_text(None) is None
