"""The command line's ``sessions list | costs | reindex`` (registered by :mod:`assistant.__main__`'s parser).

They read the same queries and views as the Sessions and Usage pages.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.views.format import counted

if TYPE_CHECKING:
    from sqlalchemy import Engine

DEFAULT_PAGE = 50  # sessions list's rows when --limit is not given


def cmd_sessions(settings: Settings, args: argparse.Namespace) -> int:
    """List sessions, export costs, or rebuild the index from S3."""
    from assistant.factory import get_store

    conflict = _sessions_conflict(args)
    if conflict:  # each was ignored without a word
        print(f"error: {conflict}", file=sys.stderr)
        return 2
    store = get_store(settings)
    if args.action == "reindex":
        reindexed = store.reindex()
        source = (
            f"s3://{settings.sessions_bucket_name}" if settings.sessions_bucket_name else "their stored transcripts"
        )
        print(f"reindexed {counted(reindexed, 'session')} from {source}")
        damaged = _damaged_sessions(store.engine)
        if damaged:  # named only in log lines: "reindexed 1 session" read as all is well
            print(
                f"{counted(damaged, 'session')} cannot be opened: their stored conversation is missing or damaged "
                "(listed as damaged; the log above names each)"
            )
        return 0
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
        args.limit = args.limit or DEFAULT_PAGE
        return _list_sessions(engine, args, user, since, until)
    if args.action == "costs":
        if since is None:
            print("error: costs needs --since YYYY-MM-DD", file=sys.stderr)
            return 2
        text = costs_csv(engine, user_id=user, since=since, until=until)
        if args.csv:
            sys.stdout.write(text)
        else:
            import csv
            import io

            # one tab-separated line per row: a blank line ended it, and a quoted comma split its field
            for cells in csv.reader(io.StringIO(text)):
                print("\t".join(cells))
        return 0
    return 2


def _list_sessions(
    engine: Engine, args: argparse.Namespace, user: str | None, since: datetime | None, until: datetime | None
) -> int:
    """``sessions list``: one line per session, newest first, ``--limit`` a page; the footer says
    which rows of how many these are and how to get the next page."""
    from assistant.sessions import queries
    from assistant.views.format import fmt_tokens
    from assistant.views.sessions import row_cost_text, search_bound_note, totals_cost_text

    offset = (args.page - 1) * args.limit
    try:
        page = queries.list_sessions(
            engine,
            queries.SessionFilter(
                user_id=user, text=args.search, since=since, until=until, limit=args.limit, offset=offset
            ),
        )
    except queries.SessionQueryError as e:  # e.g. a --search longer than 200 characters: was a traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    last_page = max(1, -(-page.total_count // args.limit))
    if not page.rows and args.page > 1:  # an empty page read as "no sessions"
        print(
            f"error: --page {args.page} is past the last page ({last_page} at --limit {args.limit}; "
            f"{counted(page.total_count, 'session')})",
            file=sys.stderr,
        )
        return 2
    for row in page.rows:
        state = "damaged" if row.damaged else row.state  # its stored conversation cannot be opened
        email = f" ({row.user_email})" if row.user_email else ""
        owner = f"{row.user_id}{email}  " if user is None else ""  # --all: whose it is, as --user takes it
        print(
            f"{row.id}  {state:<9}  {row.updated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC  "
            f"{counted(row.turn_count, 'turn'):>10}  "
            f"{fmt_tokens(row.input_tokens + row.output_tokens):>7} tok  {row_cost_text(row):>10}  {owner}{row.title}"
        )
    # the page's "of about N": a search with many matches is counted from its newest candidates
    about = "about " if page.totals.approximate else ""
    count = f"{about}{counted(page.total_count, 'session')}"
    if args.page > 1:
        first, last = offset + 1, offset + len(page.rows)
        shown = f"row {first:,} of {count}" if first == last else f"rows {first:,}–{last:,} of {count}"
    else:
        shown = f"{len(page.rows):,} of {count}" if len(page.rows) < page.total_count else count
    more = f" · next: --page {args.page + 1}" if offset + len(page.rows) < page.total_count else ""
    # as the page's Cost metric: a lower bound ("≥ $1.23") when some sessions used an unpriced model
    unpriced = page.totals.unknown_cost_sessions
    unknown = f" ({about}{counted(unpriced, 'session')} used a model without a price)" if unpriced else ""
    print(f"{shown} · {about}{totals_cost_text(page.totals)} total{unknown}{more}")
    bound = search_bound_note(page.totals, args.search)  # a search of short words stopped early
    if bound:
        print(bound, file=sys.stderr)
    return 0


def _damaged_sessions(engine: Engine) -> int:
    """How many indexed sessions are marked damaged (their stored conversation missing or unreadable)."""
    from sqlalchemy import func, select

    from assistant import db

    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(db.sessions).where(db.sessions.c.damaged.is_not(None))
            ).scalar_one()
        )


def _sessions_conflict(args: argparse.Namespace) -> str | None:
    """Options of ``sessions`` that contradict each other or the action, or None."""
    if args.all and args.user:
        return "--all lists every user's sessions; give --all or --user, not both"
    if args.csv and args.action != "costs":
        return "--csv applies to sessions costs"
    if args.page != 1 and args.action != "list":
        return "--page applies to sessions list"
    # each was ignored: costs printed every row of the period as if filtered, and reindex --user rebuilt all
    for given, option in ((args.search is not None, "--search"), (args.limit is not None, "--limit")):
        if given and args.action != "list":
            return f"{option} applies to sessions list"
    if args.action == "reindex" and (args.user or args.all or args.since or args.until):
        return "reindex rebuilds every session's index; it takes no --user, --all, --since or --until"
    return None
