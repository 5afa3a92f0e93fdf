"""Offline demo model: a deterministic, scripted strands ``Model`` that needs no network.

It reads the latest user text, makes real tool calls for the Meeting Coordinator's tools,
and, once the tool results are back, answers in markdown built from them. Same
conversation in, same events out: no randomness and no wall-clock time in the text.

Intent rules (case-insensitive keywords in the latest user text; several may apply and
then several tools are called in one message; only tools present in ``tool_specs`` are
ever called):

- **agenda** (``agenda``) -> ``generate_meeting_agenda(meeting_id)``. The meeting id comes
  from the most recent ``get_upcoming_meetings`` result in the conversation (best title
  match with the user's words, else the first meeting). When no such result exists yet,
  ``get_upcoming_meetings`` is called first and the agenda in the next model call.
- **save** (``save``, ``note``, ``remember``, ``my answer``, ``prep note``), or a reply to a
  prep question this model asked in its previous answer -> ``save_prep_response(meeting_id,
  topic, response)``: the meeting is found as for the agenda (the meeting named in the
  previous answer wins), the topic is the question asked, the response is the user's text.
- **meetings** (``meeting``, ``calendar``, ``schedule``, ``week``, ``upcoming``, ``prepare``,
  ``prep``, ``today``, ``tomorrow``) -> ``get_upcoming_meetings(days_ahead, query)``;
  ``query`` holds the words after "for"/"about"/"with" ("prepare me for the Acme QBR" ->
  "Acme QBR"); ``days_ahead`` is 1 for today, 2 for tomorrow, 14 for next week, 30 for a
  month, else 7. Skipped when the agenda or save rule already covers the request.
- **budget** (``budget``, ``spend``, ``cost``, ``forecast``) -> ``get_budget_context(area)``,
  with ``area`` from "budget for <area>".
- **big rocks** (``big rock``, ``priorit``, ``initiative``, ``okr``, ``strategy``,
  ``strategic``) -> ``get_big_rocks_status()``.

Each tool is called at most once per user turn, and after three rounds of tool calls the
model answers with what it has. Without a recognised intent it explains what it can do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict, TypeVar

from pydantic import BaseModel
from strands.models import Model
from strands.types.content import Messages, SystemContentBlock
from strands.types.event_loop import StopReason
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolChoice, ToolSpec
from typing_extensions import Unpack

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

MEETINGS_TOOL = "get_upcoming_meetings"
SAVE_TOOL = "save_prep_response"
AGENDA_TOOL = "generate_meeting_agenda"
BUDGET_TOOL = "get_budget_context"
ROCKS_TOOL = "get_big_rocks_status"

PREP_QUESTIONS_HEADING = "Prep questions for"
MAX_TOOL_ROUNDS = 3

_MEETING_WORDS = re.compile(r"\b(meetings?|calendar|schedule|week|upcoming|prepare|prep|today|tomorrow)\b")
_AGENDA_WORDS = re.compile(r"\bagendas?\b")
_SAVE_WORDS = re.compile(r"\b(save|note|notes|remember|my answer|prep note)\b")
_BUDGET_WORDS = re.compile(r"\b(budgets?|spend|spending|costs?|forecasts?)\b")
_ROCKS_WORDS = re.compile(r"\b(big rocks?|priorit\w*|initiatives?|okrs?|strategy|strategic)\b")
_QUERY_AFTER = re.compile(
    r"\b(?:for|about|with|before)\s+(?:the\s+|my\s+|our\s+|a\s+|an\s+)?((?:[^?.!,;:\n]|:(?=\S))+)", re.I
)
_AREA_AFTER = re.compile(
    r"\b(?:budgets?|spend|spending|costs?|forecasts?)\s+(?:for|of|in|on)\s+(?:the\s+|our\s+)?([a-z][\w &-]{1,40})", re.I
)
_SAVE_PREFIX = re.compile(
    r"^\s*(?:please\s+)?(?:save|note|remember)(?:\s+(?:this|that|a|my))?(?:\s+prep)?(?:\s+(?:note|answer))?"
    r"(?:\s+(?:that|for\s+the\s+[^:]+))?\s*[:,-]?\s*",
    re.I,
)
_STOP_WORDS = frozenset(
    re.findall(
        r"\w+",
        "a an the my our me i for to of and or with about on in at is are be do have has this that what "
        "which when please can could would you your meeting meetings agenda prepare prep make create build "
        "draft up get show tell give next week today tomorrow upcoming save note remember",
    )
)
_TRAILING_FILLER = re.compile(r"\s+(?:meeting|meetings|call|session|this week|next week|today|tomorrow)\s*$", re.I)

_HELP_TEXT = (
    "I can help you get ready for your meetings. Try asking me to:\n\n"
    '- **list your meetings** - "What meetings do I have this week?"\n'
    '- **prepare you for one** - "Prepare me for the Acme QBR"\n'
    '- **draft an agenda** - "Prepare an agenda for the Acme QBR"\n'
    '- **check the budget** - "How is our budget tracking?"\n'
    '- **review priorities** - "What is the status of our big rocks?"\n'
    '- **save a prep note** - "Save a note: I want to close the renewal"'
)


class OfflineConfig(TypedDict, total=False):
    """Configuration of :class:`OfflineModel`.

    Attributes:
        model_id: Identifier reported to the usage ledger ("demo").
        chunk_delay_s: Pause before each streamed text chunk, in seconds.
        first_token_delay_s: Pause before the first event, in seconds.
        words_per_chunk: Number of words per streamed text chunk.
    """

    model_id: str
    chunk_delay_s: float
    first_token_delay_s: float
    words_per_chunk: int


@dataclass
class _ToolCall:
    name: str
    input: dict[str, Any]


@dataclass
class _ToolOutcome:
    name: str
    input: dict[str, Any]
    ok: bool
    data: dict[str, Any] | None
    text: str


@dataclass
class _Context:
    """What the model knows about the conversation for the current call."""

    user_text: str
    turn_outcomes: list[_ToolOutcome]
    rounds: int
    all_meeting_lists: list[list[dict[str, Any]]]
    previous_answer: str
    available: set[str] = field(default_factory=set)


class OfflineModel(Model):
    """Deterministic scripted model implementing strands' :class:`~strands.models.Model`.

    See the module docstring for the intent rules. Token usage is estimated at one token
    per four characters.
    """

    def __init__(
        self,
        *,
        model_id: str = "demo",
        chunk_delay_s: float = 0.0,
        first_token_delay_s: float = 0.0,
        words_per_chunk: int = 3,
    ) -> None:
        """Create the model.

        Args:
            model_id: Identifier reported to the usage ledger.
            chunk_delay_s: Pause before each streamed text chunk so the UI streams visibly.
            first_token_delay_s: Pause before the first event (simulated time to first token).
            words_per_chunk: Number of words per streamed text chunk.
        """
        self.config: OfflineConfig = {
            "model_id": model_id,
            "chunk_delay_s": chunk_delay_s,
            "first_token_delay_s": first_token_delay_s,
            "words_per_chunk": max(1, words_per_chunk),
        }

    def update_config(self, **model_config: Unpack[OfflineConfig]) -> None:  # type: ignore[override]
        """Update the configuration.

        Args:
            **model_config: Fields of :class:`OfflineConfig` to change.
        """
        self.config.update(model_config)

    def get_config(self) -> OfflineConfig:
        """Return the configuration.

        Returns:
            The current :class:`OfflineConfig`.
        """
        return self.config

    async def structured_output(
        self, output_model: type[T], prompt: Messages, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[dict[str, T | Any], None]:
        """Not supported by the offline demo model.

        Args:
            output_model: The requested output model.
            prompt: The prompt messages.
            system_prompt: The system prompt.
            **kwargs: Ignored.

        Raises:
            NotImplementedError: Always; use a ``bedrock:`` model for structured output.
        """
        raise NotImplementedError(
            f"the offline demo model cannot produce structured output ({output_model.__name__}); "
            "use a bedrock:<model_id> model for structured output"
        )
        yield {}  # pragma: no cover - makes this an async generator

    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        *,
        tool_choice: ToolChoice | None = None,
        system_prompt_content: list[SystemContentBlock] | None = None,
        invocation_state: dict[str, Any] | None = None,
        cancel_signal: threading.Event | None = None,
        **kwargs: Any,
    ) -> AsyncIterable[StreamEvent]:
        """Stream one scripted response: tool calls, or a text answer built from tool results.

        Args:
            messages: The conversation so far.
            tool_specs: Tools the agent offers; only these are ever called.
            system_prompt: System prompt (only counted for usage).
            tool_choice: Ignored.
            system_prompt_content: System prompt blocks (only counted for usage).
            invocation_state: Ignored.
            cancel_signal: When set, streaming stops early with stop reason "cancelled".
            **kwargs: Ignored.

        Yields:
            strands stream events ending with ``messageStop`` and ``metadata``.
        """
        started = time.monotonic()
        model_id = self.config.get("model_id", "demo")
        context = _read_context(messages, tool_specs)
        calls = _plan_tool_calls(context)
        text = _lead_text(calls) if calls else _compose_answer(context)
        output_chars = len(text)

        first_delay = float(self.config.get("first_token_delay_s", 0.0))
        if first_delay > 0:
            await asyncio.sleep(first_delay)
        yield {"messageStart": {"role": "assistant"}}

        index = 0
        cancelled = False
        if text:
            yield {"contentBlockStart": {"contentBlockIndex": index, "start": {}}}
            async for chunk in self._chunks(text):
                if cancel_signal is not None and cancel_signal.is_set():
                    cancelled = True
                    break
                yield {"contentBlockDelta": {"contentBlockIndex": index, "delta": {"text": chunk}}}
            yield {"contentBlockStop": {"contentBlockIndex": index}}
            index += 1

        if not cancelled:
            for position, call in enumerate(calls):
                tool_use_id = f"tooluse_offline_{len(messages)}_{position}"
                payload = json.dumps(call.input, sort_keys=True)
                output_chars += len(call.name) + len(payload)
                logger.debug("model_id=<%s>, tool=<%s> | offline model calling tool", model_id, call.name)
                yield {
                    "contentBlockStart": {
                        "contentBlockIndex": index,
                        "start": {"toolUse": {"name": call.name, "toolUseId": tool_use_id}},
                    }
                }
                yield {"contentBlockDelta": {"contentBlockIndex": index, "delta": {"toolUse": {"input": payload}}}}
                yield {"contentBlockStop": {"contentBlockIndex": index}}
                index += 1

        stop_reason: StopReason = "cancelled" if cancelled else ("tool_use" if calls else "end_turn")
        yield {"messageStop": {"stopReason": stop_reason}}

        input_tokens = _estimate_input_tokens(messages, tool_specs, system_prompt, system_prompt_content)
        output_tokens = max(1, math.ceil(output_chars / 4))
        yield {
            "metadata": {
                "usage": {
                    "inputTokens": input_tokens,
                    "outputTokens": output_tokens,
                    "totalTokens": input_tokens + output_tokens,
                },
                "metrics": {"latencyMs": int((time.monotonic() - started) * 1000)},
            }
        }
        logger.debug(
            "model_id=<%s>, stop_reason=<%s>, input_tokens=<%s>, output_tokens=<%s> | offline model answered",
            model_id,
            stop_reason,
            input_tokens,
            output_tokens,
        )

    async def _chunks(self, text: str) -> AsyncGenerator[str, None]:
        delay = float(self.config.get("chunk_delay_s", 0.0))
        for chunk in split_chunks(text, int(self.config.get("words_per_chunk", 3))):
            if delay > 0:
                await asyncio.sleep(delay)
            yield chunk


def split_chunks(text: str, words_per_chunk: int = 3) -> list[str]:
    """Split text into chunks of a few words, keeping all whitespace so they join back exactly.

    Args:
        text: The text to split.
        words_per_chunk: Words per chunk (at least 1).

    Returns:
        The chunks; ``"".join(chunks) == text``.
    """
    pieces = re.findall(r"\s*\S+\s*", text) or ([text] if text else [])
    size = max(1, words_per_chunk)
    chunks = ["".join(pieces[i : i + size]) for i in range(0, len(pieces), size)]
    if chunks and "".join(chunks) != text:  # leading whitespace-only text; keep it exact
        return [text]
    return chunks


# --- reading the conversation ---------------------------------------------------------------


def _text_of(content: Iterable[Any]) -> str:
    return "\n".join(str(block["text"]) for block in content if isinstance(block, dict) and "text" in block)


def _result_text(tool_result: dict[str, Any]) -> str:
    parts: list[str] = []
    for item in tool_result.get("content", []) or []:
        if "text" in item:
            parts.append(str(item["text"]))
        elif "json" in item:
            parts.append(json.dumps(item["json"]))
    return "\n".join(parts)


def _parse_json(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_context(messages: Messages, tool_specs: list[ToolSpec] | None) -> _Context:
    available = {spec["name"] for spec in tool_specs or []}
    uses: dict[str, tuple[str, dict[str, Any]]] = {}
    outcomes: list[tuple[int, _ToolOutcome]] = []
    last_user_text_at = -1
    user_text = ""
    for position, message in enumerate(messages):
        content = message.get("content", [])
        for block in content:
            if "toolUse" in block:
                tool_use = block["toolUse"]
                raw_input = tool_use.get("input", {})
                uses[tool_use["toolUseId"]] = (tool_use["name"], raw_input if isinstance(raw_input, dict) else {})
            if "toolResult" in block:
                tool_result = block["toolResult"]
                name, tool_input = uses.get(tool_result.get("toolUseId", ""), ("", {}))
                text = _result_text(dict(tool_result))
                ok = tool_result.get("status", "success") != "error"
                data = _parse_json(text) if ok else None
                outcomes.append((position, _ToolOutcome(name, tool_input, ok and data is not None, data, text)))
        if message.get("role") == "user":
            text = _text_of(content).strip()
            if text and not any("toolResult" in block for block in content):
                last_user_text_at = position
                user_text = text

    previous_answer = ""
    rounds = 0
    for position, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        if position < last_user_text_at:
            text = _text_of(message.get("content", []))
            if text.strip():
                previous_answer = text
        elif any("toolUse" in block for block in message.get("content", [])):
            rounds += 1

    meeting_lists = [
        list(outcome.data.get("meetings") or [])
        for _, outcome in outcomes
        if outcome.name == MEETINGS_TOOL and outcome.data and isinstance(outcome.data.get("meetings"), list)
    ]
    return _Context(
        user_text=user_text,
        turn_outcomes=[outcome for position, outcome in outcomes if position > last_user_text_at],
        rounds=rounds,
        all_meeting_lists=[[m for m in lst if isinstance(m, dict)] for lst in meeting_lists],
        previous_answer=previous_answer,
        available=available,
    )


# --- deciding what to do ------------------------------------------------------------------


@dataclass(frozen=True)
class _Intents:
    meetings: bool
    agenda: bool
    save: bool
    budget: bool
    rocks: bool

    @property
    def any(self) -> bool:
        return self.meetings or self.agenda or self.save or self.budget or self.rocks


def _asked_prep_question(previous_answer: str) -> bool:
    return PREP_QUESTIONS_HEADING in previous_answer and "?" in previous_answer


def _detect_intents(context: _Context) -> _Intents:
    lowered = context.user_text.lower()
    agenda = bool(_AGENDA_WORDS.search(lowered))
    budget = bool(_BUDGET_WORDS.search(lowered))
    rocks = bool(_ROCKS_WORDS.search(lowered))
    save = bool(_SAVE_WORDS.search(lowered))
    meetings = bool(_MEETING_WORDS.search(lowered)) and not agenda and not save
    if (
        not (agenda or budget or rocks or save or meetings)
        and lowered
        and not lowered.rstrip().endswith("?")
        and _asked_prep_question(context.previous_answer)
    ):
        save = True
    return _Intents(meetings=meetings, agenda=agenda, save=save, budget=budget, rocks=rocks)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP_WORDS and len(w) > 1}


def _meeting_query(user_text: str) -> str | None:
    match = _QUERY_AFTER.search(user_text)
    if not match:
        return None
    query = _TRAILING_FILLER.sub("", match.group(1).strip()).strip()
    if not _words(query):
        return None
    return query[:80]


def _days_ahead(user_text: str) -> int:
    lowered = user_text.lower()
    if "today" in lowered:
        return 1
    if "tomorrow" in lowered:
        return 2
    if "next week" in lowered:
        return 14
    if "month" in lowered:
        return 30
    return 7


def _title_match(meetings: list[dict[str, Any]], text: str) -> dict[str, Any] | None:
    """The meeting whose title shares most words with ``text`` (earliest wins ties), or None."""
    wanted = _words(text)
    if not wanted or not meetings:
        return None
    scored = [(len(wanted & _words(str(m.get("title", "")))), -i, m) for i, m in enumerate(meetings)]
    best = max(scored, key=lambda item: (item[0], item[1]))
    return best[2] if best[0] > 0 else None


def _best_meeting(meetings: list[dict[str, Any]], *texts: str) -> dict[str, Any] | None:
    """The meeting whose title best matches the first text that matches any, else the first meeting."""
    for text in texts:
        match = _title_match(meetings, text)
        if match is not None:
            return match
    return meetings[0] if meetings else None


def _known_meeting(context: _Context, *texts: str, strict: bool = False) -> dict[str, Any] | None:
    """A meeting from any ``get_upcoming_meetings`` result in the conversation (most recent first).

    Titles are matched against ``texts`` in order; without a match the first meeting of the most
    recent non-empty result is used, unless ``strict`` (then None, so the caller looks it up).
    """
    merged: list[dict[str, Any]] = []
    seen: set[str] = set()
    latest: list[dict[str, Any]] = []
    for meetings in reversed(context.all_meeting_lists):
        if meetings and not latest:
            latest = meetings
        for meeting in meetings:
            key = str(meeting.get("id"))
            if key not in seen:
                seen.add(key)
                merged.append(meeting)
    for text in texts:
        match = _title_match(merged, text)
        if match is not None:
            return match
    if strict or not latest:
        return None
    return latest[0]


_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "their",
        "them",
        "this",
        "to",
        "we",
        "what",
        "which",
        "who",
        "why",
        "with",
        "you",
        "your",
        "want",
        "need",
    ]
)


def _best_question(previous_answer: str, user_text: str, meeting_title: str = "") -> str | None:
    """The prep question the user is answering: the one sharing most words with the answer, else the last.

    Words of the meeting's title do not count (every question may name the meeting).
    """
    questions = [re.sub(r"^[\s\-*\d.)>]+", "", q).strip() for q in re.findall(r"([^\n?]*\?)", previous_answer)]
    questions = [q for q in questions if q]
    if not questions:
        return None
    ignored = _STOP_WORDS | set(re.findall(r"[a-z]+", meeting_title.lower()))
    said = {w for w in re.findall(r"[a-z]+", user_text.lower()) if w not in ignored}
    best, best_score = questions[-1], 0
    for question in questions:
        score = len(said & set(re.findall(r"[a-z]+", question.lower())))
        if score > best_score:
            best, best_score = question, score
    return best


def _save_response(user_text: str) -> str:
    stripped = _SAVE_PREFIX.sub("", user_text, count=1).strip()
    return stripped or user_text.strip()


def _prep_meeting_title(previous_answer: str) -> str:
    match = re.search(re.escape(PREP_QUESTIONS_HEADING) + r"\s+(.+?):?\*{0,2}\s*$", previous_answer, re.M)
    return match.group(1).strip(" *:") if match else ""


def _plan_tool_calls(context: _Context) -> list[_ToolCall]:
    """Tool calls still needed this turn; empty when it is time to answer."""
    if context.rounds >= MAX_TOOL_ROUNDS or not context.user_text:
        return []
    intents = _detect_intents(context)
    done = {outcome.name for outcome in context.turn_outcomes}
    calls: list[_ToolCall] = []

    def want(name: str, tool_input: dict[str, Any]) -> None:
        if name in context.available and name not in done and all(c.name != name for c in calls):
            calls.append(_ToolCall(name, tool_input))

    def meetings_call() -> dict[str, Any]:
        tool_input: dict[str, Any] = {"days_ahead": _days_ahead(context.user_text)}
        query = _meeting_query(context.user_text)
        if query:
            tool_input["query"] = query
        return tool_input

    if intents.meetings:
        want(MEETINGS_TOOL, meetings_call())
    if intents.agenda and AGENDA_TOOL in context.available:
        named = _meeting_query(context.user_text) is not None
        meeting = _known_meeting(context, context.user_text, strict=named and MEETINGS_TOOL not in done)
        if meeting is not None and meeting.get("id"):
            agenda_input: dict[str, Any] = {"meeting_id": str(meeting["id"])}
            want(AGENDA_TOOL, agenda_input)
        elif MEETINGS_TOOL not in done:
            want(MEETINGS_TOOL, meetings_call())
    if intents.save and SAVE_TOOL in context.available:
        prep_title = _prep_meeting_title(context.previous_answer)
        meeting = _known_meeting(context, context.user_text, prep_title)
        if meeting is not None and meeting.get("id"):
            question = (
                _best_question(context.previous_answer, context.user_text, prep_title)
                if _asked_prep_question(context.previous_answer)
                else None
            )
            topic = _topic_from_question(question) if question else "general prep note"
            save_input = {
                "meeting_id": str(meeting["id"]),
                "topic": topic,
                "response": _save_response(context.user_text),
            }
            want(SAVE_TOOL, save_input)
        elif MEETINGS_TOOL not in done:
            want(MEETINGS_TOOL, meetings_call())
    if intents.budget:
        budget_input: dict[str, Any] = {}
        area = _AREA_AFTER.search(context.user_text)
        if area:
            area_text = re.split(r"\s+(?:and|or|with|vs|versus|this|next|last)\b", area.group(1).strip(), maxsplit=1)[0]
            budget_input["area"] = _TRAILING_FILLER.sub("", area_text).strip()
        want(BUDGET_TOOL, budget_input)
    if intents.rocks:
        want(ROCKS_TOOL, {})
    return calls


def _topic_from_question(question: str) -> str:
    topic = question.rstrip("?").strip()
    return topic[:120] if len(topic) <= 120 else topic[:117].rstrip() + "..."


def _lead_text(calls: list[_ToolCall]) -> str:
    phrases = {
        MEETINGS_TOOL: "checking your calendar",
        AGENDA_TOOL: "drafting the agenda",
        SAVE_TOOL: "saving your prep note",
        BUDGET_TOOL: "pulling the budget context",
        ROCKS_TOOL: "checking the big rocks",
    }
    parts = [phrases.get(call.name, f"calling {call.name}") for call in calls]
    sentence = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return sentence[0].upper() + sentence[1:] + "..."


# --- composing the answer -------------------------------------------------------------------


def _format_time_range(meeting: dict[str, Any]) -> str:
    start_raw, end_raw = str(meeting.get("start", "")), str(meeting.get("end", ""))
    try:
        start = datetime.fromisoformat(start_raw)
    except ValueError:
        return start_raw
    text = start.strftime("%a %d %b, %H:%M")
    try:
        end = datetime.fromisoformat(end_raw)
        text += "-" + end.strftime("%H:%M")
    except ValueError:
        pass
    minutes = meeting.get("duration_minutes")
    if minutes:
        text += f" ({minutes} min)"
    return text


def _meeting_line(meeting: dict[str, Any]) -> str:
    line = f"- **{meeting.get('title', 'Untitled meeting')}** - {_format_time_range(meeting)}"
    extras = [str(meeting[key]) for key in ("type", "location") if meeting.get(key)]
    attendees = meeting.get("attendees")
    if isinstance(attendees, list) and attendees:
        extras.append(f"{len(attendees)} attendee{'s' if len(attendees) != 1 else ''}")
    if extras:
        line += " · " + " · ".join(extras)
    return line


def _prep_questions(meeting: dict[str, Any]) -> list[str]:
    title = str(meeting.get("title", "this meeting"))
    kind = str(meeting.get("type", "")).lower()
    attendees = meeting.get("attendees")
    first = f"What is the one outcome you need from {title}?"
    if "customer" in kind or "client" in kind or "qbr" in title.lower():
        second = "Which risks or open issues with the customer do you want to raise?"
    elif "board" in kind or "board" in title.lower():
        second = "Which numbers do you expect the board to challenge?"
    elif "1:1" in title or "one-on-one" in kind:
        second = "What feedback or support do you want to give?"
    elif isinstance(attendees, list) and attendees:
        second = f"Is there anything you need from {_attendee(attendees[0]).split(' (')[0]} before the meeting?"
    else:
        second = "Which decision should this meeting end with?"
    return [first, second]


def _label(item: dict[str, Any]) -> str:
    for key in ("name", "title", "area", "initiative", "category", "label"):
        if item.get(key):
            return str(item[key])
    return ""


_HIDDEN_KEYS = frozenset({"id", "currency", "url", "source"})


def _scalar(value: str | int | float) -> str:
    if isinstance(value, float) and abs(value) >= 1000:
        return f"{value:,.0f}"
    if isinstance(value, int) and abs(value) >= 10000:
        return f"{value:,}"
    return str(value)


def _render_generic(data: dict[str, Any], limit: int = 6) -> list[str]:
    """Bullet lines for the list-valued fields of a tool result (budget, big rocks)."""
    lines: list[str] = []
    for key, value in data.items():
        if key == "summary" or not isinstance(value, list) or not value:
            continue
        heading = key.replace("_", " ").capitalize()
        lines.append(f"\n**{heading}**")
        for item in value[:limit]:
            if isinstance(item, dict):
                label = _label(item)
                details = [
                    f"{k.replace('_', ' ')}: {_scalar(v)}"
                    for k, v in item.items()
                    if isinstance(v, (str, int, float))
                    and not isinstance(v, bool)
                    and str(v) != label
                    and k not in _HIDDEN_KEYS
                    and not k.endswith("_id")
                ][:4]
                lines.append(f"- **{label}** - " + "; ".join(details) if label else "- " + "; ".join(details))
            else:
                lines.append(f"- {item}")
        if len(value) > limit:
            lines.append(f"- ...and {len(value) - limit} more")
    return lines


def _compose_answer(context: _Context) -> str:
    intents = _detect_intents(context)
    if not context.turn_outcomes:
        if not intents.any:
            return _HELP_TEXT
        return "I couldn't find the tools I need for that right now. " + _HELP_TEXT

    sections: list[str] = []
    focus: dict[str, Any] | None = None
    for outcome in context.turn_outcomes:
        if not outcome.ok or outcome.data is None:
            reason = outcome.text.strip() or "no details"
            sections.append(f"I couldn't get that from `{outcome.name or 'a tool'}`: {reason}")
            continue
        data = outcome.data
        summary = str(data.get("summary", "")).strip()
        if outcome.name == MEETINGS_TOOL:
            meetings = [m for m in data.get("meetings") or [] if isinstance(m, dict)]
            if not meetings:
                sections.append(summary or "You have no meetings in that period.")
                continue
            if intents.agenda or intents.save:
                continue  # the agenda / saved note is the answer; the list was only a lookup
            query = outcome.input.get("query")
            if query or "prep" in context.user_text.lower():
                focus = _best_meeting(meetings, str(query or context.user_text))
                if focus is None or not (query or len(meetings) == 1):
                    focus = None
            if focus is None or len(meetings) > 1:
                lines = [summary or f"You have {len(meetings)} upcoming meetings:", ""]
                lines += [_meeting_line(m) for m in meetings]
                sections.append("\n".join(lines))
            if focus is not None:
                sections.append(_meeting_details(focus))
        elif outcome.name == AGENDA_TOOL:
            markdown = str(data.get("markdown", "")).strip()
            meeting = data.get("meeting") if isinstance(data.get("meeting"), dict) else None
            if not markdown:
                items = [i for i in data.get("items") or [] if isinstance(i, dict)]
                markdown = "\n".join(
                    f"- {i.get('start', '')}-{i.get('end', '')} **{i.get('title', '')}**"
                    + (f" ({i['owner']})" if i.get("owner") else "")
                    for i in items
                )
            sections.append("\n\n".join(part for part in (summary, markdown) if part))
            if meeting is not None:
                focus = meeting
        elif outcome.name == SAVE_TOOL:
            total = data.get("total_notes_for_meeting")
            text = summary or "Saved your prep note."
            if text[-1:] not in ".!?":
                text += "."
            if isinstance(total, int):
                text += f" You now have {total} prep note{'s' if total != 1 else ''} for this meeting."
            sections.append(text)
        else:
            title = "**Budget context**" if outcome.name == BUDGET_TOOL else "**Big rocks status**"
            if outcome.name not in (BUDGET_TOOL, ROCKS_TOOL):
                title = f"**{outcome.name}**"
            sections.append("\n".join([title, "", summary or "No summary available.", *_render_generic(data)]))

    if focus is not None:
        questions = _prep_questions(focus)
        sections.append(
            f"**{PREP_QUESTIONS_HEADING} {focus.get('title', 'this meeting')}:**\n\n"
            + "\n".join(f"{i}. {q}" for i, q in enumerate(questions, start=1))
        )
    return "\n\n".join(section.strip() for section in sections if section.strip())


def _attendee(attendee: Any) -> str:
    if not isinstance(attendee, dict):
        return str(attendee)
    name = str(attendee.get("name") or attendee.get("email") or "someone")
    extras = [str(attendee[key]) for key in ("role", "org") if attendee.get(key)]
    return f"{name} ({', '.join(extras)})" if extras else name


def _meeting_details(meeting: dict[str, Any]) -> str:
    lines = [f"**{meeting.get('title', 'This meeting')}** - {_format_time_range(meeting)}"]
    attendees = meeting.get("attendees")
    if isinstance(attendees, list) and attendees:
        lines.append("- Attendees: " + ", ".join(_attendee(a) for a in attendees))
    if meeting.get("location"):
        lines.append(f"- Location: {meeting['location']}")
    if meeting.get("description"):
        lines.append(f"- About: {meeting['description']}")
    return "\n".join(lines)


# --- usage estimate -----------------------------------------------------------------------------


def _estimate_input_tokens(
    messages: Messages,
    tool_specs: list[ToolSpec] | None,
    system_prompt: str | None,
    system_prompt_content: list[SystemContentBlock] | None,
) -> int:
    chars = 0
    if system_prompt_content:
        chars += sum(len(block.get("text", "")) for block in system_prompt_content)
    elif system_prompt:
        chars += len(system_prompt)
    for message in messages:
        for block in message.get("content", []):
            if "text" in block:
                chars += len(block["text"])
            if "toolUse" in block:
                chars += len(block["toolUse"].get("name", "")) + len(json.dumps(block["toolUse"].get("input", {})))
            if "toolResult" in block:
                chars += len(_result_text(dict(block["toolResult"])))
    if tool_specs:
        chars += len(json.dumps(tool_specs, sort_keys=True, default=str))
    return max(1, math.ceil(chars / 4))
