"""The sessions table query on real SQLite files and Postgres schemas, with known totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete

from assistant.db import session_text, sessions
from assistant.sessions.base import SessionQuery
from assistant.sessions.queries import SessionFilter, SessionQueryError, list_sessions
from tests.fixtures.db import insert_sessions, insert_usage, set_search_text

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)

SESSIONS = [
    dict(id="s1", user_id="alice", title="Board prep", state="active", created_at=T0 - timedelta(days=5),
         updated_at=T0 - timedelta(hours=1), model="offline", turn_count=3, input_tokens=100, output_tokens=50,
         cost_usd=0.0, search_text="prepare the board review with maria"),
    dict(id="s2", user_id="alice", title="Budget review", state="completed", created_at=T0 - timedelta(days=3),
         updated_at=T0 - timedelta(days=2), model="bedrock:us.amazon.nova-lite-v1:0", turn_count=5,
         input_tokens=1000, output_tokens=400, cost_usd=0.25,
         search_text="budget variance for project aurora 100% sure"),
    dict(id="s3", user_id="alice", title="Hiring sync", state="expired", created_at=T0 - timedelta(days=20),
         updated_at=T0 - timedelta(days=19), model="bedrock:x.unknown", turn_count=1, input_tokens=10,
         output_tokens=5, cost_usd=1.5, cost_unknown=True, errors=1, search_text="hiring committee_notes"),
    dict(id="s4", user_id="bob", title="Aurora steering", state="active", created_at=T0 - timedelta(days=1),
         updated_at=T0 - timedelta(minutes=10), model="bedrock:us.amazon.nova-lite-v1:0", turn_count=2,
         input_tokens=300, output_tokens=100, cost_usd=0.05, search_text="project aurora steering committee"),
    dict(id="s5", user_id="bob", title="Offsite", state="completed", created_at=T0 - timedelta(days=40),
         updated_at=T0 - timedelta(days=39), model="offline", turn_count=4, input_tokens=40, output_tokens=20,
         cost_usd=0.0, search_text="offsite planning in lisbon"),
]  # fmt: skip
BY_ID = {s["id"]: s for s in SESSIONS}


@pytest.fixture
def seeded(query_engine: Engine) -> Engine:
    insert_sessions(query_engine, SESSIONS)
    insert_usage(
        query_engine,
        [
            dict(session_id="s1", user_id="alice", started_at=T0 - timedelta(hours=3, minutes=m), latency_ms=lat,
                 ttft_ms=ttft)
            for m, lat, ttft in ((3, 1000.0, 100.0), (2, 2000.0, 200.0), (1, 3000.0, 400.0))
        ]
        + [
            dict(session_id="s2", user_id="alice", started_at=T0 - timedelta(days=2, hours=1),
                 model_id="us.amazon.nova-lite-v1:0", provider="bedrock", cost_usd=0.2),
            dict(session_id="s2", user_id="alice", started_at=T0 - timedelta(days=2),
                 model_id="us.amazon.nova-pro-v1:0", provider="bedrock", cost_usd=0.05, latency_ms=500.0),
            dict(session_id="s3", user_id="alice", started_at=T0 - timedelta(days=19), model_id="x.unknown",
                 provider="bedrock", cost_usd=None, error="boom"),
        ],
    )  # fmt: skip
    return query_engine


def ids(page: tuple[object, ...] | list[object]) -> list[str]:
    return [r.id for r in page[0]]  # type: ignore[attr-defined, index]


def expected_order(rows: list[dict[str, object]], key: str, descending: bool) -> list[str]:
    ordered = sorted(rows, key=lambda r: (r[key], r["id"]), reverse=descending)  # type: ignore[return-value]
    return [str(r["id"]) for r in ordered]


def test_user_isolation_and_totals(seeded: Engine) -> None:
    rows, total, totals = list_sessions(seeded, SessionFilter(user_id="alice"))
    assert [r.id for r in rows] == ["s1", "s2", "s3"]
    assert total == 3
    assert totals.sessions == 3
    assert totals.turns == 9
    assert totals.input_tokens == 1110
    assert totals.output_tokens == 455
    assert totals.cost_usd == pytest.approx(1.75)
    assert totals.unknown_cost_sessions == 1
    assert totals.errors == 1
    bob = list_sessions(seeded, SessionFilter(user_id="bob"))
    assert ids(bob) == ["s4", "s5"]
    assert bob.totals.cost_usd == pytest.approx(0.05)
    assert list_sessions(seeded, SessionFilter(user_id="mallory")).total_count == 0


def test_admin_sees_everyone(seeded: Engine) -> None:
    page = list_sessions(seeded, SessionFilter(user_id=None))
    assert ids(page) == ["s4", "s1", "s2", "s3", "s5"]
    assert page.totals.turns == 15
    assert page.totals.cost_usd == pytest.approx(1.8)


@pytest.mark.parametrize(
    "key", ["title", "state", "created_at", "updated_at", "turn_count", "input_tokens", "output_tokens", "cost_usd"]
)
@pytest.mark.parametrize("descending", [True, False])
def test_sort(seeded: Engine, key: str, descending: bool) -> None:
    page = list_sessions(seeded, SessionFilter(sort=key, descending=descending))
    assert ids(page) == expected_order(SESSIONS, key, descending)


def test_paging_covers_every_row_once(seeded: Engine) -> None:
    seen: list[str] = []
    for offset in (0, 2, 4):
        page = list_sessions(seeded, SessionFilter(sort="cost_usd", limit=2, offset=offset))
        assert page.total_count == 5
        assert page.totals.cost_usd == pytest.approx(1.8)
        seen += ids(page)
    assert seen == expected_order(SESSIONS, "cost_usd", True)
    assert list_sessions(seeded, SessionFilter(offset=10)).rows == []


@pytest.mark.parametrize("term", ["aurora", "AURORA", "Project Aurora", "100%", "committee_notes", "in", "e", "zzz"])
def test_search_is_case_insensitive_substring(seeded: Engine, term: str) -> None:
    expected = sorted(str(s["id"]) for s in SESSIONS if term.lower() in str(s["search_text"]))
    page = list_sessions(seeded, SessionFilter(text=term, limit=50))
    assert sorted(ids(page)) == expected
    assert page.total_count == len(expected)


def test_search_with_user_and_state_filters(seeded: Engine) -> None:
    assert ids(list_sessions(seeded, SessionFilter(user_id="alice", text="aurora"))) == ["s2"]
    assert ids(list_sessions(seeded, SessionFilter(user_id="bob", text="aurora", states=("active",)))) == ["s4"]
    assert ids(list_sessions(seeded, SessionFilter(user_id="bob", text="aurora", states=("completed",)))) == []


def test_search_follows_updates_and_deletes(seeded: Engine) -> None:
    set_search_text(seeded, "s5", "now about aurora too")
    with seeded.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.id == "s4"))  # its session_text rows cascade
    set_search_text(seeded, "s2", "nothing left")
    assert ids(list_sessions(seeded, SessionFilter(text="aurora"))) == ["s5"]
    insert_sessions(seeded, [dict(id="s6", user_id="carol", search_text="aurora again", updated_at=T0)])
    assert sorted(ids(list_sessions(seeded, SessionFilter(text="aurora")))) == ["s5", "s6"]


def test_state_model_and_date_filters(seeded: Engine) -> None:
    assert sorted(ids(list_sessions(seeded, SessionFilter(states=("active",))))) == ["s1", "s4"]
    assert sorted(ids(list_sessions(seeded, SessionFilter(models=("offline",))))) == ["s1", "s5"]
    since = T0 - timedelta(days=4)
    page = list_sessions(seeded, SessionFilter(since=since))
    assert sorted(ids(page)) == sorted(str(s["id"]) for s in SESSIONS if s["updated_at"] >= since)  # type: ignore[operator]
    page = list_sessions(seeded, SessionFilter(since=since, date_field="created_at"))
    assert sorted(ids(page)) == sorted(str(s["id"]) for s in SESSIONS if s["created_at"] >= since)  # type: ignore[operator]
    until = T0 - timedelta(days=19)
    assert ids(list_sessions(seeded, SessionFilter(until=until))) == ["s5"]  # exclusive bound
    assert list_sessions(seeded, SessionFilter(until=until)).totals.turns == 4


def test_row_figures_from_the_ledger(seeded: Engine) -> None:
    rows = {r.id: r for r in list_sessions(seeded, SessionFilter()).rows}
    s1 = rows["s1"]
    assert s1.calls == 3
    assert s1.avg_latency_ms == pytest.approx(2000.0)
    assert s1.ttft_p50_ms == pytest.approx(200.0)
    assert s1.ttft_p95_ms == pytest.approx(380.0)
    assert s1.started == T0 - timedelta(days=5)
    assert s1.last_activity == T0 - timedelta(hours=1)
    assert s1.last_activity.tzinfo is not None
    assert rows["s2"].models == ("us.amazon.nova-lite-v1:0", "us.amazon.nova-pro-v1:0")
    assert rows["s2"].cost_usd == pytest.approx(0.25)
    assert rows["s3"].cost_usd is None
    assert rows["s3"].known_cost_usd == pytest.approx(1.5)
    assert rows["s3"].errors == 1
    s5 = rows["s5"]
    assert (s5.calls, s5.models, s5.avg_latency_ms, s5.ttft_p50_ms) == (0, ("offline",), None, None)


def test_accepts_the_store_session_query(seeded: Engine) -> None:
    page = list_sessions(seeded, SessionQuery(user_id="alice", sort="title", descending=False, limit=2))
    assert ids(page) == ["s1", "s2"]
    assert page.total_count == 3


@pytest.mark.parametrize(
    "query",
    [SessionFilter(sort="agent_snapshot"), SessionFilter(limit=0), SessionFilter(limit=10_000),
     SessionFilter(offset=-1), SessionFilter(text="x" * 500)],
)  # fmt: skip
def test_bad_queries_are_refused(query_engine: Engine, query: SessionFilter) -> None:
    with pytest.raises(SessionQueryError):
        list_sessions(query_engine, query)


def test_search_length_limit_says_what_is_accepted(query_engine: Engine) -> None:
    assert list_sessions(query_engine, SessionFilter(text="x" * 200)).total_count == 0  # exactly the limit: searched
    with pytest.raises(SessionQueryError, match="200 characters or fewer"):
        list_sessions(query_engine, SessionFilter(text="x" * 201))


@pytest.mark.parametrize("user", [None, "alice"])
def test_search_with_control_characters_searches_the_text_without_them(seeded: Engine, user: str | None) -> None:
    # What the stores index has no control characters; a NUL typed in a search box is dropped
    # before the query is built (Postgres refuses NUL in a text parameter).
    page = list_sessions(seeded, SessionFilter(user_id=user, text="aur\x00ora\x1b"))
    assert ids(page) == (["s4", "s2"] if user is None else ["s2"])
    assert list_sessions(seeded, SessionFilter(user_id=user, text="\x00")).total_count == (5 if user is None else 3)


@pytest.mark.parametrize("user", [None, "alice"])
def test_search_with_extra_spaces_finds_the_words(seeded: Engine, user: str | None) -> None:
    # Two spaces typed between the words (or a tab) found nothing where one space found the session.
    assert ids(list_sessions(seeded, SessionFilter(user_id=user, text="project  aurora"))) == ids(
        list_sessions(seeded, SessionFilter(user_id=user, text="project aurora"))
    )
    assert ids(list_sessions(seeded, SessionFilter(user_id=user, text=" Project\tAurora  ")))


def test_store_search_with_control_characters_searches_the_text_without_them(query_engine: Engine) -> None:
    from assistant.sessions.sql_store import SqlSessionStore

    store = SqlSessionStore(query_engine)
    meta = store.create_session("alice", model="offline", title="Aurora steering")
    store.create_session("alice", model="offline", title="Offsite")
    found, total = store.list_sessions(SessionQuery(user_id="alice", text="auro\x00ra"))
    assert [m.id for m in found] == [meta.id] and total == 1
    assert store.list_sessions(SessionQuery(user_id="alice", text="\x00\x07"))[1] == 2


@pytest.mark.parametrize("user", [None, "alice"])
def test_search_matches_any_apostrophe(query_engine: Engine, user: str | None) -> None:
    # A phone (or a Mac's smart punctuation) types "what’s" with a curly apostrophe: it found
    # nothing in "What's the budget?", nor "o'neill" in a title pasted as "O’Neill 1:1".
    from assistant.sessions.sql_store import SqlSessionStore

    store = SqlSessionStore(query_engine)
    budget = store.create_session("alice", model="offline", title="What's the budget?").id
    neill = store.create_session("alice", model="offline", title="Dana O’Neill 1:1").id
    quoted = store.create_session("alice", model="offline", title="Q3 ‘budget’ review").id
    store.create_session("alice", model="offline", title="Whats new")
    for typed, expected in (
        ("what’s the", [budget]),
        ("what's the", [budget]),
        ("o'neill", [neill]),
        ("o’neill 1:1", [neill]),
        ("'budget'", [quoted]),
    ):
        assert ids(list_sessions(query_engine, SessionFilter(user_id=user, text=typed))) == expected, typed
        if user is not None:  # the chat sidebar's search
            assert [m.id for m in store.list_sessions(SessionQuery(user_id=user, text=typed))[0]] == expected, typed


@pytest.mark.parametrize("user", [None, "alice"])
def test_search_for_an_address_copied_from_the_page_finds_it(query_engine: Engine, user: str | None) -> None:
    # The app shows an address in a title or in calendar text with a zero-width space after its
    # "://" (or "@"), so it is no link; copying it from the page copies that space, and the search
    # found nothing (the index holds what a message shows, without the space).
    from assistant.sessions.sql_store import SqlSessionStore

    store = SqlSessionStore(query_engine)
    verify = store.create_session("alice", model="offline", title="Verify at https://evil.example/login").id
    mail = store.create_session("alice", model="offline", title="Ask it@evil.example first").id
    store.create_session("alice", model="offline", title="Offsite")
    for copied, expected in (("https:\u200b//evil.example/login", [verify]), ("it@\u200bevil.example", [mail])):
        assert ids(list_sessions(query_engine, SessionFilter(user_id=user, text=copied))) == expected, copied
        if user is not None:  # the chat sidebar's search
            assert [m.id for m in store.list_sessions(SessionQuery(user_id=user, text=copied))[0]] == expected


@pytest.mark.parametrize("user", [None, "alice"])
def test_search_in_quotes_finds_the_phrase(seeded: Engine, user: str | None) -> None:
    # Quotes typed around the words, as for a phrase on a web search, found nothing.
    expected = ids(list_sessions(seeded, SessionFilter(user_id=user, text="project aurora")))
    assert expected
    for typed in ('"project aurora"', "“Project Aurora”", ' "project aurora" '):
        assert ids(list_sessions(seeded, SessionFilter(user_id=user, text=typed))) == expected, typed


def test_totals_after_deleting_priced_sessions_show_no_rounding_dust(query_engine: Engine) -> None:
    # The session_totals rollup adds and subtracts float costs: once Dana deleted her two priced
    # Nova Lite sessions, the total of the one left (nothing spent) read 2.8e-17, shown as
    # "<$0.00000001" in the Cost metric, where $0.00 was spent.
    lite = "bedrock:us.amazon.nova-lite-v1:0"
    insert_sessions(
        query_engine,
        [dict(id=f"d{i}", user_id="dana", model=lite, cost_usd=cost) for i, cost in enumerate((0.1, 0.2, 0.0))],
    )
    with query_engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.id.in_(["d0", "d1"])))
    for query in (SessionFilter(user_id="dana"), SessionFilter(user_id="dana", models=(lite,))):
        totals = list_sessions(query_engine, query).totals
        assert totals.sessions == 1
        assert totals.cost_usd == 0.0


# Sessions whose words are spread over the title and several turns (title row + one row per turn).
SPREAD = [  # (id, user, title, turn texts)
    ("w1", "alice", "Acme QBR", ["the budget is on track", "send the agenda to maria"]),
    ("w2", "alice", "Weekly sync", ["acme asked about the budget", "qbr moved to friday"]),
    ("w3", "alice", "Budget review", ["nothing about the customer"]),
    ("w4", "bob", "Dana’s 1:1", ["the acme qbr agenda is ready", "go live in q3"]),
]
WORD_SEARCHES = [  # (typed, the sessions whose title or one exchange holds every word or phrase)
    ("budget acme", ["w2"]),  # one exchange of w2 has both; w1 has them apart (title, a turn)
    ("acme budget", ["w2"]),  # any order
    ("ACME   Budget", ["w2"]),
    ("budget maria", []),  # in two turns of w1: one exchange, or the title, must hold every word
    ("agenda qbr", ["w4"]),  # w1's title has "qbr", one of its turns "agenda"
    ('"acme qbr"', ["w1", "w4"]),  # a phrase stays a phrase: w2 has both words, apart
    ('"qbr acme"', []),
    ('"acme qbr" agenda', ["w4"]),
    ("“acme qbr” ready", ["w4"]),
    ('acme "budget', ["w2"]),  # an unmatched quote is ignored
    ('o"r', []),  # ... where it stands: the word "or" (no row has it), not the letters "o" and "r" (every row)
    ('"', []),  # a lone quote is searched as typed: no text here holds one (it listed every session)
    ('""', []),
    ('" "', []),
    ("q3 live", ["w4"]),  # a short word (LIKE) with a long one (the trigram index)
    ("go q3", ["w4"]),  # two short words
    ("dana's 1:1", ["w4"]),  # any apostrophe matches any
    ("1:1 dana’s", ["w4"]),
    ("sync weekly", ["w2"]),  # the title's words, in another order
    ("acme acme", ["w1", "w2", "w4"]),  # a repeated word is one word
    ("acme zzz", []),
    ("budg budget", ["w1", "w2", "w3"]),  # a word inside another one
]


def _insert_spread(engine: Engine) -> None:
    insert_sessions(
        engine,
        [dict(id=sid, user_id=user, title=title, updated_at=T0 - timedelta(hours=n)) for n, (sid, user, title, _t) in
         enumerate(SPREAD)],
    )  # fmt: skip
    rows = [
        {"session_id": sid, "turn_idx": i, "text": text.lower()}
        for sid, _u, _title, turns in SPREAD
        for i, text in enumerate(turns)
    ]
    with engine.begin() as conn:
        conn.execute(session_text.insert(), rows)


@pytest.mark.parametrize("user", [None, "alice"])
def test_search_finds_every_word_of_one_exchange_in_any_order(query_engine: Engine, user: str | None) -> None:
    # "budget acme" found nothing where an answer said "acme asked about the budget": the
    # search was one phrase.
    _insert_spread(query_engine)
    owners = {sid: owner for sid, owner, _title, _turns in SPREAD}
    for typed, found in WORD_SEARCHES:
        expected = [sid for sid in found if user is None or owners[sid] == user]
        page = list_sessions(query_engine, SessionFilter(user_id=user, text=typed))
        assert sorted(ids(page)) == expected, typed
        assert page.total_count == len(expected), typed


@pytest.mark.parametrize("user", [None, "alice"])
def test_word_search_through_the_text_index(
    query_engine: Engine, monkeypatch: pytest.MonkeyPatch, user: str | None
) -> None:
    # A window too small for the page: the answer comes from the text index (FTS5 / pg_trgm).
    from assistant.sessions import queries

    _insert_spread(query_engine)
    newer = T0 + timedelta(minutes=1)  # the window's candidates: none matches
    insert_sessions(query_engine, [dict(id=f"n{i}", user_id="alice", updated_at=newer) for i in range(8)])
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 2)
    owners = {sid: owner for sid, owner, _title, _turns in SPREAD}
    for typed, found in WORD_SEARCHES:
        expected = [sid for sid in found if user is None or owners[sid] == user]
        page = list_sessions(query_engine, SessionFilter(user_id=user, text=typed, limit=1))
        assert page.total_count == len(expected), typed
        assert page.totals.approximate is False, typed


def test_sidebar_search_finds_every_word_of_one_exchange_in_any_order(query_engine: Engine) -> None:
    from assistant.sessions.sql_store import SqlSessionStore

    _insert_spread(query_engine)
    store = SqlSessionStore(query_engine)
    for typed, found in WORD_SEARCHES:
        expected = [sid for sid in found if sid != "w4"]
        got, total = store.list_sessions(SessionQuery(user_id="alice", text=typed))
        assert sorted(m.id for m in got) == expected and total == len(expected), typed
        got, total = store.list_sessions(SessionQuery(user_id=None, text=typed))  # all users
        assert sorted(m.id for m in got) == found and total == len(found), typed


def test_search_words_are_capped(query_engine: Engine) -> None:
    from assistant.sessions.search import MAX_SEARCH_WORDS, search_words

    _insert_spread(query_engine)
    typed = " ".join(["acme", *[f"word{i}" for i in range(MAX_SEARCH_WORDS)]])
    assert len(search_words(typed)) == MAX_SEARCH_WORDS
    assert search_words('"Acme  QBR" budget acme BUDGET "') == ["acme qbr", "budget"]  # "acme" is in "acme qbr"
    # the words past the cap are not searched: the first ones are
    assert ids(list_sessions(query_engine, SessionFilter(text=" ".join(["acme"] * 3 + ["budget"] * 20))))


@pytest.mark.parametrize("user", [None, "alice"])
def test_search_finds_what_an_answer_shows_not_its_markdown(query_engine: Engine, user: str | None) -> None:
    """The index held the answer's Markdown: "\\" or "**" found a session whose answer shows
    neither, and "[Renewal]" (shown as typed) did not find "\\[Renewal\\]"."""
    from assistant.context.budget_io import BudgetRow
    from assistant.context.user_data import ContextStore
    from tests.fixtures.chat import make_service

    row = BudgetRow(area="Cloud [Renewal] *core*", owner="Bob_Ops", plan=100, actual=50, forecast=120)
    ContextStore(query_engine).save("alice", "budget", [row], None)
    service = make_service(query_engine)
    meta = service.create_session("alice")
    service.run_turn(meta.id, "alice", "How is my budget tracking?")
    stored = " ".join(str(m["content"]) for m in service.open_session(meta.id, "alice").messages)
    assert "**" in stored and "\\\\[Renewal\\\\]" in stored, stored  # the answer is Markdown

    def found(typed: str) -> list[str]:
        return ids(list_sessions(query_engine, SessionFilter(user_id=user, text=typed)))

    assert found("\\") == [] and found("**") == []
    assert found("[renewal]") == [meta.id] and found("*core*") == [meta.id] and found("bob_ops") == [meta.id]
