"""Meetings told in a reader's time zone (every calendar source is read and stored in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, time, tzinfo

from assistant.context.meetings import Meeting


def in_zone(meetings: list[Meeting], tz: tzinfo) -> list[Meeting]:
    """The meetings told in ``tz``: timed ones converted, all-day ones placed at local midnight.

    Sources are read in UTC and stored so (all-day events at UTC midnight of their dates,
    floating times at their clock times in UTC); an all-day event is a date and a floating time
    a clock time, not instants, so each reader sees them on their own day and clock.
    """
    out = []
    for meeting in meetings:
        if meeting.floating:
            meeting = meeting.model_copy(
                update={
                    "start": meeting.start.astimezone(UTC).replace(tzinfo=tz),
                    "end": meeting.end.astimezone(UTC).replace(tzinfo=tz),
                }
            )
        elif not meeting.all_day:  # the same instant, told in the reader's zone
            meeting = meeting.model_copy(
                update={"start": meeting.start.astimezone(tz), "end": meeting.end.astimezone(tz)}
            )
        else:
            first = meeting.start.astimezone(UTC).date()
            last = meeting.end.astimezone(UTC).date()
            meeting = meeting.model_copy(
                update={
                    "start": datetime.combine(first, time(0), tzinfo=tz),
                    "end": datetime.combine(last, time(0), tzinfo=tz),
                }
            )
        out.append(meeting)
    out.sort(key=lambda m: (m.start, m.id))
    return out


__all__ = ["in_zone"]
