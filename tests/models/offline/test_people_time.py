"""What the meetings an answer lists cost in people's time: the sum of the priced ones, your
hours in them, all-day events named as not priced, and how the cost is counted, quoted as typed."""

from __future__ import annotations

from typing import Any

from assistant.models.offline.people_time import people_time

BASIS = {"people_time_cost": {"basis": "you $250/h, internal colleagues $120/h, external attendees not counted"}}


def test_the_priced_meetings_are_added_up_with_your_hours_and_how_they_are_counted() -> None:
    meetings: list[dict[str, Any]] = [
        {"people_cost_usd": 490, "duration_minutes": 60},
        {"people_cost_usd": 125.4, "duration_minutes": 30},
        {"all_day": True},
    ]
    assert people_time(meetings, BASIS) == (
        "**People's time:** $615 for these 2 meetings (1 h 30 min of yours). 1 all-day event is not priced. "
        "Counted as you \\$250/h, internal colleagues \\$120/h, external attendees not counted. "
        "This is the time's cost, not the budget."
    )


def test_one_meeting_is_this_meeting_and_hours_read_as_hours_or_minutes() -> None:
    assert people_time([{"people_cost_usd": 1234.5, "duration_minutes": 120}], {}) == (
        "**People's time:** $1,234 for this meeting (2 h of yours)."
    )
    assert people_time([{"people_cost_usd": 40, "duration_minutes": 15}, {"people_cost_usd": 0}], {}).startswith(
        "**People's time:** $40 for these 2 meetings (15 min of yours)."
    )


def test_nothing_priced_says_so_and_odd_values_are_not_prices() -> None:
    assert people_time([{"all_day": True}, {"people_cost_usd": "120"}, {"people_cost_usd": None}], BASIS) == (
        "None of these meetings has a cost in people's time (all-day events are not priced)."
    )
    two_days = [{"people_cost_usd": 10, "duration_minutes": 30}, {"all_day": True}, {"all_day": True}]
    assert "2 all-day events are not priced." in people_time(two_days, {"people_time_cost": "not a dict"})
