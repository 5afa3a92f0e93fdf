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


def zone_name(moment: datetime) -> str:
    """The short name of ``moment``'s zone at that moment: "EST", "NZDT", "UTC+08", "UTC+10:30".

    tzdata names a zone without letters by its offset ("+08", "+1030" for Lord Howe, "+0545" for
    Kathmandu): it is read as an offset from UTC, its minutes after a colon.
    """
    abbr = moment.tzname() or "UTC"
    if not abbr.startswith(("+", "-")):
        return abbr
    return f"UTC{abbr[:3]}:{abbr[3:]}" if len(abbr) == 5 else f"UTC{abbr}"


def zone_label(moment: datetime) -> str:
    """:func:`zone_name` with the zone's own name when it says more: "NZDT (Pacific/Auckland)", "UTC"."""
    abbr, key = zone_name(moment), getattr(moment.tzinfo, "key", None)
    return f"{abbr} ({key})" if key and key != abbr else abbr


def _skipped_or_repeated(moment: datetime) -> bool:
    """Whether ``moment``'s wall time is one its zone's clock skips (spring) or shows twice (autumn)."""
    return moment.replace(fold=0).utcoffset() != moment.replace(fold=1).utcoffset()


def across_clock_change(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """A meeting whose start or end falls in the hour a clock change skips or repeats, as instants.

    A daily 01:30-02:30 London meeting on the spring night read 02:30-02:30 (0 min), and a 01:30-02:00
    New York one on the autumn night 90 min: the skipped time is read with the offset before the
    change, the repeated one as its first, and the meeting keeps its length on the wall clock
    (RFC 5545, 3.3.5). Any other start and end (an overnight one-off across the change) is kept.
    """
    if start.tzinfo is None or end.tzinfo is not start.tzinfo:
        return start, end
    if not (_skipped_or_repeated(start) or _skipped_or_repeated(end)):
        return start, end
    first = start.replace(fold=0).astimezone(UTC)
    return first, first + (end.replace(tzinfo=None) - start.replace(tzinfo=None))


__all__ = ["across_clock_change", "in_zone", "zone_label", "zone_name"]
