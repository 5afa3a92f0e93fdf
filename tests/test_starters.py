"""Tests of the starter prompts built from the next meetings (assistant/starters.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from assistant.starters import GENERIC_PROMPTS, describe_when, starter_prompts

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


def test_describe_when() -> None:
    assert describe_when(datetime(2026, 3, 2, 14, 0, tzinfo=UTC), NOW) == "today at 14:00"
    assert describe_when(datetime(2026, 3, 3, 9, 30, tzinfo=UTC), NOW) == "tomorrow at 09:30"
    assert describe_when(datetime(2026, 3, 5, 10, 0, tzinfo=UTC), NOW) == "Thursday at 10:00"
    assert describe_when(datetime(2026, 3, 12, 10, 0, tzinfo=UTC), NOW) == "Thu 12 Mar at 10:00"


def test_a_meeting_running_since_before_midnight_and_an_all_day_one_name_their_day() -> None:
    """The Prep queue keeps a meeting until it ends: at 00:10 a call that began at 23:30 read
    "today at 23:30" (tonight, to its reader); an all-day offsite read "all day", no day at all,
    and so did the session its Prepare started ("Prepare me for Offsite, all day")."""
    london = ZoneInfo("Europe/London")
    just_after_midnight = datetime(2026, 12, 7, 0, 10, tzinfo=london)
    assert describe_when(datetime(2026, 12, 6, 23, 30, tzinfo=london), just_after_midnight) == "yesterday at 23:30"
    assert describe_when(datetime(2026, 12, 4, 9, 0, tzinfo=london), just_after_midnight) == "Fri 4 Dec at 09:00"
    offsite = datetime(2026, 12, 8, tzinfo=london)
    assert describe_when(offsite, just_after_midnight, all_day=True) == "all day tomorrow"
    assert describe_when(offsite, datetime(2026, 12, 8, 15, 0, tzinfo=london), all_day=True) == "all day today"
    assert describe_when(offsite, datetime(2026, 12, 9, 8, 0, tzinfo=london), all_day=True) == "all day since yesterday"
    assert describe_when(offsite, datetime(2026, 12, 5, 8, 0, tzinfo=london), all_day=True) == "all day Tuesday"


def test_starters_come_from_next_meetings_in_order() -> None:
    starters = starter_prompts(DATA, NOW, limit=3)
    assert len(starters) == 3
    assert all(s.prompt.startswith("Prepare me for ") and s.meeting_id for s in starters)
    assert all(", " in s.prompt and " at " in s.prompt.rsplit(", ", 1)[1] for s in starters)


def test_missing_calendar_gives_generic_prompts(tmp_path: Path) -> None:
    starters = starter_prompts(tmp_path, NOW, limit=2)
    assert [s.prompt for s in starters] == [p for p, _ in GENERIC_PROMPTS[:2]]
    assert all(s.meeting_id is None for s in starters)


def test_starter_prompt_finds_its_meeting_with_the_offline_model_query() -> None:
    from assistant.context.demo_calendar import upcoming_meetings

    for starter in starter_prompts(DATA, NOW, limit=4, fill_generic=False):
        title = starter.prompt.removeprefix("Prepare me for ").rsplit(", ", 1)[0]
        found = upcoming_meetings(DATA, NOW, days_ahead=7, query=title)
        assert starter.meeting_id in [m.id for m in found]


def test_a_prep_prompt_names_the_day_and_zone_so_the_sessions_title_stays_true(sqlite_engine: object) -> None:
    """A prep session is titled with its first message: "Prepare me for Kolkata board sync, tomorrow
    at 11:30" read in the sessions list a day later (or in another zone) named the wrong day and clock.
    The prompt now says "Mon 7 Dec at 11:30 UTC+08", and the offline model still finds the meeting."""
    from assistant.chat.events import TextDelta
    from assistant.context.prep_queue import prep_prompt
    from assistant.starters import describe_date, meeting_prompt
    from tests.fixtures.chat import make_service

    singapore = ZoneInfo("Asia/Singapore")
    now = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)  # Sunday 22:00 in Singapore
    service = make_service(sqlite_engine, clock=lambda: now)  # type: ignore[arg-type]
    service.calendar.connect_ics_file(
        "u1",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:k@x\r\n"
        b"DTSTART;TZID=Asia/Kolkata:20261207T090000\r\nDTEND;TZID=Asia/Kolkata:20261207T100000\r\n"
        b"SUMMARY:Kolkata board sync\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:o@x\r\nDTSTART;VALUE=DATE:20261208\r\n"
        b"DTEND;VALUE=DATE:20261209\r\nSUMMARY:Company offsite\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "mine.ics",
    )
    sync, offsite = service.calendar.view("u1", tz=singapore, now=now).meetings
    assert (
        meeting_prompt(sync, now.astimezone(singapore))
        == "Prepare me for Kolkata board sync, Mon 7 Dec at 11:30 UTC+08"
    )
    assert describe_date(offsite.start, all_day=True) == "Tue 8 Dec (all day)"
    for meeting in (sync, offsite):  # as the Prep queue's Prepare sends it
        prompt = prep_prompt(meeting, describe_date(meeting.start, all_day=meeting.all_day))
        started = service.start_turn("u1", prompt, tz=singapore, meeting=meeting)
        answer = "".join(e.text for e in started.events if isinstance(e, TextDelta))
        assert f"Prep questions for {meeting.title}" in answer, answer
        assert service.get_session(started.session.id, "u1").title == prompt
