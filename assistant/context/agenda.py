"""Agenda builder: timed items from the meeting, saved prep notes, budget and big rocks.

The agenda is deterministic: item minutes always sum exactly to the requested duration,
items are placed on the meeting's clock (``14:00-14:05``), and every item has an owner
and a purpose. At-risk rocks and flagged budget areas become discussion items; saved
prep notes become the executive's own talking points.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from pydantic import BaseModel

from assistant.context.big_rocks import BigRock
from assistant.context.budget import BudgetStatus
from assistant.context.meetings import Attendee, Meeting
from assistant.context.prep_notes import PrepResponse
from assistant.dates import long_day
from assistant.markdown_text import literal

logger = logging.getLogger(__name__)

MIN_DURATION = 5  # a five-minute stand-up has an agenda too: one minute per core item
MAX_DURATION = 480
_MAX_PREP_ITEMS = 3
_MAX_ROCK_ITEMS = 2
_MAX_BUDGET_ITEMS = 2
_NOTE_CHARS = 400


class AgendaItem(BaseModel):
    """One timed agenda item."""

    start: str
    end: str
    minutes: int
    title: str
    owner: str
    purpose: str
    notes: str


class Agenda(BaseModel):
    """A full agenda for one meeting."""

    meeting: Meeting
    duration_minutes: int
    items: list[AgendaItem]
    prep_notes_used: int
    rocks_discussed: list[str]
    budget_areas_discussed: list[str]
    warnings: list[str]
    markdown: str

    def summary(self) -> str:
        """One sentence describing the agenda."""
        extras = []
        if self.prep_notes_used:
            extras.append(f"{self.prep_notes_used} saved prep note{'s' if self.prep_notes_used != 1 else ''}")
        if self.rocks_discussed:
            n = len(self.rocks_discussed)
            extras.append(f"{n} initiative{'s' if n != 1 else ''} needing attention")
        if self.budget_areas_discussed:
            n = len(self.budget_areas_discussed)
            extras.append(f"{n} budget variance{'s' if n != 1 else ''}")
        tail = f"; includes {', '.join(extras)}" if extras else ""
        return f"Agenda for {self.meeting.title} ({self.duration_minutes} min, {len(self.items)} items{tail})"


@dataclass
class _Draft:
    title: str
    owner: str
    purpose: str
    notes: str
    weight: float


# Core items per meeting type: (title, owner key, purpose, weight). Owner keys are
# resolved against the attendees by _owner().
_CORE: dict[str, list[tuple[str, str, str, float]]] = {
    "leadership": [
        ("Metrics & wins round-robin", "all", "Share the week's numbers and wins in two minutes each", 2.0),
        ("Cross-team blockers", "all", "Surface blockers that need another team or a decision", 2.0),
    ],
    "1:1": [
        ("Their topics first", "other", "Give them the floor on what matters most to them", 2.0),
        ("Feedback & support needed", "you", "Trade feedback and agree on how you can help", 1.0),
    ],
    "board": [
        ("Financials & board pack walkthrough", "finance", "Pressure-test the numbers the board will see", 3.0),
        ("Strategic narrative", "you", "Rehearse the story: progress, setbacks, asks", 2.0),
        ("Anticipated board questions", "all", "Prepare crisp answers to the hardest questions", 2.0),
    ],
    "customer": [
        ("Customer priorities & feedback", "external", "Hear their goals and concerns before we present", 3.0),
        ("Value delivered & open escalations", "success", "Show outcomes and own the open issues", 2.0),
        ("Roadmap preview", "you", "Connect the roadmap to their priorities", 2.0),
    ],
    "budget review": [
        ("Spend vs plan by department", "finance", "Walk through actuals and forecast against plan", 3.0),
        ("Reallocation proposals", "you", "Decide where money moves and why", 2.0),
    ],
    "hiring": [
        ("Pipeline review by role", "talent", "See where each open role stands", 3.0),
        ("Go/no-go on finalists", "you", "Make the hiring decisions that are ready", 2.0),
    ],
    "strategy": [
        ("Proposal presentation", "other", "Understand the proposal and its assumptions", 3.0),
        ("Trade-offs & decision", "you", "Weigh the options and decide", 2.0),
    ],
}
_CORE_DEFAULT: list[tuple[str, str, str, float]] = [
    ("Main discussion", "all", "Work through the topics this meeting was called for", 3.0),
]
_TYPE_ALIASES = {
    "one_on_one": "1:1",
    "one-on-one": "1:1",
    "1on1": "1:1",
    "qbr": "customer",
    "budget_review": "budget review",
    "budget": "budget review",
    "board prep": "board",
    "leadership sync": "leadership",
}
_OWNER_ROLES = {
    "finance": re.compile(r"\b(cfo|finance|fp&a|controller)\b", re.IGNORECASE),
    "talent": re.compile(r"\b(talent|people|recruit\w*|hr)\b", re.IGNORECASE),
    "success": re.compile(r"customer success|\bcsm\b|account", re.IGNORECASE),
}


def _core_items(meeting_type: str) -> list[tuple[str, str, str, float]]:
    key = meeting_type.strip().lower()
    key = _TYPE_ALIASES.get(key, key)
    return _CORE.get(key, _CORE_DEFAULT)


def _person(a: Attendee) -> str:
    return f"{a.name} ({a.org})" if a.org else a.name


def attendee_text(a: Attendee, *notes: str) -> str:
    """``Dana Brooks (SVP Operations, Acme Corp)``, with any ``notes`` ("tentative") in the brackets:
    how the agenda and the Materials write a person."""
    details = [part for part in (a.role, a.org, *notes) if part]
    return f"{a.name} ({', '.join(details)})" if details else a.name


def _owner(key: str, attendees: list[Attendee]) -> str:
    if key == "you" or not attendees:
        return "You"
    if key == "all":
        return "All"
    if key == "other":
        return _person(attendees[0])
    if key == "external":
        external = [a for a in attendees if a.org]
        return _person(external[0]) if external else "All"
    pattern = _OWNER_ROLES.get(key)
    if pattern is not None:
        for a in attendees:
            if pattern.search(a.role):
                return _person(a)
    return "You"


def _clip(text: str, limit: int = _NOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return _clip(match.group(1) if match else text, 200)


def _prep_drafts(notes: list[PrepResponse]) -> list[_Draft]:
    drafts = [
        _Draft(f"Your point: {n.topic}", "You", "Raise what you prepared for this meeting", _clip(n.response), 1.5)
        for n in notes[: _MAX_PREP_ITEMS - 1 if len(notes) > _MAX_PREP_ITEMS else _MAX_PREP_ITEMS]
    ]
    if len(notes) > _MAX_PREP_ITEMS:
        rest = notes[_MAX_PREP_ITEMS - 1 :]
        joined = " | ".join(f"{n.topic}: {_clip(n.response, 150)}" for n in rest)
        drafts.append(_Draft("Your other talking points", "You", "Cover the rest of your prep notes", joined, 2.0))
    return drafts


def _rock_notes(rock: BigRock) -> str:
    parts = [f"{rock.status.replace('_', ' ').capitalize()}, {rock.progress_pct}% complete"]
    nxt = rock.next_milestone()
    if nxt is not None:
        when = "overdue since" if nxt.overdue else "due"
        parts.append(f"Next milestone '{nxt.name}' {when} {nxt.due.day} {nxt.due:%b %Y}")
    if rock.risks:
        parts.append("Risks: " + "; ".join(rock.risks))
    return _clip(". ".join(parts))


def _rock_drafts(rocks: list[BigRock]) -> list[_Draft]:
    flagged = [r for r in rocks if r.needs_attention]
    flagged.sort(key=lambda r: (r.status != "off_track", r.status != "at_risk"))
    label = {"off_track": "off track", "at_risk": "at risk", "on_track": "slipping milestone"}
    drafts = [
        _Draft(
            f"Big rock {label[r.status]}: {r.name}",
            r.owner or "You",
            "Agree on the recovery plan, the owner and the date",
            _rock_notes(r),
            2.0,
        )
        for r in flagged[:_MAX_ROCK_ITEMS]
    ]
    rest = flagged[_MAX_ROCK_ITEMS:]
    if rest:
        drafts[-1] = _Draft(
            "Big rocks needing attention: " + ", ".join(r.name for r in flagged[_MAX_ROCK_ITEMS - 1 :]),
            "All",
            "Agree on recovery plans, owners and dates",
            _clip(" || ".join(f"{r.name}: {_rock_notes(r)}" for r in flagged[_MAX_ROCK_ITEMS - 1 :])),
            3.0,
        )
    return drafts


def _budget_drafts(areas: list[BudgetStatus]) -> list[_Draft]:
    flagged = [a for a in areas if a.needs_attention]
    flagged.sort(key=lambda a: -abs(a.forecast_variance_pct))
    drafts = [
        _Draft(
            f"Budget variance: {a.name}",
            a.owner or "You",
            "Understand the variance and agree on corrective action or a reforecast",
            _clip(f"{a.headline()}. {a.notes}"),
            1.5,
        )
        for a in flagged[:_MAX_BUDGET_ITEMS]
    ]
    if len(flagged) > _MAX_BUDGET_ITEMS:
        tail = flagged[_MAX_BUDGET_ITEMS - 1 :]
        drafts[-1] = _Draft(
            "Budget variances: " + ", ".join(a.name for a in tail),
            "All",
            "Agree on corrective actions or reforecasts",
            _clip(" | ".join(a.headline() for a in tail)),
            2.0,
        )
    return drafts


def allocate_minutes(weights: list[float], duration: int) -> list[int]:
    """Split ``duration`` minutes over items by weight; the result sums exactly to ``duration``.

    Items get whole 5-minute blocks when the duration allows it, otherwise whole
    minutes; every item gets at least one block. Leftover blocks go to the largest
    fractional shares (earlier items first on ties).

    Args:
        weights: Positive weight per item.
        duration: Total minutes; must be at least ``len(weights)``.

    Returns:
        Minutes per item.

    Raises:
        ValueError: If there are no items or too many for the duration.
    """
    n = len(weights)
    if n == 0 or duration < n:
        raise ValueError(f"cannot fit {n} agenda items into {duration} minutes")
    unit = 5 if duration % 5 == 0 and duration // 5 >= n else 1
    blocks = duration // unit
    spare = blocks - n
    total_weight = sum(weights)
    shares = [spare * w / total_weight for w in weights]
    extra = [int(s) for s in shares]
    leftover = spare - sum(extra)
    order = sorted(range(n), key=lambda i: (-(shares[i] - extra[i]), i))
    for i in order[:leftover]:
        extra[i] += 1
    return [(1 + e) * unit for e in extra]


# An all-day event (an offsite, a board day) has no clock time; its agenda runs from here.
ALL_DAY_STARTS_AT = 9


def _first_clock(meeting: Meeting, tz: tzinfo) -> datetime:
    """When the agenda's first item starts: the meeting's start, or the working morning of an all-day event."""
    start = meeting.start.astimezone(tz)
    if meeting.all_day:  # placed at local midnight: an agenda from 00:00 to 08:00 read as a night shift
        return start.replace(hour=ALL_DAY_STARTS_AT, minute=0, second=0, microsecond=0)
    return start


def _markdown(meeting: Meeting, items: list[AgendaItem], tz: tzinfo, duration: int, notes: list[PrepResponse]) -> str:
    start = _first_clock(meeting, tz)
    end = start + timedelta(minutes=duration)
    lines = [  # calendar text is other people's: shown as typed (literal), never as Markdown
        f"### Agenda: {literal(meeting.title)}",
        f"**{long_day(start)}, {start:%H:%M}-{end:%H:%M}** ({duration} min)"
        + (f" · {literal(meeting.location)}" if meeting.location else ""),
    ]
    if meeting.attendees:
        lines.append("")  # its own paragraph: one newline would run it on after the location
        between = "; " if any("," in a.name for a in meeting.attendees) else ", "  # "Müller, Jürgen" is one person
        lines.append("**Attendees:** " + between.join(literal(attendee_text(a)) for a in meeting.attendees))
    lines.append("")
    for i, item in enumerate(items, 1):
        lines.append(
            f"{i}. **{item.start}-{item.end} {literal(item.title)}** ({item.minutes} min, {literal(item.owner)})"
        )
        lines.append(f"   - *Purpose:* {literal(item.purpose)}")
        if item.notes:
            lines.append(f"   - *Notes:* {literal(item.notes)}")
    if notes:
        lines.append("")
        lines.append("**Your talking points (from your prep notes):**")
        # as typed, as in the items above (a note's "**Priya**" was bold here and asterisks there)
        lines.extend(f"- **{literal(n.topic)}:** {literal(_clip(n.response, 200))}" for n in notes)
    return "\n".join(lines)


def _length(minutes: int) -> str:
    """A meeting's length as a person says it: "9 hours", "2 days", "90 minutes"."""
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        return f"{minutes // 60} hours"
    return f"{minutes} minutes"


def _planned_minutes(meeting: Meeting, duration_minutes: int | None, warnings: list[str]) -> int:
    """How many minutes the agenda plans: the override, else the meeting's length, at most 8 hours.

    An offsite or an all-day workshop is where an agenda is needed most: it was refused ("between
    5 and 480 minutes; got 1440"). Its first working day is planned, and a warning says so.
    """
    duration = duration_minutes if duration_minutes is not None else meeting.duration_minutes
    if duration_minutes is None and duration > MAX_DURATION:
        warnings.append(
            f"The meeting runs {_length(duration)}; this agenda plans its first {_length(MAX_DURATION)}. "
            "Ask for an agenda per part of the day for the rest."
        )
        duration = MAX_DURATION
    if duration_minutes is None and duration < MIN_DURATION:
        raise ValueError(
            f"{meeting.title} has no length in the calendar (it starts and ends at the same time), so its "
            f"agenda cannot be timed; ask for an agenda of a given length ({MIN_DURATION} to {MAX_DURATION} minutes)."
        )
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise ValueError(f"An agenda needs between {MIN_DURATION} and {MAX_DURATION} minutes; got {duration}.")
    return duration


# Long on purpose: the agenda is built top to bottom, one section after another (a linear
# checklist of the meeting's parts); each section is a few lines.
def build_agenda(
    meeting: Meeting,
    *,
    prep_notes: list[PrepResponse],
    budget: list[BudgetStatus],
    rocks: list[BigRock],
    tz: tzinfo,
    duration_minutes: int | None = None,
) -> Agenda:
    """Build a timed agenda for ``meeting``.

    Args:
        meeting: The meeting.
        prep_notes: The user's saved prep notes for this meeting.
        budget: All budget areas (only the meeting's ``budget_areas`` are used).
        rocks: All big rocks (only the meeting's ``related_rocks`` are used).
        tz: Zone for the item clock times.
        duration_minutes: Override of the meeting's duration.

    Returns:
        The agenda; item minutes sum exactly to the duration.

    Raises:
        ValueError: If ``duration_minutes`` is outside 5-480 minutes, or the meeting is shorter
            than 5 minutes and no duration is given.
    """
    warnings: list[str] = []
    duration = _planned_minutes(meeting, duration_minutes, warnings)
    rock_by_id = {r.id: r for r in rocks}
    area_by_id = {a.id: a for a in budget}
    related_rocks = [rock_by_id[i] for i in meeting.related_rocks if i in rock_by_id]
    related_areas = [area_by_id[i] for i in meeting.budget_areas if i in area_by_id]
    for missing in [i for i in meeting.related_rocks if i not in rock_by_id]:
        warnings.append(f"Meeting refers to unknown big rock '{missing}'.")
    for missing in [i for i in meeting.budget_areas if i not in area_by_id]:
        warnings.append(f"Meeting refers to unknown budget area '{missing}'.")

    opening_notes = _first_sentence(meeting.description) if meeting.description else ""
    on_track = [r for r in related_rocks if not r.needs_attention]
    if on_track:
        opening_notes = _clip(
            (opening_notes + " " if opening_notes else "")
            + "On track: "
            + ", ".join(f"{r.name} ({r.progress_pct}%)" for r in on_track)
            + "."
        )
    drafts = [_Draft("Opening & goals", "You", "Align on the outcome this meeting must produce", opening_notes, 1.0)]
    drafts += [
        _Draft(title, _owner(owner, meeting.attendees), purpose, "", weight)
        for title, owner, purpose, weight in _core_items(meeting.type)
    ]
    rock_drafts = _rock_drafts(related_rocks)
    budget_drafts = _budget_drafts(related_areas)
    # every item gets a minute at least: a meeting too short for them all keeps the first ones
    room = max(0, duration - len(drafts) - 1)
    drafts += (_prep_drafts(prep_notes) + rock_drafts + budget_drafts)[:room]
    drafts.append(
        _Draft("Decisions, owners & next steps", "You", "Confirm decisions, owners and dates before leaving", "", 1.0)
    )

    minutes = allocate_minutes([d.weight for d in drafts], duration)
    clock = _first_clock(meeting, tz)
    items = []
    for draft, mins in zip(drafts, minutes, strict=True):
        end = clock + timedelta(minutes=mins)
        items.append(
            AgendaItem(
                start=f"{clock:%H:%M}",
                end=f"{end:%H:%M}",
                minutes=mins,
                title=draft.title,
                owner=draft.owner,
                purpose=draft.purpose,
                notes=draft.notes,
            )
        )
        clock = end

    return Agenda(
        meeting=meeting,
        duration_minutes=duration,
        items=items,
        prep_notes_used=len(prep_notes),
        rocks_discussed=[r.id for r in related_rocks if r.needs_attention],
        budget_areas_discussed=[a.id for a in related_areas if a.needs_attention],
        warnings=warnings,
        markdown=_markdown(meeting, items, tz, duration, prep_notes),
    )


def agenda_to_dict(agenda: Agenda) -> dict[str, Any]:
    """JSON-ready tool result for an agenda.

    Args:
        agenda: The agenda.

    Returns:
        ``{"summary", "meeting", "items", "markdown", ...}``.
    """
    return {
        "summary": agenda.summary(),
        "meeting": agenda.meeting.to_summary_dict(),
        "duration_minutes": agenda.duration_minutes,
        "items": [item.model_dump() for item in agenda.items],
        "prep_notes_used": agenda.prep_notes_used,
        "rocks_discussed": agenda.rocks_discussed,
        "budget_areas_discussed": agenda.budget_areas_discussed,
        "warnings": agenda.warnings,
        "markdown": agenda.markdown,
    }
