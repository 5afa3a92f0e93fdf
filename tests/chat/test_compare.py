"""Ask another model: the branch session, the original left untouched, both answers' figures (every store)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from assistant import db
from assistant.chat import ChatService, Done, LimitExceededError, ModelChoiceError
from assistant.chat.compare import compare_choices, context_before, gather, start_comparison
from assistant.views.compare import comparison_views
from tests.fixtures.chat import make_service
from tests.fixtures.scripted_model import Fail, ScriptedModel
from tests.fixtures.stores import MakeStore

OFFLINE = "offline"
NOVA = "bedrock:us.amazon.nova-lite-v1:0"
ADMIN = "boss@example.com"
USER = "someone@example.com"


class Models:
    """A ScriptedModel per registry name (scripts can be given up front)."""

    def __init__(self, **scripts: list[Any]) -> None:
        self.models: dict[str, ScriptedModel] = {
            NOVA if name == "nova" else name: ScriptedModel(script) for name, script in scripts.items()
        }

    def __call__(self, name: str) -> ScriptedModel:
        return self.models.setdefault(name, ScriptedModel([f"Answer {i} from {name}." for i in range(20)]))


def _service(engine: Engine, factory: Models, store: Any = None, **overrides: Any) -> ChatService:
    overrides.setdefault("models", f"{OFFLINE},{NOVA}")
    return make_service(engine, model=factory, store=store, **overrides)


def _done(events: Any) -> Done:
    events = list(events)
    assert isinstance(events[-1], Done), events[-1]
    return events[-1]


def _usage_rows(engine: Engine, session_id: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(db.usage.c.session_id == session_id)).scalar_one())


def test_another_model_answers_in_a_branch_and_the_original_is_untouched(
    store_engine: Engine, make_store: MakeStore
) -> None:
    models = Models()
    service = _service(store_engine, models, make_store())
    first = service.start_turn("u1", "What meetings do I have this week?")
    _done(first.events)
    sid = first.session.id
    before = service.open_session(sid, "u1")
    rows_before = _usage_rows(store_engine, sid)
    assert compare_choices(service, before.meta, USER) == [NOVA]

    branch = start_comparison(service, "u1", sid, 0, NOVA, user_email=USER)
    _done(branch.started.events)

    after = make_store().load(sid, "u1")  # another process's view: document and index
    assert after.meta == before.meta
    assert after.messages == before.messages and after.turns == before.turns
    assert after.agent_snapshot == before.agent_snapshot
    assert _usage_rows(store_engine, sid) == rows_before

    meta = service.get_session(branch.branch_id, "u1")
    assert meta.model == NOVA and meta.continued_from == sid and meta.turn_count == 1
    assert meta.title.startswith("Compared on Amazon Nova Lite: ")
    assert branch.context == "none"
    [request] = models.models[NOVA].requests
    assert [m["role"] for m in request.messages] == ["user"], "the first question: no earlier context"

    comparison = gather(service, "u1", sid, 0, branch.branch_id)
    assert comparison.question == "What meetings do I have this week?"
    assert comparison.original.model == OFFLINE and comparison.other.model == NOVA
    original, other = comparison.original.turn, comparison.other.turn
    assert original is not None and other is not None
    assert other.user_text == original.user_text
    assert original.cost_usd == 0 and other.cost_usd is not None and other.cost_usd > 0
    assert other.input_tokens > 0 and other.ttft_ms is not None and other.latency_ms is not None
    assert comparison.other.answer is not None and "from bedrock" in comparison.other.answer.answer_text
    left, right = comparison_views(comparison)
    assert left.label == "offline demo model" and right.label == "Amazon Nova Lite"
    assert [name for name, _ in right.figures] == ["Tokens", "Cost", "First token", "Total time"]
    assert dict(left.figures)["Cost"] == "$0.00 (offline demo model)"
    assert dict(right.figures)["Cost"].startswith("$0.0")


def test_a_later_question_is_asked_after_the_conversation_before_it(sqlite_engine: Engine) -> None:
    models = Models()
    service = _service(sqlite_engine, models)
    first = service.start_turn("u1", "Hello")
    _done(first.events)
    sid = first.session.id
    _done(service.send_sync(sid, "u1", "What meetings do I have this week?"))
    _done(service.send_sync(sid, "u1", "Thanks"))

    doc = service.open_session(sid, "u1")
    seed, context = context_before(doc, doc.turns[1])
    assert context == "earlier turns" and seed is not None
    assert seed["data"]["model_state"] == {}

    branch = start_comparison(service, "u1", sid, 1, NOVA)
    _done(branch.started.events)
    assert branch.context == "earlier turns"
    [request] = models.models[NOVA].requests
    texts = [b.get("text") for m in request.messages for b in m["content"] if "text" in b]
    assert texts == ["Hello", "Answer 0 from offline.", "What meetings do I have this week?"], (
        "what the first model saw before this question, and nothing after it"
    )
    assert gather(service, "u1", sid, 1, branch.branch_id).context == "earlier turns"


def test_refusals_leave_nothing_behind(sqlite_engine: Engine) -> None:
    models = Models()
    service = _service(sqlite_engine, models, admin_models=NOVA, admin_emails=ADMIN, messages_per_minute=2)
    first = service.start_turn("u1", "What meetings do I have this week?", user_email=USER)
    _done(first.events)
    sid = first.session.id
    meta = service.get_session(sid, "u1")

    assert compare_choices(service, meta, USER) == []
    assert compare_choices(service, meta, ADMIN) == [NOVA]
    with pytest.raises(ModelChoiceError, match="only for administrators"):
        start_comparison(service, "u1", sid, 0, NOVA, user_email=USER)
    with pytest.raises(ModelChoiceError, match="already answered"):
        start_comparison(service, "u1", sid, 0, OFFLINE, user_email=ADMIN)
    with pytest.raises(ValueError, match="no answer 5"):
        start_comparison(service, "u1", sid, 5, NOVA, user_email=ADMIN)
    _done(service.send_sync(sid, "u1", "Thanks"))  # the second send this minute
    with pytest.raises(LimitExceededError):
        start_comparison(service, "u1", sid, 0, NOVA, user_email=ADMIN)
    assert service.list_sessions("u1")[1] == 1, "no branch was created"
    assert NOVA not in models.models

    service.complete(sid, "u1")
    closed = service.get_session(sid, "u1")
    assert compare_choices(service, closed, ADMIN) == []
    with pytest.raises(ModelChoiceError, match="takes no new messages"):
        start_comparison(service, "u1", sid, 0, NOVA, user_email=ADMIN)


def test_a_failed_branch_answer_is_shown_as_not_answered(sqlite_engine: Engine) -> None:
    models = Models(nova=[Fail(RuntimeError("the model connection dropped"))] * 3)
    service = _service(sqlite_engine, models)
    first = service.start_turn("u1", "What meetings do I have this week?")
    _done(first.events)
    branch = start_comparison(service, "u1", first.session.id, 0, NOVA)
    list(branch.started.events)
    comparison = gather(service, "u1", first.session.id, 0, branch.branch_id)
    assert comparison.other.turn is None and comparison.other.pending is not None
    _left, right = comparison_views(comparison)
    assert right.figures == [] and right.note is not None and right.note.startswith("Not answered")
    assert "retry" in right.note
