"""Command line: ``python -m assistant chat | sessions | prices | db | calendar | meetings | prep``.

The CLI uses the same ChatService and queries as the Streamlit pages.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from assistant.config import ConfigError, Settings, load_settings
from assistant.log import setup_logging
from assistant.views.format import counted

if TYPE_CHECKING:
    from assistant.chat import ChatService

logger = logging.getLogger("assistant.cli")

MAX_PAGE = 500  # assistant.sessions.queries.MAX_LIMIT, without importing SQLAlchemy to parse the arguments
NOT_FOUND_MESSAGE = "That session was not found. Check the id (see: python -m assistant sessions list)."

EXAMPLE_SCRIPT = (
    "What meetings do I have this week?",
    "Prepare an agenda, and show me the budget context.",
    "Save a prep note: I want to close the hiring plan discussion and get a decision on Q1 headcount.",
)


def _print_events(events: object, out: TextIO) -> tuple[int, bool]:
    """Print a turn's events as they arrive; return (tool calls, ok)."""
    from assistant.chat import Done, ErrorEvent, TextDelta, ToolFinished, ToolStarted
    from assistant.inputs import strip_control_chars

    tools = 0
    ok = False
    held = ""  # the start of an escape sequence whose end is in the next piece of text
    for event in events:  # type: ignore[attr-defined]
        if isinstance(event, TextDelta):
            # The model's text as it came: a terminal escape in it (clear the screen, retitle the
            # window, write the clipboard with OSC 52) would act on the user's terminal.
            text, held = held + event.text, ""
            start = text.rfind("\x1b")
            if start != -1 and len(text) - start < 256 and "\n" not in text[start:]:
                text, held = text[:start], text[start:]
            out.write(strip_control_chars(text))
            out.flush()
            continue
        out.write(strip_control_chars(held))
        held = ""
        if isinstance(event, ToolStarted):
            tools += 1
            call = json.dumps(event.input, ensure_ascii=False)
            out.write(strip_control_chars(f"\n  ⚙ {event.name}({call})\n"))
        elif isinstance(event, ToolFinished):
            mark = "✓" if event.status == "success" else "✗"
            out.write(strip_control_chars(f"  {mark} {event.summary} ({event.duration_ms:.0f} ms)\n"))
        elif isinstance(event, Done):
            ok = True
            t = event.turn
            cost = "unknown" if t.cost_usd is None else f"${t.cost_usd:.4f}"
            ttft = f"{t.ttft_ms:.0f} ms" if t.ttft_ms is not None else "-"
            out.write(f"\n  [{t.input_tokens} in / {t.output_tokens} out tokens · {cost} · first token {ttft}]\n")
        elif isinstance(event, ErrorEvent):
            out.write(strip_control_chars(f"\n  ! {event.message}\n"))
    out.write(strip_control_chars(held))
    return tools, ok


def _answer(service: ChatService, session_id: str, events: object, out: TextIO) -> tuple[int, bool]:
    """Print an answer as it streams; Ctrl-C stops it as the page's Stop does, instead of a traceback.

    The interrupted answer is stored (marked stopped) before the prompt comes back: the process
    leaving mid-answer used to lose it ("not answered - the server restarted" on reopening).
    """
    try:
        return _print_events(events, out)
    except KeyboardInterrupt:
        service.stop(session_id)
        service.wait_idle(session_id)
        out.write("\n  ! Stopped: what was written so far is kept, marked stopped.\n")
        return 0, False


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Interactive (or scripted, with --example) chat in the terminal."""
    from assistant.chat import ChatInputError, LimitExceededError, ModelChoiceError
    from assistant.factory import get_chat_service
    from assistant.inputs import log_safe, validate_session_id
    from assistant.sessions.base import SessionError, SessionMeta, SessionNotFoundError
    from assistant.views.models import model_view

    if args.session and args.model:  # was ignored: the answers came from the session's own model
        print("error: a session keeps the model it started with; --model is for a new session", file=sys.stderr)
        return 2
    service = get_chat_service(settings)
    user = args.user or settings.test_user_id
    out = sys.stdout
    label = model_view(service.model_name).label
    meta: SessionMeta | None = None
    if args.session:
        session_id = validate_session_id(args.session)
        if session_id is None:  # never a session this app created: not found, without a lookup
            logger.info("session_id=<%s> | malformed session id, not found", log_safe(args.session))
            print(f"error: {NOT_FOUND_MESSAGE}", file=sys.stderr)
            return 2
        try:
            meta = service.get_session(session_id, user)
        except SessionNotFoundError:  # the store's sentence alone left the user without the next step
            print(f"error: {NOT_FOUND_MESSAGE}", file=sys.stderr)
            return 2
        except SessionError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"Resuming “{meta.title}” ({counted(meta.turn_count, 'turn')}, {meta.state}) · model: {label}")
    else:
        print(f"Model: {label}")
    if args.example:
        try:
            meta = meta or service.create_session(user, model=args.model)
        except ModelChoiceError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        total_tools = 0
        for line in EXAMPLE_SCRIPT:
            print(f"\nyou › {line}\nassistant › ", end="")
            tools, ok = _answer(service, meta.id, service.send_sync(meta.id, user, line), out)
            total_tools += tools
            if not ok:
                return 1
        print(f"\nExample finished: {total_tools} tool calls.")
        print(f"Resume with: python -m assistant chat --session {meta.id}")
        return 0 if total_tools >= 2 else 1
    print("Type a message (Ctrl-D or /quit to leave).")
    while True:
        try:
            line = input("\nyou › ")
        except (EOFError, KeyboardInterrupt):
            print()
            break
        if line.strip() in ("/quit", "/exit"):
            break
        try:
            # the session starts with its first message the limits allow: no empty sessions
            turn = service.start_turn(
                user, line, session_id=meta.id if meta else None, model=None if meta else args.model
            )
            meta = turn.session
            print("assistant › ", end="")
            _answer(service, meta.id, turn.events, out)
        except (ChatInputError, LimitExceededError, SessionError, ModelChoiceError) as e:
            print(f"  ! {e}")
    if meta is not None:
        print(f"Resume with: python -m assistant chat --session {meta.id}")
    return 0


def cmd_sessions(settings: Settings, args: argparse.Namespace) -> int:
    """List sessions, export costs, or rebuild the index from S3."""
    from assistant.factory import get_store

    conflict = _sessions_conflict(args)
    if conflict:  # each was ignored without a word
        print(f"error: {conflict}", file=sys.stderr)
        return 2
    store = get_store(settings)
    if args.action == "reindex":
        reindex = getattr(store, "reindex", None)
        if reindex is None:
            print("reindex applies to the S3 store only (SESSIONS_BUCKET_NAME is not set)", file=sys.stderr)
            return 2
        count = reindex()
        print(f"reindexed {counted(count, 'session')} from s3://{settings.sessions_bucket_name}")
        return 0
    from assistant.sessions import queries
    from assistant.views.format import fmt_cost, fmt_tokens
    from assistant.views.usage import costs_csv

    engine = store.engine
    user = None if args.all else (args.user or settings.test_user_id)
    since, until = args.since, args.until
    if since and until and until <= since:
        # an empty list (or CSV) read as "no sessions in that period"
        print(
            f"error: --until {until:%Y-%m-%d} is not after --since {since:%Y-%m-%d} "
            "(--since is inclusive, --until exclusive: --since 2026-12-01 --until 2026-12-02 is one day)",
            file=sys.stderr,
        )
        return 2
    if args.action == "list":
        try:
            page = queries.list_sessions(
                engine,
                queries.SessionFilter(user_id=user, text=args.search, since=since, until=until, limit=args.limit),
            )
        except queries.SessionQueryError as e:  # e.g. a --search longer than 200 characters: was a traceback
            print(f"error: {e}", file=sys.stderr)
            return 2
        for row in page.rows:
            print(
                f"{row.id}  {row.state:<9}  {row.updated_at:%Y-%m-%d %H:%M}  {counted(row.turn_count, 'turn'):>10}  "
                f"{fmt_tokens(row.input_tokens + row.output_tokens):>7} tok  {fmt_cost(row.cost_usd):>10}  {row.title}"
            )
        print(f"{counted(page.total_count, 'session')} · {fmt_cost(page.totals.cost_usd)} total")
        return 0
    if args.action == "costs":
        if since is None:
            print("error: costs needs --since YYYY-MM-DD", file=sys.stderr)
            return 2
        text = costs_csv(engine, user_id=user, since=since, until=until)
        if args.csv:
            sys.stdout.write(text)
        else:
            print(text.replace(",", "\t"))
        return 0
    return 2


def _sessions_conflict(args: argparse.Namespace) -> str | None:
    """Options of ``sessions`` that contradict each other or the action, or None."""
    if args.all and args.user:
        return "--all lists every user's sessions; give --all or --user, not both"
    if args.csv and args.action != "costs":
        return "--csv applies to sessions costs"
    return None


def _parse_date(text: str) -> datetime:
    """An argparse type: a YYYY-MM-DD date (or ISO 8601 time), UTC unless it names its offset."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from e
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (a bad one is a usage error, exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high} (got {text!r})")
        return value

    return parse


def cmd_prices(settings: Settings, args: argparse.Namespace) -> int:
    """Print the price table."""
    from assistant.factory import get_prices

    print(get_prices(settings).format_table())
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    """Upgrade the database schema to the newest migration."""
    from assistant.db import get_engine
    from assistant.migrate import current_revision, upgrade

    engine = get_engine(settings.database_url)
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0


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
    from assistant.views.format import resolve_zone
    from assistant.views.materials import materials_for, to_docx, to_markdown

    if args.format == "docx" and args.output is None and sys.stdout.isatty():
        print("error: a DOCX file is binary; give --output FILE (or redirect the output to a file).", file=sys.stderr)
        return 2
    tz = resolve_zone(args.tz)
    if args.tz and tz.key != args.tz:
        print(
            f"error: {log_safe(args.tz, 64)} is not a time zone; use an IANA name such as Europe/Paris.",
            file=sys.stderr,
        )
        return 2
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
        listing = "\n".join(f"  {m.id:<24} {m.start:%a %d %b %H:%M}  {m.title}" for m in upcoming)
        print(
            f"error: there is no meeting with id {log_safe(args.meeting_id, 64)}. Use one of the ids below "
            f"(your meetings in the next {counted(args.days, 'day')}):\n{listing or '  (none; try a larger --days)'}",
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
        with open(args.output, "wb") as fh:
            fh.write(data)
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

    calendar = get_calendar_service(settings)
    user = args.user or settings.test_user_id
    if args.action == "disconnect":
        if args.file:  # "calendar disconnect work.ics" read as "disconnect that file" and forgot everything
            print("error: calendar disconnect takes no FILE; it forgets the user's whole calendar", file=sys.stderr)
            return 2
        stored = calendar.disconnect(user)
        if stored is None:
            print(f"{user} had no calendar connected: the demo calendar is used (nothing changed)")
            return 0
        print(f"{stored.label} disconnected for {user}: the demo calendar is used again")
        if stored.kind == "google" and stored.secret:  # as the page's Disconnect: the grant ends at Google too
            from assistant.context.google import revoke

            if not revoke(settings, stored.secret):
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
    try:
        size = path.stat().st_size
        if size > settings.ics_max_bytes:
            raise CalendarInputError(
                f"{path.name} is {size / 1e6:.1f} MB; the limit is {settings.ics_max_bytes / 1e6:.1f} MB."
            )
        data = path.read_bytes()
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
    print(f"{connection.label} stored for {user}: {counted(len(view.meetings), 'meeting')} in the next 7 days")
    return 0


def cmd_meetings(settings: Settings, args: argparse.Namespace) -> int:
    """Print a user's meetings in the next N days from their connected source (or the demo calendar)."""
    from assistant.context.agenda_data import meeting_json, typed_meetings
    from assistant.factory import get_calendar_service

    calendar = get_calendar_service(settings)
    user = args.user or settings.test_user_id
    view = calendar.view(user, days_ahead=args.days, refresh=args.refresh)
    if view.warning:
        print(f"warning: {view.warning}", file=sys.stderr)
    typed = typed_meetings(view.meetings, settings, engine=calendar.engine, user_id=user, user_email=args.email)
    items = [meeting_json(meeting, type_id) for meeting, type_id, _label in typed]
    if args.json:
        json.dump(items, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(
        f"{view.label}{' (demo data)' if view.is_demo else ''}: {counted(len(items), 'meeting')} "
        f"in the next {counted(args.days, 'day')}"
    )
    for item in items:
        print(f"{item['start']}  {item['type']:<12}  {item['title']}  [{item['id']}]")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    parser = argparse.ArgumentParser(prog="python -m assistant", description="Executive assistant command line")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="chat with the Meeting Coordinator in the terminal")
    chat.add_argument("--session", help="resume this session id")
    chat.add_argument("--example", action="store_true", help="run a scripted prep conversation and exit")
    chat.add_argument("--user", help="user id (default: TEST_USER_ID)")
    chat.add_argument("--model", help="a model of MODELS for a new session (default: the first)")
    chat.set_defaults(func=cmd_chat)
    sessions = sub.add_parser("sessions", help="list sessions, export costs, rebuild the index")
    sessions.add_argument("action", choices=["list", "costs", "reindex"])
    sessions.add_argument("--user", help="user id (default: TEST_USER_ID)")
    sessions.add_argument("--all", action="store_true", help="every user's sessions (admin)")
    sessions.add_argument("--since", type=_parse_date, help="YYYY-MM-DD (inclusive)")
    sessions.add_argument("--until", type=_parse_date, help="YYYY-MM-DD (exclusive)")
    sessions.add_argument(
        "--search", help='words to find in a title or one exchange (every word, any order; "quotes" for a phrase)'
    )
    sessions.add_argument("--limit", type=_between(1, MAX_PAGE), default=50, help=f"rows to list (1-{MAX_PAGE})")
    sessions.add_argument("--csv", action="store_true", help="CSV output (costs)")
    sessions.set_defaults(func=cmd_sessions)
    prices = sub.add_parser("prices", help="print the model price table")
    prices.set_defaults(func=cmd_prices)
    dbp = sub.add_parser("db", help="database schema")
    dbp.add_argument("action", choices=["upgrade"])
    dbp.set_defaults(func=cmd_db)
    prep = sub.add_parser("prep", help="write a meeting's agenda, questions and note-taking template")
    prep.add_argument("meeting_id", metavar="MEETING_ID", help="the meeting's id (see the error for the next ones)")
    prep.add_argument("--user", help="user id (default: TEST_USER_ID)")
    prep.add_argument("--format", choices=["md", "docx"], default="md", help="Markdown (default) or Word")
    prep.add_argument("--output", metavar="FILE", help="write here (DOCX needs it unless stdout is redirected)")
    prep.add_argument(
        "--days", type=_between(1, 366), default=7, help="how many days of meetings to list for an unknown id"
    )
    prep.add_argument("--tz", help="IANA time zone for the times shown (default: UTC)")
    prep.add_argument("--email", help="the user's email (its domain counts as internal)")
    prep.set_defaults(func=cmd_prep)
    calendar = sub.add_parser("calendar", help="store an .ics file as a user's calendar, or disconnect it")
    calendar.add_argument("action", choices=["import", "disconnect"])
    calendar.add_argument("file", nargs="?", help="the .ics file (import)")
    calendar.add_argument("--user", help="user id (default: TEST_USER_ID)")
    calendar.set_defaults(func=cmd_calendar)
    meetings = sub.add_parser("meetings", help="a user's meetings in the next N days")
    meetings.add_argument("--user", help="user id (default: TEST_USER_ID)")
    meetings.add_argument("--email", help="the user's email (its domain counts as internal for meeting types)")
    meetings.add_argument("--days", type=_between(1, 366), default=7, help="1-366 (default: 7)")
    meetings.add_argument("--json", action="store_true", help="one JSON array, sorted by start")
    meetings.add_argument("--refresh", action="store_true", help="read the source now, not the cached copy")
    meetings.set_defaults(func=cmd_meetings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level if args.command != "chat" else "WARNING")
    try:
        result: int = args.func(settings, args)
    except Exception as e:
        from assistant.factory import unusable_setting

        message = unusable_setting(settings, e)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
