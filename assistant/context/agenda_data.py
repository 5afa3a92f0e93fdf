"""A user's meetings with their effective types: what the CLI prints and the tools and Prep queue read."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlalchemy import Engine

from assistant.config import Settings
from assistant.context.classify import MeetingTypes, effective_type, load_meeting_types
from assistant.context.meetings import Meeting
from assistant.context.type_overrides import overrides


def typed_meetings(
    meetings: list[Meeting], settings: Settings, *, engine: Engine | None, user_id: str, user_email: str | None
) -> list[tuple[Meeting, str, str]]:
    """Each meeting with its effective type id and label (the user's override, else the rules).

    Args:
        meetings: The user's meetings.
        settings: Meeting-types file and internal domains.
        engine: Database holding the user's overrides (None: rules only).
        user_id: Whose overrides apply.
        user_email: The user's email (its domain is internal).
    """
    types = meeting_types(settings)
    chosen = overrides(engine, user_id) if engine is not None else {}
    out = []
    for meeting in meetings:
        type_id = effective_type(
            meeting, chosen, user_email=user_email, internal_domains=settings.internal_domains, rules=types
        )
        out.append((meeting, type_id, types.label(type_id)))
    return out


def meeting_types(settings: Settings) -> MeetingTypes:
    """The deployment's meeting types (cached by file and modification time)."""
    return load_meeting_types(settings.resolved_meeting_types_file)


def meeting_json(meeting: Meeting, type_id: str, tz: tzinfo | None = None) -> dict[str, Any]:
    """One meeting as the CLI's ``meetings --json`` prints it (ISO 8601 times with their UTC offset,
    in ``tz`` when given)."""
    return {
        "id": meeting.id,
        "title": meeting.title,
        "start": (meeting.start.astimezone(tz) if tz else meeting.start).isoformat(),
        "end": (meeting.end.astimezone(tz) if tz else meeting.end).isoformat(),
        "all_day": meeting.all_day,
        "type": type_id,
        "attendees": [{"name": a.name, "email": a.email} for a in meeting.attendees],
        "source": meeting.source,
    }
