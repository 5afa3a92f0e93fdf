"""Which of the user's budget areas and big rocks a meeting is about.

The demo calendar names them (``related_rocks``, ``budget_areas``). An outside calendar
cannot, so a meeting without them is matched by words: an area or rock is related when a
distinctive word of its name or id (4+ letters, not a common word) appears in the meeting's
title or description, or its owner is among the attendees.
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


def _owner_attends(owner: str, meeting: Meeting) -> bool:
    names = {a.name.lower() for a in meeting.attendees}
    owner_name = owner.split("(")[0].strip().lower()
    return bool(owner_name) and owner_name in names


def with_related(meeting: Meeting, budget: Sequence[BudgetStatus], rocks: Sequence[BigRock]) -> Meeting:
    """The meeting with its related budget areas and rocks filled in when the calendar gave none.

    Args:
        meeting: The meeting.
        budget: The user's budget areas.
        rocks: The user's big rocks.

    Returns:
        ``meeting`` itself when it already names related items, else a copy naming the matches.
    """
    if meeting.related_rocks or meeting.budget_areas:
        return meeting
    text = _words(f"{meeting.title} {meeting.description}")
    areas = [a.id for a in budget if _words(f"{a.name} {a.id}") & text or _owner_attends(a.owner, meeting)]
    related = [r.id for r in rocks if _words(f"{r.name} {r.id}") & text or _owner_attends(r.owner, meeting)]
    if not areas and not related:
        return meeting
    return meeting.model_copy(update={"budget_areas": areas[:4], "related_rocks": related[:4]})
