"""A comparison of two models' answers (:mod:`assistant.chat.compare`) -> what the chat page shows of it."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.chat.compare import Comparison, Context, Side
from assistant.views.conversation import cost_text
from assistant.views.format import fmt_ms, fmt_tokens
from assistant.views.models import model_view

CONTEXT_NOTES: dict[Context, str] = {
    "none": "Asked as the first question of a new session, like the original.",
    "earlier turns": "Asked in a new session that starts from the conversation before this question.",
    "question only": (
        "Asked in a new session with the question alone: the earlier conversation could not be cut at this question."
    ),
}


@dataclass(frozen=True)
class SideView:
    """One column of the comparison.

    Attributes:
        label: The model's label.
        is_offline: The offline demo model answered (violet badge).
        figures: ``(name, value)`` rows: tokens, cost, time to first token, total time.
        note: A sentence instead of figures or under them (not stored, stopped, failed), or None.
    """

    label: str
    is_offline: bool
    figures: list[tuple[str, str]]
    note: str | None = None
    is_local: bool = False


def side_view(side: Side) -> SideView:
    """Label, figures and note of one answer.

    Args:
        side: One side of a :class:`~assistant.chat.compare.Comparison`.

    Returns:
        e.g. figures ``[("Tokens", "1.2k in · 340 out"), ("Cost", "$0.0031"), ("First token", "420 ms"),
        ("Total time", "2.3 s")]``.
    """
    model = model_view(side.model)
    turn = side.turn
    if turn is None:
        note = "Not answered."
        if side.pending is not None and side.pending.error_message:
            reason = side.pending.error_message.rstrip(". ")
            # a kept question's own message may already open with "Not answered:" (a restart)
            note = f"{reason}." if reason.lower().startswith("not answered") else f"Not answered: {reason}."
        return SideView(model.label, model.is_offline, [], note + " Open the new session to retry.", model.is_local)
    figures = [
        ("Tokens", f"{fmt_tokens(turn.input_tokens)} in · {fmt_tokens(turn.output_tokens)} out"),
        ("Cost", cost_text(turn.cost_usd, offline=model.is_offline)),
        ("First token", fmt_ms(turn.ttft_ms) if turn.ttft_ms is not None else "–"),
        ("Total time", fmt_ms(turn.latency_ms) if turn.latency_ms is not None else "–"),
    ]
    stopped = "Stopped before the answer was finished." if turn.status == "stopped" else None
    return SideView(model.label, model.is_offline, figures, stopped, model.is_local)


def comparison_views(comparison: Comparison) -> tuple[SideView, SideView]:
    """Both columns: the original answer (left), the other model's (right)."""
    return side_view(comparison.original), side_view(comparison.other)


FIGURES = ("Tokens", "Cost", "First token", "Total time")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def figures_markdown(left: SideView, right: SideView) -> str:
    """Both answers' figures as one Markdown table, a row per figure and a column per model.

    Args:
        left: The original answer's column.
        right: The other model's column.

    Returns:
        A table headed by the two models' labels; "–" where an answer has no figure (not stored).
    """
    first, second = dict(left.figures), dict(right.figures)
    rows = [f"| {name} | {_cell(first.get(name, '–'))} | {_cell(second.get(name, '–'))} |" for name in FIGURES]
    header = f"| Measured | {_cell(left.label)} · this session | {_cell(right.label)} · new session |"
    return "\n".join([header, "|---|---|---|", *rows])
