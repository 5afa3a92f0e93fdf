"""Materials you can take into the room: a timed agenda, a question bank and a note-taking template.

Built from stored data only (the meeting, its type, the saved prep answers, the agenda the
agenda builder made and the meeting's cost); the model is never asked. Two renderings:
:func:`to_markdown` and :func:`to_docx` (:mod:`assistant.views.materials_docx`, imported
when used so python-docx costs nothing until then).

Calendar text (title, description, location, attendee names, the conference link) comes
from other people. In Markdown it is escaped so that it renders as itself: no image is
fetched, no HTML is interpreted, and no link is live (not even a bare address, which
Markdown renderers would otherwise auto-link); the conference link is shown as code. In
DOCX every piece of text is a plain run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import Engine

from assistant.config import Settings
from assistant.context.agenda import MAX_DURATION, MIN_DURATION, Agenda, AgendaItem, build_agenda
from assistant.context.agenda import attendee_text as agenda_attendee_text
from assistant.context.classify import MeetingTypes, attending_others, effective_type, load_meeting_types
from assistant.context.meeting_cost import MeetingCost, MeetingRates, format_duration, meeting_cost
from assistant.context.meetings import Attendee, Meeting
from assistant.context.prep_notes import PrepResponse, list_prep_responses
from assistant.context.related import with_related
from assistant.context.type_overrides import overrides
from assistant.context.user_data import agenda_context_for
from assistant.dates import long_day
from assistant.views.markdown import plain_text

logger = logging.getLogger(__name__)

# Always at the end of the note-taking template, whatever the type's own sections.
DECISIONS = "Decisions"
ACTION_ITEMS = "Action items"
ACTION_LINES = 3
PROVENANCE = (
    "Prepared from your calendar, your saved prep answers and the meeting-type question bank; "
    "nothing in it was written by the AI model."
)


@dataclass(frozen=True)
class Materials:
    """Everything that goes into the room for one meeting.

    Attributes:
        meeting: The meeting.
        type_id: Its effective type.
        type_label: The type's label.
        prep_lead_hours: How many hours ahead this type is prepared.
        tz: Zone for every time shown.
        agenda: The timed agenda items (clock times already in ``tz``).
        agenda_minutes: The agenda's total length.
        questions: The type's question bank.
        template_sections: The type's note-taking sections (Decisions and Action items are
            always added after them).
        prep_notes: The user's saved prep answers, oldest first.
        cost: The meeting's cost in people's time, when priced.
        attendees: The people attending besides the user (declined left out).
        warnings: What the agenda builder could not find (unknown rocks or budget areas).
    """

    meeting: Meeting
    type_id: str
    type_label: str
    prep_lead_hours: float
    tz: tzinfo
    agenda: list[AgendaItem]
    agenda_minutes: int
    questions: list[str]
    template_sections: list[str]
    prep_notes: list[PrepResponse]
    cost: MeetingCost | None
    attendees: list[Attendee] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def build_materials(
    meeting: Meeting,
    *,
    type_id: str,
    types: MeetingTypes,
    prep_notes: list[PrepResponse],
    agenda: Agenda,
    cost: MeetingCost | None,
    tz: tzinfo,
    user_email: str | None = None,
) -> Materials:
    """Assemble the materials for ``meeting`` from stored data.

    Args:
        meeting: The meeting.
        type_id: Its effective type (:func:`assistant.context.classify.effective_type`).
        types: The loaded meeting types (question bank, template sections, labels).
        prep_notes: The user's saved prep answers for the meeting.
        agenda: The agenda from :func:`assistant.context.agenda.build_agenda` (built in ``tz``).
        cost: :func:`assistant.context.meeting_cost.meeting_cost`, or None to leave it out.
        tz: Zone for the header's times.
        user_email: The user's email, so the user is not listed among the attendees.

    Returns:
        The materials.
    """
    kind = types.get(type_id)
    reserved = {DECISIONS.lower(), ACTION_ITEMS.lower()}
    logger.info("meeting_id=<%s>, meeting_type=<%s> | building materials", meeting.id, type_id)
    return Materials(
        meeting=meeting,
        type_id=type_id,
        type_label=kind.label,
        prep_lead_hours=kind.prep_lead_hours,
        tz=tz,
        agenda=list(agenda.items),
        agenda_minutes=agenda.duration_minutes,
        questions=list(kind.questions),
        template_sections=[s for s in kind.template_sections if s.lower() not in reserved],
        prep_notes=list(prep_notes),
        cost=cost,
        attendees=attending_others(meeting, user_email),
        warnings=list(agenda.warnings),
    )


# --- plain-text pieces, shared by both renderings ---------------------------------------


def when_text(materials: Materials) -> str:
    """``"Tuesday 11 March 2025, 14:00–15:30 UTC (1 h 30 min)"``, or the day for an all-day event."""
    meeting = materials.meeting
    start = meeting.start.astimezone(materials.tz)
    if meeting.all_day:
        last = (meeting.end.astimezone(materials.tz) - timedelta(microseconds=1)).date()
        if last > start.date():  # an offsite or a trip: its last day too, not only its first
            return f"{long_day(start)} to {long_day(last)} {last:%Y} (all day)"
        return f"{long_day(start)} {start:%Y} (all day)"
    end = meeting.end.astimezone(materials.tz)
    zone = start.tzname() or ""
    if end <= start:  # a deadline or a reminder: "14:00–14:00 (0 min)" said nothing more than "14:00"
        return f"{long_day(start)} {start:%Y}, {start:%H:%M}" + (f" {zone}" if zone else "")
    # past midnight (a call with another continent, a two-day workshop): the day it ends too
    until = f"–{end:%H:%M}" if end.date() == start.date() else f" – {long_day(end)}, {end:%H:%M}"
    return (
        f"{long_day(start)} {start:%Y}, {start:%H:%M}{until}"
        + (f" {zone}" if zone else "")
        + f" ({format_duration(meeting.duration_minutes)})"
    )


def type_text(materials: Materials) -> str:
    """``"Board (prepare 48 h ahead)"``."""
    hours = materials.prep_lead_hours
    lead = f"{hours:g} h" if hours >= 1 else f"{round(hours * 60)} min"
    return f"{materials.type_label} (prepare {lead} ahead)"


def attendee_text(attendee: Attendee) -> str:
    """``"Dana Brooks (SVP Operations, Acme Corp)"``, with ``tentative`` when not confirmed."""
    return agenda_attendee_text(
        attendee, "tentative" if attendee.response == "tentative" else "", "organizer" if attendee.organizer else ""
    )


def item_time(item: AgendaItem) -> str:
    """``"14:00–14:05"``."""
    return f"{item.start}–{item.end}"


def note_date(note: PrepResponse, tz: tzinfo) -> str:
    """The day a prep answer was saved, ``"10 Mar 2025"``."""
    saved = note.created_at.astimezone(tz)
    return f"{saved.day} {saved:%b %Y}"


def file_stem(materials: Materials) -> str:
    """A safe file name stem: ``"prep-acme-qbr"`` (the meeting id, never the title)."""
    return f"prep-{materials.meeting.id}"


# --- Markdown -------------------------------------------------------------------------


def md_text(text: str) -> str:
    """Untrusted text as one inert Markdown line: syntax and HTML escaped, no auto-linked address.

    Args:
        text: A title, name, note or any text from the calendar or the user.

    Returns:
        One line that renders as the text itself.
    """
    return plain_text(text)


def md_code(text: str) -> str:
    """Untrusted text as an inline code span (never a link), backticks made harmless."""
    clean = " ".join(text.split()).replace("`", "%60")
    return f"`{clean}`" if clean else ""


def md_quote(text: str) -> list[str]:
    """Untrusted multi-line text as blockquote lines, each escaped."""
    lines = text.strip().splitlines() or [""]
    return [f"> {md_text(line)}" if line.strip() else ">" for line in lines]


def _md_header(m: Materials) -> list[str]:
    meeting = m.meeting
    lines = [f"# {md_text(meeting.title)}", "", f"- **When:** {md_text(when_text(m))}"]
    lines.append(f"- **Type:** {md_text(type_text(m))}")
    if meeting.location:
        lines.append(f"- **Where:** {md_text(meeting.location)}")
    if meeting.conference_url:
        lines.append(f"- **Join:** {md_code(meeting.conference_url)}")
    if meeting.organizer:
        lines.append(f"- **Organizer:** {md_text(meeting.organizer)}")
    people = "; ".join(md_text(attendee_text(a)) for a in m.attendees) or "just you"
    lines.append(f"- **Attendees:** {people}")
    if m.cost is not None:
        lines.append(f"- **Meeting cost:** {md_text(m.cost.label)}")
    return lines


def _md_agenda(m: Materials) -> list[str]:
    lines = ["## Agenda", "", "| Time | Item | Owner | Purpose |", "|---|---|---|---|"]
    lines += [f"| {item_time(i)} | {md_text(i.title)} | {md_text(i.owner)} | {md_text(i.purpose)} |" for i in m.agenda]
    lines.extend(f"\n*Note: {md_text(w)}*" for w in m.warnings)
    return lines


def _md_prep(m: Materials) -> list[str]:
    lines = ["## Your prep answers", ""]
    if not m.prep_notes:
        return [*lines, "*No prep answers saved yet.*"]
    for note in m.prep_notes:
        lines += [f"**{md_text(note.topic)}** · saved {note_date(note, m.tz)}", "", *md_quote(note.response), ""]
    return lines[:-1]


def _md_notes(m: Materials) -> list[str]:
    lines = ["## Notes", ""]
    for n, item in enumerate(m.agenda, 1):
        lines += [f"### {n}. {item_time(item)} {md_text(item.title)}", "", f"*Owner: {md_text(item.owner)}*"]
        if item.notes:
            lines += ["", f"Context: {md_text(item.notes)}"]
        lines += ["", "- ", ""]
    for section in m.template_sections:
        lines += [f"### {md_text(section)}", "", "- ", ""]
    lines += [f"## {DECISIONS}", "", "- ", "", f"## {ACTION_ITEMS}", ""]
    lines += ["- [ ] Action: … · Owner: … · Due: …"] * ACTION_LINES
    return lines


def to_markdown(materials: Materials) -> str:
    """The materials as one Markdown document (safe to render: calendar text is inert).

    Args:
        materials: :func:`build_materials`.

    Returns:
        Markdown text ending with a newline.
    """
    m = materials
    parts = [_md_header(m)]
    if m.meeting.description.strip():
        parts.append(["## From the invitation", "", *md_quote(m.meeting.description)])
    parts.append(_md_agenda(m))
    parts.append([f"## Questions to prepare ({md_text(m.type_label)})", ""] + [f"- {md_text(q)}" for q in m.questions])
    parts.append(_md_prep(m))
    parts.append(_md_notes(m))
    parts.append(["---", "", f"*{PROVENANCE}*"])
    return "\n\n".join("\n".join(p) for p in parts) + "\n"


def to_docx(materials: Materials) -> bytes:
    """The materials as a Word document (python-docx): headings, an agenda table, bullets, action lines.

    Args:
        materials: :func:`build_materials`.

    Returns:
        The ``.docx`` file's bytes.
    """
    from assistant.views.materials_docx import materials_docx

    return materials_docx(materials)


def materials_for(
    meeting: Meeting,
    *,
    settings: Settings,
    engine: Engine,
    user_id: str,
    user_email: str | None,
    tz: tzinfo,
    now: datetime,
) -> Materials:
    """A meeting's materials (timed agenda, question bank, note-taking template, cost) from stored data.

    Args:
        meeting: The meeting (from the user's calendar).
        settings: Meeting types, internal domains, rates, data folder (demo budget and rocks).
        engine: App database (prep notes, overrides, the user's budget and rocks).
        user_id: Whose notes, budget and rocks.
        user_email: The user's email.
        tz: Zone for every time shown.
        now: Current time (aware), for rock dates.
    """
    types = load_meeting_types(settings.resolved_meeting_types_file)
    type_id = effective_type(
        meeting,
        overrides(engine, user_id),
        user_email=user_email,
        internal_domains=settings.internal_domains,
        rules=types,
    )
    budget, rocks = agenda_context_for(engine, user_id, settings.data_dir, now.astimezone(tz).date(), meeting)
    related = with_related(meeting, budget, rocks)
    notes = list_prep_responses(engine, user_id, meeting.id)
    agenda = build_agenda(
        related,
        prep_notes=notes,
        budget=budget,
        rocks=rocks,
        tz=tz,
        duration_minutes=min(max(meeting.duration_minutes, MIN_DURATION), MAX_DURATION),
    )
    cost = meeting_cost(
        meeting,
        user_email=user_email,
        internal_domains=settings.internal_domains,
        rates=MeetingRates.from_settings(settings),
    )
    logger.info("user_id=<%s>, meeting_id=<%s> | materials built", user_id, meeting.id)
    return build_materials(
        related, type_id=type_id, types=types, prep_notes=notes, agenda=agenda, cost=cost, tz=tz, user_email=user_email
    )
