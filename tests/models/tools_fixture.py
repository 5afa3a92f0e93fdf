"""Small real strands tools with the Meeting Coordinator's names and signatures, returning canned JSON."""

from __future__ import annotations

import json
from typing import Any

from strands import tool

MEETINGS: list[dict[str, Any]] = [
    {
        "id": "mtg-001",
        "title": "Weekly leadership sync",
        "start": "2030-01-07T09:00:00",
        "end": "2030-01-07T10:00:00",
        "duration_minutes": 60,
        "attendees": ["cfo@example.com", "cto@example.com"],
        "type": "internal",
        "location": "Boardroom",
        "description": "Weekly priorities and blockers.",
    },
    {
        "id": "mtg-002",
        "title": "Acme QBR",
        "start": "2030-01-08T14:00:00",
        "end": "2030-01-08T15:30:00",
        "duration_minutes": 90,
        "attendees": ["jane@acme.com", "sales@example.com"],
        "type": "customer",
        "location": "Zoom",
        "description": "Quarterly business review with Acme.",
    },
    {
        "id": "mtg-003",
        "title": "Board prep",
        "start": "2030-01-09T11:00:00",
        "end": "2030-01-09T11:30:00",
        "duration_minutes": 30,
        "attendees": ["cfo@example.com"],
        "type": "internal",
        "location": "Office",
        "description": "Prepare the board deck.",
    },
]

CALLS: list[tuple[str, dict[str, Any]]] = []


@tool
def get_upcoming_meetings(days_ahead: int = 7, query: str | None = None) -> str:
    """List upcoming meetings.

    Args:
        days_ahead: How many days ahead to look.
        query: Optional words to filter meeting titles.
    """
    CALLS.append(("get_upcoming_meetings", {"days_ahead": days_ahead, "query": query}))
    meetings = MEETINGS
    if query:
        words = {w.lower() for w in query.split()}
        meetings = [m for m in MEETINGS if words & {w.lower() for w in str(m["title"]).split()}] or MEETINGS
    return json.dumps({"summary": f"{len(meetings)} meetings in the next {days_ahead} days.", "meetings": meetings})


@tool
def save_prep_response(meeting_id: str, topic: str, response: str) -> str:
    """Save a prep note.

    Args:
        meeting_id: Meeting id.
        topic: Topic of the note.
        response: The executive's answer.
    """
    CALLS.append(("save_prep_response", {"meeting_id": meeting_id, "topic": topic, "response": response}))
    saved = {"meeting_id": meeting_id, "topic": topic, "response": response}
    return json.dumps({"summary": f"Saved your note on '{topic}'.", "saved": saved, "total_notes_for_meeting": 1})


@tool
def generate_meeting_agenda(meeting_id: str, duration_minutes: int | None = None) -> str:
    """Generate an agenda.

    Args:
        meeting_id: Meeting id.
        duration_minutes: Optional duration override.
    """
    CALLS.append(("generate_meeting_agenda", {"meeting_id": meeting_id, "duration_minutes": duration_minutes}))
    meeting = next(m for m in MEETINGS if m["id"] == meeting_id)
    items = [
        {"start": "14:00", "end": "14:10", "minutes": 10, "title": "Welcome and goals", "owner": "You", "notes": ""},
        {"start": "14:10", "end": "15:30", "minutes": 80, "title": "Account review", "owner": "Jane", "notes": ""},
    ]
    markdown = f"### Agenda: {meeting['title']}\n\n1. Welcome and goals (10 min)\n2. Account review (80 min)"
    summary = f"Agenda for {meeting['title']} ({len(items)} items)."
    return json.dumps({"summary": summary, "meeting": meeting, "items": items, "markdown": markdown})


@tool
def get_budget_context(area: str | None = None) -> str:
    """Budget context.

    Args:
        area: Optional budget area.
    """
    CALLS.append(("get_budget_context", {"area": area}))
    return json.dumps(
        {
            "summary": "Spend is 4% over plan, driven by cloud costs.",
            "flags": [{"area": "Cloud", "status": "over", "variance_pct": 12}],
        }
    )


@tool
def get_big_rocks_status(initiative: str | None = None) -> str:
    """Big rocks status.

    Args:
        initiative: Optional initiative name.
    """
    CALLS.append(("get_big_rocks_status", {"initiative": initiative}))
    return json.dumps(
        {
            "summary": "3 big rocks: 2 on track, 1 at risk.",
            "initiatives": [{"name": "EU expansion", "status": "at risk", "owner": "COO"}],
        }
    )


ALL_TOOLS = [
    get_upcoming_meetings,
    save_prep_response,
    generate_meeting_agenda,
    get_budget_context,
    get_big_rocks_status,
]
