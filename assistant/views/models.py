"""A model name -> what people are shown of it: its label, and whether it is the offline demo model or free.

The one place a model name becomes a label (both pages, the chat footers, the CLI). Two kinds of
names reach it:

- registry names, from a session or the running service (``offline``, ``faulty:<spec>``,
  ``bedrock:us.amazon.nova-lite-v1:0``): :func:`assistant.models.registry.describe_model` says
  which provider it is, whether it is the offline demo model, and its registry label;
- ledger model ids (``offline``, ``us.amazon.nova-lite-v1:0``): no provider prefix; only the price
  table knows them.

A local model (any ``ollama:`` model, an ``openai:`` model on a local OPENAI_BASE_URL) is labelled
"<model_id> (local)" and is free: $0, never "unknown cost".

Given a price table, the label and "free" come from the table (the sessions page and the cost
dashboard name a model as its price does, dated like the price); without one, from the registry
(the chat page's badge, the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from assistant.models.registry import OFFLINE_LABEL, ModelInfo, ModelNameError, describe_model
from assistant.usage.pricing import PROVIDER_NAMES, PriceTable, local_model_provider, local_price

FAULT_INJECTION_LABEL = "Offline demo model (fault injection)"
_PREFIXED_PROVIDERS = frozenset({"bedrock", "anthropic", "openai", "ollama"})
"""Providers whose registry names price as their bare model id (the ledger's model id)."""

__all__ = ["FAULT_INJECTION_LABEL", "OFFLINE_LABEL", "ModelView", "model_option", "model_view", "offered_label"]


@dataclass(frozen=True)
class ModelView:
    """What people are shown of a model.

    Attributes:
        label: Its human label ("offline demo model", "Amazon Nova Lite", or the id itself when
            nothing knows it).
        is_offline: The offline demo model (plain or fault-injected): scripted, no network, $0.
        is_free: Costs nothing: priced at $0 by the price table when one is given (the
            fault-injecting demo model always), else the same as ``is_offline``. A model without a
            price is not free (its cost is unknown, never $0).
        is_local: A model served on this machine or a private network (Ollama, a local
            OpenAI-compatible server): free, labelled "(local)".
    """

    label: str
    is_offline: bool
    is_free: bool
    is_local: bool = False


def _registry_info(name: str) -> ModelInfo | None:
    """The registry's description of a registry name, or None for a ledger model id (no known provider)."""
    try:
        return describe_model(name)
    except ModelNameError:
        return None


def model_view(name: str, prices: PriceTable | None = None, at: datetime | None = None) -> ModelView:
    """What to show of a model: its label, whether it is the offline demo model, whether it is free.

    Args:
        name: A registry name (``offline``, ``bedrock:us.amazon.nova-lite-v1:0``, ``faulty:<spec>``)
            or a ledger model id (``offline``, ``us.amazon.nova-lite-v1:0``).
        prices: The price table, to label and price the model as the table does (sessions page,
            dashboard); None labels it as the registry does (chat page, CLI).
        at: Date the price-table entry should be in force (default: now).

    Returns:
        The :class:`ModelView`, e.g. ``("Amazon Nova Lite", False, False)`` with the table,
        ``("offline demo model", True, True)`` for ``offline`` without one,
        ``("llama3.2 (local)", False, True, True)`` for ``ollama:llama3.2``.
    """
    info = _registry_info(name)
    is_offline = info is not None and info.is_offline
    if info is not None and info.is_local:
        return ModelView(info.label, False, True, is_local=True)
    local = local_price(name) if info is None else None  # a ledger id a local provider claimed
    if local is not None:
        return ModelView(local.label, False, True, is_local=True)
    if prices is None:
        return ModelView(info.label if info is not None else name, is_offline, is_offline)
    if info is not None and info.provider == "faulty":
        return ModelView(FAULT_INJECTION_LABEL, True, True)
    bare = info.model_id if info is not None and info.provider in _PREFIXED_PROVIDERS else name
    price = prices.price_for(bare, at or datetime.now(UTC))
    if price is None:
        return ModelView(bare, is_offline, False)
    label = prices.shown_label(price)  # Claude on Bedrock and on Anthropic's API: told apart by provider
    return ModelView(label, is_offline, price.is_free, is_local=local_model_provider(bare) is not None)


def _per_mtok(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 or round(value, 2) == value else f"${value:g}"


def offered_label(name: str, offered: tuple[str, ...] = ()) -> str:
    """The registry's label of ``name``, with its provider when another of the ``offered`` models
    has that label (one Claude offered on Bedrock and on Anthropic's API)."""
    label = model_view(name).label
    if any(other != name and model_view(other).label == label for other in offered):
        info = _registry_info(name)
        provider = info.provider if info is not None else ""
        label = f"{label} ({PROVIDER_NAMES.get(provider, provider)})"
    return label


def model_option(
    name: str,
    prices: PriceTable,
    at: datetime | None = None,
    *,
    admin_only: bool = False,
    offered: tuple[str, ...] = (),
) -> str:
    """How a model is offered in the chat page's picker: its label and its price per million tokens.

    Args:
        name: A registry name (``offline``, ``openai:gpt-4o-mini``, ``ollama:llama3.2``).
        prices: The price table.
        at: Date the price should be in force (default: now).
        admin_only: Mark it as reserved for administrators (ADMIN_MODELS).
        offered: Every model the picker offers: one whose label another of them shares (a Claude
            offered on Bedrock and on Anthropic's API) is named with its provider.

    Returns:
        e.g. "OpenAI GPT-4o mini · $0.15/$0.60 per M tokens", "llama3.2 (local) · $0",
        "offline demo model · $0", or "… · price unknown".
    """
    shown = model_view(name, prices, at)
    label = offered_label(name, offered)  # as the header badge names it
    if shown.is_offline or shown.is_local:
        text = f"{label} · $0"
    else:
        info = _registry_info(name)
        bare = info.model_id if info is not None and info.provider in _PREFIXED_PROVIDERS else name
        price = prices.price_for(bare, at or datetime.now(UTC))
        if price is None:
            text = f"{label} · price unknown"
        else:
            text = f"{label} · {_per_mtok(price.input_per_mtok)}/{_per_mtok(price.output_per_mtok)} per M tokens"
    return f"{text} · admins only" if admin_only else text
