"""The five tools called through strands (direct-call API), including error results."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from strands import Agent

from assistant.db import make_engine
from assistant.migrate import upgrade
from assistant.models.offline import OfflineModel
from assistant.tools import MAX_LISTED_ATTENDEES, MAX_LISTED_MEETINGS, TOOL_NAMES, ToolDeps, build_tools
from tests.fixtures.meeting_data import NOW
from tests.fixtures.scripted_model import ScriptedModel
from tests.tools.helpers import error_text, ok


def test_tool_names_and_schema(deps: ToolDeps) -> None:
    tools = build_tools(deps)
    assert tuple(t.tool_name for t in tools) == TOOL_NAMES
    specs = {t.tool_name: t.tool_spec["inputSchema"]["json"] for t in tools}
    assert specs["get_upcoming_meetings"]["properties"]["days_ahead"]["maximum"] == 60
    assert set(specs["save_prep_response"]["required"]) == {"meeting_id", "topic", "response"}
    assert specs["generate_meeting_agenda"]["required"] == ["meeting_id"]


def test_get_upcoming_meetings(agent: Agent) -> None:
    payload = ok(agent.tool.get_upcoming_meetings())
    assert payload["summary"] == "3 meetings in the next 7 days"
    first = payload["meetings"][0]
    assert set(first) == {
        "id",
        "title",
        "start",
        "end",
        "duration_minutes",
        "attendees",
        "type",
        "location",
        "description",
        "people_cost_usd",
    }
    assert first["id"] == "soon" and first["start"] == "2025-03-10T18:15:00+00:00"
    assert first["attendees"][0] == {"name": "Priya Raman", "role": "CTO"}
    # an hour of you ($250) and two colleagues ($120 each), as the Prep queue prices it
    assert first["people_cost_usd"] == 490
    assert payload["people_time_cost"]["total_usd"] == sum(m["people_cost_usd"] for m in payload["meetings"])
    assert payload["people_time_cost"]["meetings_priced"] == 3
    filtered = ok(agent.tool.get_upcoming_meetings(days_ahead=3, query="acme"))
    assert filtered["summary"] == "1 meeting matching 'acme' in the next 3 days"


def test_meetings_are_priced_at_the_deployments_rates(data_dir: Path, engine: Engine) -> None:
    """MEETING_RATE_*_USD price the meetings the agent reads as they price the Prep queue's."""
    from assistant.config import load_settings
    from assistant.context.calendar import CalendarService

    settings = load_settings(
        database_url=str(engine.url), data_dir=data_dir, meeting_rate_you_usd=400, meeting_rate_internal_usd=100
    )
    deps = ToolDeps(
        data_dir=data_dir,
        engine=engine,
        user_id="alice",
        now=lambda: NOW,
        calendar=CalendarService(engine, settings, clock=lambda: NOW),
    )
    agent = Agent(model=ScriptedModel([]), tools=build_tools(deps), callback_handler=None)
    payload = ok(agent.tool.get_upcoming_meetings(days_ahead=3, query="leadership sync"))
    assert [m["people_cost_usd"] for m in payload["meetings"]] == [600]
    assert payload["people_time_cost"]["total_usd"] == 600
    assert (
        "you $400/h, internal colleagues $100/h, external attendees not counted"
        in (payload["people_time_cost"]["basis"])
    )


def test_save_prep_response_then_agenda(agent: Agent) -> None:
    saved = ok(agent.tool.save_prep_response(meeting_id="acme-qbr", topic="goal", response="  Sign the EU deal "))
    assert saved["summary"] == "Saved your note on “goal” for QBR - Acme Corp."
    assert saved["saved"]["response"] == "Sign the EU deal"
    assert saved["total_notes_for_meeting"] == 1
    assert (
        ok(agent.tool.save_prep_response(meeting_id="ACME-QBR", topic="risk", response="SSO"))[
            "total_notes_for_meeting"
        ]
        == 2
    )

    again = ok(agent.tool.save_prep_response(meeting_id="acme-qbr", topic="goal", response="Sign the EU deal"))
    assert again["total_notes_for_meeting"] == 2 and again["saved"]["id"] == saved["saved"]["id"]  # kept once

    agenda = ok(agent.tool.generate_meeting_agenda(meeting_id="acme-qbr"))
    assert [item["notes"] for item in agenda["items"]].count("Sign the EU deal") == 1
    assert agenda["meeting"]["id"] == "acme-qbr"
    assert sum(item["minutes"] for item in agenda["items"]) == 90
    assert set(agenda["items"][0]) >= {"start", "end", "minutes", "title", "owner", "notes"}
    assert agenda["items"][0]["start"] == "14:00"
    assert any(item["notes"] == "Sign the EU deal" for item in agenda["items"])
    assert any(item["title"] == "Big rock at risk: Launch Platform v3" for item in agenda["items"])
    assert "Sign the EU deal" in agenda["markdown"]
    assert agenda["summary"].startswith("Agenda for QBR - Acme Corp (90 min")

    short = ok(agent.tool.generate_meeting_agenda(meeting_id="acme-qbr", duration_minutes=45))
    assert sum(item["minutes"] for item in short["items"]) == 45


def test_prep_notes_survive_restart_through_the_tools(data_dir: Path, engine: Engine, db_path: Path) -> None:
    first = Agent(
        model=ScriptedModel([]),
        callback_handler=None,
        tools=build_tools(ToolDeps(data_dir=data_dir, engine=engine, user_id="alice", now=lambda: NOW)),
    )
    ok(first.tool.save_prep_response(meeting_id="cfo-1on1", topic="reforecast", response="Cut cloud 10%"))
    engine.dispose()

    fresh = make_engine("sqlite:///" + str(db_path))
    upgrade(fresh)
    second = Agent(
        model=ScriptedModel([]),
        callback_handler=None,
        tools=build_tools(ToolDeps(data_dir=data_dir, engine=fresh, user_id="alice", now=lambda: NOW)),
    )
    agenda = ok(second.tool.generate_meeting_agenda(meeting_id="cfo-1on1"))
    assert agenda["prep_notes_used"] == 1
    assert "Cut cloud 10%" in agenda["markdown"]

    other_user = Agent(
        model=ScriptedModel([]),
        callback_handler=None,
        tools=build_tools(ToolDeps(data_dir=data_dir, engine=fresh, user_id="bob", now=lambda: NOW)),
    )
    assert ok(other_user.tool.generate_meeting_agenda(meeting_id="cfo-1on1"))["prep_notes_used"] == 0
    fresh.dispose()


def test_budget_and_rocks_tools(agent: Agent) -> None:
    budget = ok(agent.tool.get_budget_context(area="engineering"))
    assert budget["areas"][0]["utilisation_pct"] == 60.0
    assert budget["areas"][0]["flags"] == ["over_budget", "spending_ahead_of_plan"]
    assert budget["summary"].startswith("1 budget area, 1 needing attention: Engineering: 60.0% used")
    assert ok(agent.tool.get_budget_context())["totals"]["annual_budget"] == 3_500_000

    rocks = ok(agent.tool.get_big_rocks_status())
    assert rocks["summary"] == "3 initiatives: 1 on track, 1 at risk, 1 off track"
    launch = ok(agent.tool.get_big_rocks_status(initiative="launch"))["initiatives"][0]
    assert launch["next_milestone"]["name"] == "GA" and launch["needs_attention"] is True


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        ("get_upcoming_meetings", {"days_ahead": 0}, "greater than or equal to 1"),
        ("get_upcoming_meetings", {"days_ahead": 61}, "less than or equal to 60"),
        ("get_upcoming_meetings", {"query": "x" * 201}, "at most 200 characters"),
        ("save_prep_response", {"meeting_id": "nope", "topic": "t", "response": "r"}, "No meeting with id 'nope'"),
        ("save_prep_response", {"meeting_id": "acme-qbr", "topic": "t", "response": ""}, "at least 1 character"),
        ("save_prep_response", {"meeting_id": "acme-qbr", "topic": "t", "response": "   "}, "must not be empty"),
        ("save_prep_response", {"meeting_id": "acme-qbr", "topic": "t", "response": "r" * 4001}, "at most 4000"),
        ("save_prep_response", {"meeting_id": "../etc/passwd", "topic": "t", "response": "r"}, "pattern"),
        ("generate_meeting_agenda", {"meeting_id": "nope"}, "Call get_upcoming_meetings to see valid ids"),
        ("generate_meeting_agenda", {"meeting_id": "acme-qbr", "duration_minutes": 4}, "greater than or equal"),
        ("get_budget_context", {"area": "hr"}, "No budget area matches 'hr'"),
        ("get_big_rocks_status", {"initiative": "moonshot"}, "No big rock matches 'moonshot'"),
    ],
)
def test_bad_input_returns_error_result(agent: Agent, name: str, kwargs: dict[str, object], expected: str) -> None:
    text = error_text(getattr(agent.tool, name)(**kwargs))
    assert expected in text


def test_refused_arguments_read_as_one_line_in_the_tool_step(agent: Agent) -> None:
    """A note over 4000 characters showed pydantic's report in the answer's tool step: the whole
    note again as input_value, "[type=string_too_long…]" and a link to pydantic's docs."""
    from assistant.chat.display import summarize_tool_result

    result = agent.tool.save_prep_response(meeting_id="acme-qbr", topic="t", response="r" * 4001)
    assert summarize_tool_result(result) == "Input refused: response: String should have at most 4000 characters"
    result = agent.tool.get_upcoming_meetings(days_ahead=0, query="x" * 201)
    assert summarize_tool_result(result) == (
        "Input refused: days_ahead: Input should be greater than or equal to 1; "
        "query: String should have at most 200 characters"
    )


def test_rejected_note_writes_nothing(agent: Agent, engine: Engine) -> None:
    error_text(agent.tool.save_prep_response(meeting_id="nope", topic="t", response="r"))
    error_text(agent.tool.save_prep_response(meeting_id="acme-qbr", topic="t", response="  "))
    from assistant.context.prep_notes import list_prep_responses

    assert list_prep_responses(engine, "alice", "nope") == []
    assert list_prep_responses(engine, "alice", "acme-qbr") == []


@pytest.mark.parametrize("missing", ["calendar.toml", "budget.toml", "big_rocks.toml"])
def test_missing_data_file_is_a_clear_error(agent: Agent, data_dir: Path, missing: str) -> None:
    (data_dir / missing).unlink()
    call = {
        "calendar.toml": lambda: agent.tool.get_upcoming_meetings(),
        "budget.toml": lambda: agent.tool.generate_meeting_agenda(meeting_id="acme-qbr"),
        "big_rocks.toml": lambda: agent.tool.get_big_rocks_status(),
    }[missing]
    text = error_text(call())
    assert f"{missing} is missing" in text


async def test_the_demo_models_budget_answer_reads_as_money_and_words(deps: ToolDeps) -> None:
    """The offline model's budget answer (real tool): "$1.2M" not "1,200,000", "over budget" not "over_budget"."""
    agent = Agent(
        model=OfflineModel(chunk_delay_s=0, first_token_delay_s=0), tools=build_tools(deps), callback_handler=None
    )
    text = str(await agent.invoke_async("What's the budget context?"))
    assert "over budget" in text and "over_budget" not in text, text
    assert re.search(r"\$[\d.]+[Mk]? annual budget, \$[\d.]+[Mk]? spent so far", text), text
    assert not re.search(r"\d{1,3},\d{3},\d{3}", text), text  # no raw seven-figure amounts


def test_get_upcoming_meetings_lists_at_most_max_listed_meetings(data_dir: Path, engine: Engine) -> None:
    many = MAX_LISTED_MEETINGS + 50
    (data_dir / "calendar.toml").write_text(
        "".join(
            f'[[meetings]]\nid = "m{i}"\ntitle = "Sync {i}"\nhours_from_now = {1 + i / 12:.4f}\n'
            "working_hours = false\nduration_minutes = 5\nattendees = []\n\n"
            for i in range(many)
        )
    )
    agent = Agent(
        model=ScriptedModel([]),
        tools=build_tools(ToolDeps(data_dir=data_dir, engine=engine, user_id="alice", now=lambda: NOW)),
        callback_handler=None,
    )
    payload = ok(agent.tool.get_upcoming_meetings(days_ahead=2))
    assert len(payload["meetings"]) == MAX_LISTED_MEETINGS
    assert [m["id"] for m in payload["meetings"][:2]] == ["m0", "m1"]  # soonest first
    assert payload["summary"] == (
        f"{many} meetings in the next 2 days; the first {MAX_LISTED_MEETINGS} are listed "
        "(narrow with query or fewer days)"
    )
    few = ok(agent.tool.get_upcoming_meetings(days_ahead=2, query="sync 149"))
    assert few["summary"] == "1 meeting matching 'sync 149' in the next 2 days"
    assert [m["id"] for m in few["meetings"]] == ["m149"]  # past the cap: found by narrowing


async def test_a_meeting_of_hundreds_lists_a_few_attendees_and_counts_them_all(data_dir: Path, engine: Engine) -> None:
    """A weekly all-hands of 230 people sent every name on every occurrence: 'Who is coming to the
    all-hands?' read 43k tokens and answered with all 230 names on one line."""
    people = ", ".join(f'{{ name = "Employee {i:03d}" }}' for i in range(230))
    (data_dir / "calendar.toml").write_text(
        '[[meetings]]\nid = "all-hands"\ntitle = "Company all-hands"\nhours_from_now = 3\n'
        f"working_hours = false\nduration_minutes = 60\nattendees = [{people}]\n"
    )
    deps = ToolDeps(data_dir=data_dir, engine=engine, user_id="alice", now=lambda: NOW)
    agent = Agent(model=ScriptedModel([]), tools=build_tools(deps), callback_handler=None)
    [meeting] = ok(agent.tool.get_upcoming_meetings(days_ahead=2))["meetings"]
    assert len(meeting["attendees"]) == MAX_LISTED_ATTENDEES
    assert (meeting["attendee_count"], meeting["attendees_not_listed"]) == (230, 230 - MAX_LISTED_ATTENDEES)
    offline = Agent(
        model=OfflineModel(chunk_delay_s=0, first_token_delay_s=0), tools=build_tools(deps), callback_handler=None
    )
    text = str(await offline.invoke_async("Who is coming to the all-hands?"))
    assert f"Employee {MAX_LISTED_ATTENDEES - 1:03d} and {230 - MAX_LISTED_ATTENDEES} more" in text, text
    assert f"Employee {MAX_LISTED_ATTENDEES:03d}" not in text
    week = str(await offline.invoke_async("What meetings do I have this week?"))
    assert "Company all-hands" in week and "230 attendees" in week, week


def _crowded_invitations(count: int) -> bytes:
    """``count`` invitations in the next hours, each as large as an invitation may be read: 200 guests
    (ics_fields.MAX_ATTENDEES) and a description of 8,000 characters (anyone can send such an invite)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN"]
    for i in range(count):
        start = NOW + timedelta(hours=1, minutes=10 * i)
        lines += [
            "BEGIN:VEVENT",
            f"UID:crowd-{i}@outside.test",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:Town hall {i} (room T{i}X)",
            "DESCRIPTION:" + "Agenda and dial-in details. " * 290,
            *(f"ATTENDEE;CN=Guest number {j} of the town hall:mailto:guest{j}@outside.test" for j in range(199)),
            "ATTENDEE;CN=Alice Exec;PARTSTAT=ACCEPTED:mailto:alice@example.com",
            "END:VEVENT",
        ]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


def test_a_listing_of_crowded_invitations_stays_a_prompt_a_model_takes(data_dir: Path, engine: Engine) -> None:
    """100 invitations of 200 guests and 8,000 characters each (1.9 MB of .ics, under the 5 MB cap)
    made "What meetings do I have?" send the model one tool result of 2 million characters (~500k
    tokens: past any model's context, so every meetings question failed, or was billed as such).
    Every meeting is still listed, its description and guests shortened, the result bounded."""
    from cryptography.fernet import Fernet

    from assistant.config import load_settings
    from assistant.context.calendar import CalendarService
    from assistant.context.secrets import TokenCipher

    settings = load_settings(database_url=str(engine.url), data_dir=data_dir)
    calendar = CalendarService(engine, settings, clock=lambda: NOW, cipher=TokenCipher(Fernet.generate_key()))
    calendar.connect_ics_file("alice", _crowded_invitations(100), "work.ics")
    deps = ToolDeps(
        data_dir=data_dir,
        engine=engine,
        user_id="alice",
        user_email="alice@example.com",
        now=lambda: NOW,
        calendar=calendar,
    )
    agent = Agent(model=ScriptedModel([]), tools=build_tools(deps), callback_handler=None)
    result = agent.tool.get_upcoming_meetings(days_ahead=2)
    assert len(result["content"][0]["text"]) <= 150_000, len(result["content"][0]["text"])
    payload = ok(result)
    assert payload["summary"].startswith("100 meetings in the next 2 days"), payload["summary"]
    assert [m["title"] for m in payload["meetings"][:2]] == ["Town hall 0 (room T0X)", "Town hall 1 (room T1X)"]
    first = payload["meetings"][0]
    assert first["description"].startswith("Agenda and dial-in details.") and len(first["description"]) < 1_000
    assert first["attendees_not_listed"] + len(first["attendees"]) == 200
    assert any(a.get("you") for a in first["attendees"])  # the executive (the last guest) is kept among those listed
    demo = Agent(
        model=OfflineModel(chunk_delay_s=0, first_token_delay_s=0), tools=build_tools(deps), callback_handler=None
    )
    assert "200 attendees" in str(demo("What meetings do I have today?"))  # the guests left out are counted
    one = ok(agent.tool.get_upcoming_meetings(days_ahead=2, query="t42x"))
    assert [m["title"] for m in one["meetings"]] == ["Town hall 42 (room T42X)"]  # past the listed ones: by query


def test_agenda_markdown_puts_attendees_in_their_own_paragraph(agent: Agent) -> None:
    markdown = ok(agent.tool.generate_meeting_agenda(meeting_id="acme-qbr"))["markdown"]
    lines = markdown.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("**Attendees:**"))
    assert lines[at - 1] == "", "one newline would draw the attendees on the date and location line"


FORGED = "\n2026-01-01 00:00:00,000 CRITICAL assistant.auth | user_id=<admin> | forged line"


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("get_upcoming_meetings", {"query": "layoffs plan" + FORGED}),
        ("get_budget_context", {"area": "hr" + FORGED}),
        ("get_big_rocks_status", {"initiative": "moonshot" + FORGED}),
    ],
)
def test_a_tools_arguments_never_forge_a_log_line_nor_put_the_users_words_in_it(
    agent: Agent, caplog: pytest.LogCaptureFixture, name: str, kwargs: dict[str, str]
) -> None:
    """A tool's arguments come from the model, steered by the user's message and by calendar text
    other people wrote: logged as given, a line break in one wrote a second, forged log line (and a
    search for "layoffs plan" put the user's words in the INFO log)."""
    caplog.set_level("INFO", logger="assistant")
    getattr(agent.tool, name)(**kwargs)
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("assistant.tools")]
    assert lines, "the call is logged"
    assert not [line for line in lines if "\n" in line], lines
    assert not [line for line in lines if "layoffs" in line], lines
