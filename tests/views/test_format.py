"""People-friendly formatters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from assistant.views.format import (
    UTC_ZONE,
    counted,
    fmt_ago,
    fmt_cost,
    fmt_datetime,
    fmt_ms,
    fmt_tokens,
    resolve_zone,
    zone_abbreviation,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0123, "$0.0123"), (None, "unknown"), (0, "$0.00"), (0.0, "$0.00"), (0.5, "$0.50"), (1234.567, "$1,234.57"),
     (0.000035, "$0.000035"), (0.01, "$0.01"), (-0.02, "-$0.02"), (3.0, "$3.00"), (1e-12, "<$0.00000001")],
)  # fmt: skip
def test_fmt_cost(value: float | None, text: str) -> None:
    assert fmt_cost(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(12345, "12.3k"), (0, "0"), (999, "999"), (1000, "1k"), (1500, "1.5k"), (123_456, "123k"), (999_950, "1M"),
     (4_600_000, "4.6M"), (None, "–")],
)  # fmt: skip
def test_fmt_tokens(value: int | None, text: str) -> None:
    assert fmt_tokens(value) == text


def test_fmt_ago() -> None:
    now = datetime(2026, 11, 10, 12, tzinfo=UTC)
    assert fmt_ago(now - timedelta(hours=3, minutes=20), now) == "3 h ago"
    assert fmt_ago(now - timedelta(seconds=20), now) == "just now"
    assert fmt_ago(now - timedelta(minutes=5), now) == "5 min ago"
    assert fmt_ago(now - timedelta(days=2, hours=1), now) == "2 d ago"
    assert fmt_ago(now - timedelta(days=45), now) == "2026-09-26"
    assert fmt_ago(datetime(2026, 11, 10, 11), now) == "1 h ago"  # naive = UTC
    assert fmt_ago(None, now) == "–"


@pytest.mark.parametrize(
    ("value", "text"), [(850, "850 ms"), (1234, "1.2 s"), (125_000, "2 min 5 s"), (120_000, "2 min"), (None, "–")]
)
def test_fmt_ms(value: float | None, text: str) -> None:
    assert fmt_ms(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(999.6, "1.0 s"), (59_960, "1 min"), (999.4, "999 ms"), (59_940, "59.9 s")],
)
def test_fmt_ms_rounds_into_the_next_unit(value: float, text: str) -> None:
    # an answer of 999.6 ms read "1000 ms" and one of 59.96 s read "60.0 s" in footers and tables
    assert fmt_ms(value) == text


NEW_YORK = ZoneInfo("America/New_York")


def test_resolve_zone_takes_known_iana_names() -> None:
    assert resolve_zone("America/New_York") == NEW_YORK
    assert resolve_zone("Europe/Berlin").key == "Europe/Berlin"
    assert resolve_zone("UTC") == UTC_ZONE


@pytest.mark.parametrize(
    "name",
    [None, "", "Mars/Olympus_Mons", "America", "../etc/passwd", "/etc/localtime", "localtime", "a\x00b",
     "America/New_York " * 50, 42, ["Europe/Berlin"]],
)  # fmt: skip
def test_resolve_zone_falls_back_to_utc_never_raises(name: object) -> None:
    assert resolve_zone(name) == UTC_ZONE


def test_fmt_datetime_in_the_readers_zone_with_abbreviation() -> None:
    t = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)
    assert fmt_datetime(t) == "2026-11-25 14:05 UTC"
    assert fmt_datetime(t, NEW_YORK) == "2026-11-25 09:05 EST"
    assert fmt_datetime(datetime(2026, 7, 1, 14, 5, tzinfo=UTC), NEW_YORK) == "2026-07-01 10:05 EDT"
    assert fmt_datetime(datetime(2026, 11, 25, 3, 30, tzinfo=UTC), NEW_YORK) == "2026-11-24 22:30 EST"  # day before
    assert fmt_datetime(datetime(2026, 11, 25, 14, 5), NEW_YORK) == "2026-11-25 09:05 EST"  # naive = UTC
    assert fmt_datetime(t, ZoneInfo("Asia/Kolkata"), "%H:%M:%S") == "19:35:00 IST"
    assert fmt_datetime(t, resolve_zone("Not/AZone")) == "2026-11-25 14:05 UTC"


def test_zone_abbreviation_names_numeric_zones_as_utc_offsets() -> None:
    t = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)
    assert zone_abbreviation(t, NEW_YORK) == "EST"
    assert zone_abbreviation(t, ZoneInfo("America/Sao_Paulo")) == "UTC-03"
    assert zone_abbreviation(t, ZoneInfo("Asia/Dubai")) == "UTC+04"


def test_a_zone_offset_by_minutes_reads_as_hours_and_minutes() -> None:
    """Lord Howe Island and Kathmandu read "UTC+1030" and "UTC+0545" (tzdata's names) beside their
    times, on the sessions page, in exports and in a prep session's title."""
    july = datetime(2026, 7, 1, tzinfo=UTC)
    assert zone_abbreviation(july, ZoneInfo("Australia/Lord_Howe")) == "UTC+10:30"
    assert zone_abbreviation(july, ZoneInfo("Asia/Kathmandu")) == "UTC+05:45"
    assert zone_abbreviation(datetime(2026, 12, 1, tzinfo=UTC), ZoneInfo("Australia/Lord_Howe")) == "UTC+11"
    assert fmt_datetime(july, ZoneInfo("Asia/Kathmandu")) == "2026-07-01 05:45 UTC+05:45"


def test_a_count_is_grouped_by_thousands() -> None:
    assert counted(30006, "session") == "30,006 sessions"
    assert counted(1, "session") == "1 session"
