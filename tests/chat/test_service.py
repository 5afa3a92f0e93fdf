"""ChatService with real strands agents, the offline model and a real SQLite/Postgres store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from assistant import db
from assistant.chat import (
    ChatInputError,
    Done,
    ErrorEvent,
    LimitExceededError,
    TextDelta,
    ToolFinished,
    ToolStarted,
    build_display_turns,
)
from assistant.chat.bridge import finish_unread
from assistant.models.offline import OfflineModel
from assistant.sessions.base import SessionConflictError, SessionNotFoundError, SessionReadOnlyError, utcnow
from tests.fixtures.chat import make_service


def _count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_turn_streams_text_and_tool_steps_then_stores_once(any_engine) -> None:
    service = make_service(any_engine)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "What meetings do I have this week?")
    kinds = [type(e) for e in events]
    assert kinds.index(ToolStarted) < kinds.index(ToolFinished) < kinds.index(Done)
    assert sum(1 for e in events if isinstance(e, TextDelta)) > 3, "answer should arrive in several chunks"
    started = next(e for e in events if isinstance(e, ToolStarted))
    assert started.name == "get_upcoming_meetings"
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.status == "success" and "meeting" in finished.summary.lower()
    done = events[-1]
    assert isinstance(done, Done)
    assert done.turn.input_tokens > 0 and done.turn.output_tokens > 0 and done.turn.cost_usd == 0.0
    assert done.meta.title == "What meetings do I have this week?"
    doc = service.open_session(meta.id, "u1")
    user_msgs = [m for m in doc.messages if m["role"] == "user" and "text" in m["content"][0]]
    assert len(user_msgs) == 1
    shown = build_display_turns(doc)
    assert len(shown) == 1 and any(kind == "tool" for kind, _ in shown[0].parts)
    assert _count(any_engine, db.usage) == done.turn.model_calls >= 2


def test_restart_resumes_with_context(sqlite_engine, tmp_path) -> None:
    first = make_service(sqlite_engine)
    meta = first.create_session("u1")
    first.run_turn(meta.id, "u1", "What meetings do I have this week?")
    # a new process: new engine on the same file, new service, no cached agent
    from assistant.db import make_engine

    engine2 = make_engine(str(sqlite_engine.url))
    second = make_service(engine2)
    events = second.run_turn(meta.id, "u1", "Prepare an agenda")
    tool_names = [e.name for e in events if isinstance(e, ToolStarted)]
    assert tool_names[0] == "generate_meeting_agenda", "the resumed agent should know the meetings listed before"
    assert isinstance(events[-1], Done)
    assert len(second.open_session(meta.id, "u1").turns) == 2


@pytest.mark.parametrize("text", ["", "   \n", "x" * 100_000])
def test_bad_input_is_refused_and_writes_nothing(sqlite_engine, text) -> None:
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    with pytest.raises(ChatInputError) as info:
        service.run_turn(meta.id, "u1", text)
    if text.strip():
        assert "100,000" in str(info.value) and "8,000" in str(info.value)
    assert _count(sqlite_engine, db.messages) == 0 and _count(sqlite_engine, db.usage) == 0


def test_unknown_or_foreign_session_is_not_found(sqlite_engine) -> None:
    service = make_service(sqlite_engine)
    meta = service.create_session("alice")
    with pytest.raises(SessionNotFoundError):
        service.run_turn("no-such-session", "alice", "hello")
    with pytest.raises(SessionNotFoundError):
        service.run_turn(meta.id, "mallory", "hello")
    assert _count(sqlite_engine, db.messages) == 0


def test_model_error_leaves_transcript_unchanged_and_retry_stores_one_user_message(any_engine) -> None:
    service = make_service(any_engine, model_provider="faulty:access_denied")
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "What is my budget?")
    err = events[-1]
    assert isinstance(err, ErrorEvent) and err.category == "access_denied"
    assert "Traceback" not in err.message
    doc = service.open_session(meta.id, "u1")
    assert doc.messages == [] and doc.turns == []
    assert _count(any_engine, db.usage) == 1, "the failed call is in the ledger"
    events = service.run_turn(meta.id, "u1", "What is my budget?")
    assert isinstance(events[-1], Done)
    doc = service.open_session(meta.id, "u1")
    texts = [b["text"] for m in doc.messages if m["role"] == "user" for b in m["content"] if "text" in b]
    assert texts == ["What is my budget?"]


def _slow(name: str) -> OfflineModel:
    """The offline model streaming one word every 50 ms: slow enough to stop mid-answer."""
    return OfflineModel(chunk_delay_s=0.05, first_token_delay_s=0.0, words_per_chunk=1)


def _read_some(stream: Iterator[object], chars: int = 40) -> str:
    """Read ``stream`` until more than ``chars`` characters of answer text have arrived; return them."""
    got = ""
    for event in stream:
        if isinstance(event, TextDelta):
            got += event.text
            if len(got) > chars:
                break
    return got


def test_an_explicit_stop_is_noted_as_the_users_and_the_next_reload_as_an_interruption(sqlite_engine) -> None:
    service = make_service(sqlite_engine, model=_slow)
    meta = service.create_session("u1")
    for question in ("Hello, what can you do for me?", "And what else can you do?"):
        stream = service.send_sync(meta.id, "u1", question)
        _read_some(stream)
        if question.startswith("Hello"):
            assert service.stop(meta.id)  # the Stop button: the answer ends, the page reads it to the end
            assert isinstance(list(stream)[-1], Done)
        stream.close()  # the second time: the page went away mid-answer, with no Stop
        assert service.wait_idle(meta.id, timeout=10)
    turns = service.open_session(meta.id, "u1").turns
    assert [t.status for t in turns] == ["stopped", "stopped"]
    assert turns[0].error == "Stopped by the user."
    assert (turns[1].error or "").startswith("Interrupted before it finished (the page was closed or reloaded")


def test_an_answer_its_page_left_unread_is_finished_and_stored_whole(sqlite_engine) -> None:
    """The page lost its connection (or was reloaded) mid-answer: the answer is read to its end
    on a thread of its own and stored as a full answer, not cut as an interrupted one."""
    service = make_service(sqlite_engine, model=_slow)
    meta = service.create_session("u1")
    stream = service.send_sync(meta.id, "u1", "Hello, what can you do for me?")
    got = _read_some(stream)
    finish_unread(stream).join(timeout=30)
    assert service.wait_idle(meta.id, timeout=10)
    doc = service.open_session(meta.id, "u1")
    assert [(t.status, t.error) for t in doc.turns] == [("ok", None)]
    shown = build_display_turns(doc)[0].answer_text
    assert shown.startswith(got) and len(shown) > len(got) + 40, shown
    assert service.pending_turn(meta.id, "u1") is None


def test_an_answer_being_written_can_be_read_so_far_by_its_owner_only(sqlite_engine) -> None:
    """A page reloaded mid-answer (or a second tab) is not the one streaming the answer: it
    showed "still being answered" with nothing of it until the end. It now reads the text so far."""
    service = make_service(sqlite_engine, model=_slow)
    meta = service.create_session("u1")
    assert service.answer_so_far(meta.id, "u1") is None
    stream = service.send_sync(meta.id, "u1", "What meetings do I have this week?")
    got = _read_some(stream)
    reader = finish_unread(stream)
    seen = [service.answer_so_far(meta.id, "u1") or ""]
    time.sleep(0.5)
    seen.append(service.answer_so_far(meta.id, "u1") or "")
    assert service.answer_so_far(meta.id, "u2") is None, "another user's session"
    reader.join(timeout=30)
    assert service.wait_idle(meta.id, timeout=10)
    assert service.answer_so_far(meta.id, "u1") is None
    shown = build_display_turns(service.open_session(meta.id, "u1"))[0].answer_text
    assert len(seen[1]) > len(seen[0]) > len(got), seen

    def words(text: str) -> str:  # the text so far sets a message's text apart from the next one's
        return "".join(text.split())

    assert all(words(shown).startswith(words(text)) for text in [got, *seen]), (seen, shown)


def test_failure_mid_stream_after_a_tool_leaves_nothing_half_written(sqlite_engine) -> None:
    service = make_service(sqlite_engine, model_provider="faulty:midstream")
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "What meetings do I have?")
    assert isinstance(events[-1], ErrorEvent)
    assert service.open_session(meta.id, "u1").messages == []
    assert isinstance(service.run_turn(meta.id, "u1", "What meetings do I have?")[-1], Done)


def test_stop_keeps_partial_answer_marked_stopped(sqlite_engine) -> None:
    service = make_service(sqlite_engine, model=_slow)
    meta = service.create_session("u1")
    stream = service.send_sync(meta.id, "u1", "Hello, what can you do for me?")
    got = _read_some(stream)
    stream.close()
    assert service.wait_idle(meta.id, timeout=10)
    doc = service.open_session(meta.id, "u1")
    assert len(doc.turns) == 1 and doc.turns[0].status == "stopped"
    # nobody pressed Stop: the page went away (closed, reloaded, its connection lost) and the note says that
    assert doc.turns[0].error == (
        "Interrupted before it finished (the page was closed or reloaded, or lost its connection). "
        "Send the question again for a full answer."
    )
    shown = build_display_turns(doc)[0]
    assert shown.answer_text.startswith(got), "everything the user saw is kept"
    assert "Cancelled by user" not in shown.answer_text
    # the session stays usable (its next answer needs no pacing: ~10 s at one word every 50 ms)
    service.model().update_config(chunk_delay_s=0.0)
    assert isinstance(service.run_turn(meta.id, "u1", "and my budget?")[-1], Done)


def test_renaming_mid_answer_refuses_an_empty_title_at_once_and_can_stop_the_answer_first(sqlite_engine) -> None:
    """A rename waited up to 10 s for the answer being written, even to refuse an empty title; when
    the answer took longer, the rename went through and the answer's commit was refused."""
    service = make_service(sqlite_engine, model=_slow)
    meta = service.create_session("u1")
    stream = service.send_sync(meta.id, "u1", "Hello, what can you do for me?")
    _read_some(stream)
    started = time.monotonic()
    with pytest.raises(ValueError, match="cannot be empty"):
        service.rename(meta.id, "u1", " \u200b ")
    assert time.monotonic() - started < 1.0
    assert service.is_busy(meta.id), "a refused rename changes nothing: the answer goes on"
    renamed = service.rename(meta.id, "u1", "Board prep", stop_answer=True)
    list(stream)
    assert renamed.title == "Board prep"
    doc = service.open_session(meta.id, "u1")
    assert doc.meta.title == "Board prep"
    assert [t.status for t in doc.turns] == ["stopped"], "the answer is stored, not refused by the rename"
    service.model().update_config(chunk_delay_s=0.0)  # the next answer needs no pacing (~10 s at 50 ms a word)
    assert isinstance(service.run_turn(meta.id, "u1", "and my budget?")[-1], Done)


def test_renaming_or_completing_while_another_tab_answers_is_refused_and_the_answer_is_kept(sqlite_engine) -> None:
    """Another tab renamed or completed a session while this one's answer was being written: the
    change waited up to 10 s, went through, and the answer's commit was refused (answer lost)."""
    service = make_service(sqlite_engine, model=_slow)
    meta = service.create_session("u1")
    stream = service.send_sync(meta.id, "u1", "Hello, what can you do for me?")
    _read_some(stream)
    for change in (lambda: service.rename(meta.id, "u1", "Board prep"), lambda: service.complete(meta.id, "u1")):
        started = time.monotonic()
        with pytest.raises(SessionConflictError, match="still being written, in another tab"):
            change()
        assert time.monotonic() - started < 5.0
    list(stream)
    doc = service.open_session(meta.id, "u1")
    assert doc.meta.title != "Board prep" and doc.meta.state == "active", "a refused change changes nothing"
    assert [t.status for t in doc.turns] == ["ok"], "the other tab's answer is stored whole"
    assert service.complete(meta.id, "u1").state == "completed"  # once it is done, it goes through


def test_a_stopped_answer_still_counts_the_tokens_it_used(sqlite_engine) -> None:
    """A stream cut short never sends the provider's usage report, yet the provider bills what it
    read and wrote until then: the ledger holds an estimate (4 characters a token), not zero."""
    service = make_service(sqlite_engine, model=_slow)
    meta = service.create_session("u1")
    stream = service.send_sync(meta.id, "u1", "Hello, what can you do for me?")
    got = _read_some(stream, chars=120)
    assert service.stop(meta.id)
    list(stream)
    assert service.wait_idle(meta.id, timeout=10)
    turn = service.open_session(meta.id, "u1").turns[0]
    assert turn.status == "stopped"
    system_prompt_tokens = 500  # the Meeting Coordinator's instructions alone are longer than this
    assert turn.input_tokens > system_prompt_tokens, turn
    assert turn.output_tokens >= len(got) // 4 > 0, turn
    with sqlite_engine.connect() as conn:
        ledger = conn.execute(select(db.usage.c.input_tokens, db.usage.c.output_tokens)).all()
    assert sum(r.input_tokens for r in ledger) == turn.input_tokens
    assert sum(r.output_tokens for r in ledger) == turn.output_tokens


def test_rate_limit_and_daily_budget_refuse_with_when_it_frees_up(sqlite_engine) -> None:
    service = make_service(sqlite_engine, messages_per_minute=2)
    meta = service.create_session("u1")
    service.run_turn(meta.id, "u1", "hello")
    service.run_turn(meta.id, "u1", "hello again")
    with pytest.raises(LimitExceededError) as info:
        service.run_turn(meta.id, "u1", "third")
    assert "2 messages" in str(info.value) and info.value.retry_at is not None
    assert "UTC" in str(info.value) and "2 messages" in info.value.reason and "UTC" not in info.value.reason
    assert len(service.open_session(meta.id, "u1").turns) == 2

    now = [utcnow()]
    broke = make_service(sqlite_engine, daily_budget_usd=0.0001, clock=lambda: now[0])
    from assistant.sessions.base import UsageRecord

    broke.store.record_usage([UsageRecord("c1", meta.id, "u2", 0, "bedrock", "m", now[0], 1000, 1000, cost_usd=0.5)])
    m2 = broke.create_session("u2")
    with pytest.raises(LimitExceededError, match="budget") as refused:
        broke.run_turn(m2.id, "u2", "hello")
    assert refused.value.reason.endswith("It resets at midnight UTC.")  # pages add the local clock time
    now[0] += timedelta(days=1)
    assert isinstance(broke.run_turn(m2.id, "u2", "hello")[-1], Done)


def test_turn_after_another_replica_wrote_is_stored_with_that_context(sqlite_engine) -> None:
    # Replica A has the session's agent cached; replica B then adds a turn. A's next send must
    # see B's turn (rebuilt agent) and be stored, not be refused as a conflict after streaming.
    replica_a, replica_b = make_service(sqlite_engine), make_service(sqlite_engine)
    meta = replica_a.create_session("u1")
    replica_a.run_turn(meta.id, "u1", "How is the budget tracking?")
    replica_b.run_turn(meta.id, "u1", "What meetings do I have this week?")
    events = replica_a.run_turn(meta.id, "u1", "Prepare an agenda")
    assert isinstance(events[-1], Done), events[-1]
    tool_names = [e.name for e in events if isinstance(e, ToolStarted)]
    assert tool_names[0] == "generate_meeting_agenda", "A's agent should know the meetings B listed"
    turns = replica_b.open_session(meta.id, "u1").turns
    assert [t.user_text for t in turns] == [
        "How is the budget tracking?",
        "What meetings do I have this week?",
        "Prepare an agenda",
    ]


def test_rate_limit_is_shared_by_replicas_and_survives_a_restart(sqlite_engine) -> None:
    replica_a = make_service(sqlite_engine, messages_per_minute=2)
    meta = replica_a.create_session("u1")
    replica_a.run_turn(meta.id, "u1", "hello")
    replica_b = make_service(sqlite_engine, messages_per_minute=2)  # another process, same database
    replica_b.run_turn(meta.id, "u1", "hello again")
    restarted = make_service(sqlite_engine, messages_per_minute=2)
    with pytest.raises(LimitExceededError, match="2 messages"):
        restarted.run_turn(meta.id, "u1", "third")
    assert len(restarted.open_session(meta.id, "u1").turns) == 2
    assert not restarted.is_busy(meta.id)  # the refused send left the session free


def test_completed_session_is_read_only_and_can_be_continued(sqlite_engine) -> None:
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    service.run_turn(meta.id, "u1", "What meetings do I have this week?")
    service.complete(meta.id, "u1")
    with pytest.raises(SessionReadOnlyError):
        service.run_turn(meta.id, "u1", "more")
    new = service.continue_session(meta.id, "u1")
    assert new.continued_from == meta.id and new.title.startswith("Continued: ")
    events = service.run_turn(new.id, "u1", "Prepare an agenda")
    assert next(e.name for e in events if isinstance(e, ToolStarted)) == "generate_meeting_agenda"


def test_120_turns_stored_in_full_while_agent_window_is_bounded(sqlite_engine) -> None:
    service = make_service(sqlite_engine, messages_per_minute=1000)
    meta = service.create_session("u1")
    start = time.perf_counter()
    for i in range(120):
        assert isinstance(service.run_turn(meta.id, "u1", f"note {i}: hello")[-1], Done)
    doc = service.open_session(meta.id, "u1")
    assert len(doc.turns) == 120
    assert [t.user_text for t in doc.turns] == [f"note {i}: hello" for i in range(120)]
    assert len(doc.messages) >= 240
    snapshot_messages = doc.agent_snapshot["data"]["messages"] if doc.agent_snapshot else []
    assert len(snapshot_messages) < len(doc.messages), "the agent's window is trimmed, the transcript is not"
    assert time.perf_counter() - start < 120


def test_ledger_sums_to_priced_usage_including_failed_calls(sqlite_engine) -> None:
    """Priced as Nova Lite (the model answers offline): failed calls are ledgered and the sums agree."""
    from assistant.models.faults import FaultInjectingModel
    from assistant.usage.pricing import PriceTable

    model = FaultInjectingModel(OfflineModel(), "midstream*1")
    service = make_service(sqlite_engine, model=lambda _n: model, model_provider="bedrock:us.amazon.nova-lite-v1:0")
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", "What meetings do I have?")[-1], ErrorEvent)
    assert isinstance(service.run_turn(meta.id, "u1", "What meetings do I have?")[-1], Done)
    assert isinstance(service.run_turn(meta.id, "u1", "And my budget?")[-1], Done)
    table = PriceTable.load(service.settings.resolved_prices_file)
    with sqlite_engine.connect() as conn:
        rows = conn.execute(select(db.usage)).all()
    assert any(r.error for r in rows), "the failed call is in the ledger"
    assert all(r.model_id == "us.amazon.nova-lite-v1:0" and r.cost_usd is not None for r in rows)
    expected = sum(
        table.cost(
            r.model_id, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.started_at
        )[0]
        or 0.0
        for r in rows
    )
    assert expected > 0
    assert sum(r.cost_usd for r in rows) == pytest.approx(expected, rel=1e-9)
    assert service.get_session(meta.id, "u1").cost_usd == pytest.approx(expected, rel=1e-9)
    assert all(r.price_version == table.version for r in rows)


def test_runaway_tool_loop_is_bounded_by_the_turn_limit(sqlite_engine) -> None:
    """A model that never stops calling tools is cut at MAX_AGENT_TURNS; the session stays usable."""
    from tests.fixtures.scripted_model import ScriptedModel, ToolCall

    loop = ScriptedModel([ToolCall("get_big_rocks_status", {}, tool_use_id=f"t{i}") for i in range(50)] + ["done"] * 5)
    service = make_service(sqlite_engine, model=lambda _n: loop, max_agent_turns=3)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "Loop forever")
    done = events[-1]
    assert isinstance(done, Done)
    assert sum(1 for e in events if isinstance(e, ToolStarted)) == 3
    assert done.turn.status == "stopped" and "limit" in (done.turn.error or "")
    assert loop.index == 3, "no model call beyond the limit"


def test_start_turn_creates_the_session_only_when_the_send_is_allowed(sqlite_engine) -> None:
    service = make_service(sqlite_engine, messages_per_minute=1)
    started = service.start_turn("u1", "  What is my budget?  ", user_email="u1@example.com")
    assert started.text == "What is my budget?"
    events = list(started.events)
    assert isinstance(events[-1], Done) and events[-1].meta.id == started.session.id
    assert service.get_session(started.session.id, "u1").user_email == "u1@example.com"
    with pytest.raises(LimitExceededError):
        service.start_turn("u1", "And my priorities?")
    assert _count(sqlite_engine, db.sessions) == 1, "a refused first message leaves no empty session"
    with pytest.raises(ChatInputError):
        service.start_turn("u2", "   ")
    assert _count(sqlite_engine, db.sessions) == 1


def test_an_emoji_streamed_as_two_utf16_halves_reaches_the_page_whole(sqlite_engine) -> None:
    """Streamlit cannot draw a lone UTF-16 surrogate (its protobuf raises UnicodeEncodeError):
    an emoji whose two escaped halves arrived in two deltas broke the answer as it was drawn."""
    from tests.fixtures.scripted_model import ScriptedModel, Text

    # the scripted model streams 16 characters a delta: the pair straddles the first two
    model = ScriptedModel([Text("Ready for board\ud83d\ude00 today, one slide short \udc80.")])
    service = make_service(sqlite_engine, model=lambda _name: model)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "Is the pack ready?")
    assert isinstance(events[-1], Done), events[-1]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    for text in deltas:
        text.encode("utf-8")  # what the page's protobuf does with it
    assert "".join(deltas) == "Ready for board\U0001f600 today, one slide short \ufffd."


def test_the_model_is_told_the_executives_date_at_each_question_of_a_session(sqlite_engine) -> None:
    """A session's agent lives on between questions: built at 23:50 on Sunday, it still told the
    model "Today is Sunday" at 00:10 on Monday, and after the browser moved from London to Auckland."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from tests.fixtures.scripted_model import ScriptedModel

    now = [datetime(2026, 12, 6, 23, 50, tzinfo=UTC)]
    model = ScriptedModel(["Noted.", "Noted.", "Noted."])
    service = make_service(sqlite_engine, model=lambda _name: model, clock=lambda: now[0])
    london = ZoneInfo("Europe/London")
    session = service.start_turn("u1", "Hello", tz=london)
    list(session.events)
    now[0] = datetime(2026, 12, 7, 0, 10, tzinfo=UTC)  # Monday 00:10 in London
    list(service.start_turn("u1", "What's on tomorrow?", session_id=session.session.id, tz=london).events)
    now[0] = datetime(2026, 12, 7, 11, 30, tzinfo=UTC)  # Monday 11:30 in London, Tuesday 00:30 in Auckland
    list(service.start_turn("u1", "And today?", session_id=session.session.id, tz=ZoneInfo("Pacific/Auckland")).events)
    told = [request.system_prompt.split("Today is ")[1].split(".")[0] for request in model.requests]
    assert told == ["Sunday 06 December 2026", "Monday 07 December 2026", "Tuesday 08 December 2026"]


def test_another_users_request_for_a_session_being_answered_is_not_held_until_the_answer_ends(sqlite_engine) -> None:
    """Rename, complete, feedback and opening a session wait for an answer this process is storing
    for it, but only their owner's: another user was held until the owner's answer ended before
    being told "not found", which told them the session exists and is being answered."""
    service = make_service(sqlite_engine, model=_slow)
    meta = service.create_session("u1")
    stream = service.send_sync(meta.id, "u1", "What meetings do I have this week?")
    _read_some(stream)
    reader = finish_unread(stream)
    for refused in (
        lambda: service.rename(meta.id, "u2", "mine now"),
        lambda: service.complete(meta.id, "u2"),
        lambda: service.set_feedback(meta.id, "u2", 0, 1),
    ):
        began = time.monotonic()
        with pytest.raises(SessionNotFoundError):
            refused()
        assert time.monotonic() - began < 0.5 and service.is_busy(meta.id)
    began = time.monotonic()
    assert service.wait_idle(meta.id, timeout=10, user_id="u2")  # no answer of u2's is being written
    assert time.monotonic() - began < 0.5 and service.is_busy(meta.id)
    reader.join(timeout=30)
    assert service.wait_idle(meta.id, timeout=10, user_id="u1")
    assert service.open_session(meta.id, "u1").meta.title != "mine now"
