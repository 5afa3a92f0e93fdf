"""Model price table: a dated data file (``data/prices.toml``) turned into per-call costs.

Prices are US dollars per 1M tokens. For a model id, the first entry (file order) whose
``match`` regex is found in the id decides which model it is; among the entries sharing
that ``match``, the one with the latest ``effective_from`` on or before the call's UTC
date is in force. No entry (or a call before the first ``effective_from``) means the
cost is unknown: :meth:`PriceTable.cost` returns ``None`` and the ledger stores NULL,
never a silent $0.

Token counts follow the Bedrock Converse convention: ``input_tokens`` excludes cache
reads and writes, which are priced separately.

Local models (any ``ollama:`` model, an ``openai:`` model served from OPENAI_BASE_URL on this
machine or a private network) are not in the file: the provider marks their ids with
:func:`mark_local_model` when it builds them, and every table then prices them at $0 and
labels them "<model_id> (local)", before any ``match`` is tried.
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.inputs import not_utf8

logger = logging.getLogger(__name__)

DEFAULT_PRICES_FILE = Path(__file__).resolve().parent.parent.parent / "data" / "prices.toml"

_MTOK = 1_000_000.0
LOCAL_SUFFIX = "(local)"
_LOCAL_SINCE = date(2000, 1, 1)
PROVIDER_NAMES: dict[str, str] = {"bedrock": "Bedrock", "anthropic": "Anthropic", "openai": "OpenAI"}


class PriceTableError(ValueError):
    """The price file is missing or invalid; the message names the file and the entry."""


class _PriceEntryModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str = Field(min_length=1)
    label: str = Field(min_length=1, max_length=200)
    provider: str = Field(min_length=1, max_length=64)
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cache_read_per_mtok: float = Field(default=0.0, ge=0)
    cache_write_per_mtok: float = Field(default=0.0, ge=0)
    effective_from: date

    @field_validator("match")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as e:
            raise ValueError(f"invalid regular expression {value!r}: {e}") from e
        return value

    @field_validator("effective_from", mode="before")
    @classmethod
    def _date_only(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.date()
        return value


class _PriceFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=64)
    price: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Price:
    """One price entry (US dollars per 1M tokens) and the date it applies from."""

    match: str
    label: str
    provider: str
    input_per_mtok: float
    output_per_mtok: float
    cache_read_per_mtok: float
    cache_write_per_mtok: float
    effective_from: date

    def cost(
        self,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float:
        """Price the given token counts with this entry.

        Args:
            input_tokens: Uncached input tokens.
            output_tokens: Output tokens.
            cache_read_tokens: Input tokens read from the prompt cache.
            cache_write_tokens: Input tokens written to the prompt cache.

        Returns:
            The cost in US dollars.
        """
        return (
            input_tokens * self.input_per_mtok
            + output_tokens * self.output_per_mtok
            + cache_read_tokens * self.cache_read_per_mtok
            + cache_write_tokens * self.cache_write_per_mtok
        ) / _MTOK

    @property
    def is_free(self) -> bool:
        """Whether every rate of this entry is zero (the offline demo model)."""
        return not (
            self.input_per_mtok or self.output_per_mtok or self.cache_read_per_mtok or self.cache_write_per_mtok
        )


def _as_utc_date(at: datetime | date) -> date:
    if isinstance(at, datetime):
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return at.astimezone(UTC).date()
    return at


class PriceTable:
    """The loaded, validated price table (immutable)."""

    def __init__(self, version: str, prices: list[Price], source: str = "<memory>") -> None:
        """Build a table from already validated entries (prefer :meth:`load`).

        Args:
            version: The table's version label, stored with each priced call.
            prices: The entries, in file order.
            source: Where the table came from (for messages).
        """
        self.version = version
        self.source = source
        self._prices = tuple(prices)
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        seen: set[str] = set()
        for price in self._prices:
            if price.match not in seen:
                seen.add(price.match)
                self._patterns.append((price.match, re.compile(price.match, re.IGNORECASE)))
        self._resolved: dict[str, str | None] = {}
        providers: dict[str, set[str]] = {}
        for price in self._prices:
            providers.setdefault(price.label, set()).add(price.provider)
        self._shared_labels = frozenset(label for label, names in providers.items() if len(names) > 1)

    @property
    def prices(self) -> tuple[Price, ...]:
        """All entries, in file order."""
        return self._prices

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PRICES_FILE) -> PriceTable:
        """Load and validate a price file (memoized per path and modification time).

        Args:
            path: The TOML price file.

        Returns:
            The price table.

        Raises:
            PriceTableError: The file is missing, is not TOML, or an entry is invalid; the
                message names the file and the entry.
        """
        resolved = Path(path).resolve()
        try:
            mtime = resolved.stat().st_mtime_ns
        except OSError as e:
            raise PriceTableError(f"price file {resolved} cannot be read: {e}") from e
        key = (str(resolved), mtime)
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None:
            return cached
        table = cls._parse(resolved)
        with _cache_lock:
            for stale in [k for k in _cache if k[0] == key[0]]:
                del _cache[stale]
            _cache[key] = table
        logger.info("path=<%s>, version=<%s>, entries=<%d> | loaded price table", resolved, table.version, len(table))
        return table

    @classmethod
    def _parse(cls, path: Path) -> PriceTable:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise PriceTableError(f"price file {path} cannot be read: {e}") from e
        except tomllib.TOMLDecodeError as e:
            raise PriceTableError(f"price file {path} is not valid TOML: {e}") from e
        except UnicodeDecodeError as e:  # saved by an editor in a Windows encoding ("€" is byte 0x80)
            raise PriceTableError(f"price file {path} {not_utf8(e)}") from e
        try:
            header = _PriceFileModel.model_validate(raw)
        except ValidationError as e:
            raise PriceTableError(f"price file {path} is invalid: {_describe(e)}") from e
        prices: list[Price] = []
        for number, item in enumerate(header.price, start=1):
            name = item.get("label") or item.get("match") or "?"
            try:
                entry = _PriceEntryModel.model_validate(item)
            except ValidationError as e:
                raise PriceTableError(
                    f"price file {path}: entry #{number} ({name!s}) is invalid: {_describe(e)}"
                ) from e
            prices.append(Price(**entry.model_dump()))
        keys = [(p.match, p.effective_from) for p in prices]
        for number, k in enumerate(keys, start=1):
            if keys.index(k) != number - 1:
                raise PriceTableError(
                    f"price file {path}: entry #{number} ({prices[number - 1].label}) repeats match "
                    f"{k[0]!r} with the same effective_from {k[1].isoformat()}"
                )
        return cls(header.version, prices, source=str(path))

    def __len__(self) -> int:
        """Number of entries."""
        return len(self._prices)

    def _match_for(self, model_id: str) -> str | None:
        if model_id in self._resolved:
            return self._resolved[model_id]
        found: str | None = None
        for match, pattern in self._patterns:
            if pattern.search(model_id):
                found = match
                break
        self._resolved[model_id] = found
        return found

    def price_for(self, model_id: str, at: datetime | date) -> Price | None:
        """The entry in force for ``model_id`` at ``at``.

        Args:
            model_id: The provider's model id (e.g. ``us.amazon.nova-lite-v1:0``) or ``offline``.
            at: When the call happened (UTC; naive datetimes are taken as UTC).

        Returns:
            The price, or None when the model is unknown or not yet priced at that date.
        """
        local = local_price(model_id)
        if local is not None:
            return local
        match = self._match_for(model_id)
        if match is None:
            return None
        day = _as_utc_date(at)
        best: Price | None = None
        for price in self._prices:
            if (
                price.match == match
                and price.effective_from <= day
                and (best is None or price.effective_from > best.effective_from)
            ):
                best = price
        return best

    def cost(
        self,
        model_id: str,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        at: datetime | date | None = None,
    ) -> tuple[float | None, str]:
        """Cost of one call, for the ledger.

        Args:
            model_id: The model called.
            input_tokens: Uncached input tokens.
            output_tokens: Output tokens.
            cache_read_tokens: Cache-read input tokens.
            cache_write_tokens: Cache-write input tokens.
            at: When the call happened (default: now, UTC).

        Returns:
            ``(cost_usd, price_version)``; ``cost_usd`` is None when the model is unknown.
        """
        price = self.price_for(model_id, at if at is not None else datetime.now(UTC))
        if price is None:
            logger.warning("model_id=<%s>, version=<%s> | no price for model, cost unknown", model_id, self.version)
            return None, self.version
        return price.cost(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens), self.version

    def models(self, at: datetime | date | None = None, *, include_free: bool = True) -> list[Price]:
        """One entry per model (the one in force at ``at``), in file order, for what-if estimates.

        Args:
            at: The date the prices should be in force (default: now, UTC).
            include_free: Whether to include zero-priced models (the offline demo model).

        Returns:
            The entries in force; models not yet priced at ``at`` are left out.
        """
        day = _as_utc_date(at if at is not None else datetime.now(UTC))
        result: list[Price] = []
        for match, _pattern in self._patterns:
            candidates = [p for p in self._prices if p.match == match and p.effective_from <= day]
            if not candidates:
                continue
            price = max(candidates, key=lambda p: p.effective_from)
            if include_free or not price.is_free:
                result.append(price)
        return result

    def shown_label(self, price: Price) -> str:
        """How an entry is named to people: its label, and its provider when another provider's entry has that label.

        Claude models are priced on Bedrock and on Anthropic's API under one label: a history of both
        offered "Claude Haiku 4.5" twice in the sessions page's Model filter, and the cost dashboard
        drew the two as one series.

        Args:
            price: An entry of this table.

        Returns:
            e.g. "Amazon Nova Lite", "Claude Haiku 4.5 (Bedrock)", "Claude Haiku 4.5 (Anthropic)".
        """
        if price.label not in self._shared_labels:
            return price.label
        return f"{price.label} ({PROVIDER_NAMES.get(price.provider, price.provider)})"

    def format_table(self) -> str:
        """Plain-text table of every entry (for ``python -m assistant prices``)."""
        return format_table(self)


def format_table(table: PriceTable) -> str:
    """Render the price table as aligned plain text.

    Args:
        table: The table to show.

    Returns:
        A multi-line string: a title line, a header, then one line per entry.
    """
    headers = ("model", "provider", "from", "input", "output", "cache read", "cache write", "match")
    rows = [
        (
            p.label,
            p.provider,
            p.effective_from.isoformat(),
            _rate(p.input_per_mtok),
            _rate(p.output_per_mtok),
            _rate(p.cache_read_per_mtok),
            _rate(p.cache_write_per_mtok),
            p.match,
        )
        for p in table.prices
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    numeric = {3, 4, 5, 6}

    def line(cells: tuple[str, ...]) -> str:
        out = [c.rjust(widths[i]) if i in numeric else c.ljust(widths[i]) for i, c in enumerate(cells)]
        return "  ".join(out).rstrip()

    parts = [
        f"Price table {table.version} (US$ per 1M tokens; check against the provider's pricing page)",
        line(headers),
        line(tuple("-" * w for w in widths)),
    ]
    parts.extend(line(r) for r in rows)
    return "\n".join(parts)


def _rate(value: float) -> str:
    whole, frac = f"{value:,.6f}".split(".")
    return f"${whole}.{frac.rstrip('0').ljust(2, '0')}"


def _describe(error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(file)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


_cache: dict[tuple[str, int], PriceTable] = {}
_cache_lock = threading.Lock()
_local_models: dict[str, str] = {}
_local_lock = threading.Lock()


def mark_local_model(model_id: str, provider: str) -> None:
    """Record that ``model_id`` runs on a local server: priced $0 and labelled "local" from now on.

    Args:
        model_id: The model id as the ledger stores it (``llama3.2``, ``qwen2.5:7b``).
        provider: The provider serving it ("ollama", "openai").
    """
    with _local_lock:
        if _local_models.get(model_id) != provider:
            _local_models[model_id] = provider
            logger.info("provider=<%s>, model_id=<%s> | local model priced at $0", provider, model_id)


def forget_local_models() -> None:
    """Forget every local model (tests)."""
    with _local_lock:
        _local_models.clear()


def local_model_provider(model_id: str) -> str | None:
    """The provider serving ``model_id`` locally, or None when it is not a local model.

    Args:
        model_id: A ledger model id.

    Returns:
        "ollama", "openai" or None.
    """
    return _local_models.get(model_id)


def local_price(model_id: str) -> Price | None:
    """The $0 price of a local model, or None when ``model_id`` is not one.

    Args:
        model_id: A ledger model id.

    Returns:
        A free :class:`Price` labelled "<model_id> (local)", or None.
    """
    provider = _local_models.get(model_id)
    if provider is None:
        return None
    return Price(
        match=f"^{re.escape(model_id)}$",
        label=f"{model_id} {LOCAL_SUFFIX}",
        provider=provider,
        input_per_mtok=0.0,
        output_per_mtok=0.0,
        cache_read_per_mtok=0.0,
        cache_write_per_mtok=0.0,
        effective_from=_LOCAL_SINCE,
    )
