"""A user's meetings with their effective types, as the CLI prints them and the tools and the
Prep queue read them: the user's own choice over the rules, per user; and one meeting as
``meetings --json`` prints it, its times in the zone asked for."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from assistant.config import load_settings
from assistant.context.agenda_data import meeting_json, typed_meetings
from assistant.context.type_overrides import set_override
from tests.fixtures.typed_meetings import NOW, colleagues, meeting, person

ME = "ada@corp.com"


def test_the_users_own_type_wins_over_the_rules_and_is_theirs_alone(any_engine: Engine) -> None:
    settings = load_settings(internal_domains="corp.com")
    qbr = meeting("Acme Corp QBR", [person("Dana Brooks", "dana@acme.com"), *colleagues(2)], id="acme-qbr")
    one = meeting("Catch-up", [person("Marcus", "marcus@corp.com")], id="catch-up")
    set_override(any_engine, "alice", "catch-up", "board", NOW)

    mine = typed_meetings([qbr, one], settings, engine=any_engine, user_id="alice", user_email=ME)
    assert [(m.id, type_id, label) for m, type_id, label in mine] == [
        ("acme-qbr", "external", "Customer/external"),
        ("catch-up", "board", "Board"),
    ]
    theirs = typed_meetings([qbr, one], settings, engine=any_engine, user_id="bob", user_email="bob@corp.com")
    assert [type_id for _, type_id, _ in theirs] == ["external", "one_on_one"]
    rules_only = typed_meetings([one], settings, engine=None, user_id="alice", user_email=ME)
    assert [type_id for _, type_id, _ in rules_only] == ["one_on_one"]


def test_a_meeting_as_json_gives_its_times_with_their_offset_in_the_zone_asked_for() -> None:
    start = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # the night London's clocks go forward
    board = meeting("Board «Q2»", [person("Zoë", "zoe@corp.com")], id="board", start=start, minutes=120)
    as_utc = meeting_json(board, "board")
    assert (as_utc["start"], as_utc["end"]) == ("2026-03-28T23:30:00+00:00", "2026-03-29T01:30:00+00:00")
    london = meeting_json(board, "board", ZoneInfo("Europe/London"))
    assert (london["start"], london["end"]) == ("2026-03-28T23:30:00+00:00", "2026-03-29T02:30:00+01:00")
    assert datetime.fromisoformat(london["end"]) - datetime.fromisoformat(london["start"]) == timedelta(hours=2)
    assert london["attendees"] == [{"name": "Zoë", "email": "zoe@corp.com"}]
    assert (london["type"], london["all_day"], london["source"]) == ("board", False, "ics_file")
    assert json.loads(json.dumps(london, ensure_ascii=False)) == london  # plain JSON, nothing to serialise
