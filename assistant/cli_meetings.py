"""The command line's meeting commands: ``prep``, ``calendar import|disconnect`` and ``meetings``.

Registered by :mod:`assistant.__main__`'s parser; they use the same calendar service and views as
the My context page.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from assistant.config import Settings
from assistant.dates import short_day
from assistant.views.format import counted

logger = logging.getLogger("assistant.cli")


def cmd_prep(settings: Settings, args: argparse.Namespace) -> int:
    """Write a meeting's materials (timed agenda, question bank, note-taking template) as Markdown or DOCX.

    The meeting comes from the user's own calendar (or the demo one); everything is built
    from stored data (saved prep answers, the user's budget and big rocks, meeting types);
    the model is not asked. Markdown goes to stdout unless ``--output``; DOCX is binary, so
    it needs ``--output FILE`` or a redirected stdout (it is never written to a terminal).
    """
    from assistant.context.calendar import CalendarStorageError
    from assistant.context.classify import MeetingTypesError, MeetingTypeStorageError
    from assistant.context.data_files import DataFileError
    from assistant.context.meetings import is_meeting_id
    from assistant.context.prep_notes import PrepStorageError
    from assistant.factory import get_calendar_service
    from assistant.inputs import log_safe
    from assistant.views.materials import materials_for, to_docx, to_markdown

    if args.format == "docx" and args.output is None and sys.stdout.isatty():
        print("error: a DOCX file is binary; give --output FILE (or redirect the output to a file).", file=sys.stderr)
        return 2
    if args.output is not None and not args.force and os.path.lexists(args.output):  # yesterday's notes, say
        print(f"error: {args.output} already exists; give --force to replace it, or another --output.", file=sys.stderr)
        return 2
    tz = args.tz or ZoneInfo("UTC")  # the parser refused an unknown name (exit 2)
    user = args.user or settings.test_user_id
    user_email = args.email or (settings.test_user_email if user == settings.test_user_id else None)
    calendar = get_calendar_service(settings)
    now = datetime.now(UTC)
    meeting_id = args.meeting_id.strip().lower()
    try:
        meeting = calendar.find(user, meeting_id, tz=tz, now=now) if is_meeting_id(meeting_id) else None
    except (DataFileError, CalendarStorageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except ValueError:
        meeting = None
    if meeting is None:
        logger.info("user_id=<%s>, meeting_id=<%s> | prep for an unknown meeting", user, log_safe(args.meeting_id))
        upcoming = calendar.view(user, days_ahead=args.days, tz=tz, now=now).meetings
        local = [(m, m.start.astimezone(tz)) for m in upcoming]
        listing = "\n".join(
            f"  {m.id:<24} {short_day(start)} {'all day' if m.all_day else f'{start:%H:%M}'}  {m.title}"
            for m, start in local
        )
        print(
            f"error: there is no meeting with id '{log_safe(args.meeting_id, 64)}'. Use one of the ids below "
            f"(your meetings in the next {counted(args.days, 'day')}, times in {tz.key}):\n"
            f"{listing or '  (none; try a larger --days)'}",
            file=sys.stderr,
        )
        return 2
    logger.info("user_id=<%s>, meeting_id=<%s>, format=<%s> | writing prep materials", user, meeting.id, args.format)
    try:
        materials = materials_for(
            meeting, settings=settings, engine=calendar.engine, user_id=user, user_email=user_email, tz=tz, now=now
        )
    except (MeetingTypesError, MeetingTypeStorageError, PrepStorageError, DataFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    data = to_docx(materials) if args.format == "docx" else to_markdown(materials).encode("utf-8")
    if args.output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    try:
        with open(args.output, "wb" if args.force else "xb") as fh:  # "x": not one written meanwhile either
            fh.write(data)
    except FileExistsError:
        print(f"error: {args.output} already exists; give --force to replace it, or another --output.", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {args.output} could not be written ({e.strerror or e}); check the path.", file=sys.stderr)
        return 1
    print(f"Wrote the {args.format} materials for {meeting.title!r} to {args.output}")
    return 0


def cmd_calendar(settings: Settings, args: argparse.Namespace) -> int:
    """Store an uploaded calendar for a user (as the My context page's upload does), or disconnect it."""
    from pathlib import Path

    from assistant.context.sources import CalendarInputError
    from assistant.factory import get_calendar_service
    from assistant.views.format import nothing_ahead

    calendar = get_calendar_service(settings)
    user = args.user or settings.test_user_id
    if args.action == "disconnect":
        if args.file:  # "calendar disconnect work.ics" read as "disconnect that file" and forgot everything
            print("error: calendar disconnect takes no FILE; it forgets the user's whole calendar", file=sys.stderr)
            return 2
        stored, told = calendar.disconnect_and_revoke(user)  # as the page's Disconnect: a Google grant ends too
        if stored is None:
            print(f"{user} had no calendar connected: the demo calendar is used (nothing changed)")
            return 0
        print(f"{stored.label} disconnected for {user}: the demo calendar is used again")
        if not told:
            print(
                "warning: Google could not be told; the user can remove the app's access at "
                "myaccount.google.com/permissions",
                file=sys.stderr,
            )
        return 0
    if not args.file:
        print("error: calendar import needs a FILE.ics", file=sys.stderr)
        return 2
    path = Path(args.file)
    limit_mb = settings.ics_max_bytes / 1e6
    try:
        size = path.stat().st_size
        if size > settings.ics_max_bytes:
            raise CalendarInputError(f"{path.name} is {size / 1e6:.1f} MB; the limit is {limit_mb:.1f} MB.")
        with path.open("rb") as fh:  # a pipe or a device has no size beforehand: read no more than the limit
            data = fh.read(settings.ics_max_bytes + 1)
        if len(data) > settings.ics_max_bytes:
            raise CalendarInputError(f"{path.name} is larger than the limit of {limit_mb:.1f} MB.")
    except OSError as e:
        print(f"error: {path} cannot be read: {e.strerror or e}", file=sys.stderr)
        return 2
    except CalendarInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        connection = calendar.connect_ics_file(user, data, path.name)
    except CalendarInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    view = calendar.view(user, days_ahead=7)
    if view.warning:  # events left out (a repeat too frequent, a date unread), as the page says under the upload
        print(f"warning: {view.warning}", file=sys.stderr)
    if connection.meetings_ahead == 0:  # an export of past months: the page warns the same way
        print(f"warning: {connection.label} has {nothing_ahead(settings.calendar_days_ahead)}", file=sys.stderr)
    print(f"{connection.label} stored for {user}: {counted(len(view.meetings), 'meeting')} in the next 7 days")
    return 0


def cmd_meetings(settings: Settings, args: argparse.Namespace) -> int:
    """Print a user's meetings in the next N days from their connected source (or the demo calendar)."""
    from assistant.context.agenda_data import meeting_json, typed_meetings
    from assistant.factory import get_calendar_service

    calendar = get_calendar_service(settings)
    user = args.user or settings.test_user_id
    tz = args.tz or ZoneInfo("UTC")  # the parser refused an unknown name (exit 2)
    view = calendar.view(user, days_ahead=args.days, tz=tz, refresh=args.refresh)
    if view.warning:
        print(f"warning: {view.warning}", file=sys.stderr)
    user_email = args.email or (settings.test_user_email if user == settings.test_user_id else None)  # as prep, chat
    typed = typed_meetings(view.meetings, settings, engine=calendar.engine, user_id=user, user_email=user_email)
    items = [meeting_json(meeting, type_id, tz) for meeting, type_id, _label in typed]
    if args.json:
        json.dump(items, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(
        f"{view.label}{' (demo data)' if view.is_demo else ''}: {counted(len(items), 'meeting')} "
        f"in the next {counted(args.days, 'day')}"
    )
    for item in items:  # an all-day event is a day, not a meeting at midnight
        when = f"{item['start'][:10]} all day" if item["all_day"] else item["start"]
        print(f"{when:<25}  {item['type']:<12}  {item['title']}  [{item['id']}]")
    return 0
