"""Export one session as Markdown or JSON: the transcript with tool steps and per-turn cost.

Both exports are built from the stored :class:`SessionDocument` (the same source the chat
page draws from), so a download matches what the user saw, stopped answers included.

The Markdown export is meant to be opened in viewers, so everything untrusted in it is made
inert (see :func:`session_to_markdown`). The JSON export is the record: its strings are
the transcript verbatim (data, not Markup); whatever renders them must escape them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from assistant.chat.display import tool_step
from assistant.inputs import cap_combining_marks, strip_bidi_controls, strip_control_chars
from assistant.markdown_text import literal
from assistant.sessions.base import SessionDocument, ToolStep, TurnRecord
from assistant.views.conversation import failed_attempts, session_cost_text
from assistant.views.format import UTC_ZONE, fmt_cost, fmt_datetime, fmt_ms
from assistant.views.markdown import close_open_fence, plain_text, pretty_json, safe_markdown, tool_name_markdown

logger = logging.getLogger(__name__)

EXPORT_FORMAT_VERSION = 1


def _turn_parts(doc: SessionDocument, turn: TurnRecord) -> list[tuple[str, Any]]:
    """Answer text and tool steps of one turn, in the order they happened."""
    steps = {s.tool_use_id: s for s in turn.tool_steps}
    messages = doc.messages[turn.first_message_idx : turn.end_message_idx]
    parts: list[tuple[str, Any]] = []
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for block in message.get("content", []):
            if block.get("text"):
                parts.append(("text", str(block["text"])))
            elif "toolUse" in block:
                parts.append(("tool", tool_step(block["toolUse"], steps, messages)))
    return parts


def _cost(turn: TurnRecord) -> str:
    if turn.cost_usd is None:
        return "cost unknown"
    return fmt_cost(turn.cost_usd)


def session_to_markdown(doc: SessionDocument, *, exported_at: datetime | None = None, zone: ZoneInfo = UTC_ZONE) -> str:
    """The session as a readable Markdown document.

    Model and user text (title included) is passed through :func:`safe_markdown` (no remote
    images, no HTML, links only to http/https/mailto), tool names and error notes through
    :func:`plain_text`, so the export is as safe to open in a Markdown viewer as the page is;
    control characters (NUL, terminal escapes) are left out, as in a terminal.

    Args:
        doc: The stored session.
        exported_at: Timestamp written in the header (default: now).
        zone: The reader's zone, in which times are written (as the pages show them), with its
            abbreviation; UTC by default.

    Returns:
        Markdown text.
    """
    meta = doc.meta
    when = exported_at or datetime.now(UTC)
    total = session_cost_text(meta)  # as the page says it: a known part is not hidden behind "unknown"
    lines = [
        f"# {literal(cap_combining_marks(strip_bidi_controls(meta.title)))}",  # as typed, as the page shows it
        "",
        f"- Session: `{meta.id}`",
        f"- State: {meta.state}",
        f"- Model: {meta.model}",
        f"- Created: {fmt_datetime(meta.created_at, zone)} · updated {fmt_datetime(meta.updated_at, zone)}",
        f"- Turns: {meta.turn_count} · tokens {meta.input_tokens:,} in / {meta.output_tokens:,} out · cost {total}",
        f"- Exported: {fmt_datetime(when, zone)}",
    ]
    failed = failed_attempts(meta, doc.turns)
    if failed is not None:
        lines.append(
            f"- Failed attempts (in the totals, not in the turns below): tokens {failed.input_tokens:,} in"
            f" / {failed.output_tokens:,} out · cost {fmt_cost(failed.cost_usd)}"
        )
    if meta.continued_from:
        lines.append(f"- Continued from session `{meta.continued_from}`")
    for turn in doc.turns:
        lines += ["", "---", "", f"## Turn {turn.idx + 1} · {fmt_datetime(turn.started_at, zone)}", ""]
        lines += ["**You:**", "", close_open_fence(safe_markdown(turn.user_text)), "", "**Assistant:**", ""]
        for kind, part in _turn_parts(doc, turn):
            if kind == "text":
                lines += [close_open_fence(safe_markdown(str(part))), ""]
                continue
            step: ToolStep = part
            took = f", {fmt_ms(step.duration_ms)}" if step.duration_ms is not None else ""
            lines += [
                f"> Tool {tool_name_markdown(step.name)} ({step.status}{took})",
                ">",
                "> Input:",
                ">",
                *[f">     {line}" for line in pretty_json(step.input).splitlines()],
                ">",
                f"> Result: {safe_markdown(step.result or '(no result)')}".replace("\n", "\n> "),
                "",
            ]
        if turn.status != "ok":
            lines += [f"*{turn.status.capitalize()}: {plain_text(turn.error or 'the answer did not finish')}*", ""]
        ttft = f" · first token {fmt_ms(turn.ttft_ms)}" if turn.ttft_ms is not None else ""
        feedback = {1: " · feedback: thumbs up", -1: " · feedback: thumbs down"}.get(turn.feedback or 0, "")
        lines.append(
            f"*{turn.input_tokens:,} in · {turn.output_tokens:,} out tokens · {_cost(turn)}{ttft}"
            f" · {fmt_ms(turn.latency_ms)}{feedback}*"
        )
    logger.debug("session_id=<%s>, turns=<%s> | exporting session as markdown", meta.id, len(doc.turns))
    # The stored answers are the model's text as it came (NUL, terminal escapes included): a file
    # that `cat` or `less -R` would run as colours, titles or clipboard writes, or that tools read as binary.
    return strip_control_chars("\n".join(lines)).rstrip() + "\n"


def session_to_dict(doc: SessionDocument, *, exported_at: datetime | None = None) -> dict[str, Any]:
    """The session as JSON-ready data: metadata, turns (with cost, tool steps, answer text), raw messages.

    Args:
        doc: The stored session.
        exported_at: Timestamp written in the document (default: now, UTC).

    Returns:
        A dict that ``json.dumps`` accepts.
    """
    meta = doc.meta
    turns = []
    for turn in doc.turns:
        data = turn.to_dict()
        data["answer"] = "\n\n".join(str(p) for k, p in _turn_parts(doc, turn) if k == "text")
        turns.append(data)
    return {
        "format": "executive-assistant.session",
        "version": EXPORT_FORMAT_VERSION,
        "exported_at": (exported_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "session": {
            "id": meta.id,
            "title": meta.title,
            "state": meta.state,
            "model": meta.model,
            "created_at": meta.created_at.isoformat(),
            "updated_at": meta.updated_at.isoformat(),
            "turn_count": meta.turn_count,
            "input_tokens": meta.input_tokens,
            "output_tokens": meta.output_tokens,
            "cost_usd": None if meta.cost_unknown else meta.cost_usd,
            "cost_unknown": meta.cost_unknown,
            "continued_from": meta.continued_from,
            "failed_attempts": asdict(failed) if (failed := failed_attempts(meta, doc.turns)) else None,
        },
        "turns": turns,
        "messages": doc.messages,
    }


def session_to_json(doc: SessionDocument, *, exported_at: datetime | None = None) -> str:
    """:func:`session_to_dict` as indented JSON text.

    Args:
        doc: The stored session.
        exported_at: Timestamp written in the document (default: now, UTC).

    Returns:
        JSON text.
    """
    logger.debug("session_id=<%s>, turns=<%s> | exporting session as json", doc.meta.id, len(doc.turns))
    return json.dumps(session_to_dict(doc, exported_at=exported_at), indent=2, ensure_ascii=False, default=str)
