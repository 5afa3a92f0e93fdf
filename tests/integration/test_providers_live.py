"""Real calls to each model provider through the Meeting Coordinator and ChatService.

Each runs only where its provider is reachable (ANTHROPIC_API_KEY, OPENAI_API_KEY, an Ollama
server at OLLAMA_HOST) and is skipped otherwise with the reason (tests/fixtures/no_real_models.py).
A configured MODEL_PROVIDER of the same provider is used instead of the default model.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from assistant import db
from assistant.chat import Done, ToolStarted
from assistant.config import load_settings
from tests.fixtures.chat import make_service

DEFAULT_MODELS = {
    "anthropic": "anthropic:claude-haiku-4-5",
    "openai": "openai:gpt-4o-mini",
    "ollama": "ollama:llama3.2",
}


def _model_name(provider: str) -> str:
    configured = load_settings().model_provider or ""
    return configured if configured.startswith(f"{provider}:") else DEFAULT_MODELS[provider]


@pytest.mark.parametrize(
    "provider", [pytest.param(p, marks=pytest.mark.integration(provider=p), id=p) for p in DEFAULT_MODELS]
)
def test_a_real_model_answers_with_a_tool_and_is_ledgered(provider: str, sqlite_engine: Engine) -> None:
    service = make_service(sqlite_engine, model_provider=_model_name(provider))
    meta = service.create_session("u1")

    events = service.run_turn(meta.id, "u1", "What meetings do I have this week? Use the calendar tool.")

    done = events[-1]
    assert isinstance(done, Done), done
    assert any(isinstance(e, ToolStarted) for e in events), "the model called a tool"
    assert done.turn.input_tokens > 0 and done.turn.output_tokens > 0
    with sqlite_engine.connect() as conn:
        rows = conn.execute(select(db.usage)).all()
    assert rows and all(r.provider == provider for r in rows)
    if provider == "ollama":
        assert all(r.cost_usd == 0.0 for r in rows), "a local model is free"
    else:
        assert all(r.cost_usd is not None for r in rows), "a paid model is priced"
