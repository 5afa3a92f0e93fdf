"""My context page (thin): what the Meeting Coordinator knows about the signed-in user, editable.

Sections: the calendar (drawn by ``ui.calendar_panel`` when that module exists), big rocks in an
editable table, and the budget from an uploaded CSV or XLSX with downloadable templates. A user
with nothing saved sees the demo data, labelled as such; "Load demo data" copies it into their
own rows and "Clear" goes back to it. Every rule (checks, versions, conversions) lives in
:mod:`assistant.context`; saves name the version this tab read, so another tab's change is
reported instead of overwritten.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from assistant.config import get_settings
from assistant.context.amounts import CURRENCY_SIGNS
from assistant.context.big_rocks import read_rock_entries
from assistant.context.budget import (
    BudgetStatus,
    budget_statuses,
    budget_summary,
    largest_gaps_first,
    read_budget_file,
)
from assistant.context.budget_io import BudgetRow, budget_file_of, read_budget_upload, rows_of_budget_file
from assistant.context.budget_templates import budget_template_csv, budget_template_xlsx
from assistant.context.data_files import DataFileError
from assistant.context.rocks_io import COLUMNS as ROCK_COLUMNS
from assistant.context.rocks_io import HEADERS as ROCK_HEADERS
from assistant.context.rocks_io import STATUS_LABELS, RockRow, rows_of_rock_entries, validate_rock_rows
from assistant.context.row_checks import ContextInputError
from assistant.context.user_data import (
    ContextConflictError,
    ContextDataError,
    ContextKind,
    ContextStore,
    StoredContext,
)
from assistant.db import get_engine
from assistant.factory import get_store
from assistant.views.format import fmt_ago
from assistant.views.markdown import plain_text
from ui.auth_gate import current_identity
from ui.budget_table import draw_budget_table
from ui.components import browser_zone

logger = logging.getLogger("assistant.pages.context")

FLASH = "ctx_flash"  # [(kind, text)]: one-time notices shown on the next run
CONFIRM = "ctx_confirm"  # "demo" | "clear-budget" | "clear-big_rocks": awaiting confirmation
ROCKS_BASE = "ctx_rocks_base"  # (version read, rows as table records): what this tab's edits start from
ROCKS_NONCE = "ctx_rocks_nonce"  # bumped to give the table a fresh editor
ROCKS_PROBLEMS = "ctx_rocks_problems"
UPLOAD = "ctx_budget_upload"  # {"id", "rows", "note", "version"}: a checked file awaiting "Save budget"
UPLOAD_NONCE = "ctx_upload_nonce"
CONFLICT = "ctx_conflict"  # kind whose save lost to another tab
CALENDAR_PANEL = "ui.calendar_panel"

settings = get_settings()
identity = current_identity()
user_id: str = identity.user_id
get_store(settings)  # the schema (user_context) is migrated with the store
store = ContextStore(get_engine(settings.database_url))
zone = browser_zone()
now = datetime.now(UTC)
today: date = now.astimezone(zone).date()

st.html(
    """<style>
    .st-key-ctx-status [data-testid="stMetric"] { padding: 0.55rem 0.9rem; }
    .st-key-ctx-status [data-testid="stMetricValue"] { font-size: 1.35rem; }
    .st-key-ctx-budget-totals [data-testid="stMetricValue"] { font-size: 1.35rem; }
    .st-key-ctx-budget-totals > [data-testid="stElementContainer"] { align-self: stretch; }
    .st-key-ctx-budget-totals [data-testid="stMetric"] { height: 100%; }
    [data-testid="stMain"] [data-testid="stMarkdownContainer"] h1 { font-size: 2.25rem; font-weight: 600;
        padding: 1rem 0; letter-spacing: -0.005em; }
    [data-testid="stMain"] [data-testid="stHeading"] h2 { font-size: 1.75rem; letter-spacing: -0.005em; }
    [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"] > [data-testid="stHeading"] h2
        { padding: 0.75rem 0 1rem; }
    </style>"""
)


# --------------------------------------------------------------------------- helpers
def _flash(kind: str, text: str) -> None:
    st.session_state.setdefault(FLASH, []).append((kind, text))


def _money(value: float, currency: str) -> str:
    """Compact amounts for the totals, in the budget's currency: $18.5M, €950K, $1,200."""
    sign = CURRENCY_SIGNS.get(currency, f"{currency} ")
    for divisor, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= divisor * 0.99995:  # from what the unit below would round to 1,000: not "$1,000K"
            return f"{sign}{value / divisor:,.1f}".removesuffix(".0") + suffix
    return f"{sign}{value:,.0f}"


def _read(kind: ContextKind) -> tuple[StoredContext | None, str | None]:
    try:
        return store.get(user_id, kind), None
    except ContextDataError as e:
        return None, str(e)


def _demo_budget() -> list[BudgetRow]:
    try:
        return rows_of_budget_file(read_budget_file(settings.data_dir))
    except DataFileError as e:
        logger.error("user_id=<%s>, error=<%s> | demo budget unreadable", user_id, e)
        return []


def _demo_rocks() -> list[RockRow]:
    try:
        return rows_of_rock_entries(read_rock_entries(settings.data_dir), today)
    except DataFileError as e:
        logger.error("user_id=<%s>, error=<%s> | demo big rocks unreadable", user_id, e)
        return []


def _source_badge(stored: StoredContext | None, what: str) -> None:
    if stored is None:
        st.badge(f"{what}: demo data", icon=":material/science:", color="orange")
    else:
        st.badge(f"{what}: yours, saved {fmt_ago(stored.updated_at, now)}", icon=":material/verified:", color="green")


def _reset_rocks() -> None:
    """Drop this tab's edits: the table shows what is stored, in a fresh editor."""
    st.session_state.pop(ROCKS_BASE, None)
    st.session_state[ROCKS_NONCE] = st.session_state.get(ROCKS_NONCE, 0) + 1
    st.session_state.pop(ROCKS_PROBLEMS, None)


def _reset_upload() -> None:
    st.session_state.pop(UPLOAD, None)
    st.session_state[UPLOAD_NONCE] = st.session_state.get(UPLOAD_NONCE, 0) + 1


def _reload() -> None:
    st.session_state.pop(CONFLICT, None)
    _reset_rocks()
    _reset_upload()


def _conflict(e: ContextConflictError) -> None:
    st.session_state[CONFLICT] = e.kind
    _flash("error", e.message(zone))


def _load_demo() -> None:
    st.session_state.pop(CONFIRM, None)
    try:
        store.load_demo(user_id, settings.data_dir, today)
    except (DataFileError, ContextConflictError) as e:
        _flash("error", f"The demo data could not be loaded: {e}")
        return
    _reload()
    _flash("success", "Demo data loaded as your own budget and big rocks. Edit them to make them yours.")


def _clear(kind: ContextKind, version: int) -> None:
    st.session_state.pop(CONFIRM, None)
    try:
        store.clear(user_id, kind, expected_version=version)
    except ContextConflictError as e:
        _conflict(e)
        return
    _reload()
    what = "Budget" if kind == "budget" else "Big rocks"
    _flash("success", f"{what} cleared. The assistant uses the demo data again until you save your own.")


def _ask(action: str | None) -> None:
    if action is None:
        st.session_state.pop(CONFIRM, None)
    else:
        st.session_state[CONFIRM] = action


def _confirm_box(action: str, text: str, label: str, on_yes: Any, args: tuple[Any, ...] = ()) -> None:
    if st.session_state.get(CONFIRM) != action:
        return
    with st.container(border=True, key=f"confirm-box-{action}"):
        st.warning(text, icon=":material/warning:")
        with st.container(horizontal=True, gap="small"):
            st.button(label, type="primary", key=f"yes-{action}", on_click=on_yes, args=args)
            st.button("Cancel", key=f"no-{action}", on_click=_ask, args=(None,))


def _problems(error: ContextInputError) -> None:
    lines = "\n".join(f"- {plain_text(str(p))}" for p in error.problems[:50])  # quotes the file's cells
    more = f"\n- … and {len(error.problems) - 50} more" if len(error.problems) > 50 else ""
    single = len(error.problems) == 1 and error.problems[0].row is None
    st.error(error.summary if single else f"{error.summary}\n\n{lines}{more}", icon=":material/error:")


# --------------------------------------------------------------------------- sections
def _header(rocks: StoredContext | None, budget: StoredContext | None) -> None:
    st.markdown("# My context", anchors=False)
    st.caption(
        "What the Meeting Coordinator knows about your work when it prepares you for a meeting. "
        "Until you save your own, it uses the demo data."
    )
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key="ctx-sources"):
        if rocks is None and budget is None:
            st.badge("Demo data", icon=":material/science:", color="orange")
            st.caption("The assistant uses the demo budget and big rocks.")
        else:
            _source_badge(rocks, "Big rocks")
            _source_badge(budget, "Budget")
        st.space("stretch")
        has_data = rocks is not None or budget is not None
        st.button(
            "Load demo data",
            icon=":material/restore:",
            key="load-demo",
            type="tertiary",
            on_click=_ask if has_data else _load_demo,
            args=("demo",) if has_data else (),
            help="Copy the demo budget and big rocks into your own, to edit them",
        )
    _confirm_box(
        "demo",
        "Replace your saved budget and big rocks with the demo data? Your current ones are overwritten.",
        "Replace with demo data",
        _load_demo,
    )
    for kind, message in st.session_state.pop(FLASH, []):
        if kind == "success":
            st.success(message, icon=":material/check_circle:")
        else:
            st.error(message, icon=":material/error:")
    if st.session_state.get(CONFLICT):
        st.button("Reload to see the latest", icon=":material/refresh:", key="reload", on_click=_reload)


def _calendar() -> None:
    # Calendar sources (issue 13 §1) are drawn by ui/calendar_panel.py; until that module exists
    # this section shows nothing. A calendar panel that fails to import is an error, not hidden.
    if importlib.util.find_spec(CALENDAR_PANEL) is None:
        return
    importlib.import_module(CALENDAR_PANEL).render_calendar_panel(settings, identity)


def _rocks_section(stored: StoredContext | None, error: str | None) -> None:
    base = st.session_state.get(ROCKS_BASE)
    if base is None:
        rows = stored.rock_rows() if stored is not None else _demo_rocks()
        base = (stored.version if stored is not None else None, [r.to_editor() for r in rows])
        st.session_state[ROCKS_BASE] = base
    version, records = base
    nonce = st.session_state.get(ROCKS_NONCE, 0)
    with st.container(border=True, key="ctx-rocks"):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.header("Big rocks", icon=":material/landscape:", anchor=False)
            st.space("stretch")
            _source_badge(stored, "Big rocks")
        if error:
            st.error(error, icon=":material/error:")
        st.caption(
            "Your strategic initiatives. Edit cells, add rows at the bottom, select rows to delete them, then save. "
            "Risks: one per line."
            + ("" if stored is not None else " These are the demo rocks; saving makes them yours.")
        )
        frame = pd.DataFrame(records, columns=list(ROCK_COLUMNS))
        for day in ("due_date", "target_date"):
            frame[day] = pd.to_datetime(frame[day]).dt.date
        edited = st.data_editor(
            frame,
            key=f"ctx-rocks-editor-{nonce}",
            num_rows="dynamic",
            hide_index=True,
            column_order=[c for c in ROCK_COLUMNS if c not in ("summary", "id")],  # kept as they came, unseen
            width="stretch",
            column_config={
                "name": st.column_config.TextColumn(ROCK_HEADERS["name"], required=True, max_chars=200, width="medium"),
                "owner": st.column_config.TextColumn(ROCK_HEADERS["owner"], max_chars=120),
                "status": st.column_config.SelectboxColumn(
                    ROCK_HEADERS["status"],
                    options=list(STATUS_LABELS),
                    format_func=lambda s: STATUS_LABELS.get(str(s), str(s)),
                    required=True,
                    default="on_track",
                ),
                "progress_pct": st.column_config.NumberColumn(
                    ROCK_HEADERS["progress_pct"],
                    min_value=0,
                    max_value=100,
                    step=1,
                    format="%d%%",
                    default=0,
                    required=True,
                    width=96,
                ),
                "next_milestone": st.column_config.TextColumn(
                    ROCK_HEADERS["next_milestone"], max_chars=200, width="medium"
                ),
                "due_date": st.column_config.DateColumn(
                    ROCK_HEADERS["due_date"], format="D MMM YYYY", help="When the next milestone is due", width=118
                ),
                "target_date": st.column_config.DateColumn(
                    ROCK_HEADERS["target_date"],
                    format="D MMM YYYY",
                    help="When the rock itself is due (its milestone's date when empty)",
                    width=104,
                ),
                "summary": st.column_config.TextColumn(ROCK_HEADERS["summary"], max_chars=2000, width="large"),
                "risks": st.column_config.TextColumn(
                    ROCK_HEADERS["risks"], help="One risk per line", max_chars=2000, width="large"
                ),
            },
        )
        problems: ContextInputError | None = st.session_state.get(ROCKS_PROBLEMS)
        if problems is not None:
            _problems(problems)
        with st.container(horizontal=True, gap="small"):
            if st.button("Save big rocks", type="primary", icon=":material/save:", key="save-rocks"):
                _save_rocks(edited.to_dict("records"), version)
            st.button("Discard changes", icon=":material/undo:", key="discard-rocks", on_click=_reset_rocks)
            if stored is not None:
                st.button(
                    "Clear", icon=":material/delete:", key="clear-rocks", on_click=_ask, args=("clear-big_rocks",)
                )
        if stored is not None:
            _confirm_box(
                "clear-big_rocks",
                "Delete your big rocks? The assistant goes back to the demo rocks.",
                "Delete my big rocks",
                _clear,
                ("big_rocks", stored.version),
            )


def _save_rocks(records: list[dict[str, Any]], version: int | None) -> None:
    try:
        rows = validate_rock_rows(records)
    except ContextInputError as e:
        st.session_state[ROCKS_PROBLEMS] = e
        st.rerun()
    try:
        store.save(user_id, "big_rocks", rows, version)
    except ContextConflictError as e:
        _conflict(e)
        st.rerun()
    _reset_rocks()
    _flash("success", f"Big rocks saved ({len(rows)}). The assistant uses them from your next question.")
    st.rerun()


ATTENTION_NAMED = 6  # a budget of hundreds of flagged areas named them all: two screens of text


def _attention_line(statuses: list[BudgetStatus]) -> str | None:
    """The flagged areas above the table: all of a few, in file order; else the largest forecast gaps."""
    flagged = [s for s in statuses if s.flags]
    if len(flagged) > ATTENTION_NAMED:
        flagged = largest_gaps_first(flagged)
    named = [f"{plain_text(s.name)} ({', '.join(f.replace('_', ' ') for f in s.flags)})" for s in flagged]
    if len(named) <= ATTENTION_NAMED:
        return "Needs attention: " + " · ".join(named) if named else None
    rest = len(named) - ATTENTION_NAMED
    shown = " · ".join(named[:ATTENTION_NAMED])
    return f"Needs attention, largest forecast gaps first: {shown} · and {rest} more (Flags, in the table below)"


def _budget_section(stored: StoredContext | None, error: str | None) -> None:
    rows = stored.budget_rows() if stored is not None else _demo_budget()
    with st.container(border=True, key="ctx-budget"):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.header("Budget", icon=":material/account_balance:", anchor=False)
            st.space("stretch")
            _source_badge(stored, "Budget")
        if error:
            st.error(error, icon=":material/error:")
        if rows:
            statuses = budget_statuses(budget_file_of(rows))
            totals, currency = budget_summary(statuses), statuses[0].currency
            attention = sum(1 for s in statuses if s.needs_attention)
            with st.container(horizontal=True, gap="small", key="ctx-budget-totals"):
                st.metric("Plan", _money(totals["annual_budget"], currency), border=True)
                st.metric("Actual to date", _money(totals["spent_ytd"], currency), border=True)
                variance = totals["forecast_variance_pct"]  # rounded to 0.1: "+0.0%" in red read as an overspend
                st.metric(
                    "Forecast",
                    _money(totals["forecast"], currency),
                    delta=f"{variance:+.1f}% vs plan" if variance else "on plan",
                    delta_color="inverse" if variance else "off",
                    delta_arrow="auto" if variance else "off",
                    border=True,
                )
                st.metric("Areas needing attention", f"{attention} of {len(statuses)}", border=True)
            line = _attention_line(statuses)
            if line:
                st.caption(line)
            draw_budget_table(statuses, "ctx-budget-table")
        _upload(stored)
        if stored is not None:
            st.button(
                "Clear budget", icon=":material/delete:", key="clear-budget", on_click=_ask, args=("clear-budget",)
            )
            _confirm_box(
                "clear-budget",
                "Delete your budget? The assistant goes back to the demo budget.",
                "Delete my budget",
                _clear,
                ("budget", stored.version),
            )


def _upload(stored: StoredContext | None) -> None:
    st.markdown("**Replace with your own file**")
    st.caption(
        "One row per area: area, owner, plan (full-year budget), actual (spent to date), forecast (full year), "
        "notes, and optionally plan_to_date. Your own sheet works too: Department, Budget, YTD actual, Projection "
        "or Comments are read as these, other columns are ignored, and a formula counts as the value Excel saved "
        "with it. Nothing is saved until you click Save budget."
    )
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            "CSV template",
            data=budget_template_csv(),
            file_name="budget-template.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            key="template-csv",
        )
        st.download_button(
            "Excel template",
            data=budget_template_xlsx(),
            file_name="budget-template.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:",
            on_click="ignore",
            key="template-xlsx",
        )
    nonce = st.session_state.get(UPLOAD_NONCE, 0)
    uploaded = st.file_uploader(
        "Budget file (CSV or Excel)", type=["csv", "xlsx"], key=f"ctx-budget-file-{nonce}", max_upload_size=2
    )
    if uploaded is None:
        st.session_state.pop(UPLOAD, None)
        return
    pending = st.session_state.get(UPLOAD)
    if pending is None or pending["id"] != uploaded.file_id:
        try:
            upload = read_budget_upload(uploaded.getvalue(), uploaded.name)
        except ContextInputError as e:
            logger.info("user_id=<%s>, problems=<%s> | budget file refused", user_id, len(e.problems))
            st.session_state.pop(UPLOAD, None)
            _problems(e)
            return
        version = stored.version if stored is not None else None
        pending = {"id": uploaded.file_id, "rows": upload.rows, "note": upload.columns.note(), "version": version}
        st.session_state[UPLOAD] = pending
    rows: list[BudgetRow] = pending["rows"]
    areas = f"{len(rows)} area" + ("" if len(rows) == 1 else "s")
    name = plain_text(uploaded.name)
    note = f" {plain_text(pending['note'])}" if pending["note"] else ""  # header cells quoted as typed
    review = "Review it" if len(rows) == 1 else "Review them"
    st.success(f"{name}: {areas} checked, no problems.{note} {review}, then save.", icon=":material/task_alt:")
    draw_budget_table(budget_statuses(budget_file_of(rows)), "ctx-budget-preview")
    with st.container(horizontal=True, gap="small"):
        if st.button("Save budget", type="primary", icon=":material/save:", key="save-budget"):
            try:
                store.save(user_id, "budget", rows, pending["version"])
            except ContextConflictError as e:
                _conflict(e)
                st.rerun()
            _reset_upload()
            _flash("success", f"Budget saved ({areas}). The assistant uses it from your next question.")
            st.rerun()
        st.button("Cancel", key="cancel-budget", on_click=_reset_upload)


# --------------------------------------------------------------------------- main
stored_rocks, rocks_error = _read("big_rocks")
stored_budget, budget_error = _read("budget")
_header(stored_rocks, stored_budget)
_calendar()
_rocks_section(stored_rocks, rocks_error)
_budget_section(stored_budget, budget_error)
