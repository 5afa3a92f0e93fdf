"""May this user send now? The daily budget and the per-user rate limit, decided in one place.

:func:`refuse_send` is the whole decision for one send (the session's state, then the limits);
:func:`refuse_over_limits` is the limits part. The facts it decides on (:class:`SendWindow`: the
user's spend today and sends within :data:`RATE_WINDOW`) are read by the session store inside
the transaction that starts a turn, which also counts the send (``SessionStore.begin_turn``),
so a send is decided and counted at once; ``SessionStore.send_window`` reads the same facts
without counting (the pre-check before a new session is created).

The rate limit is kept in the SQL database (one ``send_log`` row per accepted send) so every
replica, tab and restart counts the same sends. On Postgres a per-user advisory lock, on
SQLite ``BEGIN IMMEDIATE``, keeps two tabs or replicas from both taking the last slot; rows
older than an hour are deleted as the user sends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from assistant.chat.events import AlreadyAnsweredError, LimitExceededError
from assistant.config import Settings
from assistant.sessions.base import SendWindow, SessionDamagedError, SessionMeta, SessionReadOnlyError

RATE_WINDOW = timedelta(minutes=1)


def refuse_send(
    meta: SessionMeta,
    window: SendWindow,
    settings: Settings,
    now: datetime,
    *,
    refusal: str | None = None,
    retry_of: int | None = None,
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
    refuse_over_limits(settings, window, now)


def refuse_over_limits(settings: Settings, window: SendWindow, now: datetime) -> None:
    """The one limits decision, "may this user send now?": the daily budget, then the rate limit.

    Args:
        settings: ``daily_budget_usd`` (0 = none) and ``messages_per_minute``.
        window: The user's spend today and recent sends, read where the send is counted.
        now: The current time (UTC).

    Raises:
        LimitExceededError: With ``retry_at``, when sending is possible again.
    """
    budget = settings.daily_budget_usd
    spent = window.spent_today_usd
    if budget > 0 and spent >= budget:
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        reason = f"Today's budget of ${budget:.2f} is used up (spent ${spent:.4f})."
        raise LimitExceededError(
            f"{reason} It resets at {midnight:%Y-%m-%d %H:%M} UTC.",
            midnight,
            reason=f"{reason} It resets at midnight UTC.",
        )
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
