"""What the sessions page shows, as plain functions (Streamlit-free, unit-tested).

``app_pages/sessions.py`` only reads widget state, calls these functions and draws. Everything
worth a test lives here: role scoping (a user only ever queries their own sessions; admins
may query everyone's, read-only), the filter built from the widgets, paging text, the rows
of the sessions table. The opened session's detail is :mod:`assistant.views.session_detail`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Engine

from assistant.dates import short_day
from assistant.db import sessions
from assistant.inputs import clean_display_text
from assistant.sessions.base import UNTITLED, SessionState
from assistant.sessions.queries import PageCursor, SessionFilter, SessionRow, SessionTotals
from assistant.sessions.search import search_words
from assistant.usage.pricing import PriceTable
from assistant.views.format import Metric, fmt_cost, fmt_tokens
from assistant.views.models import OFFLINE_LABEL, model_view

logger = logging.getLogger(__name__)

OFFLINE_FREE_NOTE = f"{OFFLINE_LABEL} is free"
LOCAL_FREE_NOTE = "local models (Ollama, a local OpenAI-compatible server) are free"
FREE_MODELS_NOTE = f"{OFFLINE_LABEL} and local models are free"
ERRORS_HELP = "Model calls that failed (they are still billed and recorded)."  # the table's and the detail's
STATES: tuple[SessionState, ...] = ("active", "completed", "expired")
STATE_LABELS: dict[str, str] = {"active": "Active", "completed": "Completed", "expired": "Expired"}
# a session whose stored conversation is missing or unreadable (the S3 store marks it): opening it
# says so, and the table must not call it "Active" first
DAMAGED_LABEL = "Damaged"
PAGE_SIZES: tuple[int, ...] = (25, 50, 100)
SORT_LABELS: dict[str, str] = {
    "updated_at": "Last activity",
    "created_at": "Started",
    "title": "Title",
    "state": "State",
    "turn_count": "Turns",
    "input_tokens": "Input tokens",
    "output_tokens": "Output tokens",
    "cost_usd": "Cost",
}
TABLE_PERIODS: tuple[str, ...] = ("Any time", "Today", "Last 7 days", "Last 30 days", "Last 90 days", "Custom range")
DASHBOARD_PERIODS: tuple[str, ...] = ("Last 7 days", "Last 30 days", "Last 90 days", "Custom range")
_PERIOD_DAYS: dict[str, int] = {"Today": 1, "Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}


class Viewer(Protocol):
    """Who is looking: what the page knows of the signed-in identity."""

    @property
    def user_id(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


# --------------------------------------------------------------------------- role scoping
def scoped_user_id(viewer: Viewer, requested: str | None = None) -> str | None:
    """The ``user_id`` to pass to the queries for this viewer.

    A user always gets their own id, whatever was requested (so a forged widget value can
    never widen the scope). An admin gets the requested user, or None for every user.

    Args:
        viewer: The signed-in identity.
        requested: The user picked in the admin user filter (None = all users).

    Returns:
        A user id, or None (all users) for admins only.
    """
    if not viewer.is_admin:
        return viewer.user_id
    return requested or None


def open_scope(viewer: Viewer) -> str | None:
    """The ``user_id`` to open a single session with (None = admin read of any session).

    Args:
        viewer: The signed-in identity.

    Returns:
        The viewer's id for users, None for admins.
    """
    return None if viewer.is_admin else viewer.user_id


# --------------------------------------------------------------------------- filter and paging
def period_bounds(
    period: str, today: date, custom: Sequence[date] | None = None, zone: tzinfo = UTC
) -> tuple[datetime | None, datetime | None]:
    """Bounds ``[since, until)`` of a period picked on the page, days starting at midnight in ``zone``.

    Args:
        period: One of :data:`TABLE_PERIODS` or :data:`DASHBOARD_PERIODS`.
        today: Today's date in ``zone``.
        custom: ``(first_day, last_day)`` (both inclusive) for "Custom range"; a single
            day or nothing picked yet counts as that day / no bound.
        zone: Whose days: UTC for the dashboard (UTC days, like the daily budget), the
            reader's zone for the sessions table (whose times are shown in it).

    Returns:
        ``(since, until)``; ``(None, None)`` for "Any time".

    Raises:
        ValueError: Unknown period name.
    """
    if period == "Any time":
        return None, None
    if period == "Custom range":
        days = [d for d in (custom or ()) if d is not None]
        if not days:
            return None, None
        first, last = min(days), max(days)
        return _midnight(first, zone), _midnight(last + timedelta(days=1), zone)
    if period not in _PERIOD_DAYS:
        raise ValueError(f"Unknown period {period!r}; choose one of: {', '.join(TABLE_PERIODS)}.")
    n = _PERIOD_DAYS[period]
    return _midnight(today - timedelta(days=n - 1), zone), _midnight(today + timedelta(days=1), zone)


def _midnight(day: date, zone: tzinfo = UTC) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def build_filter(
    viewer: Viewer,
    *,
    user: str | None = None,
    text: str | None = None,
    states: Sequence[str] = (),
    models: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    sort: str = "updated_at",
    descending: bool = True,
    page: int = 0,
    page_size: int = PAGE_SIZES[0],
    meeting_id: str | None = None,
    after: PageCursor | None = None,
) -> SessionFilter:
    """The sessions-table query for what the viewer picked, scoped to what they may see.

    Args:
        viewer: The signed-in identity (users are always limited to their own sessions).
        user: Admin user filter (ignored for users).
        text: Transcript search text.
        states: States to keep (unknown values are dropped).
        models: Models to keep.
        since: Lower bound on the last activity (UTC).
        until: Upper bound (exclusive).
        sort: A key of :data:`SORT_LABELS`.
        descending: Sort direction.
        page: Zero-based page number.
        page_size: Rows per page.
        meeting_id: Only the prep sessions of this meeting.
        after: The previous page's ``next_cursor`` (keyset paging; None = by offset).

    Returns:
        The :class:`SessionFilter` to pass to ``list_sessions``.
    """
    return SessionFilter(
        user_id=scoped_user_id(viewer, user),
        text=(text or "").strip() or None,
        states=tuple(s for s in STATES if s in states),
        models=tuple(models),
        since=since,
        until=until,
        meeting_id=meeting_id or None,
        sort=sort if sort in SORT_LABELS else "updated_at",
        descending=descending,
        limit=page_size,
        offset=max(0, page) * page_size,
        after=after if page > 0 else None,
    )


@dataclass(frozen=True)
class PageInfo:
    """Where one page sits in the filtered set.

    Attributes:
        page: Zero-based page number, clamped to the last page.
        pages: Number of pages (at least 1).
        offset: Rows skipped.
        text: "Showing 51–100 of 1,234" (or "No sessions").
    """

    page: int
    pages: int
    offset: int
    text: str

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 0

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page + 1 < self.pages


def page_info(page: int, page_size: int, total: int, approximate: bool = False) -> PageInfo:
    """Clamp a page number to the filtered set and describe it.

    Args:
        page: The requested zero-based page.
        page_size: Rows per page.
        total: Number of matching sessions.
        approximate: ``total`` is an estimate (a search with many matches): "of about N".

    Returns:
        The :class:`PageInfo`.
    """
    pages = max(1, -(-total // page_size))
    page = min(max(0, page), pages - 1)
    offset = page * page_size
    if total == 0:
        return PageInfo(0, 1, 0, "No sessions")
    first, last = offset + 1, min(total, offset + page_size)
    about = "about " if approximate else ""
    return PageInfo(page, pages, offset, f"Showing {first:,}–{last:,} of {about}{total:,}")


def search_bound_note(totals: SessionTotals, text: str | None) -> str | None:
    """What a search of short words did not look through, or None when it searched the whole list.

    Words all shorter than three letters ("q3") cannot be looked up in the search index, so the
    search checks the first sessions of the list only (``SessionTotals.searched``).
    """
    if totals.searched is None:
        return None
    words = " ".join(search_words(text))
    return (
        f"Only the first {totals.searched:,} sessions of this list were searched: "
        f"“{clean_display_text(words, 40)}” is too short to look up in the whole history. "
        "Add a word of three letters or more to search every session."
    )


# --------------------------------------------------------------------------- labels
def row_cost_text(row: SessionRow) -> str:
    """The cost cell of one session: never $0 for an unknown price.

    Args:
        row: The session row.

    Returns:
        "$0.0123", "$0.00", "unknown", or "≥ $0.25" when part of the session is unpriced.
    """
    if row.cost_usd is not None:
        return fmt_cost(row.cost_usd)
    if row.known_cost_usd > 0:
        return f"≥ {fmt_cost(row.known_cost_usd)}"
    return "unknown"


def totals_cost_text(totals: SessionTotals) -> str:
    """Total cost of the filtered set (a lower bound when some sessions are unpriced).

    Args:
        totals: The totals of ``list_sessions``.

    Returns:
        "$1.23", "unknown" (nothing priced) or "≥ $1.23".
    """
    if totals.unknown_cost_sessions == 0:
        return fmt_cost(totals.cost_usd)
    if totals.cost_usd > 0:
        return f"≥ {fmt_cost(totals.cost_usd)}"
    return "unknown"


def totals_metrics(totals: SessionTotals) -> list[Metric]:
    """The metric row above the sessions table.

    Args:
        totals: Sums over the whole filtered set.

    Returns:
        Sessions, turns, input tokens, output tokens, cost and errors.
    """
    unknown = totals.unknown_cost_sessions
    cost_help = "Sum of the priced model calls of the filtered sessions."
    if unknown:
        cost_help += f" {unknown} session{'s' if unknown != 1 else ''} used a model without a price: not included."
    metrics = [
        Metric("Sessions", f"{totals.sessions:,}"),
        Metric("Turns", f"{totals.turns:,}"),
        Metric("Input tokens", fmt_tokens(totals.input_tokens), f"{totals.input_tokens:,} tokens"),
        Metric("Output tokens", fmt_tokens(totals.output_tokens), f"{totals.output_tokens:,} tokens"),
        Metric("Cost", totals_cost_text(totals), cost_help),
        Metric("Errors", f"{totals.errors:,}", ERRORS_HELP),
    ]
    if not totals.approximate:
        return metrics
    note = "Estimated from the most recent matching sessions: this search matches many."
    return [Metric(m.label, f"about {m.value}", f"{m.help} {note}" if m.help else note) for m in metrics]


# --------------------------------------------------------------------------- table rows
TABLE_COLUMNS: tuple[str, ...] = (
    "Title",
    "User",
    "State",
    "Last activity",
    "Turns",
    "Cost",
    "Input tokens",
    "Output tokens",
    "Models",
    "Avg latency",
    "TTFT p50",
    "TTFT p95",
    "Errors",
    "Started",
)


def table_rows(
    rows: Sequence[SessionRow],
    *,
    label: Callable[[str], str],
    user_label: Callable[[SessionRow], str] | None = None,
) -> list[dict[str, Any]]:
    """The rows of the sessions table, in page order (plain values; the page formats them).

    Args:
        rows: One page of ``list_sessions``.
        label: Model id -> readable name (``model_view(m, prices).label``).
        user_label: Row -> who owns it (admins); None leaves the "User" column out.

    Returns:
        One dict per session with an ``id`` key plus the :data:`TABLE_COLUMNS`
        (times are aware UTC datetimes, latencies milliseconds or None).
    """
    out: list[dict[str, Any]] = []
    for r in rows:
        item: dict[str, Any] = {
            "id": r.id,
            "Title": " ".join(r.title.split()) or UNTITLED,
            "State": DAMAGED_LABEL if r.damaged else STATE_LABELS.get(r.state, r.state.capitalize()),
            "Started": r.created_at,
            "Last activity": r.updated_at,
            "Turns": r.turn_count,
            "Input tokens": r.input_tokens,
            "Output tokens": r.output_tokens,
            "Cost": row_cost_text(r),
            "Models": [label(m) for m in r.models],
            "Avg latency": _round(r.avg_latency_ms),
            "TTFT p50": _round(r.ttft_p50_ms),
            "TTFT p95": _round(r.ttft_p95_ms),
            "Errors": r.errors,
        }
        if user_label is not None:
            item["User"] = clean_display_text(user_label(r))
        out.append(item)
    return out


def started_format(rows: Sequence[SessionRow], today: date, zone: tzinfo) -> str:
    """The "Started" column's date format (moment.js): with the year when a row started in another year.

    Sorted oldest first, a heavy user's year-old sessions read "6 Dec, 06:43", as today's do. The day
    comes first, as on the other pages ("Mon 7 Dec", "26 Dec 2026").

    Args:
        rows: The page's rows.
        today: Today in the reader's zone.
        zone: The reader's zone (the column's times are shown in it).

    Returns:
        ``"D MMM, HH:mm"`` when every row started this year, else ``"D MMM YYYY, HH:mm"``.
    """
    if all(r.created_at.astimezone(zone).year == today.year for r in rows):
        return "D MMM, HH:mm"
    return "D MMM YYYY, HH:mm"


def prepared_meeting_label(title: str, start: datetime, zone: tzinfo) -> str:
    """A prepared meeting as the sessions page's filter offers it: its title and its day in the reader's zone.

    Args:
        title: The meeting's title (other people's text: the filter draws it as plain text).
        start: When it starts.
        zone: The reader's zone.

    Returns:
        e.g. "1:1 with Marcus · Mon 7 Dec 2026" (the occurrences of a series differ by their day).
    """
    local = start.astimezone(zone)
    return f"{title} · {short_day(local)} {local:%Y}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def table_columns(show_user: bool) -> list[str]:
    """The visible columns, in order.

    Args:
        show_user: Whether the "User" column is shown (admins).

    Returns:
        Column names.
    """
    return [c for c in TABLE_COLUMNS if show_user or c != "User"]


def free_note(rows: Sequence[SessionRow], prices: PriceTable) -> str | None:
    """The note shown under the table when some $0.00 costs come from the offline demo model.

    Args:
        rows: The page's rows.
        prices: The price table.

    Returns:
        "$0.00: offline demo model is free", or None when no row is a free-model session.
    """
    free = [model_view(m, prices) for r in rows if r.cost_usd == 0 for m in r.models]
    if not free or not any(r.cost_usd == 0 and all(model_view(m, prices).is_free for m in r.models) for r in rows):
        return None
    local = any(v.is_local for v in free if v.is_free)
    offline = any(not v.is_local for v in free if v.is_free)
    note = FREE_MODELS_NOTE if local and offline else LOCAL_FREE_NOTE if local else OFFLINE_FREE_NOTE
    return f"$0.00: {note}"


# --------------------------------------------------------------------------- users (admin filter)
@dataclass(frozen=True)
class UserOption:
    """A user in the admin user filter."""

    user_id: str
    email: str | None

    @property
    def label(self) -> str:
        """The email when known, else the id."""
        return self.email or self.user_id


def user_directory(engine: Engine) -> list[UserOption]:
    """Every user with at least one session (for the admin user filter), by email.

    Args:
        engine: The database.

    Returns:
        Users sorted by label.
    """
    stmt = sa.select(sessions.c.user_id, sa.func.max(sessions.c.user_email)).group_by(sessions.c.user_id)
    with engine.connect() as conn:
        users = [UserOption(r[0], clean_display_text(r[1]) or None) for r in conn.execute(stmt)]
    return sorted(users, key=lambda u: (u.label.lower(), u.user_id))
