"""The budget's table on My context: one row per area, sized to the page, and its notes under it.

The table had a Notes column 400 px wide after eight others: 1,300 px of columns, wider than the
page on a desktop (977 px for the table at 1440 px) or a laptop, so the flags were cut and every
note was off to the right, seen only by scrolling the table sideways. The figures stay in the
table, at widths that fit; the notes, free text of any length, are written under it and wrap.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from assistant.context.amounts import CURRENCY_SIGNS
from assistant.context.budget import BudgetStatus
from assistant.views.markdown import plain_text

NOTES_SCROLL_AFTER = 8  # more notes than this scroll in a box of their own instead of lengthening the page
NOTES_BOX_PX = 260


def flags_text(status: BudgetStatus) -> str:
    """ "over budget, spending ahead of plan" for the flags, "–" for none."""
    return ", ".join(f.replace("_", " ") for f in status.flags) or "–"


def draw_budget_table(statuses: list[BudgetStatus], key: str) -> None:
    """Draw the areas' figures as a table that fits the page, then their notes (``key``-notes).

    Args:
        statuses: The areas with their computed figures, in file order.
        key: The table's key; the notes' container is keyed ``{key}-notes``.
    """
    sign = CURRENCY_SIGNS.get(statuses[0].currency, statuses[0].currency) if statuses else "$"
    data = pd.DataFrame(
        [
            {
                "Area": s.name,
                "Owner": s.owner,
                "Plan": s.annual_budget,
                "Actual": s.spent_ytd,
                "Forecast": s.forecast,
                "Used": s.utilisation_pct,
                "Forecast vs plan": s.forecast_variance_pct,
                "Flags": flags_text(s),
            }
            for s in statuses
        ]
    )
    st.dataframe(
        data,
        key=key,
        hide_index=True,
        width="stretch",
        column_config={
            "Plan": st.column_config.NumberColumn(f"Plan ({sign})", format="localized"),
            "Actual": st.column_config.NumberColumn(f"Actual ({sign})", format="localized"),
            "Forecast": st.column_config.NumberColumn(f"Forecast ({sign})", format="localized"),
            "Used": st.column_config.ProgressColumn("Used", min_value=0, max_value=100, format="%.0f%%", width="small"),
            "Forecast vs plan": st.column_config.NumberColumn(
                "vs plan", format="%+.1f%%", help="Forecast against the full-year plan"
            ),
        },
    )
    _draw_notes(statuses, key)


def _draw_notes(statuses: list[BudgetStatus], key: str) -> None:
    """The notes of the areas that have some, as "**Area**: note" lines (file text, shown as typed)."""
    noted = [s for s in statuses if s.notes.strip()]
    if not noted:
        return
    many = len(noted) > NOTES_SCROLL_AFTER
    with st.container(key=f"{key}-notes", height=NOTES_BOX_PX if many else "content", border=many):
        st.markdown("**Notes**")
        st.markdown("\n".join(f"- **{plain_text(s.name)}**: {plain_text(s.notes)}" for s in noted))
