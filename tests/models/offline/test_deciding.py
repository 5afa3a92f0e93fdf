"""Which meeting the offline demo model acts on, over an executive's own week (a real .ics, a real
ChatService and strands Agent, the real tools and SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from assistant import db
from assistant.chat.events import Done, TextDelta
from tests.fixtures.chat import make_service

NEW_YORK = ZoneInfo("America/New_York")
EMAIL = "morgan.ellis@corp.example"

# A VP's week from Sunday 6 December 2026 (Outlook-style zone names, a moved occurrence of a
# weekly series, a fortnightly 1:1, a customer QBR with external attendees).
WEEK_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN
BEGIN:VTIMEZONE
TZID:Eastern Standard Time
BEGIN:STANDARD
DTSTART:16011104T020000
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010311T020000
RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:lead-sync@corp.example
SUMMARY:Weekly Leadership Sync
DTSTART;TZID=Eastern Standard Time:20261102T100000
DTEND;TZID=Eastern Standard Time:20261102T110000
RRULE:FREQ=WEEKLY;BYDAY=MO
ORGANIZER;CN=Morgan Ellis:mailto:morgan.ellis@corp.example
ATTENDEE;CN=Priya Shah;PARTSTAT=ACCEPTED:mailto:priya.shah@corp.example
ATTENDEE;CN=Tom Becker;PARTSTAT=ACCEPTED:mailto:tom.becker@corp.example
ATTENDEE;CN=Dana Whitfield;PARTSTAT=ACCEPTED:mailto:dana.whitfield@corp.example
END:VEVENT
BEGIN:VEVENT
UID:one-on-one-dana@corp.example
SUMMARY:Morgan / Dana 1:1
DTSTART;TZID=Eastern Standard Time:20261208T140000
DTEND;TZID=Eastern Standard Time:20261208T143000
RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU
ORGANIZER;CN=Morgan Ellis:mailto:morgan.ellis@corp.example
ATTENDEE;CN=Dana Whitfield;PARTSTAT=ACCEPTED:mailto:dana.whitfield@corp.example
DESCRIPTION:Dana: Q1 hiring plan\\, marketing launch slip.
END:VEVENT
BEGIN:VEVENT
UID:board-prep@corp.example
SUMMARY:Board Prep - Q4 deck review
DTSTART;TZID=Eastern Standard Time:20261209T090000
DTEND;TZID=Eastern Standard Time:20261209T110000
ORGANIZER;CN=Rachel Kim:mailto:rachel.kim@corp.example
ATTENDEE;CN=Sam Ortiz (CFO);PARTSTAT=ACCEPTED:mailto:sam.ortiz@corp.example
ATTENDEE;CN=Lena Park (General Counsel);PARTSTAT=ACCEPTED:mailto:lena.park@corp.example
ATTENDEE;CN=Morgan Ellis;PARTSTAT=ACCEPTED:mailto:morgan.ellis@corp.example
DESCRIPTION:Review the Q4 board deck: ARR bridge\\, FY27 plan.
END:VEVENT
BEGIN:VEVENT
UID:qbr-globex@corp.example
SUMMARY:Globex QBR
DTSTART;TZID=Eastern Standard Time:20261210T130000
DTEND;TZID=Eastern Standard Time:20261210T143000
ORGANIZER;CN=Morgan Ellis:mailto:morgan.ellis@corp.example
ATTENDEE;CN=Hank Scorpio;PARTSTAT=ACCEPTED:mailto:hank@globex.com
ATTENDEE;CN=Tom Becker;PARTSTAT=ACCEPTED:mailto:tom.becker@corp.example
DESCRIPTION:Renewal due 31 Jan. Globex wants SSO and a price hold.
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")

SUNDAY_MORNING = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)  # 09:00 in New York


@pytest.fixture
def week(sqlite_engine: Any) -> Any:
    service = make_service(sqlite_engine, clock=lambda: SUNDAY_MORNING)
    service.calendar.connect_ics_file("vp", WEEK_ICS.encode(), "outlook.ics")
    return service


def conversation(service: Any) -> Callable[[str], tuple[str, Done]]:
    """``ask(text)``: the answer's text and Done in one session, as the page sends from New York."""
    session: list[str] = []

    def ask(text: str) -> tuple[str, Done]:
        started = service.start_turn(
            "vp", text, session_id=session[0] if session else None, user_email=EMAIL, tz=NEW_YORK
        )
        events = list(started.events)
        session[:] = [started.session.id]
        done = events[-1]
        assert isinstance(done, Done), events
        return "".join(e.text for e in events if isinstance(e, TextDelta)), done

    return ask


def saved_notes(engine: Any) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(db.prep_responses.c.meeting_id, db.prep_responses.c.response))
        return [(str(m), str(r)) for m, r in rows]


def meeting_id(service: Any, title: str) -> str:
    """The id of the next meeting titled ``title`` in the user's calendar."""
    view = service.calendar.view("vp", days_ahead=14, tz=NEW_YORK)
    return next(m.id for m in view.meetings if m.title == title)


def test_a_note_for_a_meeting_it_names_is_saved_on_that_meeting_not_the_one_just_prepared(
    week: Any, sqlite_engine: Any
) -> None:
    """After an agenda for the leadership sync, "Save a note for the Globex QBR: ..." was saved on
    the leadership sync (the meeting of the previous answer's prep questions), under one of its
    questions: the QBR was in no listing yet, so the note went to the meeting the chat last showed."""
    ask = conversation(week)
    ask("Draft an agenda for the leadership sync")

    text, _ = ask("Save a note for the Globex QBR: push for a 2-year renewal with the price hold tied to SSO")

    assert saved_notes(sqlite_engine) == [
        (meeting_id(week, "Globex QBR"), "push for a 2-year renewal with the price hold tied to SSO")
    ]
    assert "for Globex QBR" in text and "Leadership" not in text, text


def test_a_note_for_a_meeting_not_in_the_calendar_is_saved_nowhere(week: Any, sqlite_engine: Any) -> None:
    ask = conversation(week)
    ask("Prep me for the QBR")

    text, _ = ask("Save a note for the Initech kickoff: bring the pricing sheet")

    assert saved_notes(sqlite_engine) == []
    assert "No meetings" in text or "0 meetings" in text, text


@pytest.mark.parametrize(
    ("asked", "title", "note"),
    [
        ("Save a note for my 1:1 with Dana: ask about hiring", "Morgan / Dana 1:1", "ask about hiring"),
        ("Save a note about the board prep: lead with ARR", "Board Prep - Q4 deck review", "lead with ARR"),
        ("Remember for my QBR: bring the SSO timeline", "Globex QBR", "bring the SSO timeline"),
    ],
)
def test_a_note_named_for_my_meeting_keeps_only_its_words(
    week: Any, sqlite_engine: Any, asked: str, title: str, note: str
) -> None:
    """Only "for the <meeting>:" was read as the command: "Save a note for my 1:1 with Dana: ask
    about the Q1 hiring plan" saved the note "for my 1:1 with Dana: ask about the Q1 hiring plan"."""
    ask = conversation(week)

    ask(asked)

    assert saved_notes(sqlite_engine) == [(meeting_id(week, title), note)]


@pytest.mark.parametrize(
    ("asked", "title", "people"),
    [
        (
            "Who is coming to the board prep and what do they care about?",
            "Board Prep - Q4 deck review",
            ("Sam Ortiz (CFO)", "Lena Park (General Counsel)"),
        ),
        ("Who is attending the Globex QBR?", "Globex QBR", ("Hank Scorpio", "Tom Becker")),
        ("What should I push for in my 1:1 with Dana?", "Morgan / Dana 1:1", ("Dana Whitfield",)),
    ],
)
def test_a_question_about_one_meeting_answers_about_that_meeting(
    week: Any, asked: str, title: str, people: tuple[str, ...]
) -> None:
    """ "Who is coming to the board prep ...?" listed the whole week (no attendee named) and "What
    should I push for in my 1:1 with Dana?" answered with the help text."""
    text, _ = conversation(week)(asked)

    assert f"**Prep questions for {title}:**" in text, text
    for person in people:
        assert person in text, text
    assert "meetings in the next" not in text, text  # not the week's listing


@pytest.mark.parametrize("asked", ["What did I note for the QBR?", "Show my notes for the Globex QBR"])
def test_what_i_noted_for_a_meeting_is_read_back(week: Any, sqlite_engine: Any, asked: str) -> None:
    """ "What did I note for the QBR?" answered with the help text: the notes saved were never read."""
    ask = conversation(week)
    ask("Save a note for the Globex QBR: push for a 2-year renewal")
    ask("Save a note for the board prep: lead with the ARR bridge")

    text, done = ask(asked)

    assert "push for a 2-year renewal" in text, text
    assert "ARR bridge" not in text and "I can help you" not in text, text
    assert "Reading your prep notes..." in text and "Drafting the agenda" not in text, text  # no agenda asked
    assert len(saved_notes(sqlite_engine)) == 2  # reading saved nothing
    assert "save_prep_response" not in [s.name for s in done.turn.tool_steps]


def test_a_meeting_without_notes_says_so(week: Any) -> None:
    text, _ = conversation(week)("What did I note for the board prep?")

    assert "no prep notes for Board Prep - Q4 deck review on Wed 9 Dec yet" in text, text


def test_the_budget_of_the_area_asked_about_is_the_answer(week: Any, sqlite_engine: Any) -> None:
    """ "How does the Q3 budget look for marketing?" listed every area, each without its forecast
    (Marketing's $4.75M forecast, $550k over, was in no line of the answer)."""
    from assistant.context.budget_io import parse_budget_csv
    from assistant.context.user_data import ContextStore

    rows = parse_budget_csv(
        b"area,owner,plan,actual,forecast,notes,plan_to_date\n"
        b"Marketing,Dana Whitfield,4200000,3650000,4750000,Brand campaign overran,3150000\n"
        b"Sales,Tom Becker,9800000,7100000,9600000,On plan,7350000\n"
    )
    ContextStore(sqlite_engine).save("vp", "budget", rows, None)

    text, _ = conversation(week)("How does the Q3 budget look for marketing?")

    line = next(x for x in text.splitlines() if x.startswith("- **Marketing**"))
    assert "$4.75M forecast" in line and "+$550k" in line and "Brand campaign overran" in text, text
    assert "**Sales**" not in text, text


def test_budget_amounts_add_up_to_the_gap_they_are_shown_with(week: Any, sqlite_engine: Any) -> None:
    """Marketing read "$4.2M annual budget, $3.6M spent so far, ..., $4.8M forecast, forecast +$550k
    against budget": $3.65M shown as $3.6M and $4.75M as $4.8M (one decimal, rounded either way),
    and $4.8M less $4.2M is not the $550k beside it."""
    from assistant.context.budget_io import parse_budget_csv
    from assistant.context.user_data import ContextStore

    rows = parse_budget_csv(
        b"area,owner,plan,actual,forecast,notes,plan_to_date\n"
        b"Marketing,Dana Whitfield,4200000,3650000,4750000,,3150000\n"
    )
    ContextStore(sqlite_engine).save("vp", "budget", rows, None)

    text, _ = conversation(week)("How does the budget look for marketing?")

    assert (
        "- **Marketing** - $4.2M annual budget, $3.65M spent so far, $3.15M planned by now, $4.75M forecast, "
        "forecast +$550k against budget;"
    ) in text, text


def test_prep_questions_never_ask_what_you_need_from_yourself(week: Any) -> None:
    """The leadership sync's second prep question was "Is there anything you need from Morgan Ellis
    before the meeting?", asked of Morgan Ellis: the organizer (the executive) is its first attendee."""
    text, _ = conversation(week)("Prep me for the leadership sync")

    assert "need from Morgan Ellis" not in text, text
    assert "Is there anything you need from Priya Shah before the meeting?" in text, text
    assert "Morgan Ellis (you)" in text, text


def test_preparing_a_recurring_meeting_prepares_its_next_occurrence_without_listing_the_series(week: Any) -> None:
    """ "Prep me for the leadership sync" listed five "Weekly Leadership Sync" lines (every Monday of
    the next month) before the one it prepared."""
    text, _ = conversation(week)("Prep me for the leadership sync")

    assert "meetings matching" not in text and text.count("**Weekly Leadership Sync** -") == 1, text
    assert "**Weekly Leadership Sync** - Mon 7 Dec, 10:00-11:00" in text, text
    assert "- Then: Mon 14 Dec, Mon 21 Dec, Mon 28 Dec and 1 more in the next 30 days" in text, text


def test_budget_and_big_rocks_from_the_demo_say_so(week: Any) -> None:
    """With their own calendar connected and no budget or big rocks saved, an executive asking about
    the budget read the demo company's ($18.5M Engineering, Priya Raman) as if it were theirs: the
    answer never said it was demo data."""
    ask = conversation(week)

    budget, _ = ask("How is the budget tracking?")
    rocks, _ = ask("Which of my big rocks is at risk?")

    for text in (budget, rocks):
        assert "demo data" in text.lower() and "My context" in text, text


def test_an_agenda_for_your_own_meeting_leaves_the_demo_budget_and_rocks_out(week: Any) -> None:
    """The agenda of the executive's own 1:1 held "Budget variance: Marketing (Rachel Kim (CMO))"
    and the demo's big rocks: figures of the demo company, in a real meeting's agenda."""
    text, _ = conversation(week)("Draft an agenda for my 1:1 with Dana")

    assert "### Agenda: Morgan / Dana 1:1" in text, text
    for demo in ("Rachel Kim", "Budget variance", "Platform v3", "Big rock"):
        assert demo not in text, (demo, text)


def test_which_big_rocks_are_at_risk_names_those_first_and_alone(week: Any, sqlite_engine: Any) -> None:
    """ "Which of my big rocks is at risk?" listed every initiative, the on-track ones among them."""
    from assistant.context.rocks_io import validate_rock_rows
    from assistant.context.user_data import ContextStore

    rows = validate_rock_rows(
        [
            {"name": "Hire 3 senior PMs", "owner": "Morgan Ellis", "status": "on_track", "progress_pct": 67},
            {"name": "Platform migration", "owner": "Priya Shah", "status": "at_risk", "progress_pct": 55},
            {
                "name": "CAC payback under 18 months",
                "owner": "Dana Whitfield",
                "status": "off_track",
                "progress_pct": 30,
            },
        ]
    )
    ContextStore(sqlite_engine).save("vp", "big_rocks", rows, None)

    text, _ = conversation(week)("Which of my big rocks is at risk?")

    assert "**Platform migration** - at risk" in text and "**CAC payback under 18 months** - off track" in text, text
    assert "**Hire 3 senior PMs**" not in text and "1 on track" in text, text


def test_the_whole_budget_lists_each_areas_forecast(week: Any, sqlite_engine: Any) -> None:
    """ "How is my budget tracking?" listed each area as budget, spent and planned: the forecast, what
    the flags in the summary are about, was on no area's line."""
    from assistant.context.budget_io import parse_budget_csv
    from assistant.context.user_data import ContextStore

    rows = parse_budget_csv(
        b"area,owner,plan,actual,forecast,notes,plan_to_date\n"
        b"Marketing,Dana Whitfield,4200000,3650000,4750000,,3150000\n"
        b"Sales,Tom Becker,9800000,7100000,9600000,,7350000\n"
    )
    ContextStore(sqlite_engine).save("vp", "budget", rows, None)

    text, _ = conversation(week)("How is my budget tracking?")

    assert "- **Marketing** - $4.2M annual budget, $3.65M spent so far, $3.15M planned by now, $4.75M forecast;" in text
    assert "- **Sales** - $9.8M annual budget, $7.1M spent so far, $7.35M planned by now, $9.6M forecast;" in text


def test_a_note_saved_by_command_is_filed_under_a_question_only_when_it_answers_it(
    week: Any, sqlite_engine: Any
) -> None:
    """After the QBR's prep questions, "Save a note: push for a 2-year renewal" was filed under "Which
    risks or open issues with the customer do you want to raise" (the last question, whatever the
    note says), and the materials showed it as the answer to that question."""
    for note in ("push for a 2-year renewal", "the outcome I need is a signed renewal"):
        ask = conversation(week)
        ask("Prep me for the QBR")
        ask(f"Save a note: {note}")

    with sqlite_engine.connect() as conn:
        topics = list(conn.execute(select(db.prep_responses.c.topic).order_by(db.prep_responses.c.id)).scalars())
    assert topics == ["general prep note", "What is the one outcome you need from Globex QBR"]


def test_a_weekday_named_picks_that_days_meeting_among_meetings_of_the_same_title() -> None:
    """ "Prepare an agenda for NY Standup on Wednesday" gave Tuesday's standup (the earliest won)."""
    from assistant.models.offline.deciding import best_meeting

    standups = [
        {"id": f"standup-{day}", "title": "NY Standup", "start": f"2026-12-{day:02d}T09:00:00-05:00"}
        for day in (8, 9, 10)  # Tuesday, Wednesday, Thursday
    ]
    chosen = best_meeting(standups, "Prepare an agenda for NY Standup on Wednesday")
    assert chosen is not None and chosen["id"] == "standup-9"
    assert (best_meeting(standups, "Prepare an agenda for NY Standup") or {})["id"] == "standup-8"  # the next one
    assert (best_meeting(standups, "NY Standup on Sunday") or {})["id"] == "standup-8"  # none that day: the next
