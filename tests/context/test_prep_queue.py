"""The Prep queue: which meetings are on it (their type's prep window open or opening soon, in
working time), in what order, with their notes counted; and the prompt a prep session starts with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from assistant.context.classify import MeetingTypes, load_meeting_types
from assistant.context.prep_queue import prep_queue
from tests.fixtures.typed_meetings import ME, NOW, TYPES_FILE, colleagues, meeting, person


@pytest.fixture
def types() -> MeetingTypes:
    return load_meeting_types(TYPES_FILE)


def queue_ids(items: list[object]) -> list[tuple[str, str]]:
    return [(i.meeting.id, i.status) for i in items]  # type: ignore[attr-defined]


def test_prep_queue_opens_each_window_by_type(types: MeetingTypes) -> None:
    board = meeting("Board meeting", colleagues(3), id="board", start=NOW + timedelta(hours=47))
    board_later = meeting("Board meeting", colleagues(3), id="board-later", start=NOW + timedelta(hours=59))
    board_far = meeting("Board meeting", colleagues(3), id="board-far", start=NOW + timedelta(hours=61))
    one_on_one = meeting("Catch-up", [person("M", "m@corp.com")], id="one", start=NOW + timedelta(hours=3))
    ended = meeting("Standup", colleagues(4), id="ended", start=NOW - timedelta(hours=2))
    running = meeting("Standup", colleagues(4), id="running", start=NOW - timedelta(minutes=30))
    everything = [board_far, board_later, one_on_one, board, ended, running]

    queue = prep_queue(
        everything,
        now=NOW,
        types=types,
        overrides={},
        user_email=ME,
        internal_domains=[],
        prepared={"board": 2},
    )
    assert queue_ids(queue) == [
        ("running", "open"),  # not ended yet: still on the queue
        ("one", "opens_soon"),  # a 1:1 in 3 h: its window opens 1 h before, not yet
        ("board", "open"),  # 47 h before a board meeting: the 48 h window is open
        ("board-later", "opens_soon"),  # opens in 11 h, within the 12 h horizon
    ]
    board_item = queue[2]
    assert board_item.type_id == "board" and board_item.type_label == "Board"
    assert board_item.window_opens_at == board.start - timedelta(hours=48)
    assert board_item.notes_count == 2 and queue[0].notes_count == 0

    only_open = prep_queue(
        everything,
        now=NOW,
        types=types,
        overrides={},
        user_email=ME,
        internal_domains=[],
        prepared={},
        horizon=timedelta(0),
    )
    assert queue_ids(only_open) == [("running", "open"), ("board", "open")]

    two_hours_on = prep_queue(
        everything,
        now=NOW + timedelta(hours=2),
        types=types,
        overrides={},
        user_email=ME,
        internal_domains=[],
        prepared={},
        horizon=timedelta(0),
    )
    assert ("one", "open") in queue_ids(two_hours_on), "an hour before the 1:1 its window is open"
    assert "running" not in [i.meeting.id for i in two_hours_on], "an ended meeting leaves the queue"


def test_monday_is_prepared_on_friday_and_an_all_day_event_never(types: MeetingTypes) -> None:
    friday_3pm = datetime(2025, 3, 14, 15, 0, tzinfo=UTC)
    monday_board = meeting("Board meeting", colleagues(3), id="board", start=datetime(2025, 3, 17, 9, 0, tzinfo=UTC))
    holiday = meeting("Company holiday", [], id="holiday", start=friday_3pm + timedelta(hours=1)).model_copy(
        update={"all_day": True}
    )
    common = {"types": types, "overrides": {}, "user_email": ME, "internal_domains": [], "prepared": {}}
    queue = prep_queue([monday_board, holiday], now=friday_3pm, **common)  # type: ignore[arg-type]
    assert queue_ids(queue) == [("board", "open")]  # 48 working hours before Monday 09:00: Thursday 09:00
    assert queue[0].window_opens_at == datetime(2025, 3, 13, 9, 0, tzinfo=UTC)


def test_an_override_moves_the_prep_window(types: MeetingTypes) -> None:
    m = meeting("Catch-up", [person("M", "m@corp.com")], id="catch-up", start=NOW + timedelta(hours=30))
    common = {"now": NOW, "types": types, "user_email": ME, "internal_domains": [], "prepared": {}}
    assert prep_queue([m], overrides={}, **common) == []  # type: ignore[arg-type]
    queue = prep_queue([m], overrides={"catch-up": "board"}, **common)  # type: ignore[arg-type]
    assert queue_ids(queue) == [("catch-up", "open")] and queue[0].type_label == "Board"


def test_the_queue_runs_in_time_order_across_midnight_whatever_zone_each_meeting_came_in(
    types: MeetingTypes,
) -> None:
    """Late on a Monday in Auckland: a 23:30 call, a 00:15 one told in UTC and a 22:45 one told
    in Los Angeles' time are three meetings of the same night, listed by when they happen."""
    from zoneinfo import ZoneInfo

    auckland, los_angeles = ZoneInfo("Pacific/Auckland"), ZoneInfo("America/Los_Angeles")
    now = datetime(2025, 3, 10, 21, 50, tzinfo=auckland)
    calls = [
        meeting(
            "Catch-up", [person("M", "m@corp.com")], id="late", start=datetime(2025, 3, 10, 23, 30, tzinfo=auckland)
        ),
        meeting(
            "Catch-up",
            [person("N", "n@corp.com")],
            id="after-midnight",
            start=datetime(2025, 3, 10, 11, 15, tzinfo=UTC),
        ),
        meeting(
            "Catch-up", [person("O", "o@corp.com")], id="first", start=datetime(2025, 3, 10, 2, 45, tzinfo=los_angeles)
        ),
        meeting(
            "Catch-up", [person("P", "p@corp.com")], id="a-same-time", start=datetime(2025, 3, 10, 9, 45, tzinfo=UTC)
        ),
    ]
    common = {"types": types, "overrides": {}, "user_email": ME, "internal_domains": [], "prepared": {}}
    queue = prep_queue(calls, now=now, **common)  # type: ignore[arg-type]
    assert [i.meeting.id for i in queue] == ["a-same-time", "first", "late", "after-midnight"]
    assert [i.meeting.start.astimezone(auckland).strftime("%a %H:%M") for i in queue] == [
        "Mon 22:45",
        "Mon 22:45",
        "Mon 23:30",
        "Tue 00:15",
    ]
    assert {i.status for i in queue} == {"open", "opens_soon"}
    assert queue[0].status == "open" and queue[-1].status == "opens_soon"  # 1 h before: 21:45 has passed, 22:30 not


def test_a_clock_without_a_zone_is_refused(types: MeetingTypes) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        prep_queue(
            [],
            now=NOW.replace(tzinfo=None),
            types=types,
            overrides={},
            user_email=ME,
            internal_domains=[],
            prepared={},
        )


def test_a_prep_prompt_keeps_the_title_before_its_only_comma() -> None:
    """The offline model reads the meeting's title up to the comma: a title with its own commas
    ("Acme, Inc. QBR") was looked up as "Acme"."""
    from assistant.context.prep_queue import prep_prompt

    board = meeting("Acme,  Inc.\tQBR,  Q3", colleagues(2))
    prompt = prep_prompt(board, "Mon 7 Dec at 11:30 UTC")
    assert prompt == "Prepare me for Acme Inc. QBR Q3, Mon 7 Dec at 11:30 UTC"
    assert prompt.count(",") == 1


def test_the_built_queue_reads_the_users_calendar_with_their_session_and_the_meetings_cost(any_engine: Engine) -> None:
    """What the chat page's Prep queue shows: the user's own calendar, a prep session started for a
    meeting found again by it, and the meeting's cost in people's time; another user sees neither."""
    from zoneinfo import ZoneInfo

    from assistant.context.prep_queue import build_prep_queue
    from assistant.context.prep_sessions import bind_session
    from tests.fixtures.chat import make_service

    now = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    service = make_service(any_engine, clock=lambda: now)
    calendar, settings = service.calendar, service.settings
    calendar.connect_ics_file(
        "alice",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:board@x\r\n"
        b"DTSTART:20250311T090000Z\r\nDTEND:20250311T100000Z\r\nSUMMARY:Board meeting\r\n"
        b"ATTENDEE;CN=Ada:mailto:ada@corp.com\r\nATTENDEE;CN=Bo:mailto:bo@corp.com\r\n"
        b"ATTENDEE;CN=Cy:mailto:cy@corp.com\r\nATTENDEE;CN=Di:mailto:di@corp.com\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:far@x\r\nDTSTART:20250316T090000Z\r\nDTEND:20250316T100000Z\r\n"
        b"SUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "work.ics",
    )
    queue = build_prep_queue(calendar, settings, user_id="alice", user_email=ME, now=now, tz=ZoneInfo("Europe/Paris"))
    assert not queue.view.is_demo
    [entry] = queue.entries  # the Sunday standup's window is days away
    assert entry.item.meeting.title == "Board meeting" and entry.item.status == "open"
    assert entry.session_id is None and entry.cost.priced and entry.cost.total_usd > 0 and entry.cost.people == 4

    session = service.create_session("alice")
    bind_session(any_engine, session_id=session.id, user_id="alice", meeting=entry.item.meeting, now=now)
    again = build_prep_queue(calendar, settings, user_id="alice", user_email=ME, now=now, tz=UTC)
    assert [e.session_id for e in again.entries] == [session.id]
    others = build_prep_queue(calendar, settings, user_id="bob", user_email="bob@corp.com", now=now, tz=UTC)
    assert others.view.is_demo and session.id not in [e.session_id for e in others.entries]
