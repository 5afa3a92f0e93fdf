"""The daily budget against sends started at the same moment (tabs, replicas, the CLI, a
comparison): each answer still being written holds back what it is expected to cost, so
parallel first sends cannot all see the budget unspent and all run (SQLite, Postgres, S3)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import Engine
from strands.models import Model

from assistant.chat import ChatService, LimitExceededError
from assistant.chat.events import Done, ErrorEvent, TextDelta
from assistant.chat.limits import RATE_WINDOW
from assistant.config import load_settings
from assistant.models.faults import FaultInjectingModel
from assistant.models.offline import OfflineModel
from assistant.sessions.base import SessionStore, UsageRecord, utcnow
from assistant.sessions.sql_store import SqlSessionStore
from assistant.usage.pricing import Price, PriceTable
from tests.fixtures.stores import MakeStore

# the offline demo model priced as a dear one: one answer costs a few cents
DEAR = PriceTable("test", [Price("^offline", "Dear demo", "offline", 10.0, 40.0, 0.0, 0.0, date(2020, 1, 1))])
BUDGET = 1.0


def _service(store: SessionStore, *, first_token_delay_s: float = 0.0) -> ChatService:
    settings = load_settings(database_url=str(store.engine.url), messages_per_minute=100, daily_budget_usd=BUDGET)

    def model(name: str) -> Model:
        return OfflineModel(chunk_delay_s=0.0, first_token_delay_s=first_token_delay_s)

    return ChatService(settings, store, prices=DEAR, model_factory=model)


def _spend(service: ChatService, user: str, usd: float) -> None:
    sid = service.create_session(user).id
    service.store.record_usage([UsageRecord("seed", sid, user, 0, "offline", "offline", utcnow(), 1, 1, cost_usd=usd)])


def test_parallel_first_sends_near_the_budget_let_one_answer_run(make_store: MakeStore) -> None:
    """Four tabs (two replicas) send at the same moment with one cent of the budget left: all four
    ran before, each seeing the budget unspent, and the day ended several answers past it."""
    replicas = [_service(make_store(), first_token_delay_s=0.6) for _ in range(2)]
    _spend(replicas[0], "u1", BUDGET - 0.01)
    start = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def tab(n: int) -> None:
        service = replicas[n % 2]
        start.wait()
        try:
            events = list(service.start_turn("u1", "What meetings do I have this week?").events)
            outcome = "answered" if isinstance(events[-1], Done) else f"failed {events[-1]}"
        except LimitExceededError as e:
            outcome = f"refused {e.reason}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=tab, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("answered") == 1, outcomes
    refused = [o for o in outcomes if o.startswith("refused")]
    assert len(refused) == 3 and all("still being written" in o for o in refused), outcomes
    # the refused sends left no session behind: the seed's and the answered one only
    sessions, count = replicas[1].list_sessions("u1")
    assert count == 2, sessions
    one_answer = max(s.cost_usd for s in sessions if s.turn_count)
    assert one_answer > 0.01  # the one cent left was not enough for it: one answer past, never four
    assert replicas[1].spend_today("u1").usd == pytest.approx(BUDGET - 0.01 + one_answer)


def _held(service: ChatService) -> tuple[float, int]:
    window = service.store.send_window("u1", now=utcnow(), rate_window=RATE_WINDOW)
    return window.held_usd, window.answers_running


def test_what_an_answer_holds_is_released_when_it_is_stored_failed_or_stopped(make_store: MakeStore) -> None:
    store = make_store()
    settings = load_settings(database_url=str(store.engine.url), daily_budget_usd=BUDGET, messages_per_minute=100)
    model = FaultInjectingModel(OfflineModel(chunk_delay_s=0.01), "midstream", times=1)
    service = ChatService(settings, store, prices=DEAR, model_factory=lambda name: model)
    meta = service.create_session("u1")
    started = service.start_turn("u1", "What meetings do I have this week?", session_id=meta.id)
    assert _held(service)[1] == 1 and _held(service)[0] > 0.01  # held while it is written
    assert isinstance(list(started.events)[-1], ErrorEvent)
    assert _held(service) == (0.0, 0)  # failed: the question is kept for Retry, holding nothing
    charged = service.spend_today("u1").usd
    assert charged > 0  # the failed call's streamed tokens are charged
    assert isinstance(service.run_turn(meta.id, "u1", "What meetings do I have this week?")[-1], Done)
    assert _held(service) == (0.0, 0) and service.spend_today("u1").usd > charged
    started = service.start_turn("u1", "Prepare an agenda for the first one", session_id=meta.id)
    for event in started.events:
        if isinstance(event, TextDelta):
            service.stop(meta.id)
    assert service.open_session(meta.id, "u1").turns[-1].status == "stopped"
    assert _held(service) == (0.0, 0)


@pytest.mark.parametrize("budget", [0.0, 5.0])
def test_a_model_without_a_price(sqlite_engine: Engine, budget: float) -> None:
    """A model missing from the price table was never counted: a user on it had no daily limit."""
    settings = load_settings(database_url=str(sqlite_engine.url), daily_budget_usd=budget)
    unpriced = PriceTable("test", [Price("^nothing", "Nothing", "x", 1.0, 1.0, 0.0, 0.0, date(2020, 1, 1))])
    service = ChatService(
        settings,
        SqlSessionStore(sqlite_engine),
        prices=unpriced,
        model_factory=lambda name: OfflineModel(),
    )
    meta = service.create_session("u1")
    if budget == 0:  # no budget: nothing to keep, it answers
        assert isinstance(service.run_turn(meta.id, "u1", "hello")[-1], Done)
        return
    with pytest.raises(LimitExceededError, match="has no price") as refused:
        service.run_turn(meta.id, "u1", "hello")
    assert "PRICES_FILE" in str(refused.value) and refused.value.retry_at is None
    with pytest.raises(LimitExceededError, match="has no price"):
        service.start_turn("u1", "hello")  # a new session: refused before it exists
    assert service.list_sessions("u1")[1] == 1
    assert service.pending_turn(meta.id, "u1") is None
