"""What the session detail shows (Streamlit-free): what the viewer may do with the opened session
(resume, continue, read-only), its metric row and the feedback under an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.inputs import clean_display_text
from assistant.sessions.base import SessionMeta, TurnRecord
from assistant.usage.pricing import PriceTable
from assistant.views.conversation import failed_attempts
from assistant.views.format import Metric, fmt_cost, fmt_ms, fmt_tokens
from assistant.views.models import model_view
from assistant.views.sessions import ERRORS_HELP, LOCAL_FREE_NOTE, OFFLINE_FREE_NOTE, Viewer

DetailAction = Literal["resume", "continue"]


@dataclass(frozen=True)
class DetailAccess:
    """What the viewer may do with an opened session.

    Attributes:
        owner: Whether the viewer owns the session.
        action: "resume" (active, own), "continue" (completed/expired, own) or None (read-only).
        banner: The read-only banner for an admin viewing someone else's session.
    """

    owner: bool
    action: DetailAction | None
    banner: str | None


def detail_access(viewer: Viewer, meta: SessionMeta) -> DetailAccess:
    """Whether the viewer can resume or continue the session, or only read it.

    Args:
        viewer: The signed-in identity.
        meta: The opened session.

    Returns:
        The :class:`DetailAccess`.
    """
    if meta.user_id != viewer.user_id:
        who = clean_display_text(meta.user_email or meta.user_id)
        return DetailAccess(False, None, f"Viewing {who}'s session (read-only)")
    return DetailAccess(True, "resume" if meta.state == "active" else "continue", None)


def feedback_text(value: int | None) -> str | None:
    """The read-only feedback shown under an answer.

    Args:
        value: +1, -1 or None.

    Returns:
        "Rated helpful", "Rated not helpful" or None.
    """
    if value is None:
        return None
    return "Rated helpful" if value > 0 else "Rated not helpful"


def session_metrics(meta: SessionMeta, turns: Sequence[TurnRecord], prices: PriceTable) -> list[Metric]:
    """The metric row of the session detail.

    Args:
        meta: The session.
        turns: Its turns.
        prices: The price table (to say when $0.00 is the free offline model).

    Returns:
        Turns, input and output tokens, cost, average latency, failed model calls.
    """
    if meta.cost_unknown:
        cost = f"≥ {fmt_cost(meta.cost_usd)}" if meta.cost_usd else "unknown"
        cost_help: str | None = "Some calls used a model without a price."
    else:
        cost = fmt_cost(meta.cost_usd)
        shown = model_view(meta.model, prices)
        free = meta.cost_usd == 0 and shown.is_free
        cost_help = f"$0.00: {LOCAL_FREE_NOTE if shown.is_local else OFFLINE_FREE_NOTE}." if free else None
    failed = failed_attempts(meta, turns)
    if failed is not None and failed.cost_usd:
        note = (
            f"Includes {fmt_cost(failed.cost_usd)} for failed attempts (answers that failed and were retried), "
            "not in the turns below."
        )
        cost_help = f"{cost_help} {note}" if cost_help else note
    latencies = [t.latency_ms for t in turns if t.latency_ms is not None]
    avg = sum(latencies) / len(latencies) if latencies else None
    return [
        Metric("Turns", f"{meta.turn_count:,}"),
        Metric("Input tokens", fmt_tokens(meta.input_tokens), f"{meta.input_tokens:,} tokens"),
        Metric("Output tokens", fmt_tokens(meta.output_tokens), f"{meta.output_tokens:,} tokens"),
        Metric("Cost", cost, cost_help),
        Metric("Avg answer time", fmt_ms(avg), "Mean time from sending a message to the full answer."),
        Metric("Errors", f"{meta.errors:,}", ERRORS_HELP),  # as the Sessions table counts them
    ]
