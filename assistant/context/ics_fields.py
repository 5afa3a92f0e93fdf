"""What one calendar event says, read as text from other people: its title, description and
location, its attendees and organizer, its conference link; each field stripped of control
characters and capped (truncated, never refused). Used by :mod:`assistant.context.ics`.
"""

from __future__ import annotations

import re
from typing import Any

import icalendar

from assistant.context.html_text import html_to_text
from assistant.context.meetings import Attendee, ResponseStatus
from assistant.inputs import clean_display_text, strip_control_chars

# Meeting has no length limits of its own; these keep one hostile event from filling a prompt.
MAX_TITLE_CHARS = 300
MAX_LOCATION_CHARS = 500
MAX_DESCRIPTION_CHARS = 8_000
MAX_ORGANIZER_CHARS = 320
MAX_CONFERENCE_URL_CHARS = 2_048
MAX_ATTENDEES = 200
_NAME_CHARS = 120  # Attendee.name / role / org
_EMAIL_CHARS = 320  # Attendee.email
NO_TITLE = "(no title)"

_PARTSTAT: dict[str, ResponseStatus] = {
    "ACCEPTED": "accepted",
    "DECLINED": "declined",
    "TENTATIVE": "tentative",
    "NEEDS-ACTION": "needs_action",
}
_CONFERENCE_PROPERTIES = ("X-GOOGLE-CONFERENCE", "X-MICROSOFT-SKYPETEAMSMEETINGURL", "X-MICROSOFT-ONLINEMEETINGURL")
_CONFERENCE_URL = re.compile(
    r"https://(?:[a-z0-9-]+\.)*(?:zoom\.us|teams\.microsoft\.com|teams\.live\.com|meet\.google\.com|webex\.com)"
    r"(?:/[^\s<>\"'\]\)]*)?",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A meeting room or equipment booked as an attendee (Outlook, Apple: CUTYPE=ROOM/RESOURCE; Google:
# an address on resource.calendar.google.com): not a person, as the Google Calendar source
# already leaves them out; counted, a room made a 1:1 a team meeting and added to its cost.
_NOT_PEOPLE = frozenset({"ROOM", "RESOURCE"})
_RESOURCE_DOMAIN = "@resource.calendar.google.com"


def property_text(component: icalendar.cal.Component, name: str, limit: int, *, html: bool = False) -> str:
    """A text property (the first when repeated), without control characters, cut to ``limit``;
    with ``html``, one written as HTML is read as its plain text (a description)."""
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):  # a repeated property: keep the first
        value = value[0] if value else ""
    text = strip_control_chars(html_to_text(str(value)) if html else str(value)).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def one_line(value: object, limit: int) -> str:
    """A name as one displayable line, cut to ``limit`` ("" for none)."""
    if isinstance(value, list):  # CN=Smith, John: the parser split the unquoted comma
        value = ",".join(str(v) for v in value)
    return clean_display_text(str(value), limit=limit) if value is not None else ""


def email_of(address: object) -> str | None:
    """The lower-cased address of a ``mailto:`` value, or None when it is not one."""
    raw = strip_control_chars(str(address)).strip()
    if raw.lower().startswith("mailto:"):
        raw = raw[len("mailto:") :].strip()
    raw = raw.lower()
    if len(raw) > _EMAIL_CHARS or not _EMAIL.match(raw):
        return None
    return raw


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def attendees_of(
    event: icalendar.Event, organizer_email: str | None, owner_emails: frozenset[str] = frozenset()
) -> list[Attendee]:
    """The event's attendees, each once, at most MAX_ATTENDEES, with their response; rooms and
    equipment are not attendees, and the calendar's owners (``owner_emails``) are marked ``you``.

    Outlook writes a meeting's organizer only as ORGANIZER, where Google and Apple list them among
    the attendees too: Dana's meeting with Raj and you read as a 1:1 with Raj, priced without
    Dana. The organizer of a meeting with attendees is listed first when no ATTENDEE line names
    them (an appointment without attendees gains none: its ORGANIZER is its owner).
    """
    people: list[Attendee] = []
    seen: set[str] = set()
    for address in _as_list(event.get("ATTENDEE"))[:MAX_ATTENDEES]:
        params = getattr(address, "params", {})
        email = email_of(address)
        if str(params.get("CUTYPE", "")).upper() in _NOT_PEOPLE or (email or "").endswith(_RESOURCE_DOMAIN):
            continue
        key = email or str(address)
        if key in seen:
            continue
        seen.add(key)
        name = one_line(params.get("CN"), _NAME_CHARS)
        if not name or (email and name.lower() in (email, f"mailto:{email}")):
            name = one_line(email.split("@", 1)[0], _NAME_CHARS) if email else ""
        partstat = str(params.get("PARTSTAT", "")).upper()
        people.append(
            Attendee(
                name=name or "(unknown)",
                role="optional" if str(params.get("ROLE", "")).upper() == "OPT-PARTICIPANT" else "",
                email=email,
                response=_PARTSTAT.get(partstat, "unknown" if partstat else None),
                organizer=bool(email) and email == organizer_email,
                you=email in owner_emails,
            )
        )
    if people and organizer_email and organizer_email not in seen and len(people) < MAX_ATTENDEES:
        name = one_line(getattr(event.get("ORGANIZER"), "params", {}).get("CN"), _NAME_CHARS)
        if not name or name.lower() in (organizer_email, f"mailto:{organizer_email}"):
            name = one_line(organizer_email.split("@", 1)[0], _NAME_CHARS)
        people.insert(
            0, Attendee(name=name, email=organizer_email, organizer=True, you=organizer_email in owner_emails)
        )
    return people


OWNER_SHARE = 0.9  # of the meetings with people in them that the calendar's owner is on
OWNER_MEETINGS = 3  # the fewest such meetings an owner is told from


def likely_owner(events: list[icalendar.cal.Component], known: frozenset[str]) -> str | None:
    """The address on (almost) every meeting of a calendar that names no owner (Outlook's and
    Apple's exports), when none of ``known`` is on any: its owner, the user. Signed in as
    another address, their colleagues were outsiders and their declines listed otherwise.

    Args:
        events: The calendar's events.
        known: The addresses already known as the owner's.

    Returns:
        The address on at least OWNER_SHARE of the (at least OWNER_MEETINGS) events with people
        in them, or None.
    """
    counts: dict[str, int] = {}
    meetings = 0
    for event in events:
        organizer = email_of(event.get("ORGANIZER")) if event.get("ORGANIZER") is not None else None
        people = {e for e in [*map(email_of, _as_list(event.get("ATTENDEE"))), organizer] if e}
        if people & known:
            return None
        if len(people) < 2:
            continue
        meetings += 1
        for email in people:
            counts[email] = counts.get(email, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])[:2]
    if meetings < OWNER_MEETINGS or not ranked or ranked[0][1] < OWNER_SHARE * meetings:
        return None
    return ranked[0][0] if len(ranked) == 1 or ranked[1][1] < ranked[0][1] else None


# The line Teams ("____…"), Google ("-::~:~::~…::-") and others draw around the join block they
# append to an invitation's description.
_SEPARATOR = re.compile(r"^\s*(?:_{8,}|-::~[:~]*::-|-{8,}|={8,}|\*{8,})\s*$")


def without_join_block(description: str) -> str:
    """``description`` without the video-call block an invitation appends between separator lines
    (the join link, dial-in numbers, passcodes, "Learn more | Meeting options"); the link itself is
    the meeting's ``conference_url``. Text between separators without a call link is kept."""
    lines = description.split("\n")
    kept: list[str] = []
    i = 0
    while i < len(lines):
        if _SEPARATOR.match(lines[i]):
            j = next((k for k in range(i + 1, len(lines)) if _SEPARATOR.match(lines[k])), len(lines))
            if _CONFERENCE_URL.search("\n".join(lines[i:j])):
                i = j + 1  # the block and both its separators
                continue
        kept.append(lines[i])
        i += 1
    return "\n".join(kept).strip() if len(kept) < len(lines) else description


def conference_url_of(event: icalendar.Event, location: str, description: str) -> str | None:
    """The meeting's video link: a conference property, else a known service's link in the text."""
    for name in _CONFERENCE_PROPERTIES:
        value = event.get(name)
        if value is not None:
            url = strip_control_chars(str(value)).strip()
            if url.lower().startswith("https://") and len(url) <= MAX_CONFERENCE_URL_CHARS and " " not in url:
                return url
    return conference_url_in(location, description)


def conference_url_in(*texts: str) -> str | None:
    """The first known video service's link in ``texts`` (a location, a description), or None."""
    for text in texts:
        match = _CONFERENCE_URL.search(text)
        if match and len(match.group(0)) <= MAX_CONFERENCE_URL_CHARS:
            return match.group(0)
    return None
