from __future__ import annotations

import itertools
import re
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import Engine

from assistant.context.agenda import allocate_minutes, build_agenda
from assistant.context.big_rocks import load_big_rocks
from assistant.context.budget import load_budget
from assistant.context.demo_calendar import find_meeting
from assistant.context.prep_notes import list_prep_responses, save_prep_response
from tests.fixtures.meeting_data import NOW


@pytest.mark.parametrize("duration", [15, 17, 30, 45, 60, 61, 90, 480])
@pytest.mark.parametrize("n", [1, 3, 8, 12])
def test_allocation_sums_exactly(duration: int, n: int) -> None:
    minutes = allocate_minutes([1.0 + (i % 3) for i in range(n)], duration)
    assert sum(minutes) == duration
    assert all(m >= 1 for m in minutes)
    if duration % 5 == 0 and duration // 5 >= n:
        assert all(m % 5 == 0 for m in minutes)


def test_allocation_refuses_too_many_items() -> None:
    with pytest.raises(ValueError, match="cannot fit"):
        allocate_minutes([1.0] * 20, 15)


def _agenda(data_dir: Path, engine: Engine, meeting_id: str, duration: int | None = None):  # type: ignore[no-untyped-def]
    meeting = find_meeting(data_dir, NOW, meeting_id)
    return build_agenda(
        meeting,
        prep_notes=list_prep_responses(engine, "alice", meeting_id),
        budget=load_budget(data_dir, NOW),
        rocks=load_big_rocks(data_dir, NOW),
        tz=UTC,
        duration_minutes=duration,
    )


def test_agenda_uses_prep_rocks_and_budget(data_dir: Path, engine: Engine) -> None:
    save_prep_response(
        engine, user_id="alice", meeting_id="soon", topic="decision needed", response="Approve 2-week slip", now=NOW
    )
    agenda = _agenda(data_dir, engine, "soon")
    items = agenda.items
    assert sum(i.minutes for i in items) == 60
    titles = [i.title for i in items]
    assert titles[0] == "Opening & goals"
    assert titles[-1] == "Decisions, owners & next steps"
    assert "Your point: decision needed" in titles
    prep_item = next(i for i in items if i.title == "Your point: decision needed")
    assert prep_item.notes == "Approve 2-week slip" and prep_item.owner == "You"
    rock_item = next(i for i in items if "Launch Platform v3" in i.title)
    assert rock_item.title.startswith("Big rock at risk")
    assert rock_item.owner == "Priya Raman (CTO)"
    assert "EU latency regression" in rock_item.notes
    assert any(i.title == "Budget variance: Engineering" for i in items)
    assert not any("Sales" in i.title for i in items)  # sales is on plan
    assert "Grow Enterprise ARR" in items[0].notes  # on-track rock mentioned, not discussed
    assert agenda.rocks_discussed == ["launch"] and agenda.budget_areas_discussed == ["eng"]
    assert all(i.purpose for i in items)
    # the clock is continuous from the meeting start
    assert items[0].start == "18:15"
    assert items[-1].end == "19:15"
    for prev, nxt in itertools.pairwise(items):
        assert prev.end == nxt.start
    assert "Approve 2-week slip" in agenda.markdown
    assert "18:15-" in agenda.markdown


def test_agenda_is_shaped_by_meeting_type(data_dir: Path, engine: Engine) -> None:
    qbr = _agenda(data_dir, engine, "acme-qbr")
    owners = {i.title: i.owner for i in qbr.items}
    assert owners["Customer priorities & feedback"] == "Dana Brooks (Acme Corp)"
    assert owners["Value delivered & open escalations"] == "Sam Patel"
    one_on_one = _agenda(data_dir, engine, "cfo-1on1")
    assert one_on_one.items[1].title == "Their topics first"
    assert one_on_one.items[1].owner == "Marcus Chen"
    assert sum(i.minutes for i in one_on_one.items) == 30


def test_duration_override_and_bounds(data_dir: Path, engine: Engine) -> None:
    for duration in (15, 25, 47, 120):
        agenda = _agenda(data_dir, engine, "acme-qbr", duration)
        assert sum(i.minutes for i in agenda.items) == duration == agenda.duration_minutes
    with pytest.raises(ValueError, match="between 5 and 480"):
        _agenda(data_dir, engine, "acme-qbr", 4)


def test_many_prep_notes_are_grouped_and_still_fit(data_dir: Path, engine: Engine) -> None:
    for i in range(6):
        save_prep_response(engine, user_id="alice", meeting_id="cfo-1on1", topic=f"t{i}", response=f"r{i}", now=NOW)
    agenda = _agenda(data_dir, engine, "cfo-1on1", 15)
    assert sum(i.minutes for i in agenda.items) == 15
    grouped = next(i for i in agenda.items if i.title == "Your other talking points")
    assert "t5: r5" in grouped.notes
    assert agenda.prep_notes_used == 6


def test_unknown_references_become_warnings(tmp_path: Path, data_dir: Path, engine: Engine) -> None:
    text = (data_dir / "calendar.toml").read_text().replace('related_rocks = ["launch"]', 'related_rocks = ["ghost"]')
    (data_dir / "calendar.toml").write_text(text)
    agenda = _agenda(data_dir, engine, "acme-qbr")
    assert agenda.warnings == ["Meeting refers to unknown big rock 'ghost'."]
    assert sum(i.minutes for i in agenda.items) == 90


def test_an_all_day_events_agenda_runs_from_the_working_morning(data_dir: Path, engine: Engine) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from assistant.context.meeting_zone import in_zone

    base = find_meeting(data_dir, NOW, "acme-qbr")
    day = datetime(2026, 12, 9, tzinfo=UTC)  # stored at UTC midnight of its date, as a source is read
    offsite = base.model_copy(update={"all_day": True, "start": day, "end": day + timedelta(days=2)})
    tokyo = ZoneInfo("Asia/Tokyo")
    [placed] = in_zone([offsite], tokyo)
    agenda = build_agenda(placed, prep_notes=[], budget=[], rocks=[], tz=tokyo, duration_minutes=480)
    assert (agenda.items[0].start, agenda.items[-1].end) == ("09:00", "17:00")
    assert "Wednesday 9 December, 09:00-17:00" in agenda.markdown


def test_an_offsite_longer_than_a_working_day_gets_an_agenda_for_its_first_hours(data_dir: Path) -> None:
    """A two-day offsite (or any meeting over 8 hours) was refused: "An agenda needs between 5 and
    480 minutes; got 2880", although that is where an agenda is needed most."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from assistant.context.meeting_zone import in_zone

    base = find_meeting(data_dir, NOW, "acme-qbr")
    day = datetime(2026, 12, 9, tzinfo=UTC)
    offsite = base.model_copy(
        update={"all_day": True, "start": day, "end": day + timedelta(days=2), "duration_minutes": 2880}
    )
    tokyo = ZoneInfo("Asia/Tokyo")
    [placed] = in_zone([offsite], tokyo)
    agenda = build_agenda(placed, prep_notes=[], budget=[], rocks=[], tz=tokyo)
    assert agenda.duration_minutes == 480 == sum(i.minutes for i in agenda.items)
    assert (agenda.items[0].start, agenda.items[-1].end) == ("09:00", "17:00")
    assert agenda.warnings[0] == (
        "The meeting runs 2 days; this agenda plans its first 8 hours. "
        "Ask for an agenda per part of the day for the rest."
    )
    workshop = base.model_copy(update={"end": base.start + timedelta(minutes=540), "duration_minutes": 540})
    assert (
        build_agenda(workshop, prep_notes=[], budget=[], rocks=[], tz=UTC)
        .warnings[0]
        .startswith("The meeting runs 9 hours")
    )
    with pytest.raises(ValueError, match="between 5 and 480"):  # an explicit length out of range is still refused
        build_agenda(workshop, prep_notes=[], budget=[], rocks=[], tz=UTC, duration_minutes=540)


def test_a_meeting_with_no_length_asks_for_one(data_dir: Path) -> None:
    """A zero-length event (a reminder at 10:00-10:00) read "between 5 and 480 minutes; got 0"."""
    base = find_meeting(data_dir, NOW, "acme-qbr")
    reminder = base.model_copy(update={"end": base.start, "duration_minutes": 0})
    with pytest.raises(
        ValueError, match=r"has no length in the calendar .* of a given length \(5 to 480 minutes\)"
    ) as told:
        build_agenda(reminder, prep_notes=[], budget=[], rocks=[], tz=UTC)
    assert "duration_minutes" not in str(told.value), "a parameter's name, which the demo model shows as it is"
    planned = build_agenda(reminder, prep_notes=[], budget=[], rocks=[], tz=UTC, duration_minutes=15)
    assert planned.duration_minutes == 15


def test_a_big_rocks_notes_read_as_sentences_with_a_readable_date(data_dir: Path, engine: Engine) -> None:
    """The Materials notes read "at risk, 62% complete. next milestone 'EU data residency GA' due
    2026-12-25. risks: ..." under "Monday 7 December 2026": sentences in lower case, an ISO date."""
    rock_item = next(i for i in _agenda(data_dir, engine, "soon").items if "Launch Platform v3" in i.title)
    assert rock_item.notes.startswith("At risk, "), rock_item.notes
    assert re.search(
        r"\. Next milestone '[^']+' (due|overdue since) \d{1,2} [A-Z][a-z]{2} \d{4}\. Risks: ", rock_item.notes
    )
    assert not re.search(r"\d{4}-\d{2}-\d{2}", rock_item.notes), rock_item.notes


def test_agenda_attendees_read_as_the_materials_do(data_dir: Path, engine: Engine) -> None:
    """The chat's agenda listed "Dana Brooks (Acme Corp) - SVP Ops, Sam Patel - Customer Success
    Manager" while the Materials of the same meeting read "Dana Brooks (SVP Ops, Acme Corp)"."""
    markdown = _agenda(data_dir, engine, "acme-qbr").markdown
    assert "**Attendees:** Dana Brooks (SVP Ops, Acme Corp), Sam Patel (Customer Success Manager)" in markdown


def test_attendees_named_last_name_first_read_as_one_person_each_in_the_agenda(data_dir: Path) -> None:
    """An Outlook invite names people as the directory does ("Müller, Jürgen"): the agenda read
    "**Attendees:** Müller, Jürgen, Dubois, Élodie", four people for two."""
    from assistant.context.meetings import Attendee

    base = find_meeting(data_dir, NOW, "acme-qbr")
    people = [Attendee(name="Müller, Jürgen", organizer=True), Attendee(name="Dubois, Élodie")]
    agenda = build_agenda(base.model_copy(update={"attendees": people}), prep_notes=[], budget=[], rocks=[], tz=UTC)
    assert "**Attendees:** Müller, Jürgen; Dubois, Élodie" in agenda.markdown


def test_a_prep_note_reads_the_same_in_its_item_and_in_the_talking_points(data_dir: Path, engine: Engine) -> None:
    """A note with **Priya** showed its asterisks in the item's Notes (as typed) and bold in the
    talking points below; a topic with an asterisk broke the talking point's bold. Both are written
    as typed now, as every other text of the agenda is."""
    save_prep_response(
        engine, user_id="alice", meeting_id="soon", topic="owner *EU*", response="**Priya** owns the fix", now=NOW
    )
    markdown = _agenda(data_dir, engine, "soon").markdown
    typed = r"\*\*Priya\*\* owns the fix"
    assert f"*Notes:* {typed}" in markdown, markdown
    assert rf"- **owner \*EU\*:** {typed}" in markdown, markdown
