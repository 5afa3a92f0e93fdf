"""Real openai call through the Meeting Coordinator and ChatService.

It runs only with OPENAI_API_KEY; skipped otherwise with the reason (see tests/fixtures/no_real_models.py).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from assistant import db
from assistant.chat import Done, ToolStarted
from assistant.config import load_settings
from tests.fixtures.chat import make_service

DEFAULT_MODEL = "openai:gpt-4o-mini"


def _model_name() -> str:
    configured = load_settings().model_provider or ""
    return configured if configured.startswith("openai:") else DEFAULT_MODEL


@pytest.mark.integration(provider="openai")
def test_openai_answers_with_a_tool_and_is_ledgered(sqlite_engine: Engine) -> None:
    service = make_service(sqlite_engine, model_provider=_model_name())
    meta = service.create_session("u1")

    events = service.run_turn(meta.id, "u1", "What meetings do I have this week? Use the calendar tool.")

    done = events[-1]
    assert isinstance(done, Done), done
    assert any(isinstance(e, ToolStarted) for e in events), "the model called a tool"
    assert done.turn.input_tokens > 0 and done.turn.output_tokens > 0
    with sqlite_engine.connect() as conn:
        rows = conn.execute(select(db.usage)).all()
    assert rows and all(r.provider == "openai" and r.cost_usd is not None for r in rows)
