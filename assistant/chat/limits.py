"""May this user send now? The daily budget and the per-user rate limit, decided in one place.

:func:`message_to_send` is what may be sent (once per send, for every store); :func:`refuse_send`
is the whole decision for one send (the session's state, then the limits);
:func:`refuse_over_limits` is the limits part. The facts it decides on (:class:`SendWindow`: the
user's spend today and sends within :data:`RATE_WINDOW`) are read by the session store inside
the transaction that starts a turn, which also counts the send (``SessionStore.begin_turn``),
so a send is decided and counted at once; ``SessionStore.send_window`` reads the same facts
without counting (the pre-check before a new session is created).

The rate limit is kept in the SQL database (one ``send_log`` row per accepted send) so every
replica, tab and restart counts the same sends. On Postgres a per-user advisory lock, on
SQLite ``BEGIN IMMEDIATE``, keeps two tabs or replicas from both taking the last slot; rows
older than an hour are deleted as the user sends.

The budget counts answers still being written too. An admitted send holds what its answer is
expected to cost (:func:`expected_cost`) on its pending question until the turn's usage is
stored (the commit deletes the question) or the turn fails (the question then holds nothing);
a send is admitted only while the day's spend plus what the running answers hold is under the
budget. Without it, sends started at the same moment (tabs, replicas, the CLI, a comparison)
each read the day's spend before any of their answers was priced, and all of them ran. A model
without a price cannot be counted, so while a daily budget is set it takes no sends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from assistant.chat.events import AlreadyAnsweredError, ChatInputError, LimitExceededError
from assistant.config import Settings
from assistant.inputs import has_visible_text, strip_control_chars
from assistant.models.registry import ModelNameError, describe_model, parse_model_name
from assistant.sessions.base import SendWindow, SessionDamagedError, SessionMeta, SessionReadOnlyError
from assistant.usage.money import fmt_cost
from assistant.usage.pricing import Price, PriceTable

RATE_WINDOW = timedelta(minutes=1)
# an answer's expected cost, held against the budget while it is written: the session's average
# answer so far, and at least what a first answer takes (instructions, tool specs and a tool
# result over two model calls, the question twice) at the model's price
FIRST_ANSWER_INPUT_TOKENS = 6_000
FIRST_ANSWER_OUTPUT_TOKENS = 600


def message_to_send(text: str, max_chars: int) -> str:
    """Return the message to send, or raise ChatInputError with a plain reason.

    Control characters are removed here, once, for every store (tab and newline kept; see
    :func:`assistant.inputs.strip_control_chars`), so the store never sees a NUL from the
    user; a message of nothing but control characters, spaces and invisible characters
    (zero-width spaces, joiners, direction marks) is refused as empty. The length limit
    (MAX_MESSAGE_CHARS) applies to the text that would be sent.

    Returns:
        The message to send: without control characters and surrounding whitespace.

    Raises:
        ChatInputError: The message is empty or longer than ``max_chars``.
    """
    cleaned = strip_control_chars(text).strip() if isinstance(text, str) else ""
    if not has_visible_text(cleaned):
        raise ChatInputError("Type a message first: an empty message cannot be sent.")
    if len(cleaned) > max_chars:
        raise ChatInputError(
            f"Your message is {len(cleaned):,} characters long; the limit is {max_chars:,}. "
            "Shorten it (or split it) and send again."
        )
    return cleaned


def ledger_model_id(model_name: str) -> tuple[str, str]:
    """``(provider, model_id)`` as the usage ledger records and prices a registry name's calls."""
    provider, model_id = parse_model_name(model_name)
    if provider in ("offline", "faulty"):
        model_id = "offline"  # priced (at $0) and labelled as the offline demo model
    return provider, model_id


def price_of(model_name: str, prices: PriceTable, now: datetime) -> Price | None:
    """The price in force now for a registry name's calls (None: the model has no price)."""
    return prices.price_for(ledger_model_id(model_name)[1], now)


def expected_cost(price: Price, meta: SessionMeta | None, prompt: str) -> float:
    """What the next answer is expected to cost: the session's average answer so far, and at
    least a first answer's tokens (with ``prompt`` sent twice) at ``price``."""
    first = price.cost(FIRST_ANSWER_INPUT_TOKENS + len(prompt) // 2, FIRST_ANSWER_OUTPUT_TOKENS)
    average = meta.cost_usd / meta.turn_count if meta is not None and meta.turn_count else 0.0
    return max(first, average)


def admit(
    meta: SessionMeta,
    window: SendWindow,
    settings: Settings,
    prices: PriceTable,
    now: datetime,
    *,
    prompt: str,
    model: str,
    refusal: str | None = None,
    retry_of: int | None = None,
) -> float | None:
    """The decision inside the transaction that begins a turn (:func:`refuse_send` raises to
    refuse); returns what the answer holds of the budget while it is written (None: nothing).

    Args:
        meta: The session's row.
        window: The user's spend today, running answers and recent sends.
        settings: The limits.
        prices: The price table.
        now: The current time (UTC).
        prompt: The question.
        model: The registry name the session answers with.
        refusal: Why the session's model may not be used, or None.
        retry_of: For a Retry, the turn count it was offered at.
    """
    price = price_of(model, prices, now)
    unpriced = model if price is None else None
    refuse_send(meta, window, settings, now, refusal=refusal, retry_of=retry_of, unpriced_model=unpriced)
    return None if price is None else expected_cost(price, meta, prompt)


def refuse_send(
    meta: SessionMeta,
    window: SendWindow,
    settings: Settings,
    now: datetime,
    *,
    refusal: str | None = None,
    retry_of: int | None = None,
    unpriced_model: str | None = None,
) -> None:
    """Refuse a send (raises): a Retry whose question a turn already took, a closed or damaged
    session, a model the session may no longer use (``refusal``), then the user's budget or rate.

    Called inside the transaction that starts the turn, on the session's row as just read.

    Args:
        meta: The session's row.
        window: The user's spend today and recent sends.
        settings: The limits.
        now: The current time (UTC).
        refusal: Why the session's model may not be used, or None.
        retry_of: For a Retry, the turn count it was offered at (see ``ChatService.start_turn``).
        unpriced_model: The session's model when it has no price (see :func:`refuse_over_limits`).
    """
    if retry_of is not None and meta.turn_count != retry_of:
        raise AlreadyAnsweredError("This question was already sent again, from another tab or window.")
    if meta.read_only:
        raise SessionReadOnlyError(
            f"This session is {meta.state} and read-only. Use “Continue in a new session” to carry on."
        )
    if meta.damaged:
        raise SessionDamagedError("This session's stored data is damaged; start a new session.")
    if refusal is not None:
        raise SessionReadOnlyError(refusal)
    refuse_over_limits(settings, window, now, unpriced_model=unpriced_model)


def refuse_over_limits(
    settings: Settings, window: SendWindow, now: datetime, *, unpriced_model: str | None = None
) -> None:
    """The one limits decision, "may this user send now?": the daily budget, then the rate limit.

    Args:
        settings: ``daily_budget_usd`` (0 = none) and ``messages_per_minute``.
        window: The user's spend today, what their running answers hold, and recent sends,
            read where the send is counted.
        now: The current time (UTC).
        unpriced_model: The registry name of the model the send would use, when the price
            table has no price for it: its calls would cost nothing against the budget, so
            while a budget is set it is refused.

    Raises:
        LimitExceededError: With ``retry_at``, when sending is possible again.
    """
    budget = settings.daily_budget_usd
    spent = window.spent_today_usd
    if budget > 0 and spent >= budget:
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        # amounts as the sidebar writes them ("$0.131 of $0.05 today"): it read "spent $0.1312"
        reason = f"Today's budget of {fmt_cost(budget)} is used up (spent {fmt_cost(spent)})."
        raise LimitExceededError(
            f"{reason} It resets at {midnight:%Y-%m-%d %H:%M} UTC.",
            midnight,
            reason=f"{reason} It resets at midnight UTC.",
        )
    if budget > 0 and unpriced_model is not None:
        reason = (
            f"{_label(unpriced_model)} has no price in the price table, so what it costs cannot be counted "
            f"against your daily budget of {fmt_cost(budget)}. Send it in a new session on another model, "
            "or ask an administrator to add its price (PRICES_FILE)."
        )
        raise LimitExceededError(reason, None, reason=reason)
    if budget > 0 and window.answers_running and spent + window.held_usd >= budget:
        running = "1 answer" if window.answers_running == 1 else f"{window.answers_running} answers"
        reason = (
            f"Today's budget of {fmt_cost(budget)} is nearly used up: {fmt_cost(spent)} spent, and {running} still "
            f"being written (here or in another tab or window) may take the rest (about {fmt_cost(window.held_usd)}). "
            "Send again once it has finished."
        )
        raise LimitExceededError(reason, None, reason=reason)
    per_minute = settings.messages_per_minute
    if window.recent_sends >= per_minute and window.oldest_recent_send is not None:
        retry_at = window.oldest_recent_send + RATE_WINDOW
        wait = max(1, int((retry_at - now).total_seconds()) + 1)
        sent = f"{per_minute} message" if per_minute == 1 else f"{per_minute} messages"  # not "1 messages"
        reason = f"You have sent {sent} in the last minute, the most allowed."
        raise LimitExceededError(
            f"{reason} You can send again at {retry_at:%H:%M:%S} UTC (in {wait} s).",
            retry_at,
            reason=reason,
        )


def _label(model_name: str) -> str:
    try:
        return describe_model(model_name).label
    except ModelNameError:
        return model_name
