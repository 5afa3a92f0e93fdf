"""Real Bedrock call; runs only with AWS credentials (see tests/fixtures/no_real_models.py)."""

from __future__ import annotations

import pytest
from strands import Agent

from assistant.config import load_settings
from assistant.models import get_model


@pytest.mark.integration
async def test_bedrock_answers_a_question() -> None:
    settings = load_settings(env="local", aws_bedrock_enabled=True)
    model = get_model(f"bedrock:{settings.bedrock_model}", settings)
    agent = Agent(model=model, callback_handler=None, system_prompt="You are a concise executive assistant.")

    result = await agent.invoke_async("What meetings do I have?")

    assert str(result).strip()
    assert result.metrics.accumulated_usage["inputTokens"] > 0
