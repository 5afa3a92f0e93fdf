"""Upgrading a database that holds an old release's conversations: users notice nothing.

Every other migration test starts from an empty database. Here a SQLite file and a Postgres
schema are taken to an old release's revision (0002: search text still on ``sessions``;
0007: pending questions) and filled with the rows that release really wrote
(tests/fixtures/old_releases), then upgraded to head as a deploy does. What a user sees must
be what they saw before: every session listed with its turns and cost, opened, exported,
resumed by its agent, found by its words; the dashboard's figures unchanged; a question the
old release left failed or half-answered still offered for Retry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from assistant.chat.display import build_display_turns
from assistant.migrate import SCHEMA_HEAD, current_revision, upgrade
from assistant.sessions.queries import SessionFilter, list_sessions
from assistant.sessions.rows import turn_search_text
from assistant.sessions.s3_store import S3SessionStore
from assistant.sessions.sql_store import SqlSessionStore
from assistant.usage.dashboard import dashboard
from assistant.views.export import session_to_json, session_to_markdown
from tests.fixtures.chat import make_service
from tests.fixtures.old_releases import OldRelease
from tests.fixtures.s3 import BUCKET, make_client

# Words the old release's users typed, each in exactly one surviving session (ocelot's was deleted).
WORDS = ("zebrafinch", "kingfisher", "wombat", "capybara", "axolotl", "narwhal", "giraffe")
UPGRADE_BUDGET_S = 5.0


def _what_users_saw(engine: sa.Engine) -> dict[str, Any]:
    """The figures the old release showed, read from its own tables before the upgrade."""
    with engine.connect() as conn:
        sessions = {r.id: r._asdict() for r in conn.execute(sa.text("SELECT * FROM sessions"))}
        ledger = conn.execute(
            sa.text("SELECT user_id, count(*) AS calls, coalesce(sum(cost_usd), 0) AS cost FROM usage GROUP BY user_id")
        ).all()
    return {"sessions": sessions, "ledger": {r.user_id: (r.calls, float(r.cost)) for r in ledger}}


def _search(engine: sa.Engine, text: str, user_id: str | None = None) -> set[str]:
    return {m.id for m in list_sessions(engine, SessionFilter(user_id=user_id, text=text, limit=500)).rows}


def _sessions_with_word(old: OldRelease, word: str) -> set[str]:
    sids = {m["session_id"] for m in old.rows["messages"] if m["role"] == "user" and word in m["content"].lower()}
    for body in (old.objects or {}).values():  # the S3 store's transcripts are in its objects
        if any(m["role"] == "user" and word in json.dumps(m["content"]).lower() for m in body["messages"]):
            sids.add(body["meta"]["id"])
    sids |= {s["id"] for s in old.rows["sessions"] if word in s["title"].lower()}
    return sids & {s["id"] for s in old.rows["sessions"]}


def _check_table(engine: sa.Engine, before: dict[str, Any]) -> None:
    """The Sessions table lists every old session with its turns and cost; totals add up."""
    users = {s["user_id"] for s in before["sessions"].values()}
    for user in (*sorted(users), None):
        page = list_sessions(engine, SessionFilter(user_id=user, limit=500))
        mine = {k: s for k, s in before["sessions"].items() if user is None or s["user_id"] == user}
        shown = {m.id: m for m in page.rows}
        assert set(shown) == set(mine), user
        for sid, s in mine.items():
            assert (shown[sid].turn_count, shown[sid].errors) == (s["turn_count"], s["errors"])
            assert (shown[sid].cost_usd is None) == bool(s["cost_unknown"])
            assert shown[sid].known_cost_usd == pytest.approx(s["cost_usd"])
        assert page.totals.sessions == len(mine)
        assert page.totals.turns == sum(s["turn_count"] for s in mine.values())
        assert page.totals.cost_usd == pytest.approx(sum(s["cost_usd"] for s in mine.values()))
        assert page.totals.unknown_cost_sessions == sum(1 for s in mine.values() if s["cost_unknown"])


def _check_dashboard(engine: sa.Engine, before: dict[str, Any], first: datetime) -> None:
    """Whole days (rollups) and a period cut mid-day (ledger) give the old figures."""
    day0 = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=1)
    end = datetime.now(UTC) + timedelta(days=2)
    whole_days = (day0, datetime(end.year, end.month, end.day, tzinfo=UTC))
    for since, until in (whole_days, (day0 + timedelta(minutes=7), end)):
        for user in (None, *sorted(before["ledger"])):
            d = dashboard(engine, since=since, until=until, user_id=user)
            calls = sum(c for u, (c, _) in before["ledger"].items() if user in (None, u))
            cost = sum(c for u, (_, c) in before["ledger"].items() if user in (None, u))
            assert (d.totals.calls, d.totals.cost_usd) == (calls, pytest.approx(cost)), (user, since)
            mine = [s for s in before["sessions"].values() if user in (None, s["user_id"])]
            priced = [s["cost_usd"] for s in mine if not s["cost_unknown"]]
            assert d.session_costs.sessions == len(priced), (user, since)
            assert d.session_costs.unknown_cost_sessions == len(mine) - len(priced)
            assert d.session_costs.mean_usd == pytest.approx(sum(priced) / len(priced))
            assert d.session_costs.max_usd == pytest.approx(max(priced))


def _check_rollups_match(engine: sa.Engine) -> None:
    """The trigger-kept rollups equal a recount of their sources after new turns."""
    with engine.connect() as conn:
        totals = conn.execute(
            sa.text(
                "SELECT user_id, state, model, sessions, turns FROM session_totals WHERE sessions <> 0 ORDER BY 1, 2, 3"
            )
        ).all()
        recount = conn.execute(
            sa.text(
                "SELECT user_id, state, model, count(*), sum(turn_count) FROM sessions "
                "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
            )
        ).all()
        assert [tuple(r) for r in totals] == [tuple(r) for r in recount]
        daily = conn.execute(sa.text("SELECT user_id, sum(calls) FROM usage_daily GROUP BY 1 ORDER BY 1")).all()
        ledger = conn.execute(sa.text("SELECT user_id, count(*) FROM usage GROUP BY 1 ORDER BY 1")).all()
        assert [tuple(r) for r in daily] == [tuple(r) for r in ledger]


def _agent_messages(snapshot: dict[str, Any] | None) -> int:
    return len(((snapshot or {}).get("data") or {}).get("messages") or [])


def _resumes_with_its_agent(service: Any, s: dict[str, Any]) -> None:
    """A new turn in old session ``s`` ("... quetzal") is answered and stored by an agent restored
    from the old snapshot: it still holds the earlier exchanges."""
    old_doc = service.open_session(s["id"], s["user_id"])
    events = service.run_turn(s["id"], s["user_id"], "How is the budget? quetzal")
    assert type(events[-1]).__name__ == "Done", events[-3:]
    doc = service.open_session(s["id"], s["user_id"])
    assert doc.meta.turn_count == s["turn_count"] + 1
    assert _agent_messages(doc.agent_snapshot) >= _agent_messages(old_doc.agent_snapshot) + 2


def test_an_old_releases_conversations_survive_the_upgrade_to_head(old_release_engine: OldRelease) -> None:
    """Sessions an old release stored open, list, cost, search, export and resume the same after the upgrade."""
    old = old_release_engine
    engine = old.engine
    before = _what_users_saw(engine)
    started = time.perf_counter()
    upgrade(engine)
    assert time.perf_counter() - started < UPGRADE_BUDGET_S
    assert current_revision(engine) == SCHEMA_HEAD

    _check_table(engine, before)
    _check_dashboard(engine, before, min(s["created_at"] for s in old.rows["sessions"]))
    for word in WORDS:
        assert _search(engine, word) == _sessions_with_word(old, word), word
    assert _search(engine, "ocelot") == set()

    service = make_service(engine)
    for sid, s in before["sessions"].items():
        doc = service.open_session(sid, s["user_id"])
        turns = build_display_turns(doc)
        assert len(turns) == s["turn_count"] == len(doc.turns), sid
        assert [t.user_text for t in turns] == [t.user_text for t in doc.turns]
        assert all(t.parts for t in turns if t.turn.status == "ok"), sid
        assert session_to_markdown(doc)
        assert len(json.loads(session_to_json(doc))["turns"]) == s["turn_count"]

    resumed = [s for s in before["sessions"].values() if s["title"].startswith("Board prep")]
    resumed += [s for s in before["sessions"].values() if s["title"] == "Prepare me for my next meeting"]
    assert len(resumed) == 2
    for s in resumed:
        _resumes_with_its_agent(service, s)
    assert _search(engine, "quetzal") == {s["id"] for s in resumed}
    assert _search(engine, "zebrafinch") == _sessions_with_word(old, "zebrafinch")
    _check_rollups_match(engine)


def test_questions_an_old_release_left_unanswered_are_offered_for_retry(
    old_release_with_pending_engine: OldRelease,
) -> None:
    """A failed question and one whose process the deploy killed mid-answer still show, and Retry answers them."""
    old = old_release_with_pending_engine
    pending = old.rows["pending_turns"]
    assert {r["status"] for r in pending} == {"failed", "running"}
    upgrade(old.engine)
    service = make_service(old.engine)
    for row in pending:
        shown = service.pending_turn(row["session_id"], row["user_id"])
        assert shown is not None and shown.text == row["text"]
        assert shown.status == "failed"  # "running" of a dead process reads as interrupted, with Retry
        events = service.run_turn(row["session_id"], row["user_id"], shown.text)
        assert type(events[-1]).__name__ == "Done", events[-3:]
        doc = service.open_session(row["session_id"], row["user_id"])
        assert doc.meta.turn_count == row["turn_idx"] + 1
        assert doc.turns[-1].user_text == row["text"]
        assert service.pending_turn(row["session_id"], row["user_id"]) is None


def _sessions_showing(engine: sa.Engine, old: OldRelease, phrase: str) -> set[str]:
    """Sessions one of whose exchanges shows ``phrase`` (what the chat draws, not its Markdown)."""
    store = SqlSessionStore(engine)
    found = set()
    for s in old.rows["sessions"]:
        doc = store.load(s["id"], s["user_id"])
        for turn in doc.turns:
            if phrase in turn_search_text(doc.messages[turn.first_message_idx : turn.end_message_idx]):
                found.add(s["id"])
    return found


def test_after_reindex_old_answers_are_found_by_what_they_show(old_release_engine: OldRelease) -> None:
    """A quoted phrase as the chat shows it finds the old release's answers too, once reindexed.

    Search rows are written once, when a turn is stored. The old release indexed an answer's
    Markdown ("- **engineering** - owner: ..."), so after the upgrade searching the line as
    shown ("engineering - owner") found only sessions written since; sessions from before
    migration 0003 had their whole transcript in one row. The SQL store had no way to rebuild
    them (``sessions reindex`` was S3-only); now it rewrites every session's rows from its
    stored transcript, idempotently.
    """
    old = old_release_engine
    upgrade(old.engine)
    phrase = '"engineering - owner"'
    showing = _sessions_showing(old.engine, old, phrase.strip('"'))
    assert len(showing) >= 2  # every budget answer lists the areas
    store = SqlSessionStore(old.engine)
    assert store.reindex() == len(old.rows["sessions"])
    assert _search(old.engine, phrase) == showing
    assert _search(old.engine, '"**engineering**"') == set()
    with old.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT session_id, turn_idx, text FROM session_text ORDER BY 1, 2")).all()
    assert store.reindex() == len(old.rows["sessions"])
    with old.engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT session_id, turn_idx, text FROM session_text ORDER BY 1, 2")).all() == before
        )
    for word in WORDS:
        assert _search(old.engine, word) == _sessions_with_word(old, word), word


def test_an_old_releases_s3_sessions_survive_the_upgrade_to_head(
    old_s3_release_engine: OldRelease, make_s3_store: Callable[..., S3SessionStore]
) -> None:
    """Objects the 0007 release put in the bucket, and its SQL index, serve the same sessions after the upgrade.

    Listed with their turns and cost, opened, exported, found, resumed by their agent; its
    pending questions offered for Retry; ``sessions reindex`` from the old objects changes no
    figure.
    """
    old = old_s3_release_engine
    assert old.objects
    client = make_client()
    for key, body in old.objects.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode())
    before = _what_users_saw(old.engine)
    upgrade(old.engine)
    store = make_s3_store(old.engine)
    service = make_service(old.engine, store=store)
    _check_table(old.engine, before)
    _check_dashboard(old.engine, before, min(s["created_at"] for s in old.rows["sessions"]))
    for sid, s in before["sessions"].items():
        doc = service.open_session(sid, s["user_id"])
        assert len(build_display_turns(doc)) == s["turn_count"] == len(doc.turns), sid
        assert len(json.loads(session_to_json(doc))["turns"]) == s["turn_count"]
    for word in WORDS:
        assert _search(old.engine, word) == _sessions_with_word(old, word), word
    resumed = next(s for s in before["sessions"].values() if s["title"].startswith("Board prep"))
    _resumes_with_its_agent(service, resumed)
    for row in old.rows["pending_turns"]:
        shown = service.pending_turn(row["session_id"], row["user_id"])
        assert shown is not None and shown.status == "failed" and shown.text == row["text"]
        assert type(service.run_turn(row["session_id"], row["user_id"], shown.text)[-1]).__name__ == "Done"
    after = _what_users_saw(old.engine)
    assert store.reindex() == len(old.objects)
    _check_table(old.engine, after)
    assert _search(old.engine, "quetzal") == {resumed["id"]}
    _check_rollups_match(old.engine)
