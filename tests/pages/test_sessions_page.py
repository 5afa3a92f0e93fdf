"""AppTest tests of the Sessions & cost page: the whole app, a real store, real offline-model turns."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

import assistant.config
from assistant import db
from assistant.chat import ChatService
from assistant.config import get_settings
from assistant.factory import get_chat_service
from assistant.sessions import queries
from assistant.sessions.base import utcnow
from assistant.views.usage import ESTIMATE_NOTE as ESTIMATE
from tests.fixtures.db import insert_sessions, insert_usage

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
USER = "test-user-123"
EMAIL = "exec@example.com"
OTHER = "other-user"
OTHER_EMAIL = "other@example.com"
DASHBOARD_TAB = ":material/monitoring: Cost dashboard"
WHAT_IF_TAB = ":material/calculate: What-if pricing"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ChatService]]:
    """Set the app's environment (ENV=local, temp SQLite) and return the service it will use."""

    def configure(**extra: str) -> ChatService:
        monkeypatch.setenv("ENV", "local")
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'sessions.db'}")
        monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)
        monkeypatch.setenv("MODEL_PROVIDER", "offline")
        monkeypatch.setenv("MESSAGES_PER_MINUTE", "1000")
        for key, value in extra.items():
            monkeypatch.setenv(key, value)
        assistant.config.get_settings.cache_clear()
        service: ChatService = get_chat_service(get_settings())
        return service

    yield configure
    assistant.config.get_settings.cache_clear()


def chat(service: ChatService, text: str, user: str = USER, email: str = EMAIL) -> str:
    """One real turn in a new session; returns the session id."""
    meta = service.create_session(user, user_email=email)
    service.run_turn(meta.id, user, text)
    return meta.id


def open_page(session: str | None = None, tab: str | None = None, timezone: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if timezone is not None:
        at.context = {"timezone": timezone}  # what the browser reports as st.context.timezone
    at.run()  # the entry script signs the dev user in, then the test navigates
    at.switch_page("app_pages/sessions.py")
    if session is not None:
        at.query_params["session"] = session
    if tab is not None:
        at.session_state["sc_tab"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest) -> Any:
    assert at.dataframe, "no sessions table"
    return at.dataframe[0].value


def texts(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def labels(at: AppTest, kind: str) -> list[str]:
    return [str(e.label) for e in at.get(kind)]


# --------------------------------------------------------------------------- table
def test_table_lists_sessions_with_tokens_and_totals(env: Callable[..., ChatService]) -> None:
    service = env()
    acme = chat(service, "Prepare me for the Acme QBR")
    chat(service, "What is my budget status?")
    at = open_page()
    df = table(at)
    assert len(df) == 2
    assert acme in set(df["id"])
    assert (df["Input tokens"] > 0).all() and (df["Output tokens"] > 0).all()
    assert set(df["Cost"]) == {"$0.00"}
    assert set(df["Models"].map(tuple)) == {("Offline demo model",)}
    assert "Showing 1–2 of 2" in texts(at)
    assert "$0.00: offline demo model is free" in texts(at)
    totals = metrics(at)
    assert totals["Sessions"] == "2" and totals["Turns"] == "2" and totals["Cost"] == "$0.00"
    assert totals["Input tokens"] != "0"
    assert "sc_user" not in [s.key for s in at.selectbox]


def test_search_placeholder_is_short_enough_to_read_whole(env: Callable[..., ChatService]) -> None:
    """At 1280 px the search box (a quarter of the filter row) showed 'A phrase from any message,
    e.g. Acme QB': its hint was cut mid-word. The box shows about 36 characters there."""
    chat(env(), "Prepare me for the Acme QBR")
    placeholder = open_page().text_input(key="sc_search").placeholder
    assert "Acme QBR" in placeholder and len(placeholder) <= 30, placeholder


def test_no_sessions_card_is_left_aligned_like_the_other_empty_cards(env: Callable[..., ChatService]) -> None:
    """'No sessions yet': its heading and text were on the left and its 'Start your first session'
    link alone in the middle; the dashboard's and what-if's empty cards keep everything on the left."""
    env()
    at = open_page()

    def blocks(node: Any) -> Iterator[Any]:
        proto = getattr(node, "proto", None)
        if proto is not None and type(proto).__name__ == "Block":
            yield proto
        for child in getattr(node, "children", {}).values():
            yield from blocks(child)

    empty = [b for b in blocks(at._tree) if b.id.endswith("-sc-empty")]
    assert len(empty) == 1 and "No sessions yet" in texts(at)
    assert empty[0].flex_container.align == empty[0].flex_container.ALIGN_START, empty[0].flex_container


def test_table_headers_say_first_token_like_the_dashboard(env: Callable[..., ChatService]) -> None:
    """The table's headers read 'TTFT p50', 'TTFT p95' and 'Avg latency', where the dashboard and
    the answers themselves say 'first token'; the data's own column names are unchanged."""
    chat(env(), "Prepare me for the Acme QBR")
    at = open_page()
    config = json.loads(at.dataframe[0].proto.columns)
    headers = {name: column.get("label") for name, column in config.items()}
    assert headers["TTFT p50"] == "First token p50" and headers["TTFT p95"] == "First token p95", headers
    assert headers["Avg latency"] == "Avg call time", headers
    assert "TTFT p50" in table(at).columns  # the data keeps its names; only the headers changed


def test_search_and_filters_narrow_the_table(env: Callable[..., ChatService]) -> None:
    service = env()
    acme = chat(service, "Prepare me for the Acme QBR")
    budget = chat(service, "What is my budget status?")
    service.complete(budget, USER)
    at = open_page()
    at.text_input(key="sc_search").set_value("acme qbr").run()
    assert list(table(at)["id"]) == [acme]
    assert metrics(at)["Sessions"] == "1"
    at.text_input(key="sc_search").set_value("").run()
    at.multiselect(key="sc_states").set_value(["completed"]).run()
    assert list(table(at)["id"]) == [budget]
    at.multiselect(key="sc_states").set_value([]).run()
    at.text_input(key="sc_search").set_value("no such words anywhere").run()
    assert not at.dataframe
    assert "No sessions match these filters" in texts(at)
    at.button(key="sc_clear").click().run()
    assert len(table(at)) == 2


def test_a_searchs_about_n_stays_the_same_across_sorts_and_pages(
    env: Callable[..., ChatService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search with many matches is counted from the newest candidates in the sort's order, so
    its "about N" moved as the reader sorted and paged (here "about 180", then "about 109" by cost)."""
    service = env()
    now = utcnow()
    insert_sessions(
        service.store.engine,
        [
            {
                "id": f"s{i:03d}",
                "user_id": USER,
                "title": f"Session {i}",
                "model": "offline",
                "updated_at": now - timedelta(minutes=i),
                "cost_usd": 0.01 * (i % 7),
                # newer sessions mention the project more often than older ones
                "search_text": "project aurora" if (i < 150 and i % 2 == 0) or i % 5 == 0 else "other words",
            }
            for i in range(300)
        ],
    )
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 10)  # the window is then 4 pages of 25
    by_time = queries.list_sessions(service.store.engine, queries.SessionFilter(user_id=USER, text="aurora", limit=25))
    by_cost = queries.list_sessions(
        service.store.engine, queries.SessionFilter(user_id=USER, text="aurora", sort="cost_usd", limit=25)
    )
    assert by_time.totals.approximate and by_cost.totals.approximate
    assert by_time.total_count != by_cost.total_count  # what the page showed, one after the other

    at = open_page()
    at.text_input(key="sc_search").set_value("aurora").run()
    first = metrics(at)["Sessions"]
    assert first == f"about {by_time.total_count:,}"
    at.selectbox(key="sc_sort").set_value("cost_usd").run()
    assert metrics(at)["Sessions"] == first
    at.button(key="sc_next").click().run()
    assert metrics(at)["Sessions"] == first
    at.text_input(key="sc_search").set_value("project aurora").run()  # other words: counted afresh
    assert metrics(at)["Sessions"].startswith("about ")


def test_a_search_of_short_words_says_it_looked_through_the_first_sessions_only(
    env: Callable[..., ChatService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "q3" has no trigram: the search read every text row of history (15-17 s at 1M sessions on
    Postgres for a word no session holds). It stops after the first sessions of the list and says so."""
    service = env()
    now = utcnow()
    texts = {2: "okr review for q3", 350: "q3 board memo"}
    rows = [
        {"id": f"s{i:03d}", "user_id": USER, "title": f"Session {i}", "model": "offline",
         "updated_at": now - timedelta(minutes=i), "search_text": texts.get(i, "other words")}
        for i in range(400)
    ]  # fmt: skip
    insert_sessions(service.store.engine, rows)
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 4)  # then 4 pages' worth
    monkeypatch.setattr(queries, "SHORT_SEARCH_SESSIONS", 300)
    at = open_page()
    at.text_input(key="sc_search").set_value("q3").run()
    assert metrics(at)["Sessions"] == "1"  # s002; s350 is past the first 300
    note = "Only the first 300 sessions of this list were searched: “q3” is too short"
    assert any(note in c.value for c in at.caption), [c.value for c in at.caption]
    at.text_input(key="sc_search").set_value("memo q3").run()  # a longer word: the whole history
    assert metrics(at)["Sessions"] == "1"
    assert not any("Only the first" in c.value for c in at.caption)
    at.text_input(key="sc_search").set_value("zq").run()  # nothing in the first 30: said, not just "no match"
    assert any("Only the first 300 sessions" in c.value for c in at.caption)
    assert "No sessions match these filters" in " ".join(m.value for m in at.markdown)


def test_a_session_idle_past_the_expiry_reads_expired_in_the_table(env: Callable[..., ChatService]) -> None:
    """Opened straight from a link (the chat page, whose session list expires them, did not run
    since), the table said Active, the State filter "Expired" missed it, and its detail said Expired."""
    service = env(SESSION_EXPIRY_HOURS="1")
    idle = chat(service, "Prepare me for the Acme QBR")
    fresh = chat(service, "What is my budget status?")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()  # the entry script signs the dev user in (on the chat page)
    with service.store.engine.begin() as conn:  # three hours later, nothing else having run
        stale = sa.update(db.sessions).where(db.sessions.c.id == idle)
        conn.execute(stale.values(updated_at=utcnow() - timedelta(hours=3)))
    at.switch_page("app_pages/sessions.py").run()
    assert not at.exception, at.exception
    assert dict(zip(table(at)["id"], table(at)["State"], strict=True)) == {idle: "Expired", fresh: "Active"}
    at.multiselect(key="sc_states").set_value(["expired"]).run()
    assert list(table(at)["id"]) == [idle]


def test_sort_and_paging_are_server_side(env: Callable[..., ChatService]) -> None:
    service = env()
    for i in range(27):
        service.store.create_session(USER, model="offline", title=f"Session {i:02d}", user_email=EMAIL)
    at = open_page()
    at.selectbox(key="sc_sort").set_value("title").run()
    at.segmented_control(key="sc_order").set_value("asc").run()
    assert list(table(at)["Title"])[:2] == ["Session 00", "Session 01"]
    assert len(table(at)) == 25
    assert "Showing 1–25 of 27" in texts(at)
    assert at.button(key="sc_prev").disabled
    at.button(key="sc_next").click().run()
    assert list(table(at)["Title"]) == ["Session 25", "Session 26"]
    assert "Showing 26–27 of 27" in texts(at)
    assert at.button(key="sc_next").disabled


def test_empty_state_links_to_the_chat(env: Callable[..., ChatService]) -> None:
    env()
    at = open_page()
    assert not at.dataframe
    assert "No sessions yet" in texts(at)
    links = at.get("page_link")
    assert any("Start your first session" in str(link.proto.label) for link in links)


# --------------------------------------------------------------------------- detail
def test_detail_shows_transcript_steps_usage_and_downloads(env: Callable[..., ChatService]) -> None:
    service = env()
    sid = chat(service, "Prepare me for the Acme QBR")
    service.set_feedback(sid, USER, 0, 1)
    at = open_page(session=sid)
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.chat_message[0].markdown[0].value == "Prepare me for the Acme QBR"
    assert any("get_upcoming_meetings" in e.label for e in at.expander)
    footer = " ".join(c.value for c in at.chat_message[1].caption)
    assert "tokens" in footer and "$0.00 (offline demo model)" in footer and "Rated helpful" in footer
    feedback = at.get("feedback")
    assert feedback and feedback[0].value == 1 and feedback[0].proto.disabled
    assert labels(at, "download_button") == ["Markdown", "JSON"]
    assert at.button(key="detail-resume").label == "Resume in chat"
    assert metrics(at)["Turns"] == "1"
    assert "Viewing" not in texts(at)


def test_a_long_sessions_detail_draws_its_first_answers_and_loads_later_ones_on_request(
    env: Callable[..., ChatService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 150-answer session drew every answer (~3 s) on each rerun of its detail."""
    from assistant.models import registry

    monkeypatch.setattr(registry, "OFFLINE_FIRST_TOKEN_DELAY_S", 0.0)  # 45 answers without the demo's pacing
    monkeypatch.setattr(registry, "OFFLINE_CHUNK_DELAY_S", 0.0)
    service = env()
    meta = service.create_session(USER, user_email=EMAIL)
    for i in range(45):
        service.run_turn(meta.id, USER, f"Question number {i}: what meetings do I have this week?")
    at = open_page(session=meta.id)
    questions = [m.markdown[0].value for m in at.chat_message if m.name == "user"]
    assert questions[0] == "Question number 0: what meetings do I have this week?"
    assert len(questions) == 20 and questions[-1].startswith("Question number 19:")
    assert "25 later answers not shown" in texts(at)
    at.button(key="detail-show-more").click().run()
    questions = [m.markdown[0].value for m in at.chat_message if m.name == "user"]
    assert len(questions) == 40 and questions[-1].startswith("Question number 39:")
    assert at.button(key="detail-show-more").label == "Show 5 more"
    assert "detail-show-all" not in [b.key for b in at.button]  # one step shows the rest
    at.button(key="detail-show-more").click().run()
    assert len([m for m in at.chat_message if m.name == "user"]) == 45
    assert "later answer" not in texts(at) and "detail-show-more" not in [b.key for b in at.button]
    assert metrics(at)["Turns"] == "45"  # the figures are of the whole session


def test_times_are_shown_in_the_browsers_time_zone(env: Callable[..., ChatService]) -> None:
    service = env()
    sid = chat(service, "Prepare me for the Acme QBR")
    started = service.open_session(sid, USER).meta.created_at.astimezone(ZoneInfo("America/New_York"))
    at = open_page(session=sid, timezone="America/New_York")
    caption = next(c.value for c in at.caption if c.value.startswith("Started "))
    assert caption.startswith(f"Started {started:%Y-%m-%d %H:%M} {started:%Z} · last activity ")
    assert started.tzname() in ("EST", "EDT") and "UTC" not in caption

    columns = json.loads(open_page(timezone="America/New_York").dataframe[0].proto.columns)
    assert columns["Started"]["type_config"]["timezone"] == "America/New_York"
    assert columns["Started"]["help"] == "Time zone: America/New_York"

    dashboard = texts(open_page(tab=DASHBOARD_TAB, timezone="America/New_York"))
    assert "(UTC days)" in dashboard  # the daily budget still resets at UTC midnight


def test_last_activity_today_is_the_readers_day(env: Callable[..., ChatService]) -> None:
    """The table's "Today" (Last activity) was the UTC day: a reader twelve hours behind UTC
    saw yesterday evening's session under Today (or, before noon UTC, not this morning's), while
    the table showed both sessions' times in their own zone."""
    zone = ZoneInfo("Etc/GMT+12")  # UTC-12 all year: the reader's day and the UTC day always differ
    service = env()
    evening = chat(service, "Prepare me for the Acme QBR")
    morning = chat(service, "What is my budget status?")
    midnight = utcnow().astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    with service.store.engine.begin() as conn:
        for sid, moment in ((evening, midnight - timedelta(minutes=1)), (morning, midnight + timedelta(seconds=1))):
            stamp = moment.astimezone(ZoneInfo("UTC"))  # stored as UTC
            conn.execute(sa.update(db.sessions).where(db.sessions.c.id == sid).values(updated_at=stamp))
    at = open_page(timezone="Etc/GMT+12")
    at.selectbox(key="sc_period").set_value("Today").run()
    assert list(table(at)["id"]) == [morning]
    assert metrics(at)["Sessions"] == "1"


def test_unknown_browser_time_zone_falls_back_to_utc(env: Callable[..., ChatService]) -> None:
    service = env()
    sid = chat(service, "Prepare me for the Acme QBR")
    started = service.open_session(sid, USER).meta.created_at
    at = open_page(session=sid, timezone="Mars/Olympus_Mons")
    assert any(c.value.startswith(f"Started {started:%Y-%m-%d %H:%M} UTC · ") for c in at.caption)
    columns = json.loads(open_page(timezone="Mars/Olympus_Mons").dataframe[0].proto.columns)
    assert columns["Started"]["type_config"]["timezone"] == "UTC"


def test_completed_session_offers_continue_in_new_session(env: Callable[..., ChatService]) -> None:
    service = env()
    sid = chat(service, "Prepare me for the Acme QBR")
    service.complete(sid, USER)
    at = open_page(session=sid)
    assert "detail-resume" not in [b.key for b in at.button]
    at.button(key="detail-continue").click().run()
    sessions, total = service.list_sessions(USER)
    assert total == 2
    continued = next(s for s in sessions if s.id != sid)
    assert continued.title.startswith("Continued: ")


def test_back_button_returns_to_the_table(env: Callable[..., ChatService]) -> None:
    service = env()
    sid = chat(service, "Prepare me for the Acme QBR")
    at = open_page(session=sid)
    at.button(key="detail-back").click().run()
    assert "session" not in at.query_params
    assert len(table(at)) == 1


def test_an_address_naming_two_sessions_is_refused_not_read_as_the_last(env: Callable[..., ChatService]) -> None:
    """?session=a&session=b opened b without a word: which one the link meant is unknown."""
    service = env()
    first = chat(service, "Prepare me for the Acme QBR")
    second = chat(service, "What are my big rocks?")
    at = open_page(session=[first, second])  # type: ignore[arg-type]
    assert not at.chat_message, "no session's transcript is drawn"
    assert "This address names more than one session; open one from the list." in [e.value for e in at.error]
    assert "session" not in at.query_params
    assert len(table(at)) == 2


# --------------------------------------------------------------------------- roles
def test_user_never_sees_other_users_sessions(env: Callable[..., ChatService]) -> None:
    service = env()
    mine = chat(service, "Prepare me for the Acme QBR")
    theirs = chat(service, "What are my big rocks?", user=OTHER, email=OTHER_EMAIL)
    at = open_page()
    assert list(table(at)["id"]) == [mine]
    assert "sc_user" not in [s.key for s in at.selectbox]
    assert "User" not in table(at).columns or table(at)["User"].isna().all()
    other = open_page(session=theirs)
    assert "not found" in " ".join(e.value for e in other.error)
    assert not other.chat_message


def test_admin_sees_everyone_with_a_user_filter_read_only(env: Callable[..., ChatService]) -> None:
    service = env(ADMIN_EMAILS=EMAIL)
    mine = chat(service, "Prepare me for the Acme QBR")
    theirs = chat(service, "What are my big rocks?", user=OTHER, email=OTHER_EMAIL)
    at = open_page()
    assert set(table(at)["id"]) == {mine, theirs}
    assert set(table(at)["User"]) == {EMAIL, OTHER_EMAIL}
    users = at.selectbox(key="sc_user")
    assert users.options == ["All users", EMAIL, OTHER_EMAIL]
    users.set_value(OTHER).run()
    assert list(table(at)["id"]) == [theirs]
    detail = open_page(session=theirs)
    assert f"Viewing {OTHER_EMAIL}'s session (read-only)" in texts(detail).replace("\\", "").replace("\u200b", "")
    keys = [b.key for b in detail.button]
    assert "detail-resume" not in keys and "detail-continue" not in keys
    assert labels(detail, "download_button") == ["Markdown", "JSON"]
    assert [m.name for m in detail.chat_message] == ["user", "assistant"]


# --------------------------------------------------------------------------- dashboard and what-if
def test_dashboard_tab_charts_with_csv(env: Callable[..., ChatService]) -> None:
    service = env()
    chat(service, "Prepare me for the Acme QBR")
    at = open_page(tab=DASHBOARD_TAB)
    figures = metrics(at)
    assert figures["Total cost"] == "$0.00"
    assert figures["Model calls"] != "0" and figures["Tokens"] != "0"
    assert len(at.get("plotly_chart")) == 4  # no "top users" for a non-admin
    csv = labels(at, "download_button")  # "CSV", then the chart's title, visually hidden (its name)
    assert len(csv) == 4 and all(label.startswith("CSV _of ") for label in csv), csv
    assert "offline demo model, which is free" in texts(at)


def test_dashboard_hover_says_dollars_and_counts_one_session(env: Callable[..., ChatService]) -> None:
    """Hovering a day of the cost chart read "Dec 5 / 0.0123" (no dollar sign), and the one
    session of a cost range read "1 sessions"."""
    service = env()
    sid = chat(service, "Prepare me for the Acme QBR")
    insert_usage(
        service.store.engine,
        [dict(session_id=sid, user_id=USER, started_at=utcnow(), provider="bedrock",
              model_id="us.amazon.nova-lite-v1:0", input_tokens=1000, output_tokens=100, cost_usd=0.0123)],
    )  # fmt: skip
    at = open_page(tab=DASHBOARD_TAB)
    hovers = [
        str(trace.get("hovertemplate"))
        for chart in at.get("plotly_chart")
        for trace in json.loads(chart.proto.spec)["data"]
    ]
    assert any("$0.0123" in h for h in hovered(at, "Cost per day ($)")), hovered(at, "Cost per day ($)")
    assert not [h for h in hovers if "%{x} sessions" in h]


def hovered(at: AppTest, axis: str) -> list[str]:
    """What hovering each bar of the chart whose value axis is ``axis`` reads (its dollar amounts as written)."""
    out: list[str] = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        titles = {spec["layout"].get(a, {}).get("title", {}).get("text") for a in ("xaxis", "yaxis")}
        if axis not in titles:
            continue
        for trace in spec["data"]:
            bars = trace.get("customdata") or [[] for _ in trace.get("text") or []]
            for i, data in enumerate(bars):
                names = trace["y"] if isinstance(trace.get("y"), list) else []  # numbers come base64-encoded
                text = str(trace["hovertemplate"]).replace("<extra></extra>", "")
                text = text.replace("%{y}", str(names[i])) if names else text
                for j, value in enumerate(data):
                    text = text.replace(f"%{{customdata[{j}]}}", str(value))
                text = text.replace("%{text}", str((trace.get("text") or [""] * (i + 1))[i]))
                out.append(text)
    return out


def test_hovers_write_tiny_and_large_amounts_as_the_page_does(env: Callable[..., ChatService]) -> None:
    """A day of one small call ($0.00004 on Nova Micro) was hovered "$0", as a free day, on the cost,
    budget and top-user charts; $12,345.678 was hovered "$12,345.678" where the page writes "$12,345.68"."""
    service = env(ADMIN_EMAILS=EMAIL)
    sid = chat(service, "Prepare me for the Acme QBR")
    other = chat(service, "What are my big rocks?", user=OTHER, email=OTHER_EMAIL)
    call = dict(provider="bedrock", model_id="us.amazon.nova-micro-v1:0", input_tokens=1000, output_tokens=10)
    insert_usage(
        service.store.engine,
        [dict(call, session_id=sid, user_id=USER, started_at=utcnow(), cost_usd=0.00004),
         dict(call, session_id=other, user_id=OTHER, started_at=utcnow() - timedelta(days=1), cost_usd=12345.678)],
    )  # fmt: skip
    at = open_page(tab=DASHBOARD_TAB)
    for axis in ("Cost per day ($)", "Spend per day ($)", "Cost ($)"):
        hovers = hovered(at, axis)
        assert any(h.endswith("$0.00004") for h in hovers), (axis, hovers)
        assert any(h.endswith("$12,345.68") for h in hovers), (axis, hovers)


def test_what_ifs_actual_bar_says_unknown_or_at_least_as_its_metric_does(env: Callable[..., ChatService]) -> None:
    """With calls on a model without a price the Actual (recorded) bar read "$0.00" (every call
    unpriced) or "$0.0123" while the metric above it said "unknown" / "≥ $0.0123"."""
    service = env()
    sid = chat(service, "Prepare me for the Acme QBR")
    unpriced = dict(session_id=sid, user_id=USER, provider="anthropic", model_id="claude-opus-4-7", cost_usd=None)
    insert_usage(service.store.engine, [dict(unpriced, started_at=utcnow() - timedelta(days=40), input_tokens=900)])
    at = open_page(tab=WHAT_IF_TAB)
    at.session_state["wi_period"] = "Last 90 days"
    at.run()
    assert metrics(at)["Actual cost (recorded)"] == "unknown"
    assert "Actual (recorded)<br>unknown" in hovered(at, "Cost ($)"), hovered(at, "Cost ($)")


def test_cost_per_session_says_it_counts_whole_sessions_not_the_periods_calls(
    env: Callable[..., ChatService],
) -> None:
    """A session started 40 days ago ($5) and answered once today ($0.01): the last 7 days read Total
    cost $0.01 and, beside it, "max $5.01 per session", with nothing saying why the two disagree."""
    service = env()
    sid = chat(service, "Prepare me for the Acme QBR")
    call = dict(session_id=sid, user_id=USER, provider="bedrock", model_id="us.amazon.nova-lite-v1:0")
    insert_usage(
        service.store.engine,
        [dict(call, started_at=utcnow() - timedelta(days=40), cost_usd=5.0),
         dict(call, started_at=utcnow(), cost_usd=0.01)],
    )  # fmt: skip
    with service.store.engine.begin() as conn:  # the session's totals, as the store keeps them from its ledger
        conn.execute(sa.update(db.sessions).where(db.sessions.c.id == sid).values(cost_usd=5.01))
    at = open_page(tab=DASHBOARD_TAB)
    assert metrics(at)["Total cost"] == "$0.01"
    text = texts(at)
    assert "max $5.01 per session" in text
    assert "Sessions last active in this period, each at its whole cost (calls before the period included)." in text


def test_dashboard_time_charts_start_at_zero(env: Callable[..., ChatService]) -> None:
    """The answer-time chart's axis began near its lowest point (about 200 ms), so a 220 ms first
    token sat at the bottom of the plot like a zero; the token and spend charts start at zero."""
    chat(env(), "Prepare me for the Acme QBR")
    at = open_page(tab=DASHBOARD_TAB)
    layouts = [json.loads(chart.proto.spec)["layout"] for chart in at.get("plotly_chart")]
    latency = [layout for layout in layouts if layout["yaxis"]["title"]["text"] == "Milliseconds"]
    assert len(latency) == 1 and latency[0]["yaxis"].get("rangemode") == "tozero", latency


def test_dates_read_day_first_as_on_the_other_pages(env: Callable[..., ChatService]) -> None:
    """The chat, the Prep queue and My context write "Mon 7 Dec", "26 Dec 2026"; this page alone
    wrote "Dec 6, 06:43" in the table and "Nov 8 ... Dec 6" under every chart."""
    chat(env(), "Prepare me for the Acme QBR")
    started = json.loads(open_page().dataframe[0].proto.columns)["Started"]["type_config"]["format"]
    assert started == "D MMM, HH:mm", started
    at = open_page(tab=DASHBOARD_TAB)
    days = [
        layout["xaxis"]
        for chart in at.get("plotly_chart")
        if (layout := json.loads(chart.proto.spec)["layout"])["xaxis"].get("type") == "date"
    ]
    assert len(days) == 3, days  # tokens, answer time, budget use: one axis of days each
    assert all((x["tickformat"], x["hoverformat"]) == ("%-d %b", "%a %-d %b %Y") for x in days), days


def test_dashboard_admin_adds_top_users(env: Callable[..., ChatService]) -> None:
    service = env(ADMIN_EMAILS=EMAIL)
    chat(service, "Prepare me for the Acme QBR")
    chat(service, "What are my big rocks?", user=OTHER, email=OTHER_EMAIL)
    at = open_page(tab=DASHBOARD_TAB)
    assert len(at.get("plotly_chart")) == 5
    assert "Top users by tokens" in texts(at)  # offline demo model: nothing to rank in dollars


def test_dashboard_without_a_daily_budget_draws_no_budget_line(env: Callable[..., ChatService]) -> None:
    """DAILY_BUDGET_USD=0 (none) drew a "Daily budget $0.00" line and said "Daily budget per user: $0.00"."""
    chat(env(DAILY_BUDGET_USD="0"), "Prepare me for the Acme QBR")
    at = open_page(tab=DASHBOARD_TAB)
    shapes = [json.loads(chart.proto.spec)["layout"].get("shapes", []) for chart in at.get("plotly_chart")]
    assert not [s for s in shapes if s], "no budget line on any chart"
    assert "No daily budget (DAILY_BUDGET_USD=0)." in texts(at) and "Daily budget per user" not in texts(at)


def test_the_budget_lines_label_and_the_what_ifs_amounts_stay_readable(env: Callable[..., ChatService]) -> None:
    """The "Daily budget $5.00" label was drawn without a background, hidden by the bars over the
    line; the what-if's longest bar had its amount, written outside it, cut to "$1" on a phone."""
    chat(env(DAILY_BUDGET_USD="5"), "Prepare me for the Acme QBR")
    at = open_page(tab=DASHBOARD_TAB)
    labels = [
        a
        for chart in at.get("plotly_chart")
        for a in json.loads(chart.proto.spec)["layout"].get("annotations", [])
        if str(a.get("text", "")).startswith("Daily budget")
    ]
    assert labels and all(a.get("bgcolor") and a.get("font", {}).get("color") for a in labels), labels
    at = open_page(tab=WHAT_IF_TAB)
    [what_if] = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "Cost ($)" in c.proto.spec]
    assert what_if["data"][0]["textposition"] == "outside" and what_if["layout"]["margin"]["r"] >= 60


def test_dashboard_empty_period_guides(env: Callable[..., ChatService]) -> None:
    env()
    at = open_page(tab=DASHBOARD_TAB)
    assert "No model calls in this period" in texts(at)
    assert not at.get("plotly_chart")


def test_what_if_tab_prices_recorded_usage_on_other_models(env: Callable[..., ChatService]) -> None:
    service = env()
    chat(service, "Prepare me for the Acme QBR")
    at = open_page(tab=WHAT_IF_TAB)
    text = texts(at)
    assert "Estimate from recorded token counts" in text
    # a price that changed during the period: the estimate uses one day's prices, the actual each call's
    last_day = utcnow().astimezone(ZoneInfo("UTC"))
    said = f"at its prices of {last_day:%-d %b %Y} (UTC), where the actual cost used the prices of each call's day"
    assert said in text, text
    assert "This period on Amazon Nova Micro would have cost $" in text
    figures = metrics(at)
    assert figures["Actual cost (recorded)"] == "$0.00"
    assert any(label.startswith("On ") for label in figures)
    assert labels(at, "download_button") == [f"CSV _of This period priced on other models · {ESTIMATE.lower()}_"]


def test_the_table_says_how_to_open_a_session_with_the_keyboard(env: Callable[..., ChatService]) -> None:
    """Clicking a row opens its session; a keyboard user must know the grid's own key for it."""
    chat(env(), "Prepare me for the Acme QBR")
    at = open_page()
    assert "Select a row to open it" in texts(at)
    assert "Shift+Space" in texts(at)


def test_one_claude_model_on_bedrock_and_on_anthropics_api_is_named_apart(env: Callable[..., ChatService]) -> None:
    """Claude Haiku 4.5 used through Bedrock in production, then through Anthropic's API.

    The Model filter offered "Claude Haiku 4.5" twice (which one is which?), and the dashboard's
    cost per day drew both as one "Claude Haiku 4.5" series, its CSV two rows of that name a day.
    """
    service = env()
    now = utcnow()
    for provider, name, model_id in [
        (
            "bedrock",
            "bedrock:us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        ),
        ("anthropic", "anthropic:claude-haiku-4-5", "claude-haiku-4-5"),
    ]:
        meta = service.store.create_session(USER, model=name, user_email=EMAIL)
        insert_usage(
            service.store.engine,
            [{"session_id": meta.id, "user_id": USER, "provider": provider, "model_id": model_id,
              "started_at": now, "input_tokens": 1000, "output_tokens": 100, "cost_usd": 0.0015}],
        )  # fmt: skip
    at = open_page()
    shown = at.multiselect(key="sc_models").options
    assert sorted(shown) == ["Claude Haiku 4.5 (Anthropic)", "Claude Haiku 4.5 (Bedrock)"], shown
    at = open_page(tab=DASHBOARD_TAB)
    series = [str(trace.get("name")) for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]
    assert sorted(series) == ["Claude Haiku 4.5 (Anthropic)", "Claude Haiku 4.5 (Bedrock)"], series


def test_a_session_started_last_year_says_its_year(env: Callable[..., ChatService]) -> None:
    """Sorted oldest first, a year-old session's Started read "Dec 6, 06:43", as one of today's does."""
    service = env()
    old = chat(service, "Prepare me for the Acme QBR")
    chat(service, "What is my budget status?")
    year_ago = utcnow() - timedelta(days=366)
    with service.store.engine.begin() as conn:
        conn.execute(sa.update(db.sessions).where(db.sessions.c.id == old).values(created_at=year_ago))
    at = open_page()
    started = json.loads(at.dataframe[0].proto.columns)["Started"]["type_config"]["format"]
    assert "YYYY" in started, started

    service.delete(old, USER)  # this year's sessions only: the year would only take room
    started = json.loads(open_page().dataframe[0].proto.columns)["Started"]["type_config"]["format"]
    assert "YYYY" not in started, started


def test_the_occurrences_of_a_prepared_series_are_told_apart_in_the_meeting_filter(
    env: Callable[..., ChatService],
) -> None:
    """A weekly 1:1 prepared every week: the Prepared meeting filter listed "1:1 with Marcus" once per
    week, each alike, so no one could pick last month's."""
    from assistant.context.meetings import Meeting

    service = env()
    first = utcnow().replace(microsecond=0) + timedelta(hours=3)
    for week in range(2):
        start = first + timedelta(weeks=week)
        meeting = Meeting(
            id=f"series1-{start:%Y%m%d%H%M}", title="1:1 with Marcus", start=start, end=start + timedelta(minutes=30),
            duration_minutes=30, attendees=[], type="one_on_one", location="", description="", source="ics_file",
            series_id="series1",
        )  # fmt: skip
        list(service.start_turn(USER, "Prepare me for 1:1 with Marcus", meeting=meeting).events)
    at = open_page()
    options = [o for o in at.selectbox(key="sc_meeting").options if o != "All sessions"]
    assert len(options) == 2 and len(set(options)) == 2, options
    assert all(o.startswith("1:1 with Marcus · ") for o in options), options


def test_a_day_of_calls_on_a_model_without_a_price_is_not_hovered_as_free(env: Callable[..., ChatService]) -> None:
    """Cost per day by model: hovering the day of a model the price table lacks read "$0", the same
    as a free model's, though its calls' cost is unknown (the Total cost metric said "≥")."""
    service = env()
    sid = chat(service, "Prepare me for the Acme QBR")
    insert_usage(
        service.store.engine,
        [dict(session_id=sid, user_id=USER, started_at=utcnow(), provider="anthropic", model_id="claude-opus-4-7",
              input_tokens=1000, output_tokens=100, cost_usd=None)] * 2
        + [dict(session_id=sid, user_id=USER, started_at=utcnow(), provider="bedrock",
                model_id="us.amazon.nova-lite-v1:0", input_tokens=1000, output_tokens=100, cost_usd=0.0123)],
    )  # fmt: skip
    at = open_page(tab=DASHBOARD_TAB)
    traces = {str(t["name"]): t for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
    unpriced = traces["claude-opus-4-7"]
    hovers = [unpriced["hovertemplate"].replace("%{customdata[0]}", str(c[0])) for c in unpriced["customdata"]]
    assert any("2 calls without a price: cost unknown" in h for h in hovers), hovers
    nova = traces["Amazon Nova Lite"]
    assert all("without a price" not in str(c[0]) for c in nova["customdata"]), nova["customdata"]
    spend = hovered(at, "Spend per day ($)")  # the budget chart's day says so too (it read "$0.0123" alone)
    assert any(h.endswith("$0.0123<br>2 calls without a price: cost unknown") for h in spend), spend
