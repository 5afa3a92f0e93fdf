"""What the chat page shows of a conversation, as plain functions (Streamlit-free, unit-tested).

The page (``app_pages/chat.py``) only draws; every label, footer, badge, refusal and error
text it draws comes from here, so the wording can be tested without a browser. The sessions
page's detail draws a stored transcript with the same badges, titles and footers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from assistant.sessions.base import UNTITLED, SessionMeta, SessionState, TurnRecord
from assistant.sessions.queries import SHORT_SEARCH_SESSIONS
from assistant.views.format import UTC_ZONE, counted, fmt_ago, fmt_cost, fmt_datetime, fmt_ms, fmt_tokens
from assistant.views.markdown import plain_text, tool_name_markdown
from assistant.views.models import OFFLINE_LABEL, model_view

SIDEBAR_TITLE_CHARS = 38
# the chat sidebar's search of words shorter than three letters
SHORT_WORDS_NOTE = (
    f"Words shorter than three letters are looked for in your {SHORT_SEARCH_SESSIONS:,} most recent sessions "
    "only: add a longer word to search them all."
)


@dataclass(frozen=True)
class Badge:
    """A small coloured label (``st.badge``)."""

    label: str
    icon: str
    color: Literal["green", "gray", "orange", "blue", "violet", "red"]


STATE_BADGES: dict[str, Badge] = {
    "active": Badge("Active", ":material/radio_button_checked:", "green"),
    "completed": Badge("Completed", ":material/task_alt:", "gray"),
    "expired": Badge("Expired", ":material/schedule:", "orange"),
    "damaged": Badge("Cannot be opened", ":material/broken_image:", "red"),  # its stored conversation
}
STATE_ICONS: dict[str, str] = {
    "active": ":material/chat_bubble:",
    "completed": ":material/task_alt:",
    "expired": ":material/schedule:",
}


def state_badge(state: SessionState | str) -> Badge:
    """The badge for a session state.

    Args:
        state: "active", "completed" or "expired"; "damaged" for a session whose stored
            conversation cannot be opened.

    Returns:
        Its badge (unknown states get a neutral badge with the raw name).
    """
    return STATE_BADGES.get(state, Badge(str(state).capitalize(), ":material/help:", "gray"))


def model_badge(label: str, is_offline: bool, is_local: bool = False) -> Badge:
    """The badge naming the model that answers.

    Args:
        label: The model's human label (``model_view(...).label``).
        is_offline: Whether it is the offline demo model.
        is_local: Whether it runs on the deployment's own server (Ollama, a local
            OpenAI-compatible server): a computer, not a cloud.

    Returns:
        A violet "offline demo model" badge, or a blue badge with the model's label.
    """
    if is_offline:
        return Badge(label or OFFLINE_LABEL, ":material/science:", "violet")
    return Badge(label, ":material/computer:" if is_local else ":material/cloud:", "blue")


def display_title(title: str, limit: int | None = None) -> str:
    """A session title made safe to render as Markdown, optionally shortened.

    Args:
        title: The stored title (comes from user or model text: untrusted).
        limit: Cut to this many characters (with "…"), or None for the full title.

    Returns:
        Title with images/HTML neutralised, Markdown control characters escaped and addresses
        not auto-linked (a prep session's title quotes a meeting title: someone else's text).
    """
    text = " ".join((title or "").split()) or UNTITLED
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return plain_text(text)


def cost_text(cost_usd: float | None, *, offline: bool = False) -> str:
    """A cost for small print.

    Args:
        cost_usd: Dollars, or None when the price is unknown.
        offline: The offline demo model answered (free, said so).

    Returns:
        "$0.0012", "$0.00 (offline demo model)", or "cost unknown" (never "$0" for unknown).
    """
    if cost_usd is None:
        return "cost unknown"
    if offline and cost_usd == 0:
        return f"$0.00 ({OFFLINE_LABEL})"
    return fmt_cost(cost_usd)


def turn_footer(turn: TurnRecord) -> str:
    """The small print under an answer: tokens, cost, time to first token, total time.

    Args:
        turn: The stored turn.

    Returns:
        e.g. "1.2k in · 340 out tokens · $0.0031 · first token 420 ms · 2.3 s".
    """
    parts = [
        f"{fmt_tokens(turn.input_tokens)} in · {fmt_tokens(turn.output_tokens)} out tokens",
        cost_text(turn.cost_usd, offline=model_view(turn.model).is_offline),
    ]
    if turn.ttft_ms is not None:
        parts.append(f"first token {fmt_ms(turn.ttft_ms)}")
    if turn.latency_ms is not None:
        parts.append(fmt_ms(turn.latency_ms))
    return " · ".join(parts)


def stopped_note(turn: TurnRecord) -> str | None:
    """The note shown under an answer that did not finish normally.

    Args:
        turn: The stored turn.

    Returns:
        A plain sentence, or None for a normal answer.
    """
    if turn.status == "stopped":
        return turn.error or "Stopped before the answer was finished."
    if turn.status == "error":
        return turn.error or "This answer failed."
    return None


def continued_note(earlier: SessionMeta | None, model: str | None = None) -> str:
    """What a continued session says about the one it continues (its conversation is the context).

    Args:
        earlier: The session it continues, or None when that one is gone (deleted since).
        model: The continued session's model: when the earlier one's is no longer offered, the
            session answers with another, and says so (it switched silently).

    Returns:
        Markdown-safe text: one sentence, two when the model changed.
    """
    remembers = "the assistant remembers that conversation."
    if earlier is None:
        return f"Continues an earlier session, since deleted: {remembers}"
    note = f"Continues “{display_title(earlier.title, 60)}” ({counted(earlier.turn_count, 'answer')}): {remembers}"
    was, now = (model_view(m).label if m else "" for m in (earlier.model, model))
    if was and now and was != now:
        note += f" It answered with {plain_text(was)}, not offered to you now: this one uses {plain_text(now)}."
    return note


def session_cost_text(meta: SessionMeta) -> str:
    """The session's total cost, never claiming $0 when a price was unknown.

    Args:
        meta: The session.

    Returns:
        "$0.0123", "$0.00 (offline demo model)", "unknown" or "at least $0.01 (some prices unknown)".
    """
    if meta.cost_unknown:
        return "unknown" if not meta.cost_usd else f"at least {fmt_cost(meta.cost_usd)} (some prices unknown)"
    return cost_text(meta.cost_usd, offline=model_view(meta.model).is_offline)


@dataclass(frozen=True)
class FailedAttempts:
    """What a session's totals hold beyond its turns: the model calls of answers that failed (a
    model error, a timeout, a race lost to another tab) and were not stored as a turn. They are
    billed, so the totals count them; the turns do not, and without saying so they did not add up.
    ``cost_usd`` is None when a turn's own cost is unknown (the difference would not be theirs)."""

    input_tokens: int
    output_tokens: int
    cost_usd: float | None


def failed_attempts(meta: SessionMeta, turns: Sequence[TurnRecord]) -> FailedAttempts | None:
    """The session's totals minus its turns' figures, or None when the turns account for everything.

    The tokens decide (whole numbers, summed the same way on both sides): a failed call that
    used no tokens costs nothing, and a cost difference alone is the rounding of the turns' costs
    (8 places) against the ledger's sum, not a failed attempt.

    Args:
        meta: The session (its totals come from the usage ledger, failed calls included).
        turns: Its stored turns.

    Returns:
        The tokens and cost of the failed attempts, or None.
    """
    extra_in = meta.input_tokens - sum(t.input_tokens for t in turns)
    extra_out = meta.output_tokens - sum(t.output_tokens for t in turns)
    if extra_in <= 0 and extra_out <= 0:
        return None
    cost = None
    if not meta.cost_unknown and all(t.cost_usd is not None for t in turns):
        cost = max(round(meta.cost_usd - sum(t.cost_usd or 0.0 for t in turns), 8), 0.0)
    return FailedAttempts(max(extra_in, 0), max(extra_out, 0), cost)


def session_summary(meta: SessionMeta) -> str:
    """One line about the session for the sidebar.

    Args:
        meta: The session.

    Returns:
        e.g. "3 answers · 4.1k tokens · $0.0021", and "(incl. 1 failed call)" when the totals hold
        the billed calls of an answer that failed (its answers' footers do not).
    """
    answers = f"{meta.turn_count} answer" + ("" if meta.turn_count == 1 else "s")
    tokens = fmt_tokens(meta.input_tokens + meta.output_tokens)
    failed = f" (incl. {counted(meta.errors, 'failed call')})" if meta.errors else ""
    return f"{answers} · {tokens} tokens · {session_cost_text(meta)}{failed}"


def session_help(meta: SessionMeta, now: datetime | None = None) -> str:
    """Tooltip of a session in the sidebar list.

    Args:
        meta: The session.
        now: Reference time for "5 min ago".

    Returns:
        e.g. "Active · updated 5 min ago · 2 answers · 1.2k tokens · $0.00".
    """
    return f"{state_badge(meta.state).label} · updated {fmt_ago(meta.updated_at, now)} · {session_summary(meta)}"


@dataclass(frozen=True)
class BudgetView:
    """Today's spend against the daily budget."""

    text: str
    fraction: float
    over: bool
    limited: bool = True  # False: no daily budget (nothing to fill a bar against)


def budget_view(
    spent_usd: float,
    budget_usd: float,
    unpriced_calls: int = 0,
    *,
    now: datetime | None = None,
    zone: ZoneInfo = UTC_ZONE,
) -> BudgetView:
    """Today's spend as a line of text and a progress fraction.

    Args:
        spent_usd: What the user's priced model calls cost today.
        budget_usd: The daily budget (0 = no budget).
        unpriced_calls: Today's calls on a model without a price: their cost is unknown, so the
            spend is a lower bound ("≥ $0.00"), never read as complete.
        now: The current time: with it, a budget whose day (a UTC day) does not end at the
            reader's midnight says when it resets, in ``zone``.
        zone: The reader's time zone.

    Returns:
        The text ("$0.12 of $5.00 today", "$0.12 of $5.00 today · resets at 19:00" in New York,
        "≥ $0.12 of $5.00 today · 2 calls without a price"), the fraction for a progress bar
        (0..1) and whether the budget is used up.
    """
    spent = f"≥ {fmt_cost(spent_usd)}" if unpriced_calls else fmt_cost(spent_usd)
    unknown = f" · {counted(unpriced_calls, 'call')} without a price" if unpriced_calls else ""
    if budget_usd <= 0:
        return BudgetView(f"{spent} today (no daily budget){unknown}", 0.0, False, limited=False)
    resets = _budget_resets(now, zone) if now is not None else ""
    fraction = max(0.0, min(1.0, spent_usd / budget_usd))
    return BudgetView(f"{spent} of {fmt_cost(budget_usd)} today{resets}{unknown}", fraction, spent_usd >= budget_usd)


def _budget_resets(now: datetime, zone: ZoneInfo) -> str:
    """ " · resets at 13:00" when the budget's day, a UTC day (``chat.limits``), ends at another
    time than the reader's midnight: in Auckland "today" held yesterday afternoon's spend."""
    midnight = (now.astimezone(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    local = midnight.astimezone(zone)
    return "" if local.time() == time(0) else f" · resets at {local:%H:%M}"


def retry_at_text(retry_at: datetime | None, now: datetime, zone: ZoneInfo = UTC_ZONE) -> str | None:
    """When a limit frees up, in words, as a clock time in the reader's zone.

    Args:
        retry_at: The moment sending is possible again (aware), or None.
        now: The current time (aware).
        zone: The reader's time zone (default UTC).

    Returns:
        "You can send again at 14:05:03 UTC (in 42 s)." ("09:05:03 EST" in New York) or None
        when unknown.
    """
    if retry_at is None:
        return None
    seconds = max(0, int((retry_at - now).total_seconds()) + 1)
    if seconds >= 3600:  # a budget refused in the morning frees at midnight: "15 h 1 min", not "900 min 56 s"
        hours, minutes = divmod(round(seconds / 60), 60)
        wait = f"{hours} h {minutes} min" if minutes else f"{hours} h"
    else:
        wait = f"{seconds} s" if seconds < 120 else fmt_ms(seconds * 1000.0)
    return f"You can send again at {fmt_datetime(retry_at, zone, '%H:%M:%S')} (in {wait})."


@dataclass(frozen=True)
class ErrorView:
    """How a failed turn is shown.

    Attributes:
        title: Short bold headline ("The model is busy").
        message: The plain sentence from the service (what happened, what to do).
        action: "retry" (Retry button), "reload" (Reload button) or None.
        icon: Material icon.
    """

    title: str
    message: str
    action: Literal["retry", "reload"] | None
    icon: str


_ERROR_TITLES: dict[str, tuple[str, str]] = {
    "throttled": ("The model is busy right now", ":material/speed:"),
    "timeout": ("The model took too long to answer", ":material/timer_off:"),
    "access_denied": ("The assistant has no access to the model", ":material/lock:"),
    "network": ("The model could not be reached", ":material/wifi_off:"),
    "unavailable": ("The model service is unavailable", ":material/cloud_off:"),
    "context_overflow": ("This conversation is too long for the model", ":material/data_array:"),
    "output_limit": ("The answer was too long", ":material/short_text:"),
    "storage": ("Your message could not be saved", ":material/database:"),
    "conflict": ("Not saved: this session changed elsewhere", ":material/sync_problem:"),
    "interrupted": ("Not answered", ":material/restart_alt:"),
    "session": ("This session cannot take messages", ":material/block:"),
    "cancelled": ("The answer was cancelled", ":material/stop_circle:"),
    "model_not_found": ("This model is not available", ":material/search_off:"),
}


def error_view(category: str, message: str, retryable: bool) -> ErrorView:
    """Turn a failed turn's ErrorEvent fields into what the page shows.

    Args:
        category: ErrorEvent.category.
        message: ErrorEvent.message (already a plain sentence).
        retryable: ErrorEvent.retryable.

    Returns:
        The view: a retryable error (a lost race included: its question is kept) offers
        Retry; a conflict that cannot be retried offers Reload. A message that opens with
        the title loses that sentence (the page shows the title in bold before it); one whose
        first sentence runs on from the title has that sentence as its title.
    """
    title, icon = _ERROR_TITLES.get(category, ("Something went wrong", ":material/error:"))
    if category == "conflict" and not retryable:
        text = message or "This session was changed in another tab or window."
        if "reload" not in text.lower():
            text += " Reload to see the latest version, then send your message again."
        return ErrorView(title, text, "reload", icon)
    if message.lower().startswith(title.lower()):  # the page draws the title first: say it once
        rest = message[len(title) :]
        if rest[:1] not in ("", ".", ":"):  # "Something went wrong while …. Press Retry": one sentence
            first, _, rest = message.partition(". ")
            title = first.rstrip(".")
        message = rest.lstrip(" .:")
        message = message[:1].upper() + message[1:]  # "Not answered: the server…" -> "The server…"
    return ErrorView(title, message, "retry" if retryable else None, icon)


def feedback_index(value: int | None) -> int | None:
    """Stored feedback (+1/-1/None) -> ``st.feedback("thumbs")`` index (1 up / 0 down / None)."""
    if value is None:
        return None
    return 1 if value > 0 else 0


def feedback_value(index: int | None) -> int | None:
    """``st.feedback("thumbs")`` index -> stored feedback (+1/-1/None)."""
    if index is None:
        return None
    return 1 if index == 1 else -1


def tool_label(name: str, status: str, duration_ms: float | None) -> str:
    """The label of a tool step (collapsed).

    Args:
        name: Tool name.
        status: "running", "success" or "error".
        duration_ms: How long it took (None while running).

    Returns:
        e.g. "Get upcoming meetings · `get_upcoming_meetings` · 12 ms". A name that is not
        a plain identifier (the model can send anything) is shown as escaped text.
    """
    code = tool_name_markdown(name)  # not one of our tools' names: plain text, not code
    human = name.replace("_", " ").strip().capitalize() if code.startswith("`") else "Tool"
    base = f"{human} · {code}"
    if status == "running":
        return f"{base} · running…"
    took = f" · {fmt_ms(duration_ms)}" if duration_ms is not None else ""
    failed = " · failed" if status == "error" else ""
    return f"{base}{took}{failed}"


def export_filename(meta: SessionMeta, ext: str, zone: ZoneInfo = UTC_ZONE) -> str:
    """A safe download file name for a session export.

    Args:
        meta: The session.
        ext: "md" or "json".
        zone: The reader's zone: the date is the day the session started there.

    Returns:
        e.g. "session-2026-03-01-prepare-me-for-the-acme-qbr.md".
    """
    # "é" as "e" (it was a dash); a title with no Latin letter (Japanese, emoji) is named after the
    # session's id: every one of them was "session", a day's exports told apart by " (1)", " (2)"
    folded = unicodedata.normalize("NFKD", meta.title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:48].strip("-")
    slug = slug or re.sub(r"[^a-z0-9]", "", meta.id.lower())[:8] or "session"
    started = meta.created_at if meta.created_at.tzinfo else meta.created_at.replace(tzinfo=UTC_ZONE)
    return f"session-{started.astimezone(zone):%Y-%m-%d}-{slug}.{ext}"


def read_only_notice(meta: SessionMeta) -> str:
    """Why a session cannot take new messages.

    Args:
        meta: A completed or expired session.

    Returns:
        A plain sentence saying what to do next.
    """
    if meta.state == "expired":
        why = "This session expired after a period without activity"
    else:
        why = "This session was completed"
    return f"{why}, so it is read-only. Continue in a new session to carry on with the same context."


def welcome_name(name: str | None) -> str:
    """The first name used in the welcome line ("there" when unknown)."""
    first = (name or "").strip().split(" ")[0]
    return display_title(first) if first else "there"
