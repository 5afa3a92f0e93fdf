from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assistant.context.meeting_cost import MeetingCost
from assistant.context.meetings import Meeting
from assistant.context.prep_queue import PrepItem, PrepStatus, QueueEntry
from ui.prep_queue import window_text

FRIDAY_3PM = datetime(2025, 3, 14, 15, 0, tzinfo=UTC)


def entry(opens: datetime, status: PrepStatus) -> QueueEntry:
    start = opens + timedelta(hours=4)
    end = start + timedelta(hours=1)
    meeting = Meeting(
        id="m1",
        title="Leadership sync",
        start=start,
        end=end,
        duration_minutes=60,
        attendees=[],
        type="leadership",
        location="",
        description="",
    )
    item = PrepItem(
        meeting=meeting,
        type_id="leadership",
        type_label="Leadership",
        window_opens_at=opens,
        status=status,
        notes_count=0,
    )
    cost = MeetingCost(total_usd=0.0, people=1, hours=1.0, lines=[], label="")
    return QueueEntry(item=item, session_id=None, cost=cost)


def test_a_window_opening_soon_counts_down_and_one_after_the_weekend_names_the_day() -> None:
    assert window_text(entry(FRIDAY_3PM - timedelta(hours=1), "open"), FRIDAY_3PM) == "Prep window open"
    assert window_text(entry(FRIDAY_3PM + timedelta(minutes=40), "opens_soon"), FRIDAY_3PM) == "Prep opens in 40 min"
    assert window_text(entry(FRIDAY_3PM + timedelta(hours=2, minutes=5), "opens_soon"), FRIDAY_3PM) == (
        "Prep opens in 2 h 05 min"
    )
    monday = datetime(2025, 3, 17, 5, 0, tzinfo=UTC)
    assert window_text(entry(monday, "opens_soon"), FRIDAY_3PM) == "Prep opens Monday at 05:00"
