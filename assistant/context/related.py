"""Which of the user's budget areas and big rocks a meeting is about.

The demo calendar names them (``related_rocks``, ``budget_areas``; a name the user's own
items do not hold is left out, and a meeting left with none is matched). An outside calendar
cannot, so a meeting without them is matched by words: an area or rock is related when a
distinctive word of its name or id (4+ letters, not a common word) appears in the meeting's
title or description, or its owner is among the attendees (by name, or by an address such as
``priya.raman@…`` when the invitation gives no name).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.context.big_rocks import BigRock
from assistant.context.budget import BudgetStatus
from assistant.context.meetings import Meeting

_WORD = re.compile(r"[^\W_]{4,}")
_COMMON = frozenset(
    {"launch", "team", "plan", "review", "meeting", "sync", "update", "grow", "growth", "program", "project"}
)


def _words(text: str) -> set[str]:
    return {w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _COMMON}


def _person(text: str) -> str:
    """A name as compared: lower case, an address's name part ("priya.raman") as "priya raman"."""
    return " ".join(w for w in re.split(r"[\s._-]+", text.lower()) if w)


def _attending(meeting: Meeting) -> set[str]:
    """The attendees as compared, by name and (an invitation without a name lists the attendee
    by the name part of the address) by address."""
    names = {_person(a.name) for a in meeting.attendees}
    return names | {_person(a.email.split("@", 1)[0]) for a in meeting.attendees if a.email}


def _owner_attends(owner: str, attending: set[str]) -> bool:
    owner_name = _person(owner.split("(")[0])
    return bool(owner_name) and owner_name in attending


def with_related(meeting: Meeting, budget: Sequence[BudgetStatus], rocks: Sequence[BigRock]) -> Meeting:
    """The meeting with its related budget areas and rocks: those the calendar named that the user
    has, else the matches.

    A name the user's items no longer hold (a rock deleted, a demo meeting's rock the user's own
    list does not have) is left out: the agenda read "Meeting refers to unknown big rock" and
    left the rock's items out. When none of what the calendar named is left, the meeting is
    matched as one that named nothing.

    Args:
        meeting: The meeting.
        budget: The user's budget areas.
        rocks: The user's big rocks.

    Returns:
        ``meeting`` itself when everything it names is the user's, else a copy naming what is.
    """
    named = bool(meeting.related_rocks or meeting.budget_areas)
    if named:
        rock_ids, area_ids = {r.id for r in rocks}, {a.id for a in budget}
        kept_rocks = [i for i in meeting.related_rocks if i in rock_ids]
        kept_areas = [i for i in meeting.budget_areas if i in area_ids]
        if (kept_rocks, kept_areas) == (meeting.related_rocks, meeting.budget_areas):
            return meeting
        if kept_rocks or kept_areas:
            return meeting.model_copy(update={"budget_areas": kept_areas, "related_rocks": kept_rocks})
    text = _words(f"{meeting.title} {meeting.description}")
    attending = _attending(meeting)  # once, not again for each area and rock
    areas = [a.id for a in budget if _words(f"{a.name} {a.id}") & text or _owner_attends(a.owner, attending)]
    related = [r.id for r in rocks if _words(f"{r.name} {r.id}") & text or _owner_attends(r.owner, attending)]
    if not areas and not related:
        return meeting.model_copy(update={"budget_areas": [], "related_rocks": []}) if named else meeting
    return meeting.model_copy(update={"budget_areas": areas[:4], "related_rocks": related[:4]})
