"""Time that counts for preparing: Saturdays and Sundays do not.

A board meeting on Monday at 09:00 with a 48-hour prep lead time is prepared from Thursday
09:00, not from Saturday; a demo shown on a Friday offers "tomorrow" on Monday. Weekends are
read in the zone of the moment given (the reader's zone, as the tools and the queue use).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

_DAY = timedelta(days=1)


def is_weekend(day: date) -> bool:
    """Saturday or Sunday."""
    return day.weekday() >= 5


def working_day(day: date) -> date:
    """``day``, or the Monday after it when it falls on a weekend."""
    while is_weekend(day):
        day += _DAY
    return day


def add_working_days(day: date, count: int) -> date:
    """The working day ``count`` working days after (negative: before) ``day``'s working day.

    On a weekend, day 0 is the coming Monday.
    """
    day = working_day(day)
    step = _DAY if count >= 0 else -_DAY
    for _ in range(abs(count)):
        day += step
        while is_weekend(day):
            day += step
    return day


def _midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time(0), tzinfo=moment.tzinfo)


def shift_working_time(moment: datetime, span: timedelta) -> datetime:
    """``moment`` moved by ``span`` (negative: back) counting only Monday-Friday time.

    Args:
        moment: An aware datetime; its own zone decides where weekends fall.
        span: How much working time to move by.

    Returns:
        The moment ``span`` of working time away. Moving back from inside a weekend starts
        from the Saturday's midnight; moving forward, from the Monday's.
    """
    forward = span > timedelta(0)
    remaining = abs(span)
    t = moment
    while remaining > timedelta(0):
        midnight = _midnight(t)
        if forward:
            if is_weekend(t.date()):
                t = midnight + _DAY
                continue
            room = midnight + _DAY - t
        elif t == midnight:
            if is_weekend((t - _DAY).date()):
                t -= _DAY
                continue
            room = _DAY
        else:
            if is_weekend(t.date()):
                t = midnight
                continue
            room = t - midnight
        step = min(room, remaining)
        t = t + step if forward else t - step
        remaining -= step
    return t
