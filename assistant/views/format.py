"""People-friendly formatting of costs, token counts, durations, ages and clock times (pages and CLI),
CSV cells, and the :class:`Metric` every metric row is drawn from."""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

from assistant.context.meeting_zone import zone_name
from assistant.usage.money import UNKNOWN, fmt_cost

logger = logging.getLogger(__name__)

__all__ = ["UNKNOWN", "fmt_cost"]  # written in assistant.usage.money (the chat's limits use it too)

MISSING = "–"
UTC_ZONE = ZoneInfo("UTC")
DATE_TIME = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Metric:
    """One ``st.metric`` of a metric row (sessions totals, session detail, cost dashboard)."""

    label: str
    value: str
    help: str | None = None


def counted(n: int, word: str) -> str:
    """A count with its noun, grouped by thousands: ``"1 meeting"``, ``"30,006 sessions"``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def fmt_tokens(value: int | None) -> str:
    """Format a token count compactly.

    Args:
        value: Number of tokens (None = not recorded).

    Returns:
        e.g. ``"950"``, ``"1.5k"``, ``"12.3k"``, ``"123k"``, ``"4.6M"``, ``"–"`` for None.
    """
    if value is None:
        return MISSING
    sign = "-" if value < 0 else ""
    n = abs(int(value))
    if n < 1000:
        return f"{sign}{n}"
    text, unit = str(n), ""
    for divisor, suffix in ((1_000, "k"), (1_000_000, "M"), (1_000_000_000, "B")):
        scaled = n / divisor
        text, unit = (f"{scaled:.0f}" if scaled >= 99.95 else f"{scaled:.1f}"), suffix
        if float(text) < 1000:
            break
    if text.endswith(".0"):
        text = text[:-2]
    return f"{sign}{text}{unit}"


def fmt_ms(value: float | None) -> str:
    """Format a duration given in milliseconds.

    Args:
        value: Milliseconds (None = not measured).

    Returns:
        e.g. ``"850 ms"``, ``"1.2 s"``, ``"2 min 5 s"``, ``"–"`` for None.
    """
    if value is None or math.isnan(value):
        return MISSING
    if value < 999.5:  # compared as shown: 999.6 ms is "1.0 s", not "1000 ms"
        return f"{value:.0f} ms"
    seconds = value / 1000
    if seconds < 59.95:  # and 59.96 s is "1 min", not "60.0 s"
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def fmt_ago(moment: datetime | None, now: datetime | None = None) -> str:
    """Format how long ago ``moment`` was.

    Args:
        moment: The past time (naive values are taken as UTC).
        now: The reference time (default: now, UTC).

    Returns:
        e.g. ``"just now"``, ``"5 min ago"``, ``"3 h ago"``, ``"2 d ago"``, or the date
        (``"2026-11-01"``) beyond 30 days; ``"–"`` for None.
    """
    if moment is None:
        return MISSING
    now = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 30 * 86400:
        return f"{int(seconds // 86400)} d ago"
    return moment.astimezone(UTC).date().isoformat()


@functools.cache
def _zone_names() -> frozenset[str]:
    # "localtime" is the server's own zone, never a browser's.
    return frozenset(available_timezones() - {"localtime"})


def resolve_zone(name: object) -> ZoneInfo:
    """The time zone a browser reported, or UTC when it is missing or not a known IANA name.

    Args:
        name: An IANA zone name such as ``"America/New_York"`` (``st.context.timezone``), or
            None. Anything else (unknown names, paths, non-strings) falls back to UTC.

    Returns:
        The zone (``ZoneInfo("UTC")`` on fallback); its ``key`` is the zone's name.
    """
    if not name:
        return UTC_ZONE
    if isinstance(name, str) and name in _zone_names():
        try:
            return ZoneInfo(name)
        except (LookupError, ValueError, OSError):  # listed but unreadable tzdata
            pass
    logger.debug("timezone=<%r> | unknown time zone, using utc", name)
    return UTC_ZONE


def zone_abbreviation(moment: datetime, zone: ZoneInfo) -> str:
    """The zone's short name at ``moment``: ``"EST"``, ``"CEST"``, ``"UTC"``.

    Zones without a letter abbreviation (tzdata writes ``"-03"``, ``"+1030"``) get ``"UTC-03"``,
    ``"UTC+10:30"`` (:func:`~assistant.context.meeting_zone.zone_name`).

    Args:
        moment: The instant (naive values are taken as UTC).
        zone: The zone.

    Returns:
        The abbreviation in force at that instant.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return zone_name(moment.astimezone(zone))


def fmt_datetime(moment: datetime, zone: ZoneInfo = UTC_ZONE, fmt: str = DATE_TIME) -> str:
    """Format an instant as wall-clock time in ``zone``, followed by the zone's abbreviation.

    Args:
        moment: The instant (naive values are taken as UTC).
        zone: Where the reader is (see :func:`resolve_zone`); default UTC.
        fmt: ``strftime`` format of the date and time part.

    Returns:
        e.g. ``"2026-11-25 09:05 EST"`` (``fmt_datetime(t, ZoneInfo("America/New_York"))``),
        ``"14:05:03 UTC"`` (``fmt="%H:%M:%S"``).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(zone).strftime(fmt)} {zone_abbreviation(moment, zone)}"


_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value made safe for a CSV that may be opened in a spreadsheet.

    Text starting with ``= + - @`` (or a tab / carriage return) would run as a formula in
    Excel or Sheets, so a display name or title chosen by one user could act on the admin
    who downloads the file: such text gets a leading apostrophe (OWASP's advice). Numbers,
    including negative ones, are left alone; None becomes an empty cell.

    Args:
        value: A cell value.

    Returns:
        The value to write.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_LEADS):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def nothing_ahead(days: int, *, address: bool = False) -> str:
    """What the page and the CLI say of a calendar just connected with no meeting in the next
    ``days`` days (``Connection.meetings_ahead`` 0), after its subject; ``address``: an iCal
    address could be used instead of an export."""
    instead = " (or an address)" if address else ""
    return (
        f"no meetings in the next {days} days: if you expected some, use an export{instead} "
        "that covers the coming weeks."
    )
