"""Meeting types: the shipped rules on realistic meetings, lead times, and the rules file
(overrides: test_type_overrides.py; the Prep queue: test_prep_queue.py)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.context.classify import (
    MeetingTypes,
    MeetingTypesError,
    classify,
    load_meeting_types,
    prep_lead_time,
)
from assistant.context.demo_calendar import load_meetings
from assistant.context.ics import parse_ics
from assistant.context.meeting_cost import MeetingRates, meeting_cost
from assistant.context.meetings import Meeting
from tests.fixtures.ics import read
from tests.fixtures.typed_meetings import ME, NOW, ROOT, TYPES_FILE, colleagues, meeting, person


@pytest.fixture
def types() -> MeetingTypes:
    return load_meeting_types(TYPES_FILE)


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


def test_a_rules_file_saved_in_a_windows_encoding_says_so(tmp_path: Path) -> None:
    # a meeting title with "é" typed in an editor saving Windows-1252 raised a UnicodeDecodeError
    path = tmp_path / "types.toml"
    path.write_bytes(("# rules for the café meetings\n" + TYPES_FILE.read_text(encoding="utf-8")).encode("cp1252"))
    with pytest.raises(MeetingTypesError) as caught:
        load_meeting_types(path)
    assert str(path) in str(caught.value) and "not UTF-8" in str(caught.value)
