"""OfflineModel driven by a real strands Agent with real tools."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from strands import Agent

from assistant.models.offline import OfflineModel, split_chunks
from assistant.models.offline.days import this_week
from tests.models import tools_fixture
from tests.models.tools_fixture import ALL_TOOLS, CALLS


@pytest.fixture(autouse=True)
def _clear_calls() -> Iterator[None]:
    CALLS.clear()
    yield
    CALLS.clear()


def make_agent(tools: list[Any] | None = None) -> Agent:
    return Agent(
        model=OfflineModel(),
        tools=ALL_TOOLS if tools is None else tools,
        system_prompt="You are the Meeting Coordinator.",
        callback_handler=None,
    )


def tool_names() -> list[str]:
    return [name for name, _ in CALLS]


async def test_meetings_question_calls_tool_and_lists_meetings() -> None:
    agent = make_agent()
    result = await agent.invoke_async("What meetings do I have this week?")

    assert tool_names() == ["get_upcoming_meetings"]
    # "this week" runs to its Sunday (a weekend's: the coming week's), from the server's date when
    # the prompt gives none: 7 days only on a Monday, which is when this test was written
    today = date.today()
    assert CALLS[0][1] == {"days_ahead": (this_week(today)[1] - today).days + 1, "query": None}
    text = str(result)
    for meeting in tools_fixture.MEETINGS:
        assert meeting["title"] in text
    assert "14:00-15:30" in text
    assert result.stop_reason == "end_turn"


@pytest.mark.parametrize(
    "text",
    ["Help me prepare for my next meeting", "prep me for my next meeting please", "Get me ready for the next one"],
)
async def test_next_meeting_prepares_the_soonest_meeting_not_a_title_match(text: str) -> None:
    agent = make_agent()
    result = await agent.invoke_async(text)

    assert tool_names() == ["get_upcoming_meetings", "generate_meeting_agenda"]
    assert "query" not in CALLS[0][1] or CALLS[0][1]["query"] is None
    soonest = min(tools_fixture.MEETINGS, key=lambda m: m["start"])
    assert CALLS[1][1]["meeting_id"] == soonest["id"]
    assert f"Prep questions for {soonest['title']}" in str(result)


async def test_agenda_request_looks_up_meeting_then_builds_agenda() -> None:
    agent = make_agent()
    result = await agent.invoke_async("prepare an agenda for the Acme QBR")

    assert tool_names() == ["get_upcoming_meetings", "generate_meeting_agenda"]
    assert CALLS[0][1]["query"] == "Acme QBR"
    assert CALLS[1][1]["meeting_id"] == "mtg-002"
    text = str(result)
    assert "### Agenda: Acme QBR" in text
    assert "Prep questions for Acme QBR" in text


async def test_agenda_uses_meeting_from_earlier_result() -> None:
    agent = make_agent()
    await agent.invoke_async("What meetings do I have this week?")
    CALLS.clear()

    await agent.invoke_async("Draft an agenda for board prep")

    assert tool_names() == ["generate_meeting_agenda"]
    assert CALLS[0][1]["meeting_id"] == "mtg-003"


async def test_prepare_then_answer_saves_prep_note() -> None:
    agent = make_agent()
    first = await agent.invoke_async("Prepare me for the Acme QBR")
    assert "Prep questions for Acme QBR" in str(first)
    assert tool_names() == ["get_upcoming_meetings"]
    CALLS.clear()

    second = await agent.invoke_async("I want Acme to commit to the renewal by March")

    assert tool_names() == ["save_prep_response"]
    saved = CALLS[0][1]
    assert saved["meeting_id"] == "mtg-002"
    assert saved["response"] == "I want Acme to commit to the renewal by March"
    assert saved["topic"].startswith("Which risks")
    assert "Saved your note" in str(second)


async def test_saved_note_goes_under_the_question_it_answers() -> None:
    agent = make_agent()
    await agent.invoke_async("Prepare me for the Acme QBR")
    CALLS.clear()

    second = await agent.invoke_async("Save my prep: the outcome is the EU expansion signed")

    saved = CALLS[0][1]
    assert saved["topic"].startswith("What is the one outcome")
    assert saved["response"] == "the outcome is the EU expansion signed"
    assert ". You now have 1 prep note" in str(second)


async def test_budget_and_big_rocks_in_one_message() -> None:
    agent = make_agent()
    result = await agent.invoke_async("How is the budget and what about our big rocks?")

    assert sorted(tool_names()) == ["get_big_rocks_status", "get_budget_context"]
    text = str(result)
    assert "4% over plan" in text
    assert "EU expansion" in text


async def test_only_calls_available_tools() -> None:
    agent = make_agent(tools=[tools_fixture.get_budget_context])
    result = await agent.invoke_async("What meetings do I have and how is the budget?")

    assert tool_names() == ["get_budget_context"]
    assert "4% over plan" in str(result)


async def test_no_intent_gives_help() -> None:
    agent = make_agent()
    result = await agent.invoke_async("hello there")

    assert CALLS == []
    assert "I can help you" in str(result)


async def test_tool_error_is_reported() -> None:
    from strands import tool

    @tool
    def get_budget_context(area: str | None = None) -> str:
        """Always fails.

        Args:
            area: Ignored.
        """
        raise RuntimeError("ledger unavailable")

    agent = make_agent(tools=[get_budget_context])
    result = await agent.invoke_async("show me the budget")

    assert "couldn't get that" in str(result)


async def test_usage_is_reported() -> None:
    agent = make_agent()
    result = await agent.invoke_async("What meetings do I have this week?")

    usage = result.metrics.accumulated_usage
    assert usage["inputTokens"] > 0
    assert usage["outputTokens"] > 0
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert result.metrics.cycle_count == 2


async def test_streaming_arrives_in_several_chunks() -> None:
    agent = make_agent()
    chunks: list[str] = []
    async for event in agent.stream_async("What meetings do I have this week?"):
        if "data" in event:
            chunks.append(event["data"])

    assert len(chunks) > 5
    assert "Acme QBR" in "".join(chunks)


async def test_deterministic() -> None:
    first = await make_agent().invoke_async("prepare an agenda for the Acme QBR")
    second = await make_agent().invoke_async("prepare an agenda for the Acme QBR")

    assert str(first) == str(second)


async def test_raw_stream_events_shape() -> None:
    model = OfflineModel()
    messages: Any = [{"role": "user", "content": [{"text": "what is on my calendar?"}]}]
    specs: Any = [{"name": "get_upcoming_meetings", "description": "x", "inputSchema": {"json": {}}}]
    events = [event async for event in model.stream(messages, specs, "system")]

    keys = [next(iter(event)) for event in events]
    assert keys[0] == "messageStart"
    assert keys[-2:] == ["messageStop", "metadata"]
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"
    starts = [e["contentBlockStart"]["start"] for e in events if "contentBlockStart" in e]
    assert starts[-1]["toolUse"]["name"] == "get_upcoming_meetings"
    assert events[-1]["metadata"]["usage"]["inputTokens"] > 0
    assert "latencyMs" in events[-1]["metadata"]["metrics"]


async def test_structured_output_not_supported() -> None:
    from pydantic import BaseModel

    class Out(BaseModel):
        x: int

    with pytest.raises(NotImplementedError, match="structured output"):
        async for _ in OfflineModel().structured_output(Out, []):
            pass


def test_config_roundtrip() -> None:
    model = OfflineModel(chunk_delay_s=0.01)
    model.update_config(words_per_chunk=5)
    assert model.get_config()["words_per_chunk"] == 5
    assert model.get_config()["chunk_delay_s"] == 0.01


def test_split_chunks_joins_back() -> None:
    text = "Hello there,  this is\na test of   chunking."
    chunks = split_chunks(text, 2)
    assert "".join(chunks) == text
    assert len(chunks) == 4


async def test_agenda_for_meeting_missing_from_earlier_result_looks_it_up() -> None:
    agent = make_agent()
    await agent.invoke_async("Prepare me for the Acme QBR")  # filtered list: only the QBR
    CALLS.clear()

    await agent.invoke_async("Now an agenda for board prep please")

    assert tool_names() == ["get_upcoming_meetings", "generate_meeting_agenda"]
    assert CALLS[1][1]["meeting_id"] == "mtg-003"


def test_budget_and_big_rocks_read_as_prose_not_field_names(sqlite_engine: Any) -> None:
    """Through the real tools over the demo data: "status: at_risk; progress pct: 62" read like a data dump."""
    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "How is the budget and what about our big rocks?")
    text = "".join(e.text for e in events if isinstance(e, TextDelta))

    # the demo's dates are relative to today: "due 19 Jan 2027"
    assert re.search(
        r"- \*\*Launch Platform v3\*\* - at risk, 62% done, due \d{1,2} [A-Z][a-z]{2} \d{4}; owned by Priya", text
    )
    assert (
        "- **Engineering** - $18.5M annual budget, $11.9M spent so far, $11.1M planned by now, $19.6M forecast; "
        "owned by"
    ) in text
    for raw in ("status:", "progress pct", "target date", "at_risk", "on_track", "annual budget:", "spent ytd"):
        assert raw not in text, raw


def test_a_note_over_the_limit_is_refused_in_one_readable_line(sqlite_engine: Any) -> None:
    """Through the real tools: a 4,500-character note was refused in the answer and its tool step with
    pydantic's report ("Validation failed for input parameters: 1 validation error for …", the
    whole note again as input_value, a link to pydantic's docs)."""
    from assistant.chat.events import Done, TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "Save a note for the Acme QBR: " + "push for renewal " * 265)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    refusal = "Input refused: response: String should have at most 4000 characters"
    assert refusal in text
    assert "validation error" not in text and "pydantic" not in text and "input_value" not in text
    done = events[-1]
    assert isinstance(done, Done) and done.turn.tool_steps[-1].result == refusal


@pytest.mark.parametrize("asked", ["Save a note:", "Save a note for the Acme QBR:", "remember"])
def test_a_save_with_nothing_to_save_asks_what_the_note_should_say(sqlite_engine: Any, asked: str) -> None:
    """ "Save a note:" alone was saved as the note "Save a note:"."""
    from sqlalchemy import func, select

    from assistant import db
    from assistant.chat.events import Done, TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", asked)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text.startswith("What should the note say?"), text
    done = events[-1]
    assert isinstance(done, Done) and done.turn.tool_steps == ()
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.prep_responses)).scalar_one() == 0


def test_budget_amounts_keep_one_decimal_unless_whole_millions(sqlite_engine: Any) -> None:
    """Cloud Infrastructure read "$4.2M annual budget, $3M spent so far, $2.6M planned by now": the
    $3.05M spent lost its decimal beside its neighbours and read as an exact three million."""
    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "How is my budget tracking?")
    text = "".join(e.text for e in events if isinstance(e, TextDelta))

    # to the nearest $10k (it read "$3.0M" and "$2.6M", rounded down once and up once elsewhere)
    assert "- **Cloud Infrastructure** - $4.2M annual budget, $3.05M spent so far, $2.65M planned by now, $4.9M" in text
    assert "- **Marketing** - $6M annual budget," in text  # a whole number of millions stays short


def test_a_budget_areas_own_markdown_reads_as_typed_in_the_answer(sqlite_engine: Any) -> None:
    """An uploaded budget's area and owner went into the answer's list as Markdown: a name
    "[Renewal](https://phish.example)" became a live link, "**" bold, and "$" pairs turned the
    amounts after them into LaTeX."""
    from assistant.chat.events import TextDelta
    from assistant.context.budget_io import BudgetRow
    from assistant.context.user_data import ContextStore
    from tests.fixtures.chat import make_service

    row = BudgetRow(
        area="Cloud [Renewal](https://phish.example)", owner="**Bob** $x$", plan=100, actual=50, forecast=120
    )
    ContextStore(sqlite_engine).save("u1", "budget", [row], None)
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    text = "".join(
        e.text for e in service.run_turn(meta.id, "u1", "How is my budget tracking?") if isinstance(e, TextDelta)
    )

    line = next(x for x in text.splitlines() if x.startswith("- **Cloud"))
    assert line.startswith("- **Cloud \\[Renewal\\](https\\:\u200b//phish.example)** - $100 annual budget,"), line
    assert line.endswith(r"owned by \*\*Bob\*\* \$x\$"), line


def test_small_budget_amounts_keep_what_tells_them_apart(sqlite_engine: Any) -> None:
    """A budget of $1,000 forecast at $1,100 read "$1k annual budget, $1k forecast" beside
    "forecast +10.0% vs budget": every amount from $1,000 to $999,999 was rounded to whole
    thousands, so the two figures the gap is between read the same."""
    from assistant.chat.events import TextDelta
    from assistant.context.budget_io import BudgetRow
    from assistant.context.user_data import ContextStore
    from tests.fixtures.chat import make_service

    rows = [
        BudgetRow(area="Offsite", owner="Ann", plan=1000, actual=400, forecast=1100),
        BudgetRow(area="Travel", owner="Ben", plan=12_500, actual=6_250, forecast=12_000),
        BudgetRow(area="Tools", owner="Cy", plan=950_000, actual=1_550, forecast=949_000),
    ]
    ContextStore(sqlite_engine).save("u1", "budget", rows, None)
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    text = "".join(
        e.text for e in service.run_turn(meta.id, "u1", "How is my budget tracking?") if isinstance(e, TextDelta)
    )
    lines = {x.split("**")[1]: x for x in text.splitlines() if x.startswith("- **")}
    assert "$1k annual budget, $400 spent so far" in lines["Offsite"], lines["Offsite"]
    assert "$1.1k forecast" in lines["Offsite"], lines["Offsite"]
    assert "$12.5k annual budget, $6.25k spent so far" in lines["Travel"], lines["Travel"]
    assert "$12k forecast" in lines["Travel"], lines["Travel"]
    assert "$950k annual budget, $1.55k spent so far" in lines["Tools"], lines["Tools"]
    assert "$949k forecast" in lines["Tools"], lines["Tools"]


def test_a_timed_meeting_over_several_days_says_the_day_it_ends(sqlite_engine: Any) -> None:
    """A conference from Monday 08:00 to Wednesday 17:00 read "Mon 07 Dec, 08:00-17:00 (3420 min)":
    a one-day meeting by its look, and a length no one reads in minutes."""
    from datetime import UTC, datetime

    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine, clock=lambda: datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    service.calendar.connect_ics_file(
        "u1",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:c@x\r\nDTSTART:20261207T080000Z\r\n"
        b"DTEND:20261209T170000Z\r\nSUMMARY:Conference\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "mine.ics",
    )
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "What meetings do I have this week?")
    text = "".join(e.text for e in events if isinstance(e, TextDelta))

    assert "**Conference** - Mon 7 Dec, 08:00 to Wed 9 Dec, 17:00 ·" in text, text
    assert "min)" not in text


def test_a_meeting_without_length_shows_a_single_time(sqlite_engine: Any) -> None:
    """A deadline (DTEND equal to DTSTART) read "Mon 07 Dec, 10:00-10:00"."""
    from datetime import UTC, datetime

    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine, clock=lambda: datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    service.calendar.connect_ics_file(
        "u1",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:d@x\r\nDTSTART:20261207T100000Z\r\n"
        b"DTEND:20261207T100000Z\r\nSUMMARY:Filing deadline\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "mine.ics",
    )
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "What meetings do I have this week?")
    text = "".join(e.text for e in events if isinstance(e, TextDelta))

    assert "**Filing deadline** - Mon 7 Dec, 10:00 ·" in text, text
    assert "10:00-10:00" not in text


def test_tomorrow_lists_tomorrows_meetings_only_and_all_day_events_as_days(sqlite_engine: Any) -> None:
    """On a Saturday, "tomorrow" answered with Monday's 08:15 standup (the tool reads the next 48
    hours), and an all-day offsite read "00:00-00:00 (4320 min)"."""
    from datetime import UTC, datetime

    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    service = make_service(sqlite_engine, clock=lambda: saturday)
    service.calendar.connect_ics_file(
        "u1",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
        b"BEGIN:VEVENT\r\nUID:s@x\r\nDTSTART:20261207T081500Z\r\nDTEND:20261207T083000Z\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:o@x\r\nDTSTART;VALUE=DATE:20261206\r\nDTEND;VALUE=DATE:20261209\r\n"
        b"SUMMARY:Offsite\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "mine.ics",
    )

    def answer(question: str) -> str:
        meta = service.create_session("u1")
        return "".join(e.text for e in service.run_turn(meta.id, "u1", question) if isinstance(e, TextDelta))

    tomorrow = answer("What meetings do I have tomorrow?")
    assert "1 meeting tomorrow, Sunday 6 December" in tomorrow
    assert "**Offsite** - Sun 6 Dec to Tue 8 Dec, all day" in tomorrow
    assert "Standup" not in tomorrow and "00:00-00:00" not in tomorrow
    today = answer("What meetings do I have today?")
    assert "No meetings today, Saturday 5 December" in today and "Standup" not in today
    week = answer("What meetings do I have this week?")
    assert "Standup" in week and "Offsite" in week


def test_a_meetings_listing_names_the_zone_its_times_are_in(sqlite_engine: Any) -> None:
    """A traveller's listing read "Standup - Mon 07 Dec, 21:15-21:30" with no zone: reopened the next
    day in New York, nothing said those were Auckland's clock times (08:15 UTC)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine, clock=lambda: datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    service.calendar.connect_ics_file(
        "u1",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:s@x\r\n"
        b"DTSTART:20261207T081500Z\r\nDTEND:20261207T083000Z\r\nSUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "mine.ics",
    )
    for zone, told in (("Pacific/Auckland", "Mon 7 Dec, 21:15-21:30"), ("Asia/Singapore", "Mon 7 Dec, 16:15-16:30")):
        started = service.start_turn("u1", "What meetings do I have this week?", tz=ZoneInfo(zone))
        text = "".join(e.text for e in started.events if isinstance(e, TextDelta))
        assert told in text, text
        zone_told = "NZDT)" if "Auckland" in zone else "UTC+08)"  # asked on a Sunday: the coming week's
        assert "1 meeting this week, Sun 6 Dec to Sun 13 Dec (times in " + zone_told in text, text


@pytest.mark.parametrize(
    ("asked", "title"),
    [
        ("Prepare me for the board meeting", "Board Meeting Prep"),
        ("Prepare me for the H2 product roadmap review", "H2 Product Roadmap Review"),
    ],
)
def test_a_demo_meeting_named_beyond_the_next_seven_days_is_the_one_prepared(
    sqlite_engine: Any, asked: str, title: str
) -> None:
    """The demo calendar's Board Meeting Prep is six working days out: "Prepare me for the board meeting"
    searched the next 7 days only and prepared the Weekly Leadership Team Sync (held in the Boardroom);
    the roadmap review was "0 meetings matching"."""
    from datetime import UTC, datetime

    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    monday = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    service = make_service(sqlite_engine, clock=lambda: monday)
    meta = service.create_session("u1")
    text = "".join(e.text for e in service.run_turn(meta.id, "u1", asked) if isinstance(e, TextDelta))

    assert f"**Prep questions for {title}:**" in text, text
    assert text.count("**Prep questions for") == 1


@pytest.mark.parametrize("asked", ["What's my next meeting?", "When is my next meeting?"])
def test_my_next_meeting_names_the_soonest_one_not_the_whole_week(sqlite_engine: Any, asked: str) -> None:
    """Asked "What's my next meeting?", the answer listed every meeting of the next 7 days."""
    from datetime import UTC, datetime

    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    service = make_service(sqlite_engine, clock=lambda: saturday)
    meta = service.create_session("u1")
    text = "".join(e.text for e in service.run_turn(meta.id, "u1", asked) if isinstance(e, TextDelta))

    assert "Your next meeting:" in text, text
    assert "**Weekly Leadership Team Sync** - Mon 7 Dec, 08:00-09:00" in text
    assert "1:1 with Marcus" not in text and "meetings in the next" not in text


def test_a_weekday_asked_about_lists_that_days_meetings(sqlite_engine: Any) -> None:
    """Asked "What do I have on Monday?", the demo model answered with its help text."""
    from datetime import UTC, datetime

    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    service = make_service(sqlite_engine, clock=lambda: saturday)

    def answer(question: str) -> str:
        meta = service.create_session("u1")
        return "".join(e.text for e in service.run_turn(meta.id, "u1", question) if isinstance(e, TextDelta))

    monday = answer("What do I have on Monday?")
    assert "1 meeting on Monday 7 December" in monday, monday
    assert "**Weekly Leadership Team Sync** - Mon 7 Dec, 08:00-09:00" in monday
    assert "1:1 with Marcus" not in monday
    thursday = answer("Any meetings Thursday?")
    assert "1 meeting on Thursday 10 December" in thursday and "Engineering Hiring Review" in thursday
    assert "No meetings on Sunday 6 December" in answer("What's on my calendar Sunday?")


def test_a_starter_for_a_meeting_named_after_a_weekday_prepares_it_on_its_own_day(sqlite_engine: Any) -> None:
    from datetime import UTC, datetime

    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    service = make_service(sqlite_engine, clock=lambda: saturday)
    service.calendar.connect_ics_file(
        "u1",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:m@x\r\nDTSTART:20261210T090000Z\r\n"
        b"DTEND:20261210T093000Z\r\nSUMMARY:Monday Numbers Review\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "mine.ics",
    )
    meta = service.create_session("u1")
    asked = "Prepare me for Monday Numbers Review, Thursday at 09:00"
    text = "".join(e.text for e in service.run_turn(meta.id, "u1", asked) if isinstance(e, TextDelta))
    assert "**Prep questions for Monday Numbers Review:**" in text, text


def _answer_at(sqlite_engine: Any, now: datetime, asked: str) -> str:
    """The text of the answer to ``asked``, the first question of a new session, at ``now``."""
    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine, clock=lambda: now)
    meta = service.create_session("u1")
    return "".join(e.text for e in service.run_turn(meta.id, "u1", asked) if isinstance(e, TextDelta))


def test_next_week_lists_next_weeks_meetings_not_this_weeks(sqlite_engine: Any) -> None:
    """On a Monday, "What meetings do I have next week?" listed the next 14 days: this week's five too."""
    text = _answer_at(sqlite_engine, datetime(2026, 12, 7, 7, 0, tzinfo=UTC), "What meetings do I have next week?")

    assert "3 meetings next week, Mon 14 Dec to Sun 20 Dec" in text, text
    for title in ("Board Meeting Prep", "H2 Product Roadmap Review", "Monthly All-Hands Prep"):
        assert title in text
    for title in ("Weekly Leadership Team Sync", "1:1 with Marcus", "Q3 Budget Review"):
        assert title not in text


def test_this_week_lists_the_meetings_up_to_sunday_not_next_weeks(sqlite_engine: Any) -> None:
    """The app's own starter "What meetings do I have this week?", asked on a Thursday, listed the next
    7 days: next Monday's to Wednesday's meetings too ("5 meetings in the next 7 days")."""
    text = _answer_at(sqlite_engine, datetime(2026, 12, 10, 7, 0, tzinfo=UTC), "What meetings do I have this week?")

    assert "2 meetings this week, Thu 10 Dec to Sun 13 Dec" in text, text
    assert "Weekly Leadership Team Sync" in text and "1:1 with Marcus" in text
    for title in ("Acme Corp", "Engineering Hiring Review", "Q3 Budget Review"):  # Monday to Wednesday's
        assert title not in text, text


def _one_turn_and_saved_notes(sqlite_engine: Any, asked: str) -> tuple[Any, list[str]]:
    """One turn of a new session asking ``asked``: its Done event and every prep note stored."""
    from sqlalchemy import select

    from assistant import db
    from assistant.chat.events import Done
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    done = service.run_turn(meta.id, "u1", asked)[-1]
    assert isinstance(done, Done)
    with sqlite_engine.connect() as conn:
        return done, list(conn.execute(select(db.prep_responses.c.response)).scalars())


@pytest.mark.parametrize(
    "asked",
    [
        "What notes have I saved for the Acme QBR?",
        "Show my budget as a table with area, plan and notes columns",
        "Do you remember what the board asked for last time?",
    ],
)
def test_a_question_that_mentions_notes_saves_nothing(sqlite_engine: Any, asked: str) -> None:
    """Any message holding "note(s)", "save" or "remember" was saved as a prep note: asking which
    notes were saved for the Acme QBR saved the question itself as one (shown in its materials)."""
    done, saved = _one_turn_and_saved_notes(sqlite_engine, asked)
    assert "save_prep_response" not in [s.name for s in done.turn.tool_steps]
    assert saved == []


@pytest.mark.parametrize(
    "asked",
    [
        "Note for the Acme QBR: push for the renewal",
        "Please save this for the Acme QBR: push for the renewal",
        "Can you save a note for the Acme QBR: push for the renewal",
        "Remember for the Acme QBR: it must end with the renewal signed",
    ],
)
def test_a_save_command_still_saves_its_note(sqlite_engine: Any, asked: str) -> None:
    _, saved = _one_turn_and_saved_notes(sqlite_engine, asked)
    assert len(saved) == 1 and "renewal" in saved[0] and not saved[0].lower().startswith(("can you", "please")), saved


@pytest.mark.parametrize(
    "asked",
    [
        "Remember that the Acme QBR must end with the renewal signed",
        "Save a note: the Acme QBR must end with the renewal signed before Friday",
    ],
)
def test_a_note_naming_its_meeting_in_its_text_is_saved_on_that_meeting(sqlite_engine: Any, asked: str) -> None:
    """A note whose text holds "with ..." or "before ..." searched the meetings for that clause
    ("0 meetings matching 'renewal signed'") and saved nothing; the meeting it names is found by title."""
    from sqlalchemy import select

    from assistant import db

    done, saved = _one_turn_and_saved_notes(sqlite_engine, asked)
    assert [s.name for s in done.turn.tool_steps][-1] == "save_prep_response"
    assert len(saved) == 1 and "renewal signed" in saved[0], saved
    with sqlite_engine.connect() as conn:
        assert list(conn.execute(select(db.prep_responses.c.meeting_id)).scalars()) == ["acme-qbr"]


def _answers_on_a_sunday_with(sqlite_engine: Any, events: list[tuple[str, str, str]]) -> Any:
    """``answer(question)``: the demo model's answer, in a new session, on Sunday 6 December 2026
    for a user whose own calendar (an .ics) holds ``events`` ``(uid, DTSTART, title)``."""
    from datetime import UTC, datetime

    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    sunday = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    service = make_service(sqlite_engine, clock=lambda: sunday)
    service.calendar.connect_ics_file(
        "u1",
        (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
            + "".join(
                f"BEGIN:VEVENT\r\nUID:{uid}@x\r\nDTSTART:{start}\r\nSUMMARY:{title}\r\nEND:VEVENT\r\n"
                for uid, start, title in events
            )
            + "END:VCALENDAR\r\n"
        ).encode(),
        "mine.ics",
    )

    def answer(question: str) -> str:
        meta = service.create_session("u1")
        return "".join(e.text for e in service.run_turn(meta.id, "u1", question) if isinstance(e, TextDelta))

    return answer


def test_a_day_asked_for_is_when_not_a_title_to_search(sqlite_engine: Any) -> None:
    """ "Prep me for tomorrow" searched the titles for "tomorrow", found none and answered "No
    meetings tomorrow" over a day with a meeting; "Wednesday's board call" searched for
    "Wednesday's board"; "What's on Sunday 13 December?" answered about Sunday 06 December."""
    events = [("s", "20261207T140000Z", "Daily standup"), ("b", "20261209T160000Z", "Board call")]
    events.append(("o", "20261213T100000Z", "Strategy offsite"))
    answer = _answers_on_a_sunday_with(sqlite_engine, events)

    for asked in ("Prep me for tomorrow", "Prepare me for Monday", "Get me ready for tomorrow morning"):
        text = answer(asked)
        assert "**Daily standup** - Mon 7 Dec" in text and "No meetings" not in text, (asked, text)
    assert "**Prep questions for Board call:**" in answer("Prep me for Wednesday's board call")
    for asked in ("What's on Sunday 13 December?", "What do I have on Dec 13th", "any meetings on 13 December"):
        text = answer(asked)
        assert "1 meeting on Sunday 13 December" in text and "**Strategy offsite**" in text, (asked, text)
        assert "06 December" not in text and "Daily standup" not in text, (asked, text)


def test_the_top_meetings_of_a_month_are_that_months_not_a_day_of_it(sqlite_engine: Any) -> None:
    """ "Prep me for the top 3 May meetings" answered "No meetings on Monday 03 May" (read as 3 May);
    "... the top 3 meetings in may" searched the titles for "top 3 meetings may" and found none;
    "What meetings do I have in January?" listed the next 7 days of December as its answer."""
    events = [("s", "20261207T140000Z", "Daily standup"), ("k", "20270112T100000Z", "Kickoff 2027")]
    answer = _answers_on_a_sunday_with(sqlite_engine, events)

    for asked in ("Prep me for the top 3 May meetings", "prep me for the top 3 meetings in may"):
        text = answer(asked)
        assert "03 May" not in text and "matching" not in text, (asked, text)
        assert "60 days ahead, to Thu 4 Feb 2027: May 2027 is further out" in text, (asked, text)
    january = answer("What meetings do I have in January?")
    assert "1 meeting in January 2027" in january and "**Kickoff 2027**" in january, january
    assert "Daily standup" not in january
    assert "further out" in answer("What's on 3 May?")


def test_a_meeting_is_found_by_its_title_typed_without_accents_or_in_its_own_script(sqlite_engine: Any) -> None:
    """ "Prep me for the reunion elysee" found "0 meetings matching 'reunion elysee'" beside
    "Réunion Élysée"; "prep me for the 会议" listed the whole week (the title search knew a-z only)."""
    events = [("a", "20261207T140000Z", "Daily standup"), ("b", "20261209T160000Z", "Réunion Élysée — 会议")]
    answer = _answers_on_a_sunday_with(sqlite_engine, events)

    for asked in ("Prep me for the reunion elysee", "prep me for the 会议", "Prep me for the RÉUNION"):
        text = answer(asked)
        assert "**Prep questions for Réunion Élysée — 会议:**" in text, (asked, text)
        assert "Daily standup" not in text, (asked, text)


_OWN_WEEK = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
    # an hour with two colleagues: you $250 + 2 x $120
    b"BEGIN:VEVENT\r\nUID:staff@x\r\nDTSTART:20261208T090000Z\r\nDTEND:20261208T100000Z\r\nSUMMARY:Staff meeting\r\n"
    b"ORGANIZER:mailto:exec@acme.com\r\nATTENDEE;CN=Dana:mailto:dana@acme.com\r\n"
    b"ATTENDEE;CN=Raj:mailto:raj@acme.com\r\nEND:VEVENT\r\n"
    # half an hour with a customer: you $125, external time not counted
    b"BEGIN:VEVENT\r\nUID:call@x\r\nDTSTART:20261209T150000Z\r\nDTEND:20261209T153000Z\r\nSUMMARY:Customer call\r\n"
    b"ORGANIZER:mailto:exec@acme.com\r\nATTENDEE;CN=Lee:mailto:lee@customer.com\r\nEND:VEVENT\r\n"
    # an all-day marker: not priced
    b"BEGIN:VEVENT\r\nUID:off@x\r\nDTSTART;VALUE=DATE:20261210\r\nDTEND;VALUE=DATE:20261211\r\nSUMMARY:Offsite\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.parametrize(
    "asked", ["How much do my meetings cost this week?", "How much time do I spend in meetings this week?"]
)
def test_what_my_meetings_cost_is_their_peoples_time_not_the_budget(sqlite_engine: Any, asked: str) -> None:
    """Asked "How much do my meetings cost this week?", the demo answered with the department budget (the word
    "cost"), although every meeting has a cost in people's time that the Prep queue shows; the
    meetings tool now prices each meeting and the answer adds them up, saying how."""
    from datetime import UTC, datetime

    from assistant.chat.events import TextDelta, ToolStarted
    from tests.fixtures.chat import make_service

    monday = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    service = make_service(sqlite_engine, clock=lambda: monday)
    service.calendar.connect_ics_file("u1", _OWN_WEEK, "mine.ics")
    meta = service.create_session("u1", user_email="exec@acme.com")
    events = service.run_turn(meta.id, "u1", asked)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))

    assert [e.name for e in events if isinstance(e, ToolStarted)] == ["get_upcoming_meetings"], text
    assert "**People's time:** $615 for these 2 meetings (1 h 30 min of yours)." in text, text
    assert "1 all-day event is not priced" in text
    assert "you \\$250/h, internal colleagues \\$120/h, external attendees not counted" in text
    assert "Budget context" not in text


def test_who_is_coming_to_a_meeting_named_by_its_title_lists_it(sqlite_engine: Any) -> None:
    """'Who is coming to the quarterly review?' (a title with no word such as meeting, sync or
    QBR in it) was answered with the help text, not the meeting and its attendees."""
    answer = _answers_on_a_sunday_with(
        sqlite_engine, [("a", "20261207T140000Z", "Daily standup"), ("b", "20261208T090000Z", "Quarterly review")]
    )
    for asked in ("Who is coming to the quarterly review?", "Who's attending the Quarterly Review?"):
        text = answer(asked)
        assert "**Quarterly review**" in text and "Daily standup" not in text, (asked, text)


def test_attendees_named_last_name_first_read_as_one_person_each(sqlite_engine: Any) -> None:
    """Outlook writes a company directory's names last name first (CN="Müller, Jürgen"); 'Who is
    coming to the quarterly review?' read "Attendees: Müller, Jürgen, Dubois, Élodie": four people."""
    from datetime import UTC, datetime

    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    invite = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\n"
        "BEGIN:VEVENT\r\nUID:qr@x\r\nDTSTART:20261208T090000Z\r\nDTEND:20261208T100000Z\r\n"
        'SUMMARY:Quarterly review\r\nORGANIZER;CN="Müller, Jürgen":mailto:juergen@acme.com\r\n'
        'ATTENDEE;CN="Dubois, Élodie":mailto:elodie@acme.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'
    )
    service = make_service(sqlite_engine, clock=lambda: datetime(2026, 12, 7, 7, 0, tzinfo=UTC))
    service.calendar.connect_ics_file("u1", invite.encode(), "mine.ics")
    meta = service.create_session("u1")
    text = "".join(
        e.text
        for e in service.run_turn(meta.id, "u1", "Who is coming to the quarterly review?")
        if isinstance(e, TextDelta)
    )
    assert "- Attendees: Müller, Jürgen; Dubois, Élodie" in text, text


@pytest.mark.parametrize("day", ["Sunday", "Saturday", "Friday"])
def test_a_day_in_a_notes_text_is_not_looked_up(sqlite_engine: Any, day: str) -> None:
    """ "Save a note for the Acme QBR: ... by Sunday" looked up the meetings of Sunday and answered
    "No meetings on Sunday 13 December" above the saved note: the day was the note's, not a question."""
    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", f"Save a note for the Acme QBR: get the renewal signed by {day}")
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert "Saved your note" in text and "No meetings" not in text and f"meetings on {day}" not in text, text


def test_a_prep_question_a_saved_note_answers_is_not_asked_again(sqlite_engine: Any) -> None:
    """After the outcome was saved in reply to "What is the one outcome you need from …?", the next
    agenda of the meeting asked that question again, as if nothing had been saved."""
    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine)
    sid = service.create_session("u1").id

    def said(text: str) -> str:
        return "".join(e.text for e in service.run_turn(sid, "u1", text) if isinstance(e, TextDelta))

    assert "1. What is the one outcome you need from" in said("Prepare me for the Acme QBR")
    assert "Saved your note" in said("the outcome is the EU expansion signed")
    again = said("Draft the agenda for the Acme QBR")
    # the answer is the agenda's "Your point" now, not a question
    assert "1. What is the one outcome" not in again and "1. Which risks or open issues" in again, again


@pytest.mark.parametrize("reply", ["thanks", "Thank you!", "ok, great", "👍", "Sounds good."])
def test_a_thanks_after_the_prep_questions_is_not_saved_as_an_answer(sqlite_engine: Any, reply: str) -> None:
    """After "Prepare me for the Q3 Budget Review", "thanks" was saved as the answer to the last prep
    question ("Saved your note on 'Is there anything you need from Marcus Chen …'"), and the Prep
    queue and the agenda then showed it as a prep note."""
    from sqlalchemy import select

    from assistant import db
    from assistant.chat.events import TextDelta
    from tests.fixtures.chat import make_service

    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    service.run_turn(meta.id, "u1", "Prepare me for the Q3 Budget Review")
    text = "".join(e.text for e in service.run_turn(meta.id, "u1", reply) if isinstance(e, TextDelta))
    with sqlite_engine.connect() as conn:
        notes = list(conn.execute(select(db.prep_responses.c.response)).scalars())
    assert "Saved your note" not in text and notes == [], (text, notes)
    # a real answer to the questions is still saved
    again = service.create_session("u1")
    service.run_turn(again.id, "u1", "Prepare me for the Q3 Budget Review")
    answer = "".join(
        e.text for e in service.run_turn(again.id, "u1", "Sign-off on the Q4 hiring plan") if isinstance(e, TextDelta)
    )
    assert "Saved your note" in answer, answer
