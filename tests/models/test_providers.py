"""anthropic:, openai: and ollama: models through the real Meeting Coordinator and ChatService, on fake APIs.

Every test talks HTTP to a fake server on 127.0.0.1 (tests/fixtures/fake_llm_servers.py) through
strands' own model classes and the official SDKs; the fake refuses any request the real API
would refuse, and the fixture fails the test if it had to.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import pytest
from sqlalchemy import Engine, select
from strands import Agent

from assistant import db
from assistant.chat import ChatService, Done, ErrorEvent, TextDelta, ToolFinished, ToolStarted
from assistant.config import load_settings
from assistant.models import error_category, get_model
from assistant.models.providers import MissingApiKeyError, ProviderPackageError, build_anthropic
from assistant.usage.pricing import PriceTable, local_model_provider
from assistant.views.models import model_view
from tests.fixtures.chat import make_service
from tests.fixtures.fake_llm_servers import FakeLLMServer, call, fail, say
from tests.fixtures.no_real_models import REAL_MODEL_CALL_MESSAGE


def _service(engine: Engine, fake: FakeLLMServer, **overrides: Any) -> ChatService:
    return make_service(engine, **(fake.settings() | overrides))


def _ask(service: ChatService, text: str = "What meetings do I have this week?") -> list[Any]:
    meta = service.create_session("u1")
    return service.run_turn(meta.id, "u1", text)


def _ledger(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(db.usage).order_by(db.usage.c.started_at)).all())


def test_text_streams_through_the_chat_service(sqlite_engine: Engine, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(say("You have three meetings this week: the Acme QBR, a 1:1 and the leadership sync.", chunks=6))
    events = _ask(_service(sqlite_engine, fake_llm))

    assert isinstance(events[-1], Done), events[-1]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 3, "the answer arrives in pieces, as streamed"
    assert "".join(deltas).startswith("You have three meetings")
    body = fake_llm.chat_requests[0]
    assert body.get("stream") is not False
    turn = events[-1].turn
    assert turn.input_tokens > 0 and turn.output_tokens > 0 and turn.model_calls == 1


def test_a_tool_call_runs_the_real_tool_and_its_result_goes_back(
    sqlite_engine: Engine, fake_llm: FakeLLMServer
) -> None:
    """Nothing scripted: the fake asks for get_upcoming_meetings, then quotes the result it is sent."""
    events = _ask(_service(sqlite_engine, fake_llm))

    assert isinstance(events[-1], Done), events[-1]
    started = next(e for e in events if isinstance(e, ToolStarted))
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert started.name == "get_upcoming_meetings" and started.input == {"days_ahead": 7}
    assert finished.status == "success" and "meeting" in finished.summary.lower()
    answer = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert "Here is what your calendar says" in answer
    assert len(fake_llm.chat_requests) == 2, "one request for the call, one with its result"
    second = str(fake_llm.chat_requests[1]["messages"])
    assert "Acme" in second or "meeting" in second.lower(), "the tool's real output was sent back"
    assert events[-1].turn.model_calls == 2 and len(events[-1].turn.tool_steps) == 1


def test_a_follow_up_question_keeps_the_history_valid(sqlite_engine: Engine, fake_llm: FakeLLMServer) -> None:
    service = _service(sqlite_engine, fake_llm)
    meta = service.create_session("u1")
    assert isinstance(service.run_turn(meta.id, "u1", "What meetings do I have?")[-1], Done)
    fake_llm.script(call("get_big_rocks_status", {}), "Your big rocks are on track.")
    events = service.run_turn(meta.id, "u1", "How are my big rocks?")
    assert isinstance(events[-1], Done), events[-1]
    assert [e.name for e in events if isinstance(e, ToolStarted)] == ["get_big_rocks_status"]
    assert len(fake_llm.chat_requests) == 4  # every request passed the fake's validation (fixture checks)


def test_anthropic_usage_and_cost_reach_the_ledger_with_cache_tokens(
    sqlite_engine: Engine, fake_anthropic: FakeLLMServer
) -> None:
    fake_anthropic.script(say("Noted.", cache_read=1200, cache_write=300))
    service = _service(sqlite_engine, fake_anthropic)
    done = _ask(service)[-1]
    assert isinstance(done, Done)

    [row] = _ledger(sqlite_engine)
    assert (row.provider, row.model_id) == ("anthropic", "claude-haiku-4-5")
    assert row.cache_read_tokens == 1200 and row.cache_write_tokens == 300
    assert row.input_tokens > 0 and row.output_tokens > 0
    table = PriceTable.load(service.settings.resolved_prices_file)
    price = table.price_for("claude-haiku-4-5", row.started_at)
    assert price is not None and price.label == "Claude Haiku 4.5"
    expected = price.cost(row.input_tokens, row.output_tokens, 1200, 300)
    assert row.cost_usd == pytest.approx(expected) and row.cost_usd > 0
    assert done.turn.cost_usd == pytest.approx(expected)
    assert model_view("anthropic:claude-haiku-4-5", table).label == "Claude Haiku 4.5 (Anthropic)"
    assert not model_view("claude-haiku-4-5", table).is_free


def test_openai_cached_tokens_are_not_counted_twice(sqlite_engine: Engine, fake_openai: FakeLLMServer) -> None:
    """OpenAI counts cached tokens inside prompt_tokens; the ledger keeps them apart (Converse convention)."""
    fake_openai.script(say("Noted.", cache_read=500))
    done = _ask(_service(sqlite_engine, fake_openai))[-1]
    assert isinstance(done, Done)
    [row] = _ledger(sqlite_engine)
    prompt_tokens = row.input_tokens + row.cache_read_tokens
    assert row.cache_read_tokens == 500 and row.input_tokens == prompt_tokens - 500 > 0


@pytest.mark.parametrize("kind", ["openai", "ollama"])
def test_local_models_cost_nothing_and_are_labelled_local(sqlite_engine: Engine, kind: str) -> None:
    with FakeLLMServer(kind) as fake:  # type: ignore[arg-type]
        service = _service(sqlite_engine, fake)
        done = _ask(service)[-1]
    assert isinstance(done, Done)
    model_id = service.model_name.partition(":")[2]
    rows = _ledger(sqlite_engine)
    assert rows and all(r.cost_usd == 0.0 and r.provider == kind for r in rows)
    assert done.turn.cost_usd == 0.0
    assert local_model_provider(model_id) == kind
    table = PriceTable.load(service.settings.resolved_prices_file)
    for name in (service.model_name, model_id):  # a session's registry name, a ledger model id
        view = model_view(name, table)
        assert view.is_local and view.is_free and not view.is_offline
        assert view.label == f"{model_id} (local)"
    chat_badge = model_view(service.model_name)
    assert chat_badge.label == f"{model_id} (local)" and chat_badge.is_free


def test_openai_on_a_local_server_needs_no_key(sqlite_engine: Engine) -> None:
    with FakeLLMServer("openai", api_key=None) as fake:
        settings = fake.settings() | {"openai_api_key": None}
        done = _ask(make_service(sqlite_engine, **settings))[-1]
        assert isinstance(done, Done)
        assert fake.requests[0].headers.get("Authorization") == "Bearer not-needed"


def test_output_limit_and_model_id_reach_the_server(fake_llm: FakeLLMServer) -> None:
    settings = load_settings(**fake_llm.settings(), max_output_tokens=321)
    agent = Agent(model=get_model(None, settings), callback_handler=None)
    assert str(agent("hi")).strip()
    body = fake_llm.chat_requests[0]
    limit = {
        "anthropic": body.get("max_tokens"),
        "openai": body.get("max_tokens"),  # a compatible server: max_tokens, not max_completion_tokens
        "ollama": (body.get("options") or {}).get("num_predict"),
    }[fake_llm.kind]
    assert limit == 321
    assert body["model"] == settings.model_name.partition(":")[2]


# --------------------------------------------------------------------------- errors
EXPECTED = {
    429: ("throttled", True),
    401: ("access_denied", False),
    403: ("access_denied", False),
    404: ("model_not_found", False),
    500: ("unavailable", True),
}


@pytest.mark.parametrize("status", sorted(EXPECTED))
def test_error_status_becomes_the_chat_pages_message(
    sqlite_engine: Engine, fake_llm: FakeLLMServer, status: int
) -> None:
    # every attempt fails: the SDKs' retries (and strands' own for throttling) see the same status
    fake_llm.script(*[fail(status)] * 12)
    service = _service(sqlite_engine, fake_llm)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "What meetings do I have this week?")

    error = events[-1]
    assert isinstance(error, ErrorEvent), error
    category, retryable = EXPECTED[status]
    assert (error.category, error.retryable) == (category, retryable), error.message
    assert "\n" not in error.message and error.message.endswith(".")
    if status == 401 and fake_llm.kind != "ollama":
        variable = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}[fake_llm.kind]
        assert variable in error.message
    if status == 404 and fake_llm.kind == "ollama":
        assert "ollama pull" in error.message
    # the failed call is in the ledger; Retry (the same question again) is answered
    assert _ledger(sqlite_engine)
    assert service.pending_turn(meta.id, "u1") is not None, "the question stays for Retry"
    fake_llm.clear_script()  # the server recovers
    fake_llm.script(say("Back again."))
    assert isinstance(service.run_turn(meta.id, "u1", "What meetings do I have this week?")[-1], Done)


@pytest.mark.parametrize("status", [404, 403])
def test_a_model_refused_for_good_names_models_and_a_way_on(
    sqlite_engine: Engine, fake_llm: FakeLLMServer, status: int
) -> None:
    """With several models offered (MODELS), the session's model is one of them, not MODEL_PROVIDER's."""
    fake_llm.script(*[fail(status)] * 3)
    name = fake_llm.settings()["model_provider"]
    service = _service(sqlite_engine, fake_llm, models=f"offline,{name}")
    meta = service.create_session("u1", model=name)
    error = service.run_turn(meta.id, "u1", "What meetings do I have this week?")[-1]

    assert isinstance(error, ErrorEvent) and not error.retryable
    assert "MODELS" in error.message and "new session" in error.message, error.message
    if status == 404:
        assert "OPENAI_BASE_URL" not in error.message or fake_llm.kind == "openai", error.message


def test_one_rate_limited_call_is_retried_and_answered(sqlite_engine: Engine, fake_llm: FakeLLMServer) -> None:
    # a busy server (429) once: strands waits and asks again; the user sees only the answer
    fake_llm.script(*[fail(429)] * 2, say("Back again."))
    service = _service(sqlite_engine, fake_llm)
    meta = service.create_session("u1")
    events = service.run_turn(meta.id, "u1", "What meetings do I have this week?")
    assert isinstance(events[-1], Done), events[-1]
    assert not any(isinstance(e, ErrorEvent) for e in events)


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
@pytest.mark.parametrize(
    ("retry_after", "responses", "timeout"),
    [
        (1, 20, 3.5),  # short waits (the SDK's and strands') that together use up the turn's time
        (5, 5, 1.5),  # one wait longer than the turn's time: the SDK still waited, no call had failed yet
    ],
    ids=["waits-add-up", "one-wait-outlasts"],
)
def test_throttling_that_outlasts_the_turns_time_is_throttled_not_too_long(
    sqlite_engine: Engine, kind: str, retry_after: int, responses: int, timeout: float, request: pytest.FixtureRequest
) -> None:
    """429 with Retry-After until MODEL_TIMEOUT_SECONDS runs out.

    The user was told the model "took too long" and to "ask a shorter question"; it was busy.
    """
    fake: FakeLLMServer = request.getfixturevalue(f"fake_{kind}")
    fake.script(*[fail(429, retry_after=retry_after)] * responses)
    service = _service(sqlite_engine, fake, model_timeout_seconds=timeout)
    error = _ask(service)[-1]

    assert isinstance(error, ErrorEvent), error
    assert (error.category, error.retryable) == ("throttled", True), error.message
    assert "shorter question" not in error.message


def test_a_wrong_key_is_refused_by_the_server_and_names_the_variable(
    sqlite_engine: Engine, fake_anthropic: FakeLLMServer
) -> None:
    service = _service(sqlite_engine, fake_anthropic, anthropic_api_key="sk-wrong")
    error = _ask(service)[-1]
    assert isinstance(error, ErrorEvent)
    assert error.category == "access_denied" and not error.retryable
    assert "ANTHROPIC_API_KEY" in error.message and "sk-wrong" not in error.message


def test_a_slow_server_times_out(sqlite_engine: Engine, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(*[say("late answer", delay_s=1.0, chunks=2)] * 3)
    error = _ask(_service(sqlite_engine, fake_llm, model_timeout_seconds=0.3))[-1]
    assert isinstance(error, ErrorEvent)
    assert (error.category, error.retryable) == ("timeout", True), error.message


def test_a_stream_cut_mid_answer_is_not_stored_and_retry_answers(
    sqlite_engine: Engine, fake_llm: FakeLLMServer
) -> None:
    """The connection drops after some text, before the stream's end (Ollama: no ``done`` line)."""
    fake_llm.script(say("The Acme QBR is on Tuesday and then", cut=True))
    service = _service(sqlite_engine, fake_llm)
    meta = service.create_session("u1")
    error = service.run_turn(meta.id, "u1", "What meetings do I have this week?")[-1]

    assert isinstance(error, ErrorEvent), "a cut answer is never stored as if complete"
    assert (error.category, error.retryable) == ("model_error", True) and "cut off" in error.message
    pending = service.pending_turn(meta.id, "u1")
    assert pending is not None and pending.status == "failed"
    assert service.store.load(meta.id, "u1").turns == []
    assert isinstance(service.run_turn(meta.id, "u1", "What meetings do I have this week?")[-1], Done)
    assert len(service.store.load(meta.id, "u1").turns) == 1


def test_a_stream_cut_mid_answer_is_billed_for_what_it_streamed_as_a_failed_call(
    sqlite_engine: Engine, fake_llm: FakeLLMServer
) -> None:
    """A cut stream never sends its final usage report. Anthropic's ``message_start`` says 1 output
    token: the ledger billed the call 1 output token for 400 streamed characters, and without an
    error, so the sidebar's "(incl. N failed calls)" and the cost dashboard's errors left it out."""
    streamed = "The Acme QBR is on Tuesday. " * 15  # 420 characters: about 105 tokens
    fake_llm.script(say(streamed, cut=True, chunks=5))
    error = _ask(_service(sqlite_engine, fake_llm))[-1]
    assert isinstance(error, ErrorEvent) and "cut off" in error.message

    (row,) = _ledger(sqlite_engine)
    assert row.output_tokens >= len(streamed) // 4 * 0.8, row
    assert row.error and "cut off" in row.error.lower(), row


def test_an_empty_answer_is_called_empty_not_cut_off_and_retry_answers(
    sqlite_engine: Engine, fake_llm: FakeLLMServer
) -> None:
    """The model finishes its message properly but says nothing (no text, no tool call)."""
    fake_llm.script(say(""))
    service = _service(sqlite_engine, fake_llm)
    meta = service.create_session("u1")
    error = service.run_turn(meta.id, "u1", "What meetings do I have this week?")[-1]

    assert isinstance(error, ErrorEvent)
    assert (error.category, error.retryable) == ("model_error", True)
    assert "empty answer" in error.message and "cut off" not in error.message, error.message
    assert service.store.load(meta.id, "u1").turns == []
    assert isinstance(service.run_turn(meta.id, "u1", "What meetings do I have this week?")[-1], Done)


@pytest.mark.parametrize("kind", ["openai", "ollama"])
def test_a_call_reported_without_usage_is_counted_as_estimated_tokens(
    sqlite_engine: Engine, kind: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that leaves usage out of the stream (no include_usage chunk, no eval counts).

    Recording 0 tokens priced a paid model's answer at $0, and the daily budget never counted it.
    """
    fake: FakeLLMServer = request.getfixturevalue(f"fake_{kind}")
    fake.script(say("You have three meetings this week.", usage=False))
    done = _ask(_service(sqlite_engine, fake))[-1]

    assert isinstance(done, Done), done
    [row] = _ledger(sqlite_engine)
    assert row.input_tokens > 100 and row.output_tokens > 0, "estimated from what was sent and answered"
    assert done.turn.input_tokens == row.input_tokens
    assert "reported no token usage" in caplog.text


def test_an_answer_that_hangs_mid_stream_past_the_timeout_is_billed_as_a_failed_call(
    sqlite_engine: Engine, fake_anthropic: FakeLLMServer
) -> None:
    """The provider read the question and wrote some text before the turn's time ran out.

    The call was left open in the ledger: 0 tokens, $0, no error, though the provider bills it.
    """
    fake_anthropic.script(*[say("A" * 40 + " and then the stream hangs", chunks=2, delay_s=1.5)] * 3)
    error = _ask(_service(sqlite_engine, fake_anthropic, model_timeout_seconds=2.0))[-1]

    assert isinstance(error, ErrorEvent) and error.category == "timeout", error
    [row] = _ledger(sqlite_engine)
    assert row.input_tokens > 100 and row.output_tokens > 0, "estimated: the usage report never came"
    assert row.cost_usd is not None and row.cost_usd > 0
    assert row.error and "time" in row.error.lower(), row.error


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("kind", ["anthropic", "openai", "ollama"])
def test_an_unreachable_server_is_a_network_error(
    sqlite_engine: Engine, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeLLMServer(kind)  # type: ignore[arg-type]
    fake.port = _closed_port()  # never started: nothing listens there
    error = _ask(make_service(sqlite_engine, **fake.settings()))[-1]
    assert isinstance(error, ErrorEvent)
    assert (error.category, error.retryable) == ("network", True), error.message
    # the user's own connection works (they are reading the page): the server's to the model does not
    assert "network connection" not in error.message and "another model" in error.message, error.message
    # the log names the model that failed (a deployment offers several) and the cause underneath
    # the SDK's own "Connection error."
    [failed] = [r.getMessage() for r in caplog.records if "turn failed" in r.getMessage()]
    assert f"model=<{fake.settings()['model_provider']}>" in failed, failed
    assert "refused" in failed.lower() or "connect" in failed.lower().split("cause=")[-1], failed


def test_a_self_hosted_model_server_that_refuses_connections_is_named_at_start(
    sqlite_engine: Engine, fake_ollama: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    """OLLAMA_HOST (or a local OPENAI_BASE_URL) pointing at a server that is down: the log says so
    when the app warms up, naming the setting and the models, instead of at a user's first send."""
    caplog.set_level("WARNING")
    down = f"http://127.0.0.1:{_closed_port()}"
    service = make_service(
        sqlite_engine, models="offline,ollama:llama3.2,openai:qwen3", ollama_host=down, openai_base_url=f"{down}/v1"
    )
    service.prepare_first_send()
    warnings = [r.getMessage() for r in caplog.records if "does not accept connections" in r.getMessage()]
    assert any("OLLAMA_HOST" in w and "ollama:llama3.2" in w for w in warnings), warnings
    assert any("OPENAI_BASE_URL" in w and "openai:qwen3" in w for w in warnings), warnings

    caplog.clear()
    make_service(sqlite_engine, models="offline,ollama:llama3.2", ollama_host=fake_ollama.base_url).prepare_first_send()
    assert not [r for r in caplog.records if "does not accept connections" in r.getMessage()]


# --------------------------------------------------------------------------- setup problems
def test_a_missing_key_names_the_variable() -> None:
    settings = load_settings()  # no MODEL_PROVIDER, so the settings check did not run
    with pytest.raises(MissingApiKeyError) as info:
        get_model("anthropic:claude-haiku-4-5", settings)
    category, message, retryable = error_category(info.value)
    assert category == "access_denied" and not retryable and "ANTHROPIC_API_KEY" in message
    with pytest.raises(MissingApiKeyError, match="OPENAI_API_KEY"):
        get_model("openai:gpt-4o", settings)


def test_a_missing_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "strands.models.anthropic", None)  # import fails as if not installed
    settings = load_settings(anthropic_api_key="k")
    with pytest.raises(ProviderPackageError) as info:
        build_anthropic("claude-haiku-4-5", settings)
    assert info.value.package == "anthropic" and "strands-agents[anthropic]" in str(info.value)
    category, message, retryable = error_category(info.value)
    assert category == "model_error" and not retryable and "'anthropic'" in message


@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("anthropic:claude-haiku-4-5", {"anthropic_api_key": "k"}),
        ("openai:gpt-4o", {"openai_api_key": "k"}),
        ("ollama:llama3.2", {"ollama_host": "http://ollama.example.com:11434"}),
    ],
)
def test_tests_never_reach_a_real_provider(name: str, settings: dict[str, Any]) -> None:
    agent = Agent(model=get_model(name, load_settings(**settings)), callback_handler=None)
    with pytest.raises(Exception, match=REAL_MODEL_CALL_MESSAGE):
        agent("hi")


def test_provider_packages_load_only_when_a_model_is_built() -> None:
    import subprocess

    code = (
        "import sys; from assistant.config import load_settings; from assistant.models import get_model; "
        "get_model('offline', load_settings()); "
        "print(sorted(m for m in ('anthropic', 'openai', 'ollama') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_the_configured_local_model_is_known_before_any_model_is_built() -> None:
    from assistant.models.providers import note_local_models

    note_local_models(load_settings(model_provider="openai:gpt-4o-mini", openai_api_key="k"))
    assert local_model_provider("gpt-4o-mini") is None, "api.openai.com is not local"
    note_local_models(load_settings(model_provider="openai:qwen3", openai_base_url="http://192.168.1.9:8000/v1"))
    note_local_models(load_settings(model_provider="ollama:llama3.2"))
    assert local_model_provider("qwen3") == "openai" and local_model_provider("llama3.2") == "ollama"
