"""Dollar amounts as every page, message and CLI line writes them (the chat's limits use it, below the views)."""

from __future__ import annotations

import math

UNKNOWN = "unknown"


def fmt_cost(value: float | None) -> str:
    """Format a US dollar amount with enough digits to be meaningful.

    Amounts of $1 or more get cents; smaller amounts keep two significant digits past
    the leading zeros. An unknown cost is never shown as $0.

    Args:
        value: Dollars, or None when the price is unknown.

    Returns:
        e.g. ``"$0.0123"``, ``"$0.50"``, ``"$1,234.57"``, ``"$0.00"``, ``"unknown"``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNKNOWN
    if value == 0:
        return "$0.00"
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount >= 1:
        return f"{sign}${amount:,.2f}"
    decimals = min(8, max(2, -math.floor(math.log10(amount)) + 2))
    text = f"{amount:.{decimals}f}"
    if float(text) == 0:
        return f"{sign}<$0.00000001"
    whole, frac = text.split(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"{sign}${whole}.{frac}"
