"""ChatService turns, faults, stops and session actions on every store (SQLite, Postgres, S3 on moto).

Real strands agents answer through :class:`tests.fixtures.scripted_model.ScriptedModel`, which
refuses any request that Bedrock's Converse API would refuse; the histories hold real
toolUse/toolResult pairs and bytes (redacted reasoning), as Claude on Bedrock produces them.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import sqlalchemy as sa

from assistant import db
from assistant.chat import ChatService, Done, ErrorEvent, build_display_turns
from assistant.sessions.base import SessionQuery
from assistant.sessions.s3_objects import object_key
from assistant.sessions.s3_store import S3SessionStore
from assistant.views.export import session_to_markdown
from tests.fixtures.chat import make_service
from tests.fixtures.s3 import BUCKET, make_client
from tests.fixtures.scripted_model import Fail, ScriptedModel, Text, ToolCall, converse_violations
from tests.fixtures.stores import MakeStore

QUESTION = "What meetings do I have this week?"


def _service(store_engine: Any, make_store: MakeStore, model: ScriptedModel) -> ChatService:
    return make_service(store_engine, model=lambda _name: model, store=make_store())


def _user_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [b["text"] for m in messages if m["role"] == "user" for b in m["content"] if "text" in b]


def _assert_resumable(messages: list[dict[str, Any]]) -> None:
    """The stored history, followed by a new question, is a request Converse accepts."""
    follow = [*messages, {"role": "user", "content": [{"text": "next question"}]}]
    assert converse_violations(follow) == []


def test_model_failure_after_a_tool_then_retry_stores_one_clean_turn(store_engine, make_store) -> None:
    model = ScriptedModel(
        [
            Text("Hello! I can prepare you for your meetings."),
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}),
            Fail(RuntimeError("the model connection dropped")),
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}),
            Text("You have six meetings this week."),
            Text("Your budget is on track."),
        ]
    )
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", "Hello")[-1], Done)
    failed = service.run_turn(meta.id, "u1", QUESTION)
    assert isinstance(failed[-1], ErrorEvent) and failed[-1].retryable
    retried = service.run_turn(meta.id, "u1", QUESTION)
    assert isinstance(retried[-1], Done), retried[-1]
    assert model.violations == [], "the retry must not see the failed attempt's messages"
    doc = service.open_session(meta.id, "u1")
    assert _user_texts(doc.messages) == ["Hello", QUESTION]
    assert [t.user_text for t in doc.turns] == ["Hello", QUESTION]
    _assert_resumable(doc.messages)
    # a new process resumes the stored agent: its request is valid too
    other = _service(store_engine, make_store, model)
    assert isinstance(other.run_turn(meta.id, "u1", "And my budget?")[-1], Done)
    assert model.violations == []


def test_session_actions_after_an_answer_whose_history_holds_bytes(store_engine, make_store) -> None:
    model = ScriptedModel(
        [
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}),
            Text("Six meetings this week.", redacted_reasoning=b"\x00\x01\xffopaque-thinking"),
            Text("Picked up where we left off."),
        ]
    )
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", QUESTION)[-1], Done)
    assert service.rename(meta.id, "u1", "Week prep").title == "Week prep"
    service.set_feedback(meta.id, "u1", 0, 1)
    assert service.open_session(meta.id, "u1").turns[0].feedback == 1
    assert service.complete(meta.id, "u1").state == "completed"
    new = service.continue_session(meta.id, "u1")
    assert isinstance(service.run_turn(new.id, "u1", "Continue please")[-1], Done)
    assert model.violations == []
    # the continued agent got the bytes back as bytes (strands' own encoding round-trips)
    sent = model.requests[-1].messages
    assert any("reasoningContent" in b for m in sent for b in m["content"])


def test_stop_during_a_tool_call_leaves_a_history_converse_accepts(store_engine, make_store) -> None:
    holder: dict[str, Any] = {}
    model = ScriptedModel(
        [
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}, then=lambda: holder["stop"]()),
            Text("Your budget is on track."),
        ]
    )
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    holder["stop"] = lambda: service.stop(meta.id)
    stopped = service.run_turn(meta.id, "u1", QUESTION)
    assert isinstance(stopped[-1], Done) and stopped[-1].turn.status == "stopped"
    assert stopped[-1].turn.error == "Stopped by the user."
    doc = service.open_session(meta.id, "u1")
    _assert_resumable(doc.messages)
    shown = build_display_turns(doc)[0]
    steps = [part for kind, part in shown.parts if kind == "tool"]
    assert steps, "the tool step stays visible"
    # it never ran: shown (and exported) as cancelled, not as a success with no result
    assert [(s.status, s.result) for s in steps] == [("error", "Tool execution cancelled")]
    assert "(error)" in session_to_markdown(doc) and "Result: Tool execution cancelled" in session_to_markdown(doc)
    # the next question goes through, in this process and in a new one
    assert isinstance(service.run_turn(meta.id, "u1", "What is my budget?")[-1], Done)
    assert model.violations == []
    _assert_resumable(service.open_session(meta.id, "u1").messages)


def test_guardrail_redaction_is_what_gets_stored_everywhere(store_engine, make_store) -> None:
    secret = "my card number is 4111 1111 1111 1111"
    model = ScriptedModel([Text("I can't help with that request.", redact_user="[input removed by guardrail]")])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    done = service.run_turn(meta.id, "u1", secret)[-1]
    assert isinstance(done, Done)
    doc = service.open_session(meta.id, "u1")
    stored = json.dumps([doc.messages, [t.to_dict() for t in doc.turns], doc.meta.title, doc.agent_snapshot])
    assert "4111" not in stored
    assert _user_texts(doc.messages) == ["[input removed by guardrail]"]
    assert "4111" not in done.turn.user_text and "4111" not in done.meta.title
    found, total = service.store.list_sessions(SessionQuery(user_id="u1", text="4111"))
    assert total == 0 and found == []


def test_control_characters_from_the_model_are_stored_and_searchable(store_engine, make_store) -> None:
    model = ScriptedModel([Text("Budget\x00 review is\x07 on track\x1b[0m.")])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    done = service.run_turn(meta.id, "u1", "How is the budget review?")[-1]
    assert isinstance(done, Done), done
    _, total = service.store.list_sessions(SessionQuery(user_id="u1", text="on track"))
    assert total == 1
    fresh = _service(store_engine, make_store, model)
    assert fresh.open_session(meta.id, "u1").turns[0].status == "ok"


def test_bidi_overrides_never_reach_the_transcript_or_the_title(store_engine, make_store) -> None:
    """An override left open reverses whatever follows it on the line: the app's own words after a quote."""
    model = ScriptedModel([Text("Noted.")])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    done = service.run_turn(meta.id, "u1", "Prepare \u202eRBQ\u2066 the review \u05e9\u05dc\u05d5\u05dd\u200f")[-1]
    assert isinstance(done, Done), done
    doc = service.open_session(meta.id, "u1")
    # right-to-left text and the RLM mark stay; the override and the isolate are gone everywhere
    assert _user_texts(doc.messages) == ["Prepare RBQ the review \u05e9\u05dc\u05d5\u05dd\u200f"]
    assert "\u202e" not in doc.meta.title and "\u2066" not in doc.meta.title
    assert "\u202e" not in done.turn.user_text


def test_two_replicas_answering_one_session_at_once(store_engine, make_store) -> None:
    """The loser is told once, keeps its question (even after a reload) and is not billed under the winner's turn."""
    loser_holder: dict[str, Any] = {}
    winner_model = ScriptedModel([Text("Your budget is on track.")])
    winner = _service(store_engine, make_store, winner_model)

    def winner_answers_first() -> None:
        assert isinstance(winner.run_turn(loser_holder["sid"], "u1", "What is my budget?")[-1], Done)

    loser_model = ScriptedModel(
        [
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}, then=winner_answers_first),
            Text("You have six meetings."),
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}),
            Text("You have six meetings."),
        ]
    )
    loser = _service(store_engine, make_store, loser_model)
    meta = loser.create_session("u1")
    loser_holder["sid"] = meta.id
    lost = loser.run_turn(meta.id, "u1", QUESTION)[-1]
    assert isinstance(lost, ErrorEvent) and lost.category == "conflict" and lost.retryable
    assert lost.message.lower().count("changed elsewhere") <= 1 and "question is kept" in lost.message
    # after a reload (any process), the question is still there, with what happened
    for svc in (loser, _service(store_engine, make_store, loser_model)):
        pending = svc.pending_turn(meta.id, "u1")
        assert pending is not None and pending.text == QUESTION and pending.status == "failed"
        assert pending.error_category == "conflict"
    doc = loser.open_session(meta.id, "u1")
    assert [t.user_text for t in doc.turns] == ["What is my budget?"]
    from assistant.usage.ledger import session_usage

    calls = session_usage(store_engine, meta.id)
    winner_calls = [c for c in calls if c.turn_idx == 0]
    assert len(winner_calls) == 1 and winner_calls[0].error is None, "the winner's turn holds its own call only"
    lost_calls = [c for c in calls if c.turn_idx != 0]
    assert len(lost_calls) == 2 and all(c.error and "not stored" in c.error for c in lost_calls)
    # sending it again asks it after the winner's answer
    assert isinstance(loser.run_turn(meta.id, "u1", QUESTION)[-1], Done)
    assert [t.user_text for t in loser.open_session(meta.id, "u1").turns] == ["What is my budget?", QUESTION]
    assert loser.pending_turn(meta.id, "u1") is None
    assert winner_model.violations == [] and loser_model.violations == []


def test_question_of_a_process_that_stopped_answering_is_kept_for_retry(store_engine, make_store) -> None:
    from datetime import timedelta

    from assistant.sessions.base import PendingTurn, utcnow

    model = ScriptedModel([Text("Your budget is on track.")])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    old = utcnow() - timedelta(minutes=2)
    service.store.save_pending(
        PendingTurn(meta.id, "u1", 0, "What is my budget?", "running", "another-host:1:abc", old, old)
    )
    pending = service.pending_turn(meta.id, "u1")
    assert pending is not None and pending.status == "failed" and pending.error_category == "interrupted"
    assert "restarted" in (pending.error_message or "") and pending.text == "What is my budget?"
    assert service.open_session(meta.id, "u1").turns == [], "never shown as a transcript turn"
    # a live replica (recent heartbeat) is still answering: shown as running, not as failed
    now = utcnow()
    service.store.save_pending(
        PendingTurn(meta.id, "u1", 0, "What is my budget?", "running", "another-host:1:abc", now, now)
    )
    running = service.pending_turn(meta.id, "u1")
    assert running is not None and running.status == "running"
    assert isinstance(service.run_turn(meta.id, "u1", "What is my budget?")[-1], Done)
    assert service.pending_turn(meta.id, "u1") is None, "the stored turn clears it"
    assert [t.user_text for t in service.open_session(meta.id, "u1").turns] == ["What is my budget?"]


def test_a_session_deleted_while_it_answers_keeps_no_question(store_engine, make_store) -> None:
    """Deleted in another tab mid-answer: the turn fails to commit, its calls stay in the ledger,
    and the question is not kept for a session that is gone (it stayed behind in pending_turns,
    the deleted session's text kept for good)."""
    holder: dict[str, Any] = {}
    model = ScriptedModel([ToolCall("get_upcoming_meetings", {"days_ahead": 7}, then=lambda: holder["delete"]())])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    holder["delete"] = lambda: service.store.delete(meta.id, "u1")
    failed = service.run_turn(meta.id, "u1", "my secret question")[-1]
    assert isinstance(failed, ErrorEvent), failed
    with store_engine.connect() as conn:
        kept = conn.execute(sa.select(db.pending_turns.c.text)).scalars().all()
        calls = conn.execute(sa.select(sa.func.count()).select_from(db.usage)).scalar_one()
    assert kept == []
    assert calls >= 1, "the model call was made: it stays in the ledger"


def test_deleting_a_session_in_another_tab_stops_the_answer_being_written_for_it(store_engine, make_store) -> None:
    """Deleted from a second tab while the first one's answer was written: the answer went on to its
    end (its model calls spent, counted against the budget) and was then thrown away."""
    holder: dict[str, Any] = {}

    def delete_in_another_tab() -> None:
        other_tab = threading.Thread(target=lambda: holder.update(deleted=service.delete(meta.id, "u1") or True))
        other_tab.start()
        holder["tab"] = other_tab
        slot = service._slots.get(meta.id)
        for _ in range(200):  # until that tab's delete has asked this answer to stop
            if slot is None or slot.stop_requested:
                break
            time.sleep(0.01)

    steps = [ToolCall("get_upcoming_meetings", {"days_ahead": 7}, then=delete_in_another_tab)]
    steps += [ToolCall("get_big_rocks_status", {}), ToolCall("get_budget_context", {}), Text("Here is all of it.")]
    model = ScriptedModel(steps)
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", QUESTION)
    holder["tab"].join(timeout=15)
    assert holder.get("deleted"), "the other tab's delete went through"
    assert model.index == 1, "the model was asked again after the session was deleted"
    assert not isinstance(events[-1], ErrorEvent), events[-1]
    assert service.list_sessions("u1")[0] == []
    with store_engine.connect() as conn:
        assert conn.execute(sa.select(db.pending_turns.c.text)).scalars().all() == []


def test_a_thumb_on_an_earlier_answer_while_the_next_is_written_keeps_both(store_engine, make_store) -> None:
    """Another tab rates an earlier answer while the next one is written. On S3 feedback writes a
    new version of the session, so the answer (whose commit expects the version it began with)
    was refused with "another tab added to this session" and lost."""
    model = ScriptedModel([Text("First answer."), ToolCall("get_upcoming_meetings", {"days_ahead": 7}), Text("Next.")])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", "Hello")[-1], Done)
    turn = service.start_turn("u1", QUESTION, session_id=meta.id)
    events = iter(turn.events)
    next(events)  # the answer has started
    other_tab = threading.Thread(target=service.set_feedback, args=(meta.id, "u1", 0, 1))
    other_tab.start()
    assert isinstance(list(events)[-1], Done)
    other_tab.join(timeout=15)
    doc = service.open_session(meta.id, "u1")
    assert [(t.user_text, t.feedback) for t in doc.turns] == [("Hello", 1), (QUESTION, None)]


def test_completing_a_session_while_it_answers_keeps_the_answer(store_engine, make_store) -> None:
    """Complete session clicked while an answer streams: the click stops the run, then completes.
    The stopped answer's commit found the session closed (or its version moved) and was lost,
    its question kept as failed in a session that no longer shows a Retry."""
    model = ScriptedModel([ToolCall("get_upcoming_meetings", {"days_ahead": 7}), Text("You have six meetings.")])
    service = _service(store_engine, make_store, model)
    turn = service.start_turn("u1", QUESTION)
    next(iter(turn.events))  # the answer has started
    service.stop(turn.session.id)  # what the page does when a click interrupts it
    turn.events.close()
    service.complete(turn.session.id, "u1")
    doc = service.open_session(turn.session.id, "u1")
    assert doc.meta.state == "completed"
    assert [t.user_text for t in doc.turns] == [QUESTION]
    assert service.pending_turn(turn.session.id, "u1") is None


def test_a_first_question_names_its_session_even_when_it_fails(store_engine, make_store) -> None:
    """Several sessions whose only question failed all read "New session" in the sidebar."""
    model = ScriptedModel(
        [
            Fail(RuntimeError("the model connection dropped")),
            Text("Six meetings."),
            Fail(RuntimeError("dropped")),
            Text("Yes."),
        ]
    )
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    failed = service.run_turn(meta.id, "u1", QUESTION)
    assert isinstance(failed[-1], ErrorEvent) and failed[-1].retryable
    listed, _ = service.store.list_sessions(SessionQuery(user_id="u1"))
    assert [m.title for m in listed] == [QUESTION]
    assert service.open_session(meta.id, "u1").meta.title == QUESTION
    found, _ = service.store.list_sessions(SessionQuery(user_id="u1", text="meetings do i"))
    assert [m.id for m in found] == [meta.id], "the title is searchable at once"
    # Retry answers it; the title stays, also for a fresh process reading the stored session
    assert isinstance(service.run_turn(meta.id, "u1", QUESTION)[-1], Done)
    assert service.open_session(meta.id, "u1").meta.title == QUESTION
    assert _service(store_engine, make_store, model).open_session(meta.id, "u1").meta.title == QUESTION
    # dismissed instead of answered, a first question takes its title with it
    dropped = service.create_session("u1")
    assert isinstance(service.run_turn(dropped.id, "u1", "Who is Maria?")[-1], ErrorEvent)
    assert service.open_session(dropped.id, "u1").meta.title == "Who is Maria?"
    service.dismiss_pending(dropped.id, "u1")
    assert service.open_session(dropped.id, "u1").meta.title == "New session"
    found, _ = service.store.list_sessions(SessionQuery(user_id="u1", text="maria"))
    assert found == []
    # a later question never renames it, nor is a session the user named renamed by its first question
    named = service.create_session("u1")
    service.rename(named.id, "u1", "Board prep")
    assert isinstance(service.run_turn(named.id, "u1", "Anything else?")[-1], Done)
    assert service.open_session(named.id, "u1").meta.title == "Board prep"
    assert model.violations == []


def test_search_finds_the_words_of_one_exchange_in_any_order(store_engine, make_store) -> None:
    # "budget acme" found nothing where the answer said "The Acme budget": the search was one phrase.
    model = ScriptedModel(
        [Text("Acme renews in March."), Text("The Acme budget is 12% over plan."), Text("Acme renews soon.")]
    )
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    for question in ("When does Acme renew?", "How is that budget?"):
        assert isinstance(service.run_turn(meta.id, "u1", question)[-1], Done)
    other = service.create_session("u1")  # only one of the words
    assert isinstance(service.run_turn(other.id, "u1", "Anything on Acme?")[-1], Done)
    for typed, expected in (
        ("budget acme", [meta.id]),
        ("ACME budget", [meta.id]),
        ('"budget acme"', []),  # a phrase stays a phrase
        ('"acme budget" plan', [meta.id]),
        ("12% acme", [meta.id]),
        ("renews budget", []),  # two exchanges: one of them must hold every word
        ("acme nowhere", []),
    ):
        found, total = service.store.list_sessions(SessionQuery(user_id="u1", text=typed))
        assert [m.id for m in found] == expected and total == len(expected), typed
    assert other.id in [m.id for m in service.store.list_sessions(SessionQuery(user_id="u1", text="acme"))[0]]


def test_a_retry_whose_question_another_tab_already_retried_is_not_stored_twice(store_engine, make_store) -> None:
    """Retry clicked in two tabs (or twice across a reload) sent the failed question twice: the
    second Retry re-sent its text as a new question once the first had answered it."""
    from assistant.chat import AlreadyAnsweredError

    model = ScriptedModel([Fail(RuntimeError("the model connection dropped")), Text("Six meetings this week.")])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", QUESTION)[-1], ErrorEvent)
    pending = service.pending_turn(meta.id, "u1")
    assert pending is not None and pending.turn_idx == 0
    # both tabs show the failed question with Retry; the first click answers it
    first = service.start_turn("u1", QUESTION, session_id=meta.id, retry_of=pending.turn_idx)
    assert isinstance(list(first.events)[-1], Done)
    try:
        second = service.start_turn("u1", QUESTION, session_id=meta.id, retry_of=pending.turn_idx)
    except AlreadyAnsweredError:
        pass
    else:
        list(second.events)
        raise AssertionError("the second Retry was sent again")
    doc = service.open_session(meta.id, "u1")
    assert [t.user_text for t in doc.turns] == [QUESTION]
    assert service.pending_turn(meta.id, "u1") is None
    assert doc.meta.turn_count == 1


def test_an_answer_holding_utf16_surrogates_is_stored_and_resumable(store_engine, make_store) -> None:
    """A model (or a calendar's JSON) may hand back an emoji as two escaped UTF-16 halves, or half of one:
    no UTF-8 encoder takes them, and the turn failed as "Something went wrong while the model was
    answering", on every Retry (the model says it again)."""
    model = ScriptedModel(
        [Text("Board pack ready \ud83d\ude00, one slide short \udc80."), Text("Picked up where we left off.")]
    )
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    done = service.run_turn(meta.id, "u1", "Is the board pack ready?")[-1]
    assert isinstance(done, Done), done
    fresh = _service(store_engine, make_store, model)  # another process reads what was stored
    doc = fresh.open_session(meta.id, "u1")
    assert doc.messages[-1]["content"][0]["text"] == "Board pack ready \U0001f600, one slide short \ufffd."
    assert fresh.store.list_sessions(SessionQuery(user_id="u1", text="slide short"))[1] == 1
    assert isinstance(fresh.run_turn(meta.id, "u1", "And the agenda?")[-1], Done)
    assert model.violations == []


def test_reindex_keeps_the_title_a_failed_first_question_gave_its_session(store_engine, make_store) -> None:
    """On S3, `sessions reindex` took the title from the object, which a failed first question never
    reached: the session read "New session" again and its question no longer found it."""
    model = ScriptedModel([Fail(RuntimeError("the model connection dropped")), Text("Six meetings.")])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", QUESTION)[-1], ErrorEvent)
    make_store().reindex()
    fresh = _service(store_engine, make_store, model)
    assert fresh.open_session(meta.id, "u1").meta.title == QUESTION
    found, _ = fresh.store.list_sessions(SessionQuery(user_id="u1", text="meetings do i"))
    assert [m.id for m in found] == [meta.id]
    assert isinstance(fresh.run_turn(meta.id, "u1", QUESTION)[-1], Done)  # Retry answers it, title kept
    assert fresh.open_session(meta.id, "u1").meta.title == QUESTION
    assert model.violations == []


def _stored_snapshot(store: Any, store_engine: Any, session_id: str, user_id: str) -> dict[str, Any]:
    """The agent snapshot exactly as the store holds it (the session row, or the S3 object)."""
    if isinstance(store, S3SessionStore):
        snapshot = make_client().get_object(Bucket=BUCKET, Key=object_key(user_id, session_id))["Body"].read()
        return dict(json.loads(snapshot)["agent_snapshot"])
    with store_engine.connect() as conn:
        text = conn.execute(sa.select(db.sessions.c.agent_snapshot).where(db.sessions.c.id == session_id)).scalar_one()
    return dict(json.loads(text))


def test_the_conversation_is_stored_once_and_a_new_process_resumes_it_whole(store_engine, make_store) -> None:
    model = ScriptedModel(
        [
            ToolCall("get_upcoming_meetings", {"days_ahead": 7}),
            Text("Six meetings this week.", redacted_reasoning=b"\x00\x01\xffopaque-thinking"),
            Text("Your budget is on track."),
            Text("The Acme QBR is first."),
        ]
    )
    store = make_store()
    service = make_service(store_engine, model=lambda _name: model, store=store)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", QUESTION)[-1], Done)
    assert isinstance(service.run_turn(meta.id, "u1", "And my budget?")[-1], Done)
    doc = service.open_session(meta.id, "u1")
    # the snapshot refers to the transcript's messages instead of holding them a second time
    stored = _stored_snapshot(store, store_engine, meta.id, "u1")
    assert stored["data"]["messages"] == []
    assert stored["app_data"] == {"assistant.transcript_tail": len(doc.messages)}
    assert len(json.dumps(stored)) < 2_000 < len(json.dumps(doc.messages))
    # read back, it holds them again (Continue and "Ask another model" start from it)
    assert doc.agent_snapshot is not None and doc.agent_snapshot["data"]["messages"] == doc.messages
    # a new process resumes the agent with every earlier message, the reasoning's bytes as bytes
    other = make_service(store_engine, model=lambda _name: model, store=make_store())
    assert isinstance(other.run_turn(meta.id, "u1", "Which meeting comes first?")[-1], Done)
    assert model.violations == []
    sent = model.requests[-1].messages
    assert len(sent) == len(doc.messages) + 1
    reasoning = [
        b["reasoningContent"]["redactedContent"] for m in sent for b in m["content"] if "reasoningContent" in b
    ]
    assert reasoning == [str(b"\x00\x01\xffopaque-thinking")]  # the model got bytes (requests keep their str())
    assert _stored_snapshot(other.store, store_engine, meta.id, "u1")["data"]["messages"] == []


def test_continue_clicked_twice_opens_the_one_new_session_until_it_is_used(store_engine, make_store) -> None:
    """Continue in a new session clicked twice (a double click, the chat and the Sessions page, two
    tabs) made two empty "Continued: …" sessions side by side. The second click opens the first
    one while it holds nothing; once it has a question, Continue makes a new one."""
    model = ScriptedModel([Text("Three meetings this week."), Text("Picked up."), Text("Again.")])
    service = _service(store_engine, make_store, model)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", QUESTION)[-1], Done)
    service.complete(meta.id, "u1")
    first = service.continue_session(meta.id, "u1")
    assert service.continue_session(meta.id, "u1").id == first.id
    assert isinstance(service.run_turn(first.id, "u1", "Continue please")[-1], Done)
    second = service.continue_session(meta.id, "u1")
    assert second.id != first.id and second.title == first.title == f"Continued: {QUESTION}"
    listed, total = service.store.list_sessions(SessionQuery(user_id="u1"))
    assert total == 3 and sorted(m.turn_count for m in listed) == [0, 1, 1]
    assert model.violations == []
