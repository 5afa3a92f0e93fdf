"""The day a message names, as the offline model reads it: a date written either way round,
the next one from today on (this year's, else next year's), none for an impossible date; day
words taken out of a title search; and whose clock a listing's times are on."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.models.offline.days import named_date, named_month, out_of_reach, times_in, without_days

TODAY = date(2026, 12, 6)  # a Sunday


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("what's on Sunday 13 December", date(2026, 12, 13)),  # the 13th, not the next Sunday
        ("Dec 13th", date(2026, 12, 13)),
        ("december the 13th", date(2026, 12, 13)),
        ("the 1st of January", date(2027, 1, 1)),  # past this year's: next year's
        ("3 dec", date(2027, 12, 3)),
        ("6 Dec", TODAY),  # today counts
        ("Sept. 5", date(2027, 9, 5)),
        ("29 Feb", None),  # neither 2026 nor 2027 has one
        ("31 February", None),
        ("meeting on 12 Dec and 14 Dec", date(2026, 12, 14)),  # the last one named
        ("May I ask about march planning?", None),  # month words without a day are not dates
        ("prep me for 13 December 2026", date(2026, 12, 13)),
        ("prep me for the top 3 May meetings", None),  # three meetings, not 3 May
        ("my first 2 dec meetings", None),
        ("what's on 3 may", date(2027, 5, 3)),
    ],
)
def test_a_named_date_is_the_next_one_from_today(text: str, day: date | None) -> None:
    assert named_date(text, TODAY) == day


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("prep me for tomorrow", "prep me for"),
        ("Monday's board call", "board call"),
        ("what's on this Friday afternoon", "what's on"),
        ("Acme QBR on 13 December", "Acme QBR"),
        ("the 13th of Dec meeting", "meeting"),
        ("Tomorrowland planning", "Tomorrowland planning"),  # a word that begins like one is kept
        ("Sunday 13 December", ""),
        ("top 3 meetings in May", "top 3 meetings"),
        ("Acme QBR in january", "Acme QBR"),
    ],
)
def test_day_words_are_taken_out_of_a_title_search(text: str, left: str) -> None:
    assert without_days(text) == left


def test_a_listing_says_whose_clock_its_times_are_on() -> None:
    assert times_in({"time_zone": "NZDT (Pacific/Auckland)"}) == " (times in NZDT)"
    assert times_in({"time_zone": "UTC+05:45 (Asia/Kathmandu)"}) == " (times in UTC+05:45)"
    assert times_in({}) == times_in({"time_zone": None}) == times_in({"time_zone": ""}) == ""


def test_29_february_is_next_years_when_this_year_has_none() -> None:
    """Asked in 2027 about "29 Feb", the reader found no date: 2027's does not exist and the next
    year's (2028, a leap year) was never tried."""
    assert named_date("what's on 29 Feb?", date(2027, 3, 1)) == date(2028, 2, 29)
    assert named_date("what's on 29 Feb?", date(2028, 1, 10)) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("prep me for the top 3 meetings in may", (date(2027, 5, 1), date(2027, 5, 31))),
        ("prep me for the top 3 May meetings", (date(2027, 5, 1), date(2027, 5, 31))),
        ("January's meetings", (date(2027, 1, 1), date(2027, 1, 31))),
        ("what do I have in December", (TODAY, date(2026, 12, 31))),  # this month: from today
        ("May I ask about march planning?", None),  # "May I", and "march" with no "in" before it
        ("what's on my plate this week", None),
    ],
)
def test_a_month_named_alone_is_its_days_from_today(text: str, month: tuple[date, date] | None) -> None:
    assert named_month(text, TODAY) == month


def test_a_day_past_the_days_read_is_said_to_be_out_of_sight() -> None:
    """ "What's on 3 May?" answered "No meetings on Monday 03 May" with the calendar read 60 days ahead."""
    far = out_of_reach(date(2027, 5, 3), TODAY, 60)
    assert far is not None and "60 days ahead, to Thu 4 Feb 2027" in far and "May 2027" in far
    assert out_of_reach(date(2027, 2, 4), TODAY, 60) is None
