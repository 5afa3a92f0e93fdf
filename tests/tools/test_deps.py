"""What the meeting tools need from outside (``tools/deps.py``): the user's zone, clock, calendar and types."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from assistant.context.type_overrides import set_override
from assistant.tools.deps import ToolDeps
from tests.fixtures.meeting_data import NOW

ROOT = Path(__file__).resolve().parents[2]
AUCKLAND = ZoneInfo("Pacific/Auckland")


def test_times_are_in_the_users_browser_zone_else_the_default(deps: ToolDeps) -> None:
    zone: list[ZoneInfo | None] = [None]
    mine = ToolDeps(deps.data_dir, deps.engine, "alice", now=lambda: NOW, zone_of=lambda: zone[0])
    assert mine.tz is mine.default_tz and mine.local_now() == NOW
    zone[0] = AUCKLAND  # read at every call: the next tool call sees the new zone
    assert mine.tz is AUCKLAND
    assert mine.local_now().tzinfo is AUCKLAND and mine.local_now() == NOW


def test_a_clock_without_a_zone_is_refused_with_a_clear_message(deps: ToolDeps) -> None:
    naive = ToolDeps(deps.data_dir, deps.engine, "alice", now=lambda: datetime(2025, 3, 10, 15, 7))
    with pytest.raises(ValueError, match="naive datetime; it must be timezone-aware"):
        naive.local_now()


def test_the_demo_calendar_shows_the_meetings_ahead_from_now(deps: ToolDeps) -> None:
    view = deps.calendar_view(3)
    assert view.kind == "demo"
    assert [m.id for m in view.meetings] == ["soon", "cfo-1on1", "acme-qbr"]  # not the past, nor 9 days out
    assert all(NOW <= m.start <= NOW + timedelta(days=3) for m in view.meetings)
    assert [m.id for m in deps.calendar_view(1).meetings] == ["soon", "cfo-1on1"]


def test_a_meeting_is_found_by_id_and_an_unknown_id_lists_the_known_ones(deps: ToolDeps) -> None:
    assert deps.find_meeting("acme-qbr").title == "QBR - Acme Corp"
    with pytest.raises(ValueError) as unknown:
        deps.find_meeting("no-such-meeting")
    assert str(unknown.value).startswith("No meeting with id 'no-such-meeting'.")
    assert "soon" in str(unknown.value) and "acme-qbr" in str(unknown.value)


def test_meetings_get_their_types_label_and_the_users_own_choice_wins(deps: ToolDeps, engine: Engine) -> None:
    meetings = deps.calendar_view(3).meetings
    assert deps.with_types(meetings) == meetings  # no types file: the calendar's own
    shutil.copy(ROOT / "data" / "meeting_types.toml", deps.data_dir)
    typed = {m.id: m.type for m in deps.with_types(meetings)}
    assert typed == {"soon": "Leadership", "cfo-1on1": "1:1", "acme-qbr": "Customer/external"}
    set_override(engine, "alice", "acme-qbr", "board", NOW)
    set_override(engine, "bob", "soon", "board", NOW)  # another user's choice is theirs alone
    typed = {m.id: m.type for m in deps.with_types(meetings)}
    assert typed == {"soon": "Leadership", "cfo-1on1": "1:1", "acme-qbr": "Board"}
    assert deps.with_types([]) == []


def test_a_meeting_is_priced_at_the_default_rates_without_settings(deps: ToolDeps) -> None:
    cost = deps.cost_of(deps.find_meeting("soon"))  # you and two colleagues for an hour
    assert (cost.total_usd, cost.people, cost.hours) == (490.0, 3, 1.0)
    assert deps.meeting_rates == type(deps.meeting_rates)()
