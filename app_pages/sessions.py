"""Sessions & cost page (thin): reads widget state, calls assistant.sessions / assistant.usage, draws.

Three tabs: the sessions table (server-side filter, sort and paging, totals), the cost
dashboard and what-if pricing. ``?session=<id>`` on this page opens one session's detail:
its transcript with tool steps, per-turn usage, feedback, exports and Resume/Continue.
Users only ever see their own sessions; admins see everyone's, read-only. Every rule
lives in :mod:`assistant.views.sessions` and :mod:`assistant.views.usage`. Clock times are
shown in the browser's time zone; day filters and daily charts stay in UTC days (the daily
budget resets at UTC midnight and the ledger rolls up per UTC day).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from assistant.chat import ChatService, DisplayTurn, build_display_turns
from assistant.config import get_settings
from assistant.context.prep_sessions import meetings_with_sessions
from assistant.factory import get_chat_service, get_prices
from assistant.inputs import log_safe, validate_session_id
from assistant.sessions.base import SessionError, SessionNotFoundError, TurnRecord
from assistant.sessions.queries import SessionFilter, SessionPage, SessionQueryError, distinct_models, list_sessions
from assistant.usage.dashboard import dashboard
from assistant.usage.whatif import what_if
from assistant.views import conversation as view
from assistant.views import session_detail as detail
from assistant.views import sessions as views
from assistant.views import usage as usage_views
from assistant.views.export import session_to_json, session_to_markdown
from assistant.views.format import fmt_ago, fmt_cost, fmt_datetime
from assistant.views.models import OFFLINE_LABEL, model_view
from ui.auth_gate import current_identity
from ui.components import NOT_FOUND, browser_zone, draw_turn, hidden_answers_bar, show_from_top

logger = logging.getLogger("assistant.pages.sessions")

CHAT_PAGE = "app_pages/chat.py"
# Every colour reads on the light and the dark theme alike (>= 3:1 on both; tests/test_theme.py).
# The first draws single-series charts; the third marks the recorded cost among the what-if estimates.
# One colour per series (models, users): twelve, so a deployment's models rarely share one (plotly
# starts again after the last; with seven, the eighth model was drawn like the first). Each
# stands out on both themes' backgrounds (tests/test_theme.py). Neighbours differ in hue: the two
# blues were first and second, and two models (or two users) side by side were told apart by shade.
COLORS = [
    "#3D79B3", "#CC7630", "#5B9A7D", "#9C6B98", "#C65D5D", "#9D8735",
    "#2A9494", "#C0508F", "#6E8F3A", "#A0705A", "#7070C8", "#6F95BD",
]  # fmt: skip
PAGE_KEY = "sc_page"
CURSORS_KEY = "sc_page_cursors"  # page number -> the cursor it starts after (keyset paging)
SIGNATURE_KEY = "sc_signature"
ESTIMATE_KEY = "sc_estimate"  # (filters, count, totals, when) of the "about N" shown first: _steady_estimate
ESTIMATE_KEEP_S = 120.0
OPENED_KEY = "sc_opened"  # sessions opened from the table so far (part of the table's key)
DETAIL_SHOWN = "sc_detail_shown"  # session id -> how many answers its detail draws
DETAIL_TURNS = 20  # a long session's detail draws its first answers; later ones load on request
FILTER_KEYS = ("sc_search", "sc_period", "sc_range", "sc_states", "sc_models", "sc_meeting")

settings = get_settings()
identity = current_identity()
service: ChatService = get_chat_service(settings)
engine = getattr(service.store, "engine")  # noqa: B009 - both stores keep the SQL index/ledger engine
prices = get_prices(settings)
now = service.clock()
today: date = now.date()  # UTC: day filters and daily buckets are UTC days (budget resets at UTC midnight)
zone = browser_zone()  # clock times are shown in the reader's zone

st.html(
    """<style>
    [data-testid="stMain"] [data-testid="stHeading"] h1 { font-size: 2.25rem; font-weight: 600; padding: 1rem 0;
        letter-spacing: -0.005em; }
    [data-testid="stMetric"] { padding: 0.6rem 0.9rem; }
    [data-testid="stMetricValue"] { font-size: 1.55rem; }
    .st-key-sc-pager p { margin: 0; }
    .st-key-sc-pager [data-testid="stMarkdownContainer"] { margin-bottom: 0; }
    [data-testid="stButtonGroup"] > div { flex-wrap: wrap; row-gap: 0.4rem; }
    .st-key-sc_order button { min-height: 2.5rem; }
    [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [class*="st-key-card-"]) { align-items: stretch; }
    [data-testid="stColumn"]:has([class*="st-key-card-"]), [data-testid="stColumn"]:has([class*="st-key-card-"]) > div,
    [data-testid="stLayoutWrapper"]:has(> [class*="st-key-card-"])
        { display: flex; flex-direction: column; flex: 1 1 auto; }
    [class*="st-key-card-"] { flex: 1 1 auto; }
    .st-key-detail-title h2 { padding-bottom: 0.2rem; }
    /* Plotly's grey axes (#808495, 3.8:1 on white): the page's text at 72%, as captions (both themes) */
    .js-plotly-plot :is(.xtick text, .ytick text, .xtitle, .ytitle, .legendtext, .annotation-text)
        { fill: color-mix(in srgb, currentColor 72%, transparent) !important; }
    [class*="st-key-card-"] [data-testid="stMarkdownContainer"]:has(h2) { margin-bottom: 0; }
    [class*="st-key-card-"] [data-testid="stMarkdownContainer"] h2 { font-size: 1rem; font-weight: 600;
        padding: 0; letter-spacing: normal; line-height: 1.6; }
    [class*="st-key-csv-"] button em { position: absolute; width: 1px; height: 1px; overflow: hidden;
        clip-path: inset(50%); white-space: nowrap; }
    :is(.st-key-sc-empty, .st-key-db-empty, .st-key-wi-empty) [data-testid="stMarkdownContainer"] h2
        { font-size: 1.5rem; padding: 0.5rem 0 1rem; letter-spacing: normal; }
    @media (max-width: 640px) { .st-key-sc_sort { width: 100% !important; flex: 1 1 100%; } }
    </style>"""
)


# --------------------------------------------------------------------------- helpers
def _metric_row(metrics: list[Any], key: str) -> None:
    with st.container(horizontal=True, gap="small", key=key):
        for m in metrics:
            st.metric(m.label, m.value, help=m.help, border=True)


def _label(model_id: str) -> str:
    return model_view(model_id, prices).label


def _style(fig: go.Figure, *, x: str, y: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        xaxis_title=x,
        yaxis_title=y,
        hoverlabel={"namelength": -1},
    )
    return fig


def _days_axis(fig: go.Figure, since: datetime, until: datetime) -> go.Figure:
    """Show the whole period on a daily axis (a single day of data otherwise zooms to milliseconds),
    its days written day first ("6 Dec"; hovered "Sun 6 Dec 2026") as the other pages write them."""
    first, last = since.date(), (until - timedelta(microseconds=1)).date()
    fig.update_xaxes(
        type="date",
        range=[f"{first - timedelta(days=1)} 12:00", f"{last} 12:00"],
        tickformat="%-d %b",
        hoverformat="%a %-d %b %Y",
        dtick=86_400_000 * max(1, round((last - first).days / 7)),
    )
    return fig


def _chart_card(title: str, fig: go.Figure | None, table: usage_views.ChartTable, file: str, note: str = "") -> None:
    with st.container(border=True, key=f"card-{file}"):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(f"## {title}", anchors=False)  # a heading for screen readers, a title's size
            st.space("stretch")
            st.download_button(  # read "CSV of <title>": the title is visually hidden (the page's CSS)
                f"CSV _of {title}_",
                data=table.to_csv(),
                file_name=f"{file}.csv",
                mime="text/csv",
                icon=":material/download:",
                type="tertiary",
                on_click="ignore",
                key=f"csv-{file}",
                disabled=not table,
                help="Download the data of this chart as CSV",
            )
        if fig is None:
            st.caption("Nothing to show for this period.")
        else:
            st.plotly_chart(fig, config={"displayModeBar": False}, key=f"chart-{file}")
        if note:
            st.caption(note)


def _period_picker(key: str, default: str = "Last 30 days") -> tuple[datetime, datetime]:
    with st.container(horizontal=True, vertical_alignment="bottom"):
        period = st.segmented_control(
            "Period", views.DASHBOARD_PERIODS, default=default, key=f"{key}_period", required=True
        )
        custom: tuple[date, ...] = ()
        if period == "Custom range":
            picked = st.date_input(
                "Days (UTC)",
                value=(today - timedelta(days=13), today),
                max_value=today,
                key=f"{key}_range",
                width=260,
            )
            custom = tuple(picked) if isinstance(picked, tuple | list) else (picked,)
    since, until = views.period_bounds(str(period or default), today, custom)
    if since is None or until is None:  # custom range not picked yet
        since, until = views.period_bounds(default, today)
    assert since is not None and until is not None
    return since, until


# --------------------------------------------------------------------------- callbacks
def _open(ids: list[str], key: str) -> None:
    state = st.session_state.get(key)
    rows = list(state.selection.rows) if state is not None else []
    if rows and rows[0] < len(ids):
        st.query_params["session"] = ids[rows[0]]
        # The table comes back with a new key, so with nothing selected: it kept the opened row
        # selected, and a click on that row (to open the same session again) only cleared it.
        st.session_state[OPENED_KEY] = int(st.session_state.get(OPENED_KEY, 0)) + 1


def _close() -> None:
    st.query_params.pop("session", None)


def _move(step: int) -> None:
    st.session_state[PAGE_KEY] = max(0, int(st.session_state.get(PAGE_KEY, 0)) + step)


def _clear_filters() -> None:
    # Set each shown filter to its default rather than pop its key: a popped key resets the value
    # on the server only, so the browser kept showing the old search words and sent them back
    # on the next rerun (the table emptied again at the next click). The custom range is popped:
    # it is not drawn once the period is back to its default.
    defaults: dict[str, object] = {
        "sc_search": "",
        "sc_period": views.TABLE_PERIODS[0],
        "sc_states": [],
        "sc_models": [],
        "sc_meeting": "",
    }
    for key in FILTER_KEYS:
        if key in defaults:
            st.session_state[key] = defaults[key]
        else:
            st.session_state.pop(key, None)
    st.session_state[PAGE_KEY] = 0


# --------------------------------------------------------------------------- sessions tab
def _steady_estimate(result: SessionPage, filters: tuple[Any, ...]) -> SessionPage:
    """A search's "about N" stays the figure first shown while its filters do.

    It is estimated from the newest candidates in the sort's order, so it moved as the reader
    paged or sorted ("about 4,400 sessions", then "about 4,100" on page 2, another figure by
    cost). An exact count (a page past the window, or fewer matches) replaces it; after
    ESTIMATE_KEEP_S it is estimated again (sessions come and go).
    """
    held = st.session_state.get(ESTIMATE_KEY)
    if not result.totals.approximate:
        if held is not None and held[0] == filters:
            st.session_state.pop(ESTIMATE_KEY, None)
        return result
    now = time.monotonic()
    if held is not None and held[0] == filters and now - held[3] < ESTIMATE_KEEP_S:
        return replace(result, total_count=held[1], totals=held[2])
    st.session_state[ESTIMATE_KEY] = (filters, result.total_count, result.totals, now)
    return result


def _sessions_tab(scope_user: str | None, show_user: bool, emails: dict[str, str | None]) -> None:
    if scope_user is not None:
        # As the chat's session list does: a session idle past the expiry reads Expired here too
        # (the table said Active, the State filter missed it, and its detail said Expired).
        # Everyone's sessions (an admin's "All users") are left to each user's own lists.
        service.store.expire_idle(scope_user)
    search_col, period_col, state_col, model_col = st.columns([3, 1.6, 2.2, 2.4], gap="small")
    text = search_col.text_input(
        "Search transcripts",
        key="sc_search",
        placeholder='Words, e.g. "Acme QBR" budget',
        icon=":material/search:",
        max_chars=200,
        help="Finds sessions whose title, or one question and its answer, hold every word (any order); "
        '"quotes" keep a phrase.',
    )
    period = period_col.selectbox("Last activity", views.TABLE_PERIODS, key="sc_period")
    states = state_col.multiselect(
        "State",
        views.STATES,
        key="sc_states",
        format_func=lambda s: views.STATE_LABELS[s],
        placeholder="All states",
    )
    models = model_col.multiselect(
        "Model",
        distinct_models(engine, scope_user),
        key="sc_models",
        format_func=_label,
        placeholder="All models",
    )
    prepped = meetings_with_sessions(engine, scope_user)
    meeting_id: str | None = None
    if prepped:
        titles = {mid: views.prepared_meeting_label(title, start, zone) for mid, title, start in prepped}
        picked_meeting = st.selectbox(
            "Prepared meeting",
            [""] + [mid for mid, _title, _start in prepped],
            key="sc_meeting",
            format_func=lambda mid: titles.get(mid, mid) if mid else "All sessions",  # options are plain text
            width=420,
            help="Prep sessions started from the Prep queue are linked to their meeting.",
        )
        meeting_id = str(picked_meeting) or None
    # The table's days are the reader's, as its times are: "Today" on UTC days held yesterday
    # evening's sessions (or missed this morning's) for a reader far from UTC.
    local_today = now.astimezone(zone).date()
    custom: tuple[date, ...] = ()
    if period == "Custom range":
        picked = st.date_input(
            "Last activity between",
            value=(local_today - timedelta(days=6), local_today),
            max_value=local_today,
            key="sc_range",
            width=260,
        )
        custom = tuple(picked) if isinstance(picked, tuple | list) else (picked,)
    since, until = views.period_bounds(str(period), local_today, custom, zone)

    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        sort = st.selectbox(
            "Sort by", list(views.SORT_LABELS), format_func=lambda k: views.SORT_LABELS[k], key="sc_sort", width=170
        )
        direction = st.segmented_control(
            "Order",
            ["desc", "asc"],
            default="desc",
            required=True,
            format_func=lambda d: "Descending" if d == "desc" else "Ascending",
            key="sc_order",
        )
        page_size = int(st.selectbox("Rows per page", views.PAGE_SIZES, key="sc_page_size", width=120))

    signature = (scope_user, text, period, custom, tuple(states), tuple(models), meeting_id, sort, direction, page_size)
    if st.session_state.get(SIGNATURE_KEY) != signature:
        st.session_state[SIGNATURE_KEY] = signature
        st.session_state[PAGE_KEY] = 0
        st.session_state[CURSORS_KEY] = {}
    page_no = int(st.session_state.get(PAGE_KEY, 0))
    cursors: dict[int, Any] = st.session_state.setdefault(CURSORS_KEY, {})

    def query_for(page: int) -> SessionFilter:
        return views.build_filter(
            identity,
            user=scope_user,
            text=text,
            states=states,
            models=models,
            since=since,
            until=until,
            meeting_id=meeting_id,
            sort=str(sort),
            descending=direction != "asc",
            page=page,
            page_size=page_size,
            after=cursors.get(page),
        )

    query = query_for(page_no)
    filters = signature[:7]  # what the sessions are (not their order or page)
    try:
        result = _steady_estimate(list_sessions(engine, query), filters)
        info = views.page_info(page_no, page_size, result.total_count, result.totals.approximate)
        if info.page != page_no:  # the set shrank (sessions deleted meanwhile): show its last page
            st.session_state[PAGE_KEY] = info.page
            result = _steady_estimate(list_sessions(engine, query_for(info.page)), filters)
        cursors[info.page + 1] = result.next_cursor  # where the next page starts (None: by offset)
    except SessionQueryError as e:
        st.error(str(e), icon=":material/error:")
        return

    filtered = bool(query.text or query.states or query.models or query.meeting_id or since or until)
    bound = views.search_bound_note(result.totals, query.text)
    if bound:  # a search of short words looked through the first sessions of the list only
        st.caption(f":material/info: {bound}")
    if result.total_count == 0:
        _empty_state(filtered, scope_user)
        return

    _metric_row(views.totals_metrics(result.totals), "sc-totals")
    rows = views.table_rows(
        result.rows,
        label=_label,
        user_label=(lambda r: r.user_email or r.user_id) if show_user else None,
    )
    frame = pd.DataFrame(rows, columns=["id", *views.TABLE_COLUMNS])
    ids = [r["id"] for r in rows]
    table_key = f"sc_table_{info.page}_{page_size}_{st.session_state.get(OPENED_KEY, 0)}"
    st.dataframe(
        frame,
        hide_index=True,
        column_order=views.table_columns(show_user),
        column_config={
            # Not pinned: Streamlit draws a pinned column faded (4.0:1 on white), and this is the one read first
            "Title": st.column_config.TextColumn("Title", width=300),
            "User": st.column_config.TextColumn("User", width="medium"),
            "State": st.column_config.TextColumn("State", width="small"),
            "Started": st.column_config.DatetimeColumn(
                "Started",
                format=views.started_format(result.rows, local_today, zone),
                timezone=zone.key,
                help=f"Time zone: {zone.key}",
            ),
            "Last activity": st.column_config.DatetimeColumn("Last activity", format="distance"),
            "Turns": st.column_config.NumberColumn("Turns", format="%d", width="small"),
            "Input tokens": st.column_config.NumberColumn("Input tokens", format="localized"),
            "Output tokens": st.column_config.NumberColumn("Output tokens", format="localized"),
            "Cost": st.column_config.TextColumn("Cost", alignment="right", help="US dollars; unknown = no price"),
            "Models": st.column_config.ListColumn("Models", width="medium"),
            "Avg latency": st.column_config.NumberColumn("Avg call time", format="%.0f ms", help="Mean model call"),
            "TTFT p50": st.column_config.NumberColumn("First token p50", format="%.0f ms", help="Time to first token"),
            "TTFT p95": st.column_config.NumberColumn("First token p95", format="%.0f ms", help="Time to first token"),
            "Errors": st.column_config.NumberColumn("Errors", format="%d", width="small"),
        },
        on_select=lambda: _open(ids, table_key),
        selection_mode="single-row",
        key=table_key,
        row_height=38,
    )
    with st.container(horizontal=True, vertical_alignment="center", key="sc-pager"):
        st.caption(":material/touch_app: Select a row to open it (keyboard: Shift+Space on a row).")
        note = views.free_note(result.rows, prices)
        if note:
            st.caption(f":material/info: {note}")
        st.space("stretch")
        # one group, so a narrow screen wraps the pager as a whole (not 'Previous' alone on a line)
        with st.container(horizontal=True, vertical_alignment="center", width="content", wrap=False):
            st.button(
                "Previous",
                icon=":material/chevron_left:",
                key="sc_prev",
                disabled=not info.has_previous,
                on_click=_move,
                args=(-1,),
                type="tertiary",
            )
            st.markdown(info.text)
            st.button(
                "Next",
                icon=":material/chevron_right:",
                icon_position="right",
                key="sc_next",
                disabled=not info.has_next,
                on_click=_move,
                args=(1,),
                type="tertiary",
            )


def _empty_state(filtered: bool, scope_user: str | None) -> None:
    with st.container(border=True, key="sc-empty"):
        if filtered:
            st.markdown("## :material/search_off: No sessions match these filters", anchors=False)
            st.caption("Try other words, a longer period, or clear the filters.")
            st.button("Clear filters", icon=":material/filter_alt_off:", key="sc_clear", on_click=_clear_filters)
        elif identity.is_admin and scope_user is not None and scope_user != identity.user_id:
            st.markdown("## :material/person_off: This user has no sessions yet", anchors=False)
        else:
            st.markdown("## :material/forum: No sessions yet", anchors=False)
            st.caption(
                "Your conversations with the Meeting Coordinator appear here, with what each one cost "
                "and how fast it answered."
            )
            st.page_link(CHAT_PAGE, label="Start your first session", icon=":material/add_comment:")


# --------------------------------------------------------------------------- dashboard tab
def _dashboard_tab(scope_user: str | None, emails: dict[str, str | None]) -> None:
    since, until = _period_picker("db")
    d = dashboard(engine, since=since, until=until, user_id=scope_user, daily_budget_usd=settings.daily_budget_usd)
    if d.totals.calls == 0:
        with st.container(border=True, key="db-empty"):
            st.markdown("## :material/monitoring: No model calls in this period", anchors=False)
            st.caption("Costs, tokens and answer times appear here once you chat with the assistant.")
            st.page_link(CHAT_PAGE, label="Open the chat", icon=":material/forum:")
        return
    free = usage_views.all_free(d, lambda m: model_view(m, prices).is_free)
    _metric_row(usage_views.dashboard_metrics(d, all_free=free), "db-totals")
    if free:
        st.caption(
            ":material/science: All calls of this period used the offline demo model, which is free: "
            "costs are $0.00. The token charts show the usage that a paid model would bill."
        )
    left, right = st.columns(2, gap="small")
    with left:
        by_day = usage_views.cost_by_day_table(d, _label)
        data = by_day.as_dict()
        # a model without a price adds $0 to its bar: its hover says so rather than read as free
        data["unpriced"] = [usage_views.unpriced_note(n) for n in data["unknown_cost_calls"]]
        data["cost_text"] = [_cost(v) for v in data["cost_usd"]]  # as the page writes it: $0.00004 was hovered "$0"
        value, axis = ("tokens", "Tokens per day") if free else ("cost_usd", "Cost per day ($)")
        fig = px.bar(
            data,
            x="day",
            y=value,
            color="model",
            barmode="stack",
            color_discrete_sequence=COLORS,
            custom_data=["unpriced", "cost_text"],
        )
        fig.update_traces(
            hovertemplate="%{x}<br>%{customdata[1]}%{customdata[0]}" if not free else "%{x}<br>%{y:,} tokens"
        )
        if not free:
            fig.update_yaxes(tickprefix="$", tickformat=",.4~f")
        _chart_card(
            "Tokens per day by model" if free else "Cost per day by model",
            _days_axis(_style(fig, x="Day (UTC)", y=axis), since, until),
            by_day,
            "cost-per-day",
        )
    with right:
        dist = usage_views.session_cost_table(d)
        fig_dist = None
        if dist:
            fig_dist = px.bar(
                dist.as_dict(), x="sessions", y="cost_range", orientation="h", color_discrete_sequence=COLORS
            )
            fig_dist.update_traces(hovertemplate="%{y}<br>Sessions: %{x}<extra></extra>")  # never "1 sessions"
            fig_dist.update_yaxes(autorange="reversed")
            fig_dist.update_xaxes(dtick=1 if max(dist.as_dict()["sessions"]) <= 10 else None)
            fig_dist = _style(fig_dist, x="Sessions", y="Cost per session ($)")
        sc = d.session_costs
        note = ""
        if sc.sessions:
            note = f"Median {_cost(sc.p50_usd)} · p90 {_cost(sc.p90_usd)} · max {_cost(sc.max_usd)} per session"
        if sc.unknown_cost_sessions:
            note += f" · {sc.unknown_cost_sessions} session(s) with unknown cost not shown"
        if note:  # its max could read many times the Total cost above, the period's calls alone
            note += ". " + usage_views.SESSION_COST_NOTE
        _chart_card("Cost per session", fig_dist, dist, "cost-per-session", note)

    left, right = st.columns(2, gap="small")
    with left:
        lat = usage_views.latency_table(d)
        fig_lat = None
        if lat:
            fig_lat = px.line(
                lat.as_dict(), x="day", y="ms", color="series", markers=True, color_discrete_sequence=COLORS
            )
            fig_lat.update_traces(hovertemplate="%{x}<br>%{y:,.0f} ms")
            fig_lat.update_yaxes(rangemode="tozero")
            fig_lat = _days_axis(_style(fig_lat, x="Day (UTC)", y="Milliseconds"), since, until)
        _chart_card(
            "Answer time and time to first token (p50 / p95)",
            fig_lat,
            lat,
            "latency",
            "Per model call. First token = time until the first text arrived.",
        )
    with right:
        budget = usage_views.budget_table(d, emails)
        fig_budget = None
        if budget:
            spend = budget.as_dict()
            spend["spend_text"] = [_cost(v) for v in spend["spend_usd"]]
            spend["unpriced"] = [usage_views.unpriced_note(n) for n in spend["unknown_cost_calls"]]
            fig_budget = px.bar(
                spend,
                x="day",
                y="spend_usd",
                color="user",
                barmode="group",
                color_discrete_sequence=COLORS,
                custom_data=["spend_text", "unpriced"],
            )
            if settings.daily_budget_usd > 0:  # 0 = no budget: a line at $0 read as "everyone is over"
                fig_budget.add_hline(
                    y=settings.daily_budget_usd,
                    line_dash="dash",
                    line_color="#C65D5D",
                    annotation_text=f"Daily budget {_cost(settings.daily_budget_usd)}",
                    annotation_position="top left",
                    # on a label of its own: bars over the line hid the words behind them
                    annotation_bgcolor="#C65D5D",
                    annotation_font_color="#FFFFFF",
                )
            fig_budget.update_yaxes(tickprefix="$", rangemode="tozero")
            fig_budget.update_traces(hovertemplate="%{x}<br>%{customdata[0]}%{customdata[1]}")
            fig_budget = _days_axis(_style(fig_budget, x="Day (UTC)", y="Spend per day ($)"), since, until)
            fig_budget.update_layout(showlegend=len({row[2] for row in budget.rows}) > 1)
        _chart_card(
            "Budget use per user",
            fig_budget,
            budget,
            "budget-use",
            (
                f"Daily budget per user: {_cost(settings.daily_budget_usd)} (UTC days)."
                if settings.daily_budget_usd > 0
                else "No daily budget (DAILY_BUDGET_USD=0)."
            )
            + (" Spend is $0.00: the offline demo model and local models are free." if free else ""),
        )

    if scope_user is None and identity.is_admin:
        top = usage_views.top_users_table(d, emails, by_tokens=free)
        fig_top = None
        value, axis, prefix = ("tokens", "Tokens", "") if free else ("cost_usd", "Cost ($)", "$")
        if top:
            ranked = top.as_dict()
            ranked["cost_text"] = [_cost(v) for v in ranked["cost_usd"]]
            fig_top = px.bar(
                ranked, x=value, y="user", orientation="h", color_discrete_sequence=COLORS, custom_data=["cost_text"]
            )
            fig_top.update_yaxes(autorange="reversed")
            fig_top.update_xaxes(tickprefix=prefix, rangemode="tozero")
            fig_top.update_traces(hovertemplate="%{y}<br>" + ("%{x:,} tokens" if free else "%{customdata[0]}"))
            fig_top = _style(fig_top, x=axis, y="", height=max(220, 44 * len(top.rows)))
        _chart_card(
            "Top users by tokens" if free else "Top users by cost",
            fig_top,
            top,
            "top-users",
            "Admins only." + (" Ranked by tokens: every call used the free offline demo model." if free else ""),
        )


def _cost(value: float | None) -> str:
    return fmt_cost(value)


# --------------------------------------------------------------------------- what-if tab
def _what_if_tab(scope_user: str | None) -> None:
    since, until = _period_picker("wi")
    d = dashboard(engine, since=since, until=until, user_id=scope_user)
    if d.totals.calls == 0:
        with st.container(border=True, key="wi-empty"):
            st.markdown("## :material/price_change: No recorded usage in this period", anchors=False)
            st.caption("Pick a longer period, or chat with the assistant first.")
        return
    estimates = what_if(engine, scope_user, since, until, prices)
    shown = usage_views.what_if_view(estimates, d.totals.cost_usd, d.totals.unknown_cost_calls)
    st.info(
        f"**{usage_views.ESTIMATE_NOTE}.** The same {d.totals.tokens:,} tokens of this period priced on each "
        # its rates are those of the period's last day (what_if): the recorded cost used each call's own
        f"model of the price table, at its prices of {(until - timedelta(days=1)):%-d %b %Y} (UTC), where the "
        "actual cost used the prices of each call's day. "
        "Real token counts would differ between models (tokenisers, answer lengths).",
        icon=":material/calculate:",
    )
    with st.container(horizontal=True, gap="small"):
        st.metric("Actual cost (recorded)", shown.actual_text, border=True)
        if estimates:
            cheapest, dearest = estimates[0], estimates[-1]
            st.metric(f"On {cheapest.label}", _cost(cheapest.estimated_cost_usd), border=True, help="Estimate")
            st.metric(f"On {dearest.label}", _cost(dearest.estimated_cost_usd), border=True, help="Estimate")
    data = shown.table.as_dict()
    labels = ["Actual (recorded)", *data["model"]]
    values = [d.totals.cost_usd, *data["estimated_cost_usd"]]
    # the actual's label is the metric's: "≥ $12.34" or "unknown" when calls had no price (it read "$0.00")
    shown_values = [shown.actual_text, *(_cost(v) for v in data["estimated_cost_usd"])]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker_color=[COLORS[1]] + [COLORS[0]] * len(data["model"]),
            text=shown_values,
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}<br>%{text}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickprefix="$", rangemode="tozero")
    note = ""
    if len(estimates) > 1:
        note = f"{shown.sentences[0]} On {estimates[-1].label}: {_cost(estimates[-1].estimated_cost_usd)}."
    elif shown.sentences:
        note = shown.sentences[0]
    _chart_card(
        f"This period priced on other models · {usage_views.ESTIMATE_NOTE.lower()}",
        # room on the right for the longest bar's amount, written outside it (cut to "$1" on a phone)
        _style(fig, x="Cost ($)", y="", height=max(240, 40 * len(labels))).update_layout(margin_r=80),
        shown.table,
        "what-if",
        note,
    )


# --------------------------------------------------------------------------- detail
def _detail_footer(session_id: str, turn: TurnRecord) -> None:
    if turn.feedback is not None:
        st.feedback(
            "thumbs",
            key=f"detail-feedback-{session_id}-{turn.idx}",
            default=view.feedback_index(turn.feedback),
            disabled=True,
        )
    st.caption(view.turn_footer(turn))
    feedback = detail.feedback_text(turn.feedback)
    if feedback:
        st.caption(f"· {feedback}")


def _draw_turn(item: DisplayTurn, session_id: str) -> None:
    draw_turn(
        item,
        footer_key="detail-footer",
        footer=lambda turn: _detail_footer(session_id, turn),
    )


def _show_more(session_id: str, count: int) -> None:
    st.session_state.setdefault(DETAIL_SHOWN, {})[session_id] = count


def _draw_turns(items: list[DisplayTurn], session_id: str) -> None:
    """The session's answers from the first, the first :data:`DETAIL_TURNS` of a long one, then a
    bar that loads later ones (a 150-answer session took ~3 s to draw, and did on every rerun)."""
    shown = max(DETAIL_TURNS, int(st.session_state.get(DETAIL_SHOWN, {}).get(session_id, DETAIL_TURNS)))
    for item in items[:shown]:
        _draw_turn(item, session_id)
    rest = len(items) - shown
    if rest <= 0:
        return
    hidden_answers_bar(
        "detail-later-turns",
        rest,
        later=True,
        step=DETAIL_TURNS,
        show=partial(_show_more, session_id),
        step_to=shown + min(DETAIL_TURNS, rest),
        all_to=len(items),
        button_keys=("detail-show-more", "detail-show-all"),
    )


def _draw_detail(raw_id: str) -> None:
    st.button("All sessions", icon=":material/arrow_back:", type="tertiary", key="detail-back", on_click=_close)
    session_id = validate_session_id(raw_id)
    if session_id is None:
        # Never a session this app created: not found, without asking the store (or logging it raw).
        logger.info(
            "user_id=<%s>, session_id=<%s> | malformed session id, not found", identity.user_id, log_safe(raw_id)
        )
        st.error(NOT_FOUND, icon=":material/error:")
        return
    try:
        doc = service.open_session(session_id, views.open_scope(identity))
    except SessionNotFoundError:
        logger.info("user_id=<%s>, session_id=<%s> | session not found", identity.user_id, session_id)
        st.error(NOT_FOUND, icon=":material/error:")
        return
    except SessionError as e:
        logger.warning("session_id=<%s>, error=<%s> | session cannot be opened", session_id, e)
        st.error(f"This session cannot be shown: {e}", icon=":material/broken_image:")
        return
    meta = doc.meta
    access = detail.detail_access(identity, meta)
    with st.container(key="detail-title"):
        st.markdown(f"## {view.display_title(meta.title)}", anchors=False)
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        badge = view.state_badge(meta.state)
        st.badge(badge.label, icon=badge.icon, color=badge.color)
        model = model_view(meta.model, prices)
        mbadge = view.model_badge(OFFLINE_LABEL if model.is_offline else model.label, model.is_offline, model.is_local)
        st.badge(mbadge.label, icon=mbadge.icon, color=mbadge.color)
        st.caption(f"Started {fmt_datetime(meta.created_at, zone)} · last activity {fmt_ago(meta.updated_at, now)}")
    if access.banner:
        st.info(view.display_title(access.banner), icon=":material/visibility:")

    with st.container(horizontal=True, gap="small", key="detail-actions"):
        if access.action == "resume":
            if st.button("Resume in chat", icon=":material/forum:", type="primary", key="detail-resume"):
                logger.info("user_id=<%s>, session_id=<%s> | resuming session in chat", identity.user_id, meta.id)
                st.switch_page(CHAT_PAGE, query_params={"session": meta.id})
        elif access.action == "continue" and st.button(
            "Continue in a new session", icon=":material/arrow_forward:", type="primary", key="detail-continue"
        ):
            try:
                new = service.continue_session(meta.id, identity.user_id, user_email=identity.email)
            except SessionError as e:
                st.error(f"This session could not be continued: {e}", icon=":material/error:")
            else:
                st.switch_page(CHAT_PAGE, query_params={"session": new.id})
        st.download_button(
            "Markdown",
            data=lambda: session_to_markdown(doc, exported_at=now, zone=zone),  # built when clicked
            file_name=view.export_filename(meta, "md", zone),
            mime="text/markdown",
            icon=":material/download:",
            on_click="ignore",
            key="detail-export-md",
        )
        st.download_button(
            "JSON",
            data=lambda: session_to_json(doc, exported_at=now),
            file_name=view.export_filename(meta, "json", zone),
            mime="application/json",
            icon=":material/data_object:",
            on_click="ignore",
            key="detail-export-json",
        )
    _metric_row(detail.session_metrics(meta, doc.turns, prices), "detail-metrics")
    turns = build_display_turns(doc)
    if not turns:
        st.info("No messages in this session yet.", icon=":material/chat_bubble:")
    _draw_turns(turns, meta.id)
    if meta.continued_from:
        st.caption(":material/history: Continued from an earlier session.")


# --------------------------------------------------------------------------- main
opened_ids = st.query_params.get_all("session")
opened = opened_ids[0] if len(opened_ids) == 1 else None
show_from_top(f"sessions:{opened or ''}")  # a session's detail, and the list again, open at the top
if opened:
    _draw_detail(str(opened))
    st.stop()

st.title("Sessions & cost", anchor=False)
if len(opened_ids) > 1:  # ?session=a&session=b opened b without a word: which one was meant is unknown
    logger.info("sessions=<%d> | an address names more than one session, none opened", len(opened_ids))
    st.query_params.pop("session", None)
    st.error("This address names more than one session; open one from the list.", icon=":material/error:")
users = views.user_directory(engine) if identity.is_admin else []
emails: dict[str, str | None] = {identity.user_id: identity.email, **{u.user_id: u.email for u in users if u.email}}
scope_user = views.scoped_user_id(identity)
if identity.is_admin:
    with st.container(horizontal=True, vertical_alignment="bottom"):
        picked_user = st.selectbox(
            "User",
            [None, *[u.user_id for u in users]],
            format_func=lambda uid: "All users" if uid is None else (emails.get(uid) or uid),
            key="sc_user",
            width=320,
        )
        st.caption(":material/admin_panel_settings: Admin view: everyone's sessions, read-only.")
    scope_user = views.scoped_user_id(identity, picked_user)
else:
    st.caption("Your sessions with the Meeting Coordinator, what they cost and how fast they answered.")

tab_sessions, tab_costs, tab_what_if = st.tabs(
    [":material/table_rows: Sessions", ":material/monitoring: Cost dashboard", ":material/calculate: What-if pricing"],
    key="sc_tab",
    on_change="rerun",
)
if tab_sessions.open is not False:
    with tab_sessions:
        _sessions_tab(scope_user, identity.is_admin, emails)
if tab_costs.open:
    with tab_costs:
        _dashboard_tab(scope_user, emails)
if tab_what_if.open:
    with tab_what_if:
        _what_if_tab(scope_user)
