"""Prep sessions: a session started from the Prep queue is bound to its meeting, found again by
it, and the sessions page filters by it; on every store (SQLite, Postgres, S3 with its index)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from assistant.chat import ChatInputError, Done
from assistant.context.meetings import Meeting
from assistant.context.prep_sessions import binding_for_session, meetings_with_sessions, sessions_by_meeting
from assistant.sessions.queries import SessionFilter, list_sessions
from tests.fixtures.chat import make_service
from tests.fixtures.stores import MakeStore

START = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)


def _meeting(mid: str, title: str) -> Meeting:
    return Meeting(
        id=mid,
        title=title,
        start=START,
        end=START + timedelta(hours=1),
        duration_minutes=60,
        attendees=[],
        type="other",
        location="",
        description="",
        source="ics_file",
        series_id=mid.split("-")[0] if "-" in mid else None,
    )


def test_a_prep_session_is_bound_to_its_meeting_and_filterable(make_store: MakeStore, store_engine: Engine) -> None:
    service = make_service(store_engine, store=make_store())
    board = _meeting("a1b2c3d4e5-202612071500", "Board dinner")

    turn = service.start_turn("alice", "Prepare me for Board dinner, tomorrow", meeting=board)
    assert isinstance(list(turn.events)[-1], Done)
    plain = service.start_turn("alice", "How is our budget tracking?")
    list(plain.events)

    binding = binding_for_session(store_engine, turn.session.id, "alice")
    assert binding is not None and (binding.meeting_id, binding.meeting_title) == (board.id, "Board dinner")
    assert binding.series_id == "a1b2c3d4e5"
    assert binding_for_session(store_engine, turn.session.id, "bob") is None  # never another user's
    assert binding_for_session(store_engine, plain.session.id, "alice") is None

    assert sessions_by_meeting(store_engine, "alice", [board.id, "other"]) == {board.id: turn.session.id}
    assert sessions_by_meeting(store_engine, "bob", [board.id]) == {}
    assert meetings_with_sessions(store_engine, "alice") == [(board.id, "Board dinner", START)]
    assert meetings_with_sessions(store_engine, "bob") == []

    page = list_sessions(store_engine, SessionFilter(user_id="alice", meeting_id=board.id))
    assert [r.id for r in page.rows] == [turn.session.id] and page.total_count == 1
    assert list_sessions(store_engine, SessionFilter(user_id="alice")).total_count == 2


def test_a_refused_first_message_binds_nothing(make_store: MakeStore, store_engine: Engine) -> None:
    service = make_service(store_engine, store=make_store())
    board = _meeting("f0f0f0f0f0", "Quarterly review")
    with pytest.raises(ChatInputError):
        service.start_turn("alice", "   ", meeting=board)
    assert sessions_by_meeting(store_engine, "alice", [board.id]) == {}
    assert list_sessions(store_engine, SessionFilter(user_id="alice")).total_count == 0


def test_a_deleted_prep_session_is_no_longer_its_meetings_prep(make_store: MakeStore, store_engine: Engine) -> None:
    """The link stayed behind: the Prep queue offered "Resume prep" into "That session was not
    found", and the sessions page kept the meeting in its filter with nothing under it."""
    service = make_service(store_engine, store=make_store())
    board = _meeting("a1b2c3d4e5-202612071500", "Board dinner")
    first = service.start_turn("alice", "Prepare me for Board dinner", meeting=board)
    list(first.events)
    second = service.start_turn("alice", "Prepare me for Board dinner, again", meeting=board)
    list(second.events)

    service.delete(second.session.id, "alice")
    assert sessions_by_meeting(store_engine, "alice", [board.id]) == {board.id: first.session.id}
    assert binding_for_session(store_engine, second.session.id, "alice") is None
    service.delete(first.session.id, "alice")
    assert sessions_by_meeting(store_engine, "alice", [board.id]) == {}
    assert meetings_with_sessions(store_engine, "alice") == []
    assert meetings_with_sessions(store_engine, None) == []


def test_each_prepared_occurrence_of_a_series_is_listed_with_its_start(
    make_store: MakeStore, store_engine: Engine
) -> None:
    """The filter's options were (id, title): a weekly meeting prepared twice read as the same meeting twice."""
    service = make_service(store_engine, store=make_store())
    first, second = _meeting("a1b2c3d4e5-1", "Weekly 1:1"), _meeting("a1b2c3d4e5-2", "Weekly 1:1")
    second = second.model_copy(update={"start": START + timedelta(weeks=1), "end": START + timedelta(weeks=1, hours=1)})
    for meeting in (first, second, second):  # the later one prepared twice: still one option
        list(service.start_turn("alice", "Prepare me for my weekly 1:1", meeting=meeting).events)
    listed = meetings_with_sessions(store_engine, "alice")
    assert listed == [(second.id, "Weekly 1:1", second.start), (first.id, "Weekly 1:1", START)], listed
