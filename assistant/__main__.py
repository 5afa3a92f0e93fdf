"""Command line: ``python -m assistant chat | sessions | prices | db | calendar | meetings | prep``.

The CLI uses the same ChatService and queries as the Streamlit pages; ``sessions`` lives in
:mod:`assistant.cli_sessions`, and the commands about a user's meetings (``prep``, ``calendar``,
``meetings``) in :mod:`assistant.cli_meetings`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from assistant.cli_meetings import cmd_calendar, cmd_meetings, cmd_prep
from assistant.cli_sessions import DEFAULT_PAGE, cmd_sessions
from assistant.config import ConfigError, Settings, load_settings
from assistant.log import setup_logging
from assistant.views.format import counted

if TYPE_CHECKING:
    from assistant.chat import ChatService
    from assistant.sessions.base import SessionMeta

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
    from assistant.views.conversation import turn_footer

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
            ok = True  # the page's small print: "$0.0000" read a cheap paid answer as free
            out.write(f"\n  [{turn_footer(event.turn)}]\n")
        elif isinstance(event, ErrorEvent):
            out.write(strip_control_chars(f"\n  ! {event.message}\n"))
    out.write(strip_control_chars(held))
    return tools, ok


def _answer(service: ChatService, session_id: str, events: object, out: TextIO, prefix: str = "") -> tuple[int, bool]:
    """Print an answer as it streams; Ctrl-C stops it as the page's Stop does, instead of a traceback.

    The interrupted answer is stored (marked stopped) before the prompt comes back: the process
    leaving mid-answer used to lose it ("not answered - the server restarted" on reopening).
    A reader that went away (``chat | head``) stops it the same way before the process ends.
    """
    try:
        out.write(prefix)  # here: a reader gone by then broke the pipe on it, and the turn was lost
        return _print_events(events, out)
    except (KeyboardInterrupt, BrokenPipeError) as e:
        service.stop(session_id)
        service.wait_idle(session_id)
        if isinstance(e, BrokenPipeError):  # nobody to tell: main() ends quietly
            raise
        out.write("\n  ! Stopped: what was written so far is kept, marked stopped.\n")
        return 0, False


def _resume(service: ChatService, session_arg: str, user: str) -> SessionMeta | int:
    """The session ``chat --session`` names, said on the terminal; or the exit code when it cannot go on."""
    from assistant.chat.model_choice import CONTINUE_ADVICE
    from assistant.inputs import log_safe, validate_session_id
    from assistant.sessions.base import SessionError, SessionNotFoundError
    from assistant.views.models import model_view

    session_id = validate_session_id(session_arg)
    if session_id is None:  # never a session this app created: not found, without a lookup
        logger.info("session_id=<%s> | malformed session id, not found", log_safe(session_arg))
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
    if meta.damaged:  # read it: a stored conversation back in place (restored) clears the mark
        with contextlib.suppress(SessionError):
            meta = service.open_session(session_id, user).meta
    if meta.damaged:  # every message was refused, and "Resume with" offered it again
        print(
            f"error: “{meta.title}” cannot be opened: its stored conversation is missing or damaged; "
            "start a new session: python -m assistant chat",
            file=sys.stderr,
        )
        return 2
    if meta.read_only:  # every message was refused, pointing at a page button the CLI does not have
        print(
            f"error: “{meta.title}” is {meta.state} and read-only; start a new session: python -m assistant chat",
            file=sys.stderr,
        )
        return 2
    refusal = service.model_refusal(meta)
    if refusal is not None:  # likewise: its model is no longer offered (MODELS changed)
        print(
            f"error: {refusal.removesuffix(CONTINUE_ADVICE).strip().removesuffix('.')}; "
            "start a new session: python -m assistant chat",
            file=sys.stderr,
        )
        return 2
    label = model_view(meta.model or service.model_name).label  # its own model, not the default
    print(f"Resuming “{meta.title}” ({counted(meta.turn_count, 'turn')}, {meta.state}) · model: {label}")
    return meta


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Interactive (or scripted, with --example) chat in the terminal."""
    from assistant.chat import LimitExceededError, ModelChoiceError
    from assistant.factory import get_chat_service
    from assistant.sessions.base import SessionError
    from assistant.views.models import model_view

    if args.session and args.model:  # was ignored: the answers came from the session's own model
        print("error: a session keeps the model it started with; --model is for a new session", file=sys.stderr)
        return 2
    if sys.stdin is None and not args.example:  # `chat <&-`: input() raised "lost sys.stdin"
        print("error: no input to read (stdin is closed); pipe the messages in, or use --example", file=sys.stderr)
        return 2
    service = get_chat_service(settings)
    user = args.user or settings.test_user_id
    # as meetings and prep: the page's user has the page's email (the 1:1 with a colleague was "external")
    email = args.email or (settings.test_user_email if user == settings.test_user_id else None)
    you = _You(user, email, args.tz or UTC)
    out = sys.stdout
    meta: SessionMeta | None = None
    if args.session:
        resumed = _resume(service, args.session, user)
        if isinstance(resumed, int):
            return resumed
        meta = resumed
    else:
        try:  # before anything is printed: "Model: nosuch" came first, then the error (or a prompt)
            chosen = service.choose_model(args.model, None)
        except ModelChoiceError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"Model: {model_view(chosen).label}")  # the one --model picks
    if args.example:
        total_tools = 0
        for line in EXAMPLE_SCRIPT:
            print(f"\nyou › {line}\nassistant › ", end="")
            try:  # the session starts with the first line the limits take (a refused one left it empty)
                turn = service.start_turn(
                    user,
                    line,
                    session_id=meta.id if meta else None,
                    model=None if meta else args.model,
                    user_email=email,
                    tz=you.tz,
                )
            except (LimitExceededError, SessionError, ModelChoiceError) as e:  # a traceback before
                print(f"\nerror: {e}", file=sys.stderr)
                if meta is not None:  # what was answered can be picked up when the limit frees up
                    print(f"Resume with: python -m assistant chat --session {meta.id}")
                return 1
            meta = turn.session
            tools, ok = _answer(service, meta.id, turn.events, out)
            total_tools += tools
            if not ok:  # stopped (Ctrl-C) or failed: what there is was stored, and can be picked up
                print(f"Resume with: python -m assistant chat --session {meta.id}")
                return 1
        print(f"\nExample finished: {total_tools} tool calls.")
        assert meta is not None  # the script's first line started it
        print(f"Resume with: python -m assistant chat --session {meta.id}")
        return 0 if total_tools >= 2 else 1
    return _chat_loop(service, you, meta, args.model)


@dataclass(frozen=True)
class _You:
    """Who chats in the terminal: the user id, their email (kept on a new session) and their zone."""

    user: str
    email: str | None
    tz: tzinfo


def _chat_loop(service: ChatService, you: _You, meta: SessionMeta | None, model: str | None) -> int:
    """The interactive chat: one message a line until Ctrl-D or /quit; the session starts with the first."""
    from assistant.chat import ChatInputError, LimitExceededError, ModelChoiceError
    from assistant.inputs import strip_control_chars
    from assistant.sessions.base import SessionError

    out = sys.stdout
    typed = sys.stdin.isatty()  # piped messages are not echoed by a terminal: "you › assistant › …"
    print("Type a message (Ctrl-D or /quit to leave).")
    while True:
        try:
            line = input("\nyou › ")
        except (EOFError, KeyboardInterrupt):
            print()
            break
        if not typed:
            print(strip_control_chars(line))
        if line.strip() in ("/quit", "/exit"):
            break
        try:
            # the session starts with its first message the limits allow: no empty sessions
            turn = service.start_turn(
                you.user,
                line,
                session_id=meta.id if meta else None,
                model=None if meta else model,
                user_email=you.email,
                tz=you.tz,
            )
            meta = turn.session
            _answer(service, meta.id, turn.events, out, prefix="assistant › ")
        except (ChatInputError, LimitExceededError, SessionError, ModelChoiceError) as e:
            print(f"  ! {e}")
    if meta is not None:
        print(f"Resume with: python -m assistant chat --session {meta.id}")
    return 0


def _parse_date(text: str) -> datetime:
    """An argparse type: a YYYY-MM-DD date (or ISO 8601 time), UTC unless it names its offset."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from e
    try:  # in UTC here: 9999-12-31T23:00-05:00 was an OverflowError traceback where it was converted
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range (its UTC time is not in years 1-9999)") from e


def _user_id(text: str) -> str:
    """An argparse type: a user id as the app stores it (an empty one meant TEST_USER_ID, silently)."""
    from assistant.inputs import has_control_chars

    value = text.strip()
    if not value or len(value) > 128 or has_control_chars(value):
        # "--user $UNSET_VARIABLE" acted on the dev login's user: its calendar disconnected, its sessions listed
        raise argparse.ArgumentTypeError(
            "must be a user id of 1-128 printable characters (omit --user for TEST_USER_ID)"
        )
    return value


def _session_arg(text: str) -> str:
    """An argparse type: a session id to resume, checked later (an empty one started a new session, silently)."""
    if not text.strip():  # "--session $UNSET_VARIABLE" answered in a new session instead of the one meant
        raise argparse.ArgumentTypeError(
            "must be a session id (see: python -m assistant sessions list); omit --session for a new session"
        )
    return text


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


def _time_zone(text: str) -> ZoneInfo:
    """An argparse type: an IANA time zone name (a bad one is a usage error, exit 2)."""
    from assistant.views.format import resolve_zone

    zone = resolve_zone(text)
    if zone.key != text:
        raise argparse.ArgumentTypeError(f"{text[:64]!r} is not a time zone; use an IANA name such as Europe/Paris")
    return zone


def cmd_prices(settings: Settings, args: argparse.Namespace) -> int:
    """Print the price table."""
    from assistant.factory import get_prices

    print(get_prices(settings).format_table())
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    """Upgrade the database schema to the newest migration, once the data files the pages read are readable."""
    from assistant.db import get_engine
    from assistant.factory import data_files_problem
    from assistant.migrate import SCHEMA_HEAD, current_revision, is_known_revision, upgrade

    problem = data_files_problem(settings)  # the release step checks what the replicas will read
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    engine = get_engine(settings.database_url)
    upgrade(engine)
    revision = current_revision(engine)
    if revision is not None and not is_known_revision(revision):  # a rollback: nothing to do, and safe
        print(f"database at revision {revision}, newer than this release's {SCHEMA_HEAD}: left as it is")
        return 0
    print(f"database at revision {revision}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    parser = argparse.ArgumentParser(prog="python -m assistant", description="Executive assistant command line")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="chat with the Meeting Coordinator in the terminal")
    chat.add_argument("--session", type=_session_arg, help="resume this session id")
    chat.add_argument("--example", action="store_true", help="run a scripted prep conversation and exit")
    chat.add_argument("--user", type=_user_id, help="user id (default: TEST_USER_ID)")
    chat.add_argument("--model", help="a model of MODELS for a new session (default: the first)")
    chat.add_argument("--tz", type=_time_zone, help="IANA time zone the answers tell times in (default: UTC)")
    chat.add_argument(
        "--email", help="the user's email; its domain counts as internal (default for TEST_USER_ID: TEST_USER_EMAIL)"
    )
    chat.set_defaults(func=cmd_chat)
    sessions = sub.add_parser("sessions", help="list sessions, export costs, rebuild the index")
    sessions.add_argument("action", choices=["list", "costs", "reindex"])
    sessions.add_argument("--user", type=_user_id, help="user id (default: TEST_USER_ID)")
    sessions.add_argument("--all", action="store_true", help="every user's sessions (admin)")
    sessions.add_argument(
        "--since",
        type=_parse_date,
        help="YYYY-MM-DD, a UTC day (inclusive), or a time with its offset (2026-12-07T00:00+13:00)",
    )
    sessions.add_argument(
        "--until", type=_parse_date, help="YYYY-MM-DD, a UTC day (exclusive), or a time with its offset"
    )
    sessions.add_argument(
        "--search", help='words to find in a title or one exchange (every word, any order; "quotes" for a phrase)'
    )
    sessions.add_argument(
        "--limit", type=_between(1, MAX_PAGE), help=f"rows to list (1-{MAX_PAGE}, default: {DEFAULT_PAGE})"
    )
    sessions.add_argument(
        "--page", type=_between(1, 1_000_000), default=1, help="which page of --limit rows to list (default: 1)"
    )
    sessions.add_argument("--csv", action="store_true", help="CSV output (costs)")
    sessions.set_defaults(func=cmd_sessions)
    prices = sub.add_parser("prices", help="print the model price table")
    prices.set_defaults(func=cmd_prices)
    dbp = sub.add_parser("db", help="database schema")
    dbp.add_argument("action", choices=["upgrade"])
    dbp.set_defaults(func=cmd_db)
    prep = sub.add_parser("prep", help="write a meeting's agenda, questions and note-taking template")
    prep.add_argument("meeting_id", metavar="MEETING_ID", help="the meeting's id (see the error for the next ones)")
    prep.add_argument("--user", type=_user_id, help="user id (default: TEST_USER_ID)")
    prep.add_argument("--format", choices=["md", "docx"], default="md", help="Markdown (default) or Word")
    prep.add_argument("--output", metavar="FILE", help="write here (DOCX needs it unless stdout is redirected)")
    prep.add_argument("--force", action="store_true", help="replace --output FILE when it exists")
    prep.add_argument(
        "--days", type=_between(1, 366), default=7, help="how many days of meetings to list for an unknown id"
    )
    prep.add_argument("--tz", type=_time_zone, help="IANA time zone for the times shown (default: UTC)")
    prep.add_argument("--email", help="the user's email (its domain counts as internal)")
    prep.set_defaults(func=cmd_prep)
    calendar = sub.add_parser("calendar", help="store an .ics file as a user's calendar, or disconnect it")
    calendar.add_argument("action", choices=["import", "disconnect"])
    calendar.add_argument("file", nargs="?", help="the .ics file, or Google's export .zip (import)")
    calendar.add_argument("--user", type=_user_id, help="user id (default: TEST_USER_ID)")
    calendar.set_defaults(func=cmd_calendar)
    meetings = sub.add_parser("meetings", help="a user's meetings in the next N days")
    meetings.add_argument("--user", type=_user_id, help="user id (default: TEST_USER_ID)")
    meetings.add_argument(
        "--email", help="the user's email; its domain counts as internal (default for TEST_USER_ID: TEST_USER_EMAIL)"
    )
    meetings.add_argument("--days", type=_between(1, 366), default=7, help="1-366 (default: 7)")
    meetings.add_argument("--json", action="store_true", help="one JSON array, sorted by start")
    meetings.add_argument("--refresh", action="store_true", help="read the source now, not the cached copy")
    meetings.add_argument("--tz", type=_time_zone, help="IANA time zone for the times shown (default: UTC)")
    meetings.set_defaults(func=cmd_meetings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: a reader that stops early (``| head``) ends it quietly, as SIGPIPE would (141);
    Ctrl-C ends it with one line and 130, as SIGINT would."""
    if sys.stdout is None:  # `>&-`: print() wrote nowhere, prep's sys.stdout.buffer was an AttributeError
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the process's stdout until it exits
    for stream in (sys.stdout, sys.stderr):
        # an ASCII or Latin-1 output (PYTHONIOENCODING, an old terminal): a "·" or "—" was a traceback
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    try:
        result = _run(argv)
        sys.stdout.flush()  # here, not at exit, where a closed pipe is an "Exception ignored" message
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit's flush writes nowhere
        return 141
    except KeyboardInterrupt:  # outside an answer (chat stops those itself): was a traceback
        print("\ninterrupted", file=sys.stderr)
        return 130
    return result


def _log_level(settings: Settings, args: argparse.Namespace) -> str:
    """Warnings only, unless LOG_LEVEL is set or the command changes the database's shape.

    ``sessions list``, ``meetings`` or ``prep`` printed the schema check and the price table's
    INFO lines above their output: noise for a reader. ``db`` and ``sessions reindex`` keep
    INFO (what was upgraded or rebuilt); an explicit LOG_LEVEL always wins.
    """
    if "log_level" in settings.model_fields_set:
        return settings.log_level
    if args.command == "db" or (args.command == "sessions" and args.action == "reindex"):
        return settings.log_level
    return "WARNING"


def _run(argv: Sequence[str] | None) -> int:
    """Parse the arguments and run the command; an unusable setting is one ``error:`` line."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    setup_logging(_log_level(settings, args))
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
