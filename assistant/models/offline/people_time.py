"""What the meetings an answer lists cost in people's time ("How much do my meetings cost this week?").

The meetings tool prices each meeting as the Prep queue does (``people_cost_usd``: attendee-hours
× hourly rate) and says how (``people_time_cost.basis``); the answer adds up the meetings it
shows, which may be fewer than the tool listed (a day asked for). Without this, "cost" read as
the department budget.
"""

from __future__ import annotations

from typing import Any

from assistant.markdown_text import literal


def _hours(minutes: int) -> str:
    hours, rest = divmod(max(0, minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest} min"


def people_time(meetings: list[dict[str, Any]], data: dict[str, Any]) -> str:
    """One paragraph: the meetings' cost in people's time, your hours in them, and how it is counted."""
    priced = [m for m in meetings if isinstance(m.get("people_cost_usd"), (int, float))]
    if not priced:
        return "None of these meetings has a cost in people's time (all-day events are not priced)."
    total = sum(float(m["people_cost_usd"]) for m in priced)
    minutes = sum(int(m.get("duration_minutes") or 0) for m in priced)
    these = "this meeting" if len(meetings) == 1 else f"these {len(priced)} meetings"
    line = f"**People's time:** ${total:,.0f} for {these} ({_hours(minutes)} of yours)."
    left_out = len(meetings) - len(priced)
    if left_out:
        line += f" {left_out} all-day event{'s are' if left_out != 1 else ' is'} not priced."
    cost = data.get("people_time_cost")
    basis = cost.get("basis") if isinstance(cost, dict) else None
    if basis:
        line += f" Counted as {literal(basis)}. This is the time's cost, not the budget."
    return line


__all__ = ["people_time"]
