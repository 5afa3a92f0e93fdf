"""Deciding what to do: the intents in the user's text and the tool calls still needed this turn.

The rules are listed in the package docstring (:mod:`assistant.models.offline`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from assistant.inputs import fold_for_search
from assistant.models.offline.days import (
    COUNT_WORDS,
    DATE_WORDS,
    MONTH_WORDS,
    WEEKDAYS,
    named_date,
    named_month,
    this_week,
    without_days,
)
from assistant.models.offline.names import (
    AGENDA_TOOL,
    BUDGET_TOOL,
    MEETINGS_TOOL,
    PREP_QUESTIONS_HEADING,
    ROCKS_TOOL,
    SAVE_TOOL,
)
from assistant.models.offline.reading import Context

MAX_TOOL_ROUNDS = 3

WEEKDAY_WORDS = re.compile(rf"\b({'|'.join(WEEKDAYS)})\b")
# A meeting named by its kind is about the calendar too: "What should I push for in my 1:1 with Dana?"
# and "Who is attending the Globex QBR?" were answered with the help text.
_MEETING_WORDS = re.compile(
    rf"\b(meetings?|calendar|schedule|week|upcoming|prepare|prep|today|tomorrow|{'|'.join(WEEKDAYS)}"
    r"|1:1s?|one[- ]on[- ]ones?|qbrs?|syncs?|all[- ]hands|interviews?|offsites?|standups?)\b"
)
# Who comes to a meeting is a calendar question whatever its title ("Who is coming to the
# quarterly review?" was answered with the help text: no word of it named a meeting).
_WHO_ATTENDS = re.compile(r"\bwho(?:'s|\s+is|\s+are|\s+will\s+be)?\s+(?:coming|going|invited|attending|joining)\b")
_AGENDA_WORDS = re.compile(r"\bagendas?\b")
_BUDGET_WORDS = re.compile(r"\b(budgets?|spend|spending|costs?|forecasts?)\b")
# "How much do my meetings cost?", "what does my calendar cost this week": people's time, which the
# meetings tool prices; not the budget (named as such, the budget is asked for too)
_MEETING_NOUNS = re.compile(r"\b(meetings?|calendar|schedule|calls?)\b")
_COST_WORDS = re.compile(r"\b(costs?|costing|how much|expensive|spend|spending|spent)\b")
_BUDGET_NAMED = re.compile(r"\b(budgets?|forecasts?)\b")
_ROCKS_WORDS = re.compile(r"\b(big rocks?|priorit\w*|initiatives?|okrs?|strategy|strategic)\b")
_QUERY_AFTER = re.compile(
    r"\b(?:for|about|with|before|(?:coming|going|invited)\s+to|attending|joining)\s+"
    r"(?:the\s+|my\s+|our\s+|a\s+|an\s+)?((?:[^?.!,;:\n]|:(?=\S))+)",
    re.I,
)
_AREA_AFTER = re.compile(
    r"\b(?:budgets?|spend|spending|costs?|forecasts?)\s+(?:for|of|in|on)\s+(?:the\s+|our\s+)?([a-z][\w &-]{1,40})", re.I
)
# A save is asked for by a message that starts with the command ("Save my prep: ...", "Note for
# the Acme QBR: ...", "Can you remember that ...", "Add a prep note: ...", "My answer: ..."); a
# question that only mentions notes ("What notes have I saved for the QBR?", "Do you remember
# ...?") was saved as a note. The same pattern is what the note's text starts after; a meeting named
# before a colon ("for my 1:1 with Dana:", "about the board prep:") is the command's, not the note's.
_SAVE_PREFIX = re.compile(
    r"^\s*(?:please\s+|(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
    r"(?:(?:save|note|remember)(?:\s+(?:this|that|a|my))?(?:\s+prep)?(?:\s+(?:note|answer))?"
    r"|(?:add|write|make|take)\s+(?:a\s+)?(?:prep\s+)?note"
    r"|(?:here(?:'s|\s+is)\s+)?my\s+(?:prep\s+)?answer(?:\s+is)?)\b"
    r"(?:\s+(?:that|for\s+the\s+(?:[^:]|:(?=\S))+|(?:for|about|on)\s+(?:my\s+|our\s+|an?\s+)?"
    r"(?:[^:\n]|:(?=\S)){1,80}(?=:(?:\s|$))))?\s*[:,-]?\s*",
    re.I,
)
_NEXT_QUESTION = re.compile(r"\s+and\s+(?:what|who|how|when|where|why|which|should|do|does|is|are)\b", re.I)
_TRAILING_FILLER = re.compile(r"(?:\s+(?:meetings?|call|session|this week|next week|today|tomorrow))+\s*$", re.I)

# "What did I note for the QBR?", "Show my notes for the board prep", "What notes have I saved ...":
# the saved notes read back (the agenda tool returns them), never a save.
_RECALL_WORDS = re.compile(
    r"\b(?:did|have|had)\s+i\s+(?:note|noted|save|saved|write|wrote|jot|jotted)\b"
    r"|\bmy\s+(?:prep\s+)?notes\b|\bnotes?\s+(?:i|have\s+i|did\s+i)\b"
)
_PREP_WORDS = re.compile(r"\b(prep|prepare|preparing|ready)\b")
_SOONEST = re.compile(r"\b(?:next|upcoming|first|soonest|coming)\s+(?:meeting|call|one)\b")


def refers_to_soonest(lowered: str) -> bool:
    """Whether the text names "my next meeting" rather than a meeting by its title."""
    return bool(_SOONEST.search(lowered))


# Words that never tell one meeting or prep question from another.
_STOP_WORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by do does for from how i in is it me my "
        "of on or our the their them this to we what which who why with you your want need",
    )
)


@dataclass
class ToolCall:
    """A tool call the model will make.

    Attributes:
        name: Tool name.
        input: Its input.
    """

    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Intents:
    """What the user's latest text asks for; several may be true at once."""

    meetings: bool
    agenda: bool
    save: bool
    budget: bool
    rocks: bool
    meeting_cost: bool = False
    recall: bool = False  # the saved notes read back: the agenda tool is called for them

    @property
    def any(self) -> bool:
        """True when at least one intent was recognised."""
        return self.meetings or self.agenda or self.save or self.budget or self.rocks


_ACKNOWLEDGEMENT = re.compile(
    r"(?:(?:ok(?:ay)?|thanks?|thank you|thx|ty|cheers|great|cool|nice|perfect|awesome|got it|sounds good|"
    r"noted|will do|hi|hello|bye|so much|very much|a lot)\b|[\s!.,;:)(-]|[\U0001F300-\U0001FAFF\u2600-\u27BF])+"
)
"""A reply that only thanks or acknowledges ("thanks", "ok, great", "👍"): no answer to a prep question."""


def _asked_prep_question(previous_answer: str) -> bool:
    return PREP_QUESTIONS_HEADING in previous_answer and "?" in previous_answer


def detect_intents(context: Context) -> Intents:
    """The intents of the latest user text (a reply to the model's prep questions counts as "save").

    Args:
        context: The conversation as read for this call.

    Returns:
        The recognised intents.
    """
    lowered = context.user_text.lower()
    # "help me prepare for my next meeting": the soonest meeting's agenda and prep questions
    agenda = bool(_AGENDA_WORDS.search(lowered)) or (bool(_PREP_WORDS.search(lowered)) and refers_to_soonest(lowered))
    budget = bool(_BUDGET_WORDS.search(lowered))
    rocks = bool(_ROCKS_WORDS.search(lowered))
    save = bool(_SAVE_PREFIX.match(lowered))
    recall = bool(_RECALL_WORDS.search(lowered)) and not save
    agenda = agenda or recall
    calendar_words = _MEETING_WORDS.search(lowered) or DATE_WORDS.search(lowered) or _WHO_ATTENDS.search(lowered)
    calendar_words = calendar_words or MONTH_WORDS.search(lowered)
    meetings = bool(calendar_words) and not agenda and not save
    meeting_cost = bool(_MEETING_NOUNS.search(lowered) and _COST_WORDS.search(lowered)) and not agenda and not save
    if meeting_cost:
        meetings = True
        budget = bool(_BUDGET_NAMED.search(lowered))
    if (
        not (agenda or budget or rocks or save or meetings)
        and lowered
        and not lowered.rstrip().endswith("?")
        and not _ACKNOWLEDGEMENT.fullmatch(lowered.strip())
        and _asked_prep_question(context.previous_answer)
    ):
        save = True
    return Intents(
        meetings=meetings,
        agenda=agenda,
        save=save,
        budget=budget,
        rocks=rocks,
        meeting_cost=meeting_cost,
        recall=recall,
    )


def _words(text: str) -> set[str]:
    """The words that tell meetings apart, in any script, case and accents ignored ("会议", "reunion")."""
    words = re.findall(r"[^\W_]+", fold_for_search(text))
    return {w for w in words if w not in _STOP_WORDS and (len(w) > 1 or not w.isascii())}


def _meeting_query(user_text: str) -> str | None:
    if refers_to_soonest(user_text.lower()):
        return None  # "my next meeting": the soonest one, not a title search
    match = _QUERY_AFTER.search(user_text)
    if not match:
        return None
    # "prep me for tomorrow", "Monday's board call": a day says when, not which meeting
    query = _NEXT_QUESTION.split(match.group(1), maxsplit=1)[0]  # "the board prep and what do they care about"
    counted = " " if COUNT_WORDS.search(query) else ""  # "the top 3 meetings": how many, not which
    query = _TRAILING_FILLER.sub("", counted + without_days(COUNT_WORDS.sub(" ", query))).strip()
    if not _words(query):
        return None
    # the tool finds meetings holding every word: "1:1 with Dana" found none ("with" is in no title)
    return " ".join(w for w in query.split() if w.lower() not in _STOP_WORDS)[:80]


def _days_ahead(user_text: str, named: bool = False, today: date | None = None) -> int:
    """Days to list: the period the text names, else a week (a month when a meeting is named)."""
    lowered = user_text.lower()
    today = today or date.today()  # without the prompt's date, the server's: a day off at most
    asked = named_date(lowered, today)
    if asked is not None:
        return max(1, min(60, (asked - today).days + 2))
    month = named_month(lowered, today)  # "meetings in January": to its last day
    if month is not None:
        return max(1, min(60, (month[1] - today).days + 1))
    if "today" in lowered:
        return 1
    if "tomorrow" in lowered:
        return 2
    if "next week" in lowered:
        return 14
    if "this week" in lowered:  # to its Sunday (a weekend's: the coming week's)
        return (this_week(today)[1] - today).days + 1
    if "month" in lowered:
        return 30
    if "week" in lowered:
        return 7
    return 30 if named else 7  # "prepare me for the board meeting": wherever it is in the next month


def _title_match(meetings: list[dict[str, Any]], text: str) -> dict[str, Any] | None:
    """The meeting whose title shares most words with ``text``, or None. Of meetings that tie (a
    weekly standup), the one on the weekday ``text`` names, else the earliest."""
    wanted = _words(text)
    if not wanted or not meetings:
        return None
    scored = [(len(wanted & _words(str(m.get("title", "")))), m) for m in meetings]
    top = max(score for score, _m in scored)
    if top == 0:
        return None
    tied = [m for score, m in scored if score == top]
    days = WEEKDAY_WORDS.findall(text.lower())
    on_day = [m for m in tied if days and _weekday(m) == WEEKDAYS.index(days[-1])]
    return (on_day or tied)[0]


def _weekday(meeting: dict[str, Any]) -> int | None:
    """The weekday (Monday 0) of the meeting's start, on its own clock."""
    try:
        return datetime.fromisoformat(str(meeting.get("start", ""))).weekday()
    except ValueError:
        return None


def best_meeting(meetings: list[dict[str, Any]], *texts: str) -> dict[str, Any] | None:
    """The meeting whose title best matches the first text that matches any, else the first meeting."""
    for text in texts:
        match = _title_match(meetings, text)
        if match is not None:
            return match
    return meetings[0] if meetings else None


def _known_meeting(context: Context, *texts: str, strict: bool = False) -> dict[str, Any] | None:
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


def _best_question(previous_answer: str, user_text: str, meeting_title: str = "") -> str | None:
    """The prep question the user is answering: the one sharing most words with the answer, else the
    last one for a reply, and none for a note saved by command ("Save a note: push for a 2-year
    renewal" was filed, and shown in the materials, as the answer to "Which risks ... raise").

    Words of the meeting's title do not count (every question may name the meeting).
    """
    questions = [re.sub(r"^[\s\-*\d.)>]+", "", q).strip() for q in re.findall(r"([^\n?]*\?)", previous_answer)]
    questions = [q for q in questions if q]
    if not questions:
        return None
    ignored = _STOP_WORDS | set(re.findall(r"[a-z]+", meeting_title.lower()))
    said = {w for w in re.findall(r"[a-z]+", user_text.lower()) if w not in ignored}
    best: str | None = None if _SAVE_PREFIX.match(user_text) else questions[-1]
    best_score = 0
    for question in questions:
        score = len(said & set(re.findall(r"[a-z]+", question.lower())))
        if score > best_score:
            best, best_score = question, score
    return best


def note_text(user_text: str) -> str:
    """What a "save a note" message asks to save: the text after the command ("" when nothing
    follows it: "Save a note:" alone was saved as the note "Save a note:")."""
    return _SAVE_PREFIX.sub("", user_text, count=1).strip()


def save_command(user_text: str) -> str:
    """The command part of a save message ("Save a note for the board meeting: "), before the note."""
    match = _SAVE_PREFIX.match(user_text)
    return match.group(0) if match else ""


def _prep_meeting_title(previous_answer: str) -> str:
    match = re.search(re.escape(PREP_QUESTIONS_HEADING) + r"\s+(.+?):?\*{0,2}\s*$", previous_answer, re.M)
    return re.sub(r"\\(.)", r"\1", match.group(1)).strip(" *:") if match else ""  # the title quoted literal


def plan_tool_calls(context: Context) -> list[ToolCall]:
    """Tool calls still needed this turn; empty when it is time to answer.

    Args:
        context: The conversation as read for this call.

    Returns:
        At most one call per tool offered and not yet called this turn; none after
        :data:`MAX_TOOL_ROUNDS` rounds or without user text.
    """
    if context.rounds >= MAX_TOOL_ROUNDS or not context.user_text:
        return []
    intents = detect_intents(context)
    done = {outcome.name for outcome in context.turn_outcomes}
    calls: list[ToolCall] = []

    def want(name: str, tool_input: dict[str, Any]) -> None:
        if name in context.available and name not in done and all(c.name != name for c in calls):
            calls.append(ToolCall(name, tool_input))

    saving = intents.save and bool(note_text(context.user_text))

    def meetings_call() -> dict[str, Any]:
        # A note names its meeting in the command ("Note for the Acme QBR: ..."), or anywhere in its
        # text, matched against the listed titles: "Remember that the Acme QBR must end with the
        # renewal signed" searched the meetings for "renewal signed" and saved nothing.
        query = _meeting_query(save_command(context.user_text) if saving else context.user_text)
        named = query is not None or saving
        # a day in the note ("... signed by Friday") is the note's, not a day asked about
        asked = save_command(context.user_text) if saving else context.user_text
        tool_input: dict[str, Any] = {"days_ahead": _days_ahead(asked, named=named, today=context.today)}
        if query:
            tool_input["query"] = query
        return tool_input

    if intents.meetings:
        want(MEETINGS_TOOL, meetings_call())
    if intents.agenda and AGENDA_TOOL in context.available:
        named = _meeting_query(context.user_text) is not None
        if refers_to_soonest(context.user_text.lower()) and not named:
            meeting = _known_meeting(context, strict=MEETINGS_TOOL not in done)  # the soonest listed
        else:
            meeting = _known_meeting(context, context.user_text, strict=named and MEETINGS_TOOL not in done)
        if meeting is not None and meeting.get("id"):
            agenda_input: dict[str, Any] = {"meeting_id": str(meeting["id"])}
            want(AGENDA_TOOL, agenda_input)
        elif MEETINGS_TOOL not in done:
            want(MEETINGS_TOOL, meetings_call())
    if intents.save and SAVE_TOOL in context.available and note_text(context.user_text):
        prep_title = _prep_meeting_title(context.previous_answer)
        meeting = _note_meeting(context, prep_title)
        if meeting is not None and meeting.get("id"):
            question = (
                _best_question(context.previous_answer, context.user_text, prep_title)
                if _asked_prep_question(context.previous_answer) and meeting.get("title") == prep_title
                else None
            )
            topic = _topic_from_question(question) if question else "general prep note"
            save_input = {
                "meeting_id": str(meeting["id"]),
                "topic": topic,
                "response": note_text(context.user_text),
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


def _note_meeting(context: Context, prep_title: str) -> dict[str, Any] | None:
    """The meeting a note is for: the one its command names ("Save a note for the Globex QBR: ..."),
    looked up when no listing holds it yet; else the one its text names, else the one just prepared.

    A named meeting missing from the listings went to the meeting of the previous answer's prep
    questions: a note for the Globex QBR was saved on the leadership sync prepared just before.
    """
    named = _meeting_query(save_command(context.user_text))
    if named is None:
        return _known_meeting(context, context.user_text, prep_title)
    meeting = _known_meeting(context, named, strict=True)
    if meeting is not None:
        return meeting
    searched = [o.data for o in context.turn_outcomes if o.name == MEETINGS_TOOL and o.data]
    found = [m for data in searched for m in data.get("meetings") or [] if isinstance(m, dict)]
    return found[0] if found else None  # matched on its attendees or description; none: nothing saved


def _topic_from_question(question: str) -> str:
    topic = question.rstrip("?").strip()
    return topic[:120] if len(topic) <= 120 else topic[:117].rstrip() + "..."


def lead_text(calls: list[ToolCall], recall: bool = False) -> str:
    """The short sentence streamed before tool calls ("Checking your calendar...").

    Args:
        calls: The tool calls about to be made (at least one).
        recall: The agenda tool is called for the saved notes only ("What did I note for the QBR?"
            read "Drafting the agenda...", and no agenda came).

    Returns:
        The sentence.
    """
    phrases = {
        MEETINGS_TOOL: "checking your calendar",
        AGENDA_TOOL: "reading your prep notes" if recall else "drafting the agenda",
        SAVE_TOOL: "saving your prep note",
        BUDGET_TOOL: "pulling the budget context",
        ROCKS_TOOL: "checking the big rocks",
    }
    parts = [phrases.get(call.name, f"calling {call.name}") for call in calls]
    sentence = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return sentence[0].upper() + sentence[1:] + "..."
