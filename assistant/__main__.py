"""Command line: ``python -m assistant chat | sessions | prices | db``.

The CLI uses the same ChatService and queries as the Streamlit pages.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from assistant.config import ConfigError, Settings, load_settings
from assistant.log import setup_logging

logger = logging.getLogger("assistant.cli")

NOT_FOUND_MESSAGE = "That session was not found. Check the id (see: python -m assistant sessions list)."

EXAMPLE_SCRIPT = (
    "What meetings do I have this week?",
    "Prepare an agenda, and show me the budget context.",
    "Save a prep note: I want to close the hiring plan discussion and get a decision on Q1 headcount.",
)


def _print_events(events: object, out: TextIO) -> tuple[int, bool]:
    """Print a turn's events as they arrive; return (tool calls, ok)."""
    from assistant.chat import Done, ErrorEvent, TextDelta, ToolFinished, ToolStarted

    tools = 0
    ok = False
    for event in events:  # type: ignore[attr-defined]
        if isinstance(event, TextDelta):
            out.write(event.text)
            out.flush()
        elif isinstance(event, ToolStarted):
            tools += 1
            out.write(f"\n  ⚙ {event.name}({json.dumps(event.input, ensure_ascii=False)})\n")
        elif isinstance(event, ToolFinished):
            mark = "✓" if event.status == "success" else "✗"
            out.write(f"  {mark} {event.summary} ({event.duration_ms:.0f} ms)\n")
        elif isinstance(event, Done):
            ok = True
            t = event.turn
            cost = "unknown" if t.cost_usd is None else f"${t.cost_usd:.4f}"
            ttft = f"{t.ttft_ms:.0f} ms" if t.ttft_ms is not None else "-"
            out.write(f"\n  [{t.input_tokens} in / {t.output_tokens} out tokens · {cost} · first token {ttft}]\n")
        elif isinstance(event, ErrorEvent):
            out.write(f"\n  ! {event.message}\n")
    return tools, ok


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Interactive (or scripted, with --example) chat in the terminal."""
    from assistant.chat import ChatInputError, LimitExceededError
    from assistant.factory import get_chat_service
    from assistant.inputs import log_safe, validate_session_id
    from assistant.sessions.base import SessionError, SessionMeta
    from assistant.views.models import model_view

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
        except SessionError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"Resuming “{meta.title}” ({meta.turn_count} turns, {meta.state}) · model: {label}")
    else:
        print(f"Model: {label}")
    if args.example:
        meta = meta or service.create_session(user)
        total_tools = 0
        for line in EXAMPLE_SCRIPT:
            print(f"\nyou › {line}\nassistant › ", end="")
            tools, ok = _print_events(service.send_sync(meta.id, user, line), out)
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
            turn = service.start_turn(user, line, session_id=meta.id if meta else None)
            meta = turn.session
            print("assistant › ", end="")
            _print_events(turn.events, out)
        except (ChatInputError, LimitExceededError, SessionError) as e:
            print(f"  ! {e}")
    if meta is not None:
        print(f"Resume with: python -m assistant chat --session {meta.id}")
    return 0


def cmd_sessions(settings: Settings, args: argparse.Namespace) -> int:
    """List sessions, export costs, or rebuild the index from S3."""
    from assistant.factory import get_store

    store = get_store(settings)
    if args.action == "reindex":
        reindex = getattr(store, "reindex", None)
        if reindex is None:
            print("reindex applies to the S3 store only (SESSIONS_BUCKET_NAME is not set)", file=sys.stderr)
            return 2
        count = reindex()
        print(f"reindexed {count} sessions from s3://{settings.sessions_bucket_name}")
        return 0
    from assistant.sessions import queries
    from assistant.views.format import fmt_cost, fmt_tokens
    from assistant.views.usage import costs_csv

    engine = store.engine
    user = None if args.all else (args.user or settings.test_user_id)
    since = _parse_date(args.since) if args.since else None
    until = _parse_date(args.until) if args.until else None
    if args.action == "list":
        page = queries.list_sessions(
            engine, queries.SessionFilter(user_id=user, text=args.search, since=since, until=until, limit=args.limit)
        )
        for row in page.rows:
            print(
                f"{row.id}  {row.state:<9}  {row.updated_at:%Y-%m-%d %H:%M}  {row.turn_count:>4} turns  "
                f"{fmt_tokens(row.input_tokens + row.output_tokens):>7} tok  {fmt_cost(row.cost_usd):>10}  {row.title}"
            )
        print(f"{page.total_count} sessions · {fmt_cost(page.totals.cost_usd)} total")
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


def _parse_date(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as e:
        raise SystemExit(f"error: {text!r} is not a date (use YYYY-MM-DD)") from e
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    parser = argparse.ArgumentParser(prog="python -m assistant", description="Executive assistant command line")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="chat with the Meeting Coordinator in the terminal")
    chat.add_argument("--session", help="resume this session id")
    chat.add_argument("--example", action="store_true", help="run a scripted prep conversation and exit")
    chat.add_argument("--user", help="user id (default: TEST_USER_ID)")
    chat.set_defaults(func=cmd_chat)
    sessions = sub.add_parser("sessions", help="list sessions, export costs, rebuild the index")
    sessions.add_argument("action", choices=["list", "costs", "reindex"])
    sessions.add_argument("--user", help="user id (default: TEST_USER_ID)")
    sessions.add_argument("--all", action="store_true", help="every user's sessions (admin)")
    sessions.add_argument("--since", help="YYYY-MM-DD (inclusive)")
    sessions.add_argument("--until", help="YYYY-MM-DD (exclusive)")
    sessions.add_argument("--search", help="text to find in titles and transcripts")
    sessions.add_argument("--limit", type=int, default=50)
    sessions.add_argument("--csv", action="store_true", help="CSV output (costs)")
    sessions.set_defaults(func=cmd_sessions)
    prices = sub.add_parser("prices", help="print the model price table")
    prices.set_defaults(func=cmd_prices)
    dbp = sub.add_parser("db", help="database schema")
    dbp.add_argument("action", choices=["upgrade"])
    dbp.set_defaults(func=cmd_db)
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
    result: int = args.func(settings, args)
    return result


if __name__ == "__main__":
    sys.exit(main())
