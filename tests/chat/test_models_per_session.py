"""A model per session: MODELS, the model a session records and keeps, admin-only models, costs per model.

Two models answer through :class:`ScriptedModel` (real strands agents): ``offline`` (the default,
$0) and ``bedrock:us.amazon.nova-lite-v1:0`` (priced from data/prices.toml), so each send shows
which model really answered and what the ledger priced it at. Store-dependent tests run on
SQLite, Postgres and S3 (``make_store``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine, select

from assistant import db
from assistant.chat import ChatService, Done, ModelChoiceError
from assistant.sessions.base import SessionQuery, SessionReadOnlyError
from tests.fixtures.chat import make_service
from tests.fixtures.scripted_model import ScriptedModel
from tests.fixtures.stores import MakeStore

OFFLINE = "offline"
NOVA = "bedrock:us.amazon.nova-lite-v1:0"
BOTH = f"{OFFLINE},{NOVA}"
ADMIN = "boss@example.com"
USER = "someone@example.com"


class Models:
    """One ScriptedModel per registry name, counting how often each is built."""

    def __init__(self) -> None:
        self.built: Counter[str] = Counter()
        self.models: dict[str, ScriptedModel] = {}

    def __call__(self, name: str) -> ScriptedModel:
        self.built[name] += 1
        return self.models.setdefault(name, ScriptedModel([f"Answer {i} from {name}." for i in range(20)]))

    def asked(self, name: str) -> int:
        return len(self.models[name].requests) if name in self.models else 0


def _service(engine: Engine, factory: Models, store: Any = None, **overrides: Any) -> ChatService:
    overrides.setdefault("models", BOTH)
    return make_service(engine, model=factory, store=store, **overrides)


def _answer(events: list[Any]) -> Done:
    assert isinstance(events[-1], Done), events[-1]
    return events[-1]


def _ledger(engine: Engine, session_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(db.usage).where(db.usage.c.session_id == session_id)).all())


def test_a_session_records_its_model_answers_with_it_and_costs_land_per_model(
    store_engine: Engine, make_store: MakeStore
) -> None:
    models = Models()
    service = _service(store_engine, models, make_store())
    assert service.offered_models == (OFFLINE, NOVA) and service.model_name == OFFLINE

    nova = service.start_turn("u1", "What meetings do I have?", model=NOVA)
    assert nova.session.model == NOVA
    nova_done = _answer(list(nova.events))
    default = service.start_turn("u1", "And my budget?")
    default_done = _answer(list(default.events))

    assert default.session.model == OFFLINE
    assert models.asked(NOVA) == 1 and models.asked(OFFLINE) == 1
    assert nova_done.turn.model == NOVA and default_done.turn.model == OFFLINE
    [nova_row] = _ledger(store_engine, nova.session.id)
    assert (nova_row.provider, nova_row.model_id) == ("bedrock", "us.amazon.nova-lite-v1:0")
    assert nova_row.cost_usd > 0 and nova_done.turn.cost_usd == pytest.approx(nova_row.cost_usd)
    [offline_row] = _ledger(store_engine, default.session.id)
    assert (offline_row.provider, offline_row.model_id, offline_row.cost_usd) == ("offline", "offline", 0)

    # another process (its own S3 client and cache) reads the model back: document and index
    fresh = make_store()
    assert fresh.load(nova.session.id, "u1").meta.model == NOVA
    assert fresh.get_meta(nova.session.id, "u1").model == NOVA
    listed, _ = fresh.list_sessions(SessionQuery(user_id="u1", models=(NOVA,)))
    assert [m.id for m in listed] == [nova.session.id]


def test_a_resumed_session_keeps_its_model_when_the_default_changes(
    store_engine: Engine, make_store: MakeStore
) -> None:
    models = Models()
    first = _service(store_engine, models, make_store())
    started = first.start_turn("u1", "What meetings do I have?")
    _answer(list(started.events))
    assert started.session.model == OFFLINE

    # a new process whose default is now Nova: the session still answers with the offline model
    later = _service(store_engine, models, make_store(), models=f"{NOVA},{OFFLINE}")
    assert later.model_name == NOVA
    done = _answer(later.run_turn(started.session.id, "u1", "Thanks, and tomorrow?"))
    assert done.turn.model == OFFLINE
    assert models.asked(OFFLINE) == 2 and models.asked(NOVA) == 0
    assert later.get_session(started.session.id, "u1").model == OFFLINE
    # a new session takes the new default
    assert later.create_session("u1").model == NOVA


def test_a_session_whose_model_is_withdrawn_is_read_only_and_continues_on_an_offered_one(
    store_engine: Engine, make_store: MakeStore
) -> None:
    models = Models()
    before = _service(store_engine, models, make_store())
    started = before.start_turn("u1", "What meetings do I have?", model=NOVA)
    _answer(list(started.events))

    after = _service(store_engine, models, make_store(), models=OFFLINE)
    meta = after.get_session(started.session.id, "u1")
    note = after.model_refusal(meta)
    assert note is not None and "Amazon Nova Lite" in note and "no longer offered" in note
    with pytest.raises(SessionReadOnlyError, match="no longer offered"):
        after.start_turn("u1", "One more?", session_id=meta.id)
    assert after.get_session(meta.id, "u1").version == meta.version
    assert after.pending_turn(meta.id, "u1") is None, "the refused question is not kept"
    continued = after.continue_session(meta.id, "u1")
    assert continued.model == OFFLINE and after.model_refusal(continued) is None
    _answer(after.run_turn(continued.id, "u1", "Carry on"))


def test_an_admin_only_model_is_refused_to_a_user_and_nothing_is_written(
    store_engine: Engine, make_store: MakeStore
) -> None:
    models = Models()
    service = _service(store_engine, models, make_store(), admin_models=NOVA, admin_emails=ADMIN)
    assert service.models_for(USER) == [OFFLINE]
    assert service.models_for(ADMIN) == [OFFLINE, NOVA]

    with pytest.raises(ModelChoiceError, match="only for administrators"):
        service.start_turn("u1", "What meetings do I have?", user_email=USER, model=NOVA)
    with pytest.raises(ModelChoiceError, match="only for administrators"):
        service.create_session("u1", user_email=USER, model=NOVA)
    assert service.list_sessions("u1") == ([], 0)
    assert models.asked(NOVA) == 0
    service.check_limits("u1")  # the refused sends were not counted

    boss = service.start_turn("u2", "What meetings do I have?", user_email=ADMIN, model=NOVA)
    _answer(list(boss.events))
    assert boss.session.model == NOVA


def test_unknown_model_and_another_model_for_an_existing_session_are_refused(sqlite_engine: Engine) -> None:
    models = Models()
    service = _service(sqlite_engine, models)
    with pytest.raises(ModelChoiceError, match="not one of the models offered"):
        service.start_turn("u1", "Hi", model="openai:gpt-4o")
    with pytest.raises(ModelChoiceError, match="not one of the models offered"):
        service.start_turn("u1", "Hi", model="gemini:pro")
    assert service.list_sessions("u1") == ([], 0)

    meta = service.create_session("u1")
    with pytest.raises(ModelChoiceError, match="start a new session"):
        service.start_turn("u1", "Hi", session_id=meta.id, model=NOVA)
    _answer(list(service.start_turn("u1", "Hi", session_id=meta.id, model="offline:demo").events))


def test_one_model_client_per_process_per_model(sqlite_engine: Engine) -> None:
    models = Models()
    service = _service(sqlite_engine, models)
    for _ in range(3):
        for model in (OFFLINE, NOVA):
            _answer(list(service.start_turn("u1", "Hi", model=model).events))
    assert service.model(NOVA) is service.model(NOVA) is models.models[NOVA]
    assert service.model() is service.model("offline:demo") is models.models[OFFLINE]
    assert models.built == Counter({OFFLINE: 1, NOVA: 1})


def test_no_model_is_built_before_a_send_or_prepare_first_send(sqlite_engine: Engine) -> None:
    models = Models()
    service = _service(sqlite_engine, models)
    service.create_session("u1")
    service.list_sessions("u1")
    assert models.built == Counter()  # the chat page draws without a model client (or strands: test_cold_imports)
    service.prepare_first_send()
    service.prepare_first_send()
    assert models.built == Counter({OFFLINE: 1})  # the default model only, once
    _answer(list(service.start_turn("u1", "Hi").events))
    assert models.built == Counter({OFFLINE: 1})


def test_without_models_nothing_changes(sqlite_engine: Engine) -> None:
    service = make_service(sqlite_engine)
    assert service.offered_models == (service.model_name,) == ("offline",)
    assert service.models_for(USER) == ["offline"]
    assert service.create_session("u1").model == "offline"
