"""A model name -> its label, offline and free (assistant/views/models.py), for registry names and ledger ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.models.registry import describe_model
from assistant.usage.pricing import PriceTable
from assistant.views.models import FAULT_INJECTION_LABEL, OFFLINE_LABEL, ModelView, model_view

PRICES = PriceTable.load()
LITE = "us.amazon.nova-lite-v1:0"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("offline", ModelView("offline demo model", True, True)),
        ("offline:demo", ModelView("offline demo model", True, True)),
        ("faulty:throttle", ModelView("offline demo model (fault: throttle)", True, True)),
        (f"bedrock:{LITE}", ModelView("Amazon Nova Lite", False, False)),
        ("bedrock:x.unknown", ModelView("Bedrock x.unknown", False, False)),
        (LITE, ModelView(LITE, False, False)),  # a ledger id: only a price table knows it
    ],
)
def test_without_prices_the_registry_names_the_model(name: str, expected: ModelView) -> None:
    assert model_view(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("offline", ModelView("Offline demo model", True, True)),
        ("offline:demo", ModelView("Offline demo model", True, True)),
        ("faulty:throttle", ModelView(FAULT_INJECTION_LABEL, True, True)),
        (f"bedrock:{LITE}", ModelView("Amazon Nova Lite", False, False)),
        (LITE, ModelView("Amazon Nova Lite", False, False)),
        ("bedrock:x.unknown", ModelView("x.unknown", False, False)),  # no price: not free, shown as its id
        ("x.unknown", ModelView("x.unknown", False, False)),
    ],
)
def test_with_prices_the_price_table_names_the_model(name: str, expected: ModelView) -> None:
    assert model_view(name, PRICES) == expected


def test_the_price_in_force_at_a_date() -> None:
    assert model_view(LITE, PRICES, datetime(2026, 1, 1, tzinfo=UTC)).label == "Amazon Nova Lite"
    before = model_view(LITE, PRICES, datetime(2020, 6, 1, tzinfo=UTC))  # before its first effective_from
    assert before == ModelView(LITE, False, False)


def test_one_name_for_the_offline_demo_model() -> None:
    assert OFFLINE_LABEL == describe_model("offline").label == model_view("offline").label


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anthropic:claude-sonnet-4-5", ModelView("Anthropic Claude Sonnet 4.5", False, False)),
        ("openai:gpt-4o-mini", ModelView("OpenAI GPT-4o mini", False, False)),
        ("openai:my-finetune", ModelView("OpenAI my-finetune", False, False)),
        ("ollama:qwen2.5:7b", ModelView("qwen2.5:7b (local)", False, True, is_local=True)),
    ],
)
def test_other_providers_without_prices(name: str, expected: ModelView) -> None:
    assert model_view(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anthropic:claude-haiku-4-5-20251001", ModelView("Claude Haiku 4.5 (Anthropic)", False, False)),
        ("claude-haiku-4-5-20251001", ModelView("Claude Haiku 4.5 (Anthropic)", False, False)),
        ("openai:gpt-4.1", ModelView("GPT-4.1", False, False)),
        ("gpt-4o-mini", ModelView("GPT-4o mini", False, False)),
        ("ollama:llama3.2", ModelView("llama3.2 (local)", False, True, is_local=True)),
        ("llama3.2", ModelView("llama3.2", False, False)),  # a ledger id no local provider has claimed
    ],
)
def test_other_providers_with_prices(name: str, expected: ModelView) -> None:
    assert model_view(name, PRICES) == expected


def test_a_local_model_is_free_and_labelled_local_never_unknown() -> None:
    from assistant.usage.pricing import mark_local_model

    mark_local_model("gpt-4o-mini", "openai")  # an OpenAI-compatible server on a private address
    for name in ("openai:gpt-4o-mini", "gpt-4o-mini"):
        assert model_view(name) == ModelView("gpt-4o-mini (local)", False, True, is_local=True)
        assert model_view(name, PRICES) == ModelView("gpt-4o-mini (local)", False, True, is_local=True)
    assert PRICES.cost("gpt-4o-mini", 1000, 1000)[0] == 0.0
