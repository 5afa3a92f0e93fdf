"""Meeting types: the shipped rules on realistic meetings, overrides that stick, the prep queue."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from assistant.context.classify import (
    MeetingTypes,
    MeetingTypesError,
    classify,
    effective_type,
    load_meeting_types,
    prep_lead_time,
)
from assistant.context.demo_calendar import load_meetings
from assistant.context.ics import parse_ics
from assistant.context.meeting_cost import MeetingRates, meeting_cost
from assistant.context.meetings import Attendee, Meeting
from assistant.context.prep_notes import save_prep_response
from assistant.context.prep_queue import prep_queue
from assistant.context.type_overrides import clear_override, overrides, prepared_counts, set_override
from tests.fixtures.ics import read

ROOT = Path(__file__).resolve().parents[2]
TYPES_FILE = ROOT / "data" / "meeting_types.toml"
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
ME = "ada@corp.com"


@pytest.fixture
def types() -> MeetingTypes:
    return load_meeting_types(TYPES_FILE)


def person(name: str, email: str | None = None, **kw: object) -> Attendee:
    return Attendee(name=name, email=email, **kw)  # type: ignore[arg-type]


def colleagues(n: int) -> list[Attendee]:
    return [person(f"Colleague {i}", f"c{i}@corp.com") for i in range(n)]


def meeting(
    title: str,
    attendees: list[Attendee],
    *,
    id: str = "m1",
    start: datetime = NOW + timedelta(days=1),
    minutes: int = 60,
    type: str = "meeting",
    series_id: str | None = None,
) -> Meeting:
    return Meeting(
        id=id,
        title=title,
        start=start,
        end=start + timedelta(minutes=minutes),
        duration_minutes=minutes,
        attendees=attendees,
        type=type,
        location="",
        description="",
        series_id=series_id,
        source="ics_file",
    )


CASES = [
    pytest.param(
        meeting(
            "Acme Corp QBR",
            [person("Dana Brooks", "dana@acme.com"), person("Kevin O'Neill", "kevin@acme.com"), *colleagues(2)],
        ),
        "external",
        id="external QBR",
    ),
    pytest.param(meeting("Catch-up", [person("Marcus Chen", "marcus@corp.com")]), "one_on_one", id="1:1 colleague"),
    pytest.param(meeting("Ada / Marcus 1-1", [person("Marcus Chen", "marcus@corp.com")]), "one_on_one", id="1-1 title"),
    pytest.param(
        meeting(
            "Q3 Board Meeting",
            [person("Jo Investor", "jo@vcfund.com"), person("Lee Director", "lee@gmail.com"), *colleagues(2)],
            minutes=180,
        ),
        "board",
        id="board with outside directors",
    ),
    pytest.param(
        meeting("Interview: Sam Lee (Staff Engineer)", [person("Sam Lee", "sam.lee@gmail.com"), *colleagues(1)]),
        "interview",
        id="interview with a candidate",
    ),
    pytest.param(meeting("March company update", colleagues(40)), "all_hands", id="40-person all-hands"),
    pytest.param(meeting("Town Hall", colleagues(5)), "all_hands", id="town hall title"),
    pytest.param(
        meeting("Platform sync", colleagues(5), series_id="abcdef0123"),
        "team",
        id="recurring team sync",
    ),
    pytest.param(meeting("Exec staff meeting", colleagues(6)), "leadership", id="leadership title"),
    pytest.param(meeting("Focus time", []), "other", id="alone"),
    pytest.param(
        meeting(
            "Pricing chat",
            [person("Marcus Chen", "marcus@corp.com"), person("Rae Kim", "rae@corp.com", response="declined")],
        ),
        "one_on_one",
        id="declined attendee not counted",
    ),
    pytest.param(
        meeting("Pricing chat", [person("Ada", ME, response="accepted"), person("Marcus Chen", "marcus@corp.com")]),
        "one_on_one",
        id="the user listed as an attendee",
    ),
    pytest.param(
        meeting("Renewal", [person("Dana Brooks", role="SVP", org="Acme Corp")]),
        "external",
        id="no email but an outside organisation",
    ),
]


@pytest.mark.parametrize(("m", "expected"), CASES)
def test_realistic_meetings_get_the_type_an_executive_expects(types: MeetingTypes, m: Meeting, expected: str) -> None:
    assert classify(m, user_email=ME, internal_domains=[], rules=types) == expected


def test_configured_internal_domains_count_as_colleagues(types: MeetingTypes) -> None:
    m = meeting("Ops review", [person("Lena Novak", "lena@corp-eu.com")])
    assert classify(m, user_email=ME, internal_domains=[], rules=types) == "external"
    assert classify(m, user_email=ME, internal_domains=["CORP-EU.com"], rules=types) == "one_on_one"


def test_the_owner_of_an_imported_calendar_is_you_when_signed_in_under_another_address(types: MeetingTypes) -> None:
    """A Google export names its owner (X-WR-CALNAME ada@acme.example); signed in as
    exec@example.com (the dev login, an alias), Ada's weekly with three colleagues was typed
    Customer/external and priced as five people, Ada counted twice and her colleagues as outsiders."""
    window = (datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 9, tzinfo=UTC))
    weekly, renewal = parse_ics(read("google_owner_colleagues.ics"), *window, UTC, owner_email="exec@example.com")
    you = "exec@example.com"
    assert classify(weekly, user_email=you, internal_domains=[], rules=types) == "team"
    assert classify(renewal, user_email=you, internal_domains=[], rules=types) == "external"
    cost = meeting_cost(weekly, user_email=you, internal_domains=[], rates=MeetingRates(250, 120, 0))
    assert cost.label == "$610 of people's time (4 people × 1 h)"  # you at $250/h and three colleagues at $120/h


def test_the_owner_of_an_outlook_export_is_the_one_on_every_meeting(types: MeetingTypes) -> None:
    """Outlook names no owner (X-WR-CALNAME:Calendar): signed in as exec@example.com, Ada's
    weekly with two colleagues was typed Customer/external and her declined vendor pitch listed.
    The address on every meeting with people in it is the calendar's owner."""
    window = (datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 11, tzinfo=UTC))
    found = parse_ics(read("outlook_no_owner_named.ics"), *window, UTC, owner_email="exec@example.com")
    you = "exec@example.com"
    typed = {m.title: classify(m, user_email=you, internal_domains=[], rules=types) for m in found}
    assert typed == {"Product weekly": "team", "Pricing review": "team", "Renewal call": "external", "Lunch": "other"}


def test_demo_calendar_types_map_to_meeting_types(types: MeetingTypes) -> None:
    got = {
        m.id: classify(m, user_email="exec@example.com", internal_domains=[], rules=types)
        for m in load_meetings(ROOT / "data", NOW)
    }
    assert got == {
        "leadership-sync": "leadership",
        "cfo-1on1": "one_on_one",
        "acme-qbr": "external",
        "hiring-review": "interview",
        "budget-review-q3": "leadership",
        "board-prep": "board",
        "product-roadmap": "leadership",
        "all-hands-prep": "team",
    }


def test_lead_times_per_type(types: MeetingTypes) -> None:
    hours = {t: prep_lead_time(t, types) / timedelta(hours=1) for t in types.types}
    assert hours == {
        "one_on_one": 1,
        "team": 1,
        "leadership": 4,
        "board": 48,
        "external": 24,
        "interview": 2,
        "all_hands": 2,
        "other": 1,
    }
    assert types.label("one_on_one") == "1:1" and types.label("external") == "Customer/external"
    for t in types.types.values():
        assert 5 <= len(t.questions) <= 8 and t.template_sections


def test_an_override_sticks_and_is_per_user(any_engine: Engine, types: MeetingTypes) -> None:
    m = meeting("Acme Corp QBR", [person("Dana Brooks", "dana@acme.com")], id="acme-qbr")
    set_override(any_engine, "alice", "acme-qbr", "leadership", NOW, types=types)
    mine = overrides(any_engine, "alice")
    assert mine == {"acme-qbr": "leadership"}
    assert effective_type(m, mine, user_email=ME, internal_domains=[], rules=types) == "leadership"
    assert overrides(any_engine, "bob") == {}
    assert effective_type(m, {}, user_email=ME, internal_domains=[], rules=types) == "external"

    set_override(any_engine, "alice", "acme-qbr", "board", NOW + timedelta(minutes=1), types=types)
    assert overrides(any_engine, "alice") == {"acme-qbr": "board"}, "changing it again replaces it"
    assert clear_override(any_engine, "alice", "acme-qbr") is True
    assert overrides(any_engine, "alice") == {}


def test_a_series_override_covers_every_occurrence_and_an_occurrence_wins(
    any_engine: Engine, types: MeetingTypes
) -> None:
    series = "a1b2c3d4e5"
    first = meeting("Platform sync", colleagues(5), id=f"{series}-202503110900", series_id=series)
    second = meeting("Platform sync", colleagues(5), id=f"{series}-202503180900", series_id=series)
    set_override(any_engine, "alice", series, "leadership", NOW, types=types)
    set_override(any_engine, "alice", second.id, "other", NOW, types=types)
    mine = overrides(any_engine, "alice")
    assert effective_type(first, mine, user_email=ME, internal_domains=[], rules=types) == "leadership"
    assert effective_type(second, mine, user_email=ME, internal_domains=[], rules=types) == "other"


def test_an_unknown_type_or_key_is_refused_and_a_stale_override_is_ignored(
    sqlite_engine: Engine, types: MeetingTypes
) -> None:
    with pytest.raises(ValueError, match="choose one of: one_on_one, team"):
        set_override(sqlite_engine, "alice", "acme-qbr", "bored", NOW, types=types)
    with pytest.raises(ValueError, match="not a meeting id"):
        set_override(sqlite_engine, "alice", "../etc", "board", NOW, types=types)
    assert overrides(sqlite_engine, "alice") == {}
    m = meeting("Catch-up", [person("Marcus Chen", "marcus@corp.com")])
    removed = {m.id: "retired_type"}  # stored before the deployment removed the type
    assert effective_type(m, removed, user_email=ME, internal_domains=[], rules=types) == "one_on_one"


def test_prepared_counts_are_per_user_and_meeting(sqlite_engine: Engine) -> None:
    for mid in ("a", "a", "b"):
        save_prep_response(sqlite_engine, user_id="alice", meeting_id=mid, topic="t", response="r", now=NOW)
    save_prep_response(sqlite_engine, user_id="bob", meeting_id="a", topic="t", response="r", now=NOW)
    assert prepared_counts(sqlite_engine, "alice", ["a", "b", "c"]) == {"a": 2, "b": 1}
    assert prepared_counts(sqlite_engine, "alice", []) == {}


# --- the prep queue ---------------------------------------------------------------------


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


# --- the rules file ---------------------------------------------------------------------


def test_the_rules_file_is_cached_until_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "types.toml"
    text = TYPES_FILE.read_text()
    path.write_text(text)
    first = load_meeting_types(path)
    assert load_meeting_types(path) is first
    path.write_text(text.replace("prep_lead_hours = 48", "prep_lead_hours = 72"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert prep_lead_time("board", load_meeting_types(path)) == timedelta(hours=72)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (('type = "board"\ncalendar_type', 'type = "bord"\ncalendar_type'), "rules.1.type: unknown type 'bord'"),
        (("prep_lead_hours = 48", 'prep_lead_hours = "two days"'), "types.board.prep_lead_hours"),
        (('default_type = "other"', 'default_type = "misc"'), "default_type: unknown type 'misc'"),
        (("[types.other]", "[types.Other-Type]"), "types.Other-Type"),
        (("min_others = 26", "min_others = 26\nmax_others = 3"), "min_others is larger than max_others"),
        (('[[rules]]\ntype = "team"\nmin_others = 2\n', '[[rules]]\ntype = "team"\n'), "at least one condition"),
        (('label = "Board"', 'label = "Board"\ncolour = "red"'), "types.board.colour"),
        (('default_type = "other"', 'default_type = = "other"'), "not valid TOML"),
    ],
)
def test_a_bad_rules_file_names_the_file_and_the_entry(tmp_path: Path, change: tuple[str, str], needle: str) -> None:
    path = tmp_path / "types.toml"
    text = TYPES_FILE.read_text()
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(MeetingTypesError) as caught:
        load_meeting_types(path)
    assert str(path) in str(caught.value) and needle in str(caught.value)


def test_a_missing_rules_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(MeetingTypesError, match="MEETING_TYPES_FILE"):
        load_meeting_types(tmp_path / "nope.toml")
