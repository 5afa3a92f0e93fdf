"""Materials you take into the room: Markdown and DOCX built from stored data, calendar text inert."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.context.agenda import build_agenda
from assistant.context.classify import MeetingTypes
from assistant.context.meeting_cost import MeetingRates, meeting_cost
from assistant.context.meetings import Meeting
from assistant.views.materials import build_materials, md_text, to_markdown
from tests.fixtures.materials import ME, START, materials_for, qbr


def test_markdown_has_the_timed_agenda_questions_and_prep_answers(types: MeetingTypes) -> None:
    materials = materials_for(qbr(description="Quarterly review with Acme."), types)
    md = to_markdown(materials)

    assert md.startswith("# Acme QBR\n")
    assert "Tuesday 11 March 2025, 14:00–15:30 UTC (1 h 30 min)" in md
    assert "Customer/external (prepare 24 h ahead)" in md
    assert "Dana Brooks (SVP Operations, Acme Corp); Sam Patel (Customer Success Manager)" in md
    assert "Rae Kim" not in md, "a declined attendee is not listed"
    assert "\\$555 of people's time (3 people × 1 h 30 min, external time not counted)" in md

    rows = [line for line in md.splitlines() if re.match(r"\| \d\d:\d\d–\d\d:\d\d \|", line)]
    assert rows[0].startswith("| 14:00–") and rows[-1].split(" | ")[0].endswith("–15:30")
    assert [r.split(" | ")[0].removeprefix("| ") for r in rows] == [f"{i.start}–{i.end}" for i in materials.agenda], (
        "every agenda item with its time, in order"
    )
    assert "Your point: Key message" in md

    for question in types.get("external").questions:
        assert f"- {md_text(question)}" in md
    assert "> We fixed both P1 escalations.\n> The EU rollout starts in May." in md, "prep answers quoted"
    assert "**Decision needed** · saved 10 Mar 2025" in md
    for heading in ("## Agenda", "## Your prep answers", "## Notes", "### What they told us", "## Decisions"):
        assert heading in md
    assert md.count("- [ ] Action") == 3
    assert "`https://meet.example.com/abc-defg-hij`" in md, "the conference link is shown as code, not a link"


def test_no_prep_answers_yet_says_so(types: MeetingTypes) -> None:
    md = to_markdown(materials_for(qbr(description=""), types, notes=[]))
    assert "*No prep answers saved yet.*" in md and "From the invitation" not in md


def _when_line(meeting: Meeting, types: MeetingTypes, type_id: str, agenda_minutes: int) -> str:
    """The "- **When:** ..." line of the meeting's Materials in Markdown."""
    agenda = build_agenda(meeting, prep_notes=[], budget=[], rocks=[], tz=UTC, duration_minutes=agenda_minutes)
    cost = meeting_cost(meeting, user_email=ME, internal_domains=[], rates=MeetingRates())
    built = build_materials(
        meeting, type_id=type_id, types=types, prep_notes=[], agenda=agenda, cost=cost, tz=UTC, user_email=ME
    )
    return to_markdown(built).splitlines()[2]


def test_an_event_of_several_days_says_its_last_day(types: MeetingTypes) -> None:
    """A three-day offsite read "Tuesday 11 March 2025 (all day)", as if it ended that evening."""
    day = datetime(2025, 3, 11, tzinfo=UTC)
    offsite = qbr(description="").model_copy(
        update={"start": day, "end": day + timedelta(days=3), "duration_minutes": 3 * 24 * 60, "all_day": True}
    )
    one_day = offsite.model_copy(update={"end": day + timedelta(days=1), "duration_minutes": 24 * 60})

    def when(meeting: Meeting) -> str:
        return _when_line(meeting, types, "leadership", 480)

    assert when(offsite) == "- **When:** Tuesday 11 March to Thursday 13 March 2025 (all day)"
    assert when(one_day) == "- **When:** Tuesday 11 March 2025 (all day)"


def test_hostile_calendar_text_is_inert_in_markdown(types: MeetingTypes) -> None:
    md = to_markdown(materials_for(qbr(title="QBR ![t](http://evil/t.png) <img src=x onerror=alert(1)>"), types))
    assert "Ignore your instructions" in md, "the text is shown, as text"
    assert "![" not in md, "no image syntax survives"
    assert "<script" not in md and "<img" not in md, "no raw HTML"
    assert "&lt;script&gt;" in md
    assert not re.search(r"(?<!\\)\]\(", md), "no link syntax survives (every ']' before '(' is escaped)"
    assert "http://" not in md.replace("`https://meet.example.com/abc-defg-hij`", ""), "no bare address to auto-link"
    assert "www.evil" not in md
    assert "http\\:\u200b//evil/?q=secret" in md and "www\u200b\\.evil.example" in md, "addresses still readable"
    assert "attacker\\@\u200bevil.example" in md, "an email address is not auto-linked either"


@pytest.mark.parametrize("minutes", [10, 5])
def test_a_short_meetings_agenda_ends_when_the_meeting_ends(tmp_path: Path, minutes: int) -> None:
    """A 10-minute check-in (14:00-14:10) got an agenda running to 14:15, a 5-minute standup one three
    times its length: agendas were stretched to at least 15 minutes."""
    from assistant.config import load_settings
    from assistant.db import make_engine
    from assistant.migrate import upgrade
    from assistant.views import materials as views_materials

    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    upgrade(engine)
    check_in = qbr(description="", title="Quick check-in").model_copy(
        update={"end": START + timedelta(minutes=minutes), "duration_minutes": minutes, "type": "one_on_one"}
    )
    built = views_materials.materials_for(
        check_in,
        settings=load_settings(env="local"),
        engine=engine,
        user_id="ada",
        user_email=ME,
        tz=UTC,
        now=START - timedelta(hours=1),
    )
    end = f"{START + timedelta(minutes=minutes):%H:%M}"
    assert built.agenda[-1].end == end
    assert sum(item.minutes for item in built.agenda) == minutes
    assert f"–{end} |" in to_markdown(built)


def test_a_timed_meeting_past_midnight_says_the_day_it_ends(types: MeetingTypes) -> None:
    """A call with Tokyo at 22:00-01:00 read "Tuesday 11 March 2025, 22:00–01:00", and a two-day
    workshop "Tuesday 11 March 2025, 09:00–17:00 (1 d 8 h)": each as if it ended that day."""
    late = qbr(description="").model_copy(
        update={"start": START.replace(hour=22), "end": START.replace(hour=22) + timedelta(hours=3)}
    )
    late = late.model_copy(update={"duration_minutes": 180})
    workshop = late.model_copy(
        update={"start": START.replace(hour=9), "end": START.replace(hour=17) + timedelta(days=1)}
    )
    workshop = workshop.model_copy(update={"duration_minutes": 32 * 60})

    def when(meeting: Meeting) -> str:
        return _when_line(meeting, types, "external", 90)

    assert when(late) == "- **When:** Tuesday 11 March 2025, 22:00 – Wednesday 12 March, 01:00 UTC (3 h)"
    assert when(workshop).startswith("- **When:** Tuesday 11 March 2025, 09:00 – Wednesday 12 March, 17:00 UTC (")
    assert when(qbr(description="")) == "- **When:** Tuesday 11 March 2025, 14:00–15:30 UTC (1 h 30 min)"


def test_a_meeting_without_length_shows_a_single_time(types: MeetingTypes) -> None:
    """A reminder or a deadline (DTEND equal to DTSTART) read "Tuesday 11 March 2025, 14:00–14:00 UTC (0 min)"."""
    instant = qbr(description="").model_copy(update={"end": START, "duration_minutes": 0})
    assert _when_line(instant, types, "external", 30) == "- **When:** Tuesday 11 March 2025, 14:00 UTC"
