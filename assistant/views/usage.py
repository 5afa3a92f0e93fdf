"""What the cost dashboard and the what-if section show, as plain tables (Streamlit-free).

Each chart of ``app_pages/sessions.py`` is drawn from one :class:`ChartTable` built here, and
the same table is what its "Download CSV" button serves, so the figure and the file always
agree. Users are shown by email, models by their price-table label, costs in US dollars,
durations in milliseconds; days are UTC days. :func:`costs_csv` is the CLI's export of the
ledger's sums per day, user and model (``python -m assistant sessions costs --csv``).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TextIO

from sqlalchemy import Engine

from assistant.inputs import clean_display_text
from assistant.sessions.base import to_utc
from assistant.usage.dashboard import Dashboard
from assistant.usage.rollups import usage_groups
from assistant.usage.whatif import WhatIfEstimate
from assistant.views.format import Metric, counted, csv_cell, fmt_cost, fmt_tokens
from assistant.views.models import OFFLINE_LABEL

logger = logging.getLogger(__name__)

ESTIMATE_NOTE = "Estimate from recorded token counts"
SESSION_COST_NOTE = "Sessions last active in this period, each at its whole cost (calls before the period included)."
LEDGER_NOTE = (
    "Every model call of the period, those of sessions deleted since included (they were billed), "
    "so it can be more than the sessions table's total."
)

# a downloaded table's days are UTC days (the budget's and the charts' "Day (UTC)"); its header says so
CSV_HEADERS = {"day": "day_utc"}


@dataclass(frozen=True)
class ChartTable:
    """Rows behind one chart (also its CSV download).

    Attributes:
        columns: Column names (CSV header).
        rows: One tuple per row, in column order.
    """

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def __bool__(self) -> bool:
        """Whether the table has rows."""
        return bool(self.rows)

    def as_dict(self) -> dict[str, list[Any]]:
        """Column name -> values (what plotly express and ``st.dataframe`` take)."""
        return {c: [r[i] for r in self.rows] for i, c in enumerate(self.columns)}

    def to_csv(self) -> str:
        """The table as CSV text (header line first, ``day`` named ``day_utc``; None becomes an
        empty cell; text that a spreadsheet would run as a formula is quoted, see :func:`csv_cell`)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_HEADERS.get(c, c) for c in self.columns)
        for row in self.rows:
            writer.writerow([csv_cell(v) for v in row])
        return buffer.getvalue()


def _identity(value: str) -> str:
    return value


def dashboard_metrics(d: Dashboard, *, all_free: bool) -> list[Metric]:
    """The metric row of the dashboard: cost, tokens, calls, sessions.

    Args:
        d: The dashboard.
        all_free: Every call of the period used a free model (the offline demo model).

    Returns:
        The metrics.
    """
    t = d.totals
    cost_help: str
    if t.calls and t.unknown_cost_calls == t.calls:
        cost, cost_help = "unknown", "No call of this period used a priced model."
    elif t.unknown_cost_calls:
        cost = f"≥ {fmt_cost(t.cost_usd)}"
        cost_help = f"{t.unknown_cost_calls:,} call(s) used a model without a price and are not included."
    else:
        cost = fmt_cost(t.cost_usd)
        cost_help = f"$0.00: the {OFFLINE_LABEL} is free." if all_free and t.calls else ""
    return [
        Metric("Total cost", cost, f"{cost_help} {LEDGER_NOTE}".strip()),
        Metric("Tokens", fmt_tokens(t.tokens), f"{t.tokens:,} tokens (input, output and cache)"),
        Metric("Input / output", f"{fmt_tokens(t.input_tokens)} / {fmt_tokens(t.output_tokens)}"),
        Metric("Model calls", f"{t.calls:,}", "Failed calls included: they are recorded and billed."),
        Metric("Sessions", f"{d.session_costs.sessions + d.session_costs.unknown_cost_sessions:,}"),
    ]


def cost_by_day_table(d: Dashboard, label: Callable[[str], str] = _identity) -> ChartTable:
    """Cost and tokens per UTC day and model (the stacked bar chart).

    Args:
        d: The dashboard.
        label: Model id -> readable model name.

    Returns:
        Columns ``day, model, cost_usd, tokens, calls, unknown_cost_calls``; every day of the
        period for every model used in it (zeros included), empty when nothing was used.
    """
    rows = [
        (c.day, label(c.model_id), round(c.cost_usd, 8), c.tokens, c.calls, c.unknown_cost_calls) for c in d.cost_by_day
    ]
    return ChartTable(("day", "model", "cost_usd", "tokens", "calls", "unknown_cost_calls"), rows)


def unpriced_note(unknown_cost_calls: int) -> str:
    """What the cost-per-day chart's hover adds to a day of calls on a model without a price.

    Args:
        unknown_cost_calls: That day's calls of that model whose cost is unknown.

    Returns:
        ``"<br>2 calls without a price: cost unknown"``, or ``""`` when every call was priced.
    """
    return f"<br>{counted(unknown_cost_calls, 'call')} without a price: cost unknown" if unknown_cost_calls else ""


def _edge(value: float) -> str:
    if value >= 1:
        return f"{value:,.0f}"
    return f"{value:.3f}".rstrip("0").rstrip(".") if value < 0.01 else f"{value:.2f}"


def bucket_label(low: float, high: float | None) -> str:
    """A short, readable cost bucket, e.g. "$0.01–0.05", "under $0.001" or "$5 and more".

    Args:
        low: Inclusive lower edge (US dollars).
        high: Exclusive upper edge (None = open).

    Returns:
        The label.
    """
    if high is None:
        return f"${_edge(low)} and more"
    if low == 0:
        return f"under ${_edge(high)}"
    return f"${_edge(low)}–{_edge(high)}"


def session_cost_table(d: Dashboard) -> ChartTable:
    """Sessions per cost bucket (the cost-per-session histogram).

    Args:
        d: The dashboard.

    Returns:
        Columns ``cost_range, sessions, low_usd, high_usd``; empty when no session is priced.
    """
    rows = [(bucket_label(b.low, b.high), b.sessions, b.low, b.high) for b in d.session_costs.buckets]
    return ChartTable(("cost_range", "sessions", "low_usd", "high_usd"), rows)


def top_users_table(d: Dashboard, emails: Mapping[str, str | None], *, by_tokens: bool = False) -> ChartTable:
    """Top users by cost (admins), highest first.

    Args:
        d: The dashboard (``top_users`` is only filled for an all-users scope).
        emails: User id -> email, to show people rather than ids.
        by_tokens: Rank by tokens instead (when every call was free, costs cannot rank anyone).

    Returns:
        Columns ``user, user_id, cost_usd, tokens, calls, unknown_cost_calls``.
    """
    rows = [
        (
            clean_display_text(emails.get(u.user_id) or u.user_id),
            u.user_id,
            round(u.cost_usd, 8),
            u.tokens,
            u.calls,
            u.unknown_cost_calls,
        )
        for u in d.top_users
    ]
    if by_tokens:
        rows.sort(key=lambda r: (-r[3], r[1]))
    return ChartTable(("user", "user_id", "cost_usd", "tokens", "calls", "unknown_cost_calls"), rows)


LATENCY_SERIES: tuple[tuple[str, str], ...] = (
    ("latency_p50_ms", "Answer time p50"),
    ("latency_p95_ms", "Answer time p95"),
    ("ttft_p50_ms", "First token p50"),
    ("ttft_p95_ms", "First token p95"),
)


def latency_table(d: Dashboard) -> ChartTable:
    """p50/p95 model-call latency and time to first token per UTC day (long form, for lines).

    Args:
        d: The dashboard.

    Returns:
        Columns ``day, series, ms``; days without measured calls are left out, empty when
        nothing was measured.
    """
    rows: list[tuple[Any, ...]] = []
    for day in d.latency_by_day:
        for attr, name in LATENCY_SERIES:
            value = getattr(day, attr)
            if value is not None:
                rows.append((day.day, name, round(float(value), 1)))
    return ChartTable(("day", "series", "ms"), rows)


def budget_table(d: Dashboard, emails: Mapping[str, str | None]) -> ChartTable:
    """Each user's spend per UTC day against the daily budget.

    Args:
        d: The dashboard (``budget_use`` filled when a budget was given).
        emails: User id -> email.

    Returns:
        Columns ``day, user, user_id, spend_usd, budget_usd, percent_of_budget, over_budget,
        unknown_cost_calls`` (calls without a price, not in the spend, as the cost-per-day table says).
    """
    rows = [
        (
            b.day,
            clean_display_text(emails.get(b.user_id) or b.user_id),
            b.user_id,
            round(b.spend_usd, 8),
            b.budget_usd,
            None if b.fraction is None else round(b.fraction * 100, 1),
            b.over_budget,
            b.unknown_cost_calls,
        )
        for b in d.budget_use
    ]
    columns = ("day", "user", "user_id", "spend_usd", "budget_usd", "percent_of_budget", "over_budget")
    return ChartTable((*columns, "unknown_cost_calls"), rows)


def all_free(d: Dashboard, is_free: Callable[[str], bool]) -> bool:
    """Whether every call of the period used a free model (nothing to chart in dollars).

    Args:
        d: The dashboard.
        is_free: Model id -> whether its price is $0.

    Returns:
        True when there were calls and all of them were free.
    """
    used = {c.model_id for c in d.cost_by_day if c.calls}
    return bool(used) and all(is_free(m) for m in used)


@dataclass(frozen=True)
class WhatIfView:
    """The what-if section: one estimate per model next to the actual cost.

    Attributes:
        actual_text: What the period really cost ("$0.00", "≥ $1.20", "unknown").
        table: Columns ``model, estimated_cost_usd, difference_usd`` (cheapest first).
        sentences: "This period on Amazon Nova Lite would have cost $0.0123."
    """

    actual_text: str
    table: ChartTable
    sentences: list[str]


def what_if_view(estimates: Sequence[WhatIfEstimate], actual_cost_usd: float, unknown_cost_calls: int) -> WhatIfView:
    """Put the what-if estimates next to the actual cost.

    Args:
        estimates: Output of ``what_if`` (cheapest first).
        actual_cost_usd: Priced cost of the same period and scope.
        unknown_cost_calls: Calls of the period without a price (the actual is then a lower bound).

    Returns:
        The :class:`WhatIfView`; the difference column is None when the actual is not fully known.
    """
    if unknown_cost_calls and actual_cost_usd == 0:
        actual_text = "unknown"
    elif unknown_cost_calls:
        actual_text = f"≥ {fmt_cost(actual_cost_usd)}"
    else:
        actual_text = fmt_cost(actual_cost_usd)
    rows: list[tuple[Any, ...]] = []
    sentences: list[str] = []
    for e in estimates:
        diff = None if unknown_cost_calls else round(e.estimated_cost_usd - actual_cost_usd, 8)
        rows.append((e.label, round(e.estimated_cost_usd, 8), diff))
        sentences.append(f"This period on {e.label} would have cost {fmt_cost(e.estimated_cost_usd)}.")
    return WhatIfView(actual_text, ChartTable(("model", "estimated_cost_usd", "difference_usd"), rows), sentences)


CSV_COLUMNS = (
    "day_utc",
    "user_id",
    "model_id",
    "calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "unknown_cost_calls",
)


def costs_csv(
    engine: Engine,
    *,
    since: datetime | date,
    until: datetime | date | None = None,
    user_id: str | None = None,
    out: TextIO | None = None,
) -> str:
    """CSV of costs per UTC day, user and model (``python -m assistant sessions costs --csv``).

    Args:
        engine: The database.
        since: First day/time included (a date means its UTC midnight).
        until: End (exclusive); default: now.
        user_id: One user, or None for all users.
        out: Also write the CSV to this stream.

    Returns:
        The CSV text (header line, then one line per group; ``cost_usd`` is empty when every
        call of the group is unpriced).
    """
    start = _as_datetime(since)
    end = _as_datetime(until) if until is not None else datetime.now(UTC)
    groups = usage_groups(engine, since=start, until=end, user_id=user_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for g in groups:
        priced = g.calls - g.unknown_cost_calls
        writer.writerow(
            [
                g.day,
                csv_cell(g.user_id),
                csv_cell(g.model_id),
                g.calls,
                g.input_tokens,
                g.output_tokens,
                g.cache_read_tokens,
                g.cache_write_tokens,
                f"{g.cost_usd:.8f}" if priced else "",
                g.unknown_cost_calls,
            ]
        )
    text = buffer.getvalue()
    if out is not None:
        out.write(text)
    return text


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)
