"""A user's own meeting types: an override per meeting or per series, kept per user, refused when
it names no type or no meeting; and the count of prep notes saved per meeting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from assistant.context.classify import MeetingTypes, effective_type, load_meeting_types
from assistant.context.prep_notes import save_prep_response
from assistant.context.type_overrides import clear_override, overrides, prepared_counts, set_override
from tests.fixtures.typed_meetings import ME, NOW, TYPES_FILE, colleagues, meeting, person


@pytest.fixture
def types() -> MeetingTypes:
    return load_meeting_types(TYPES_FILE)


def test_an_override_sticks_and_is_per_user(any_engine: Engine, types: MeetingTypes) -> None:
    m = meeting("Acme Corp QBR", [person("Dana Brooks", "dana@acme.com")], id="acme-qbr")
    set_override(any_engine, "alice", "acme-qbr", "leadership", NOW, types=types)
    mine = overrides(any_engine, "alice")
    assert mine == {"acme-qbr": "leadership"}
    assert effective_type(m, mine, user_email=ME, internal_domains=[], rules=types) == "leadership"
    assert overrides(any_engine, "bob") == {}
    assert effective_type(m, {}, user_email=ME, internal_domains=[], rules=types) == "external"

    set_override(any_engine, "alice", "acme-qbr", "board", NOW + timedelta(minutes=1), types=types)
    assert overrides(any_engine, "alice") == {"acme-qbr": "board"}, "changing it again replaces it"
    assert clear_override(any_engine, "alice", "acme-qbr") is True
    assert overrides(any_engine, "alice") == {}


def test_a_series_override_covers_every_occurrence_and_an_occurrence_wins(
    any_engine: Engine, types: MeetingTypes
) -> None:
    series = "a1b2c3d4e5"
    first = meeting("Platform sync", colleagues(5), id=f"{series}-202503110900", series_id=series)
    second = meeting("Platform sync", colleagues(5), id=f"{series}-202503180900", series_id=series)
    set_override(any_engine, "alice", series, "leadership", NOW, types=types)
    set_override(any_engine, "alice", second.id, "other", NOW, types=types)
    mine = overrides(any_engine, "alice")
    assert effective_type(first, mine, user_email=ME, internal_domains=[], rules=types) == "leadership"
    assert effective_type(second, mine, user_email=ME, internal_domains=[], rules=types) == "other"


def test_an_unknown_type_or_key_is_refused_and_a_stale_override_is_ignored(
    sqlite_engine: Engine, types: MeetingTypes
) -> None:
    with pytest.raises(ValueError, match="choose one of: one_on_one, team"):
        set_override(sqlite_engine, "alice", "acme-qbr", "bored", NOW, types=types)
    with pytest.raises(ValueError, match="not a meeting id"):
        set_override(sqlite_engine, "alice", "../etc", "board", NOW, types=types)
    assert overrides(sqlite_engine, "alice") == {}
    m = meeting("Catch-up", [person("Marcus Chen", "marcus@corp.com")])
    removed = {m.id: "retired_type"}  # stored before the deployment removed the type
    assert effective_type(m, removed, user_email=ME, internal_domains=[], rules=types) == "one_on_one"


def test_prepared_counts_are_per_user_and_meeting(sqlite_engine: Engine) -> None:
    for n, mid in enumerate(("a", "a", "b")):  # two notes for "a" (the same one twice is kept once)
        save_prep_response(sqlite_engine, user_id="alice", meeting_id=mid, topic="t", response=f"r{n}", now=NOW)
    save_prep_response(sqlite_engine, user_id="bob", meeting_id="a", topic="t", response="r", now=NOW)
    assert prepared_counts(sqlite_engine, "alice", ["a", "b", "c"]) == {"a": 2, "b": 1}
    assert prepared_counts(sqlite_engine, "alice", []) == {}


def test_clearing_what_was_never_set_says_so_and_a_bad_key_is_refused(any_engine: Engine) -> None:
    set_override(any_engine, "alice", "acme-qbr", "board", NOW)
    assert clear_override(any_engine, "bob", "acme-qbr") is False  # another user's choice is not theirs to clear
    assert overrides(any_engine, "alice") == {"acme-qbr": "board"}
    with pytest.raises(ValueError, match="not a meeting id"):
        clear_override(any_engine, "alice", "Acme QBR; DROP TABLE")
    assert overrides(any_engine, "alice") == {"acme-qbr": "board"}


def test_a_database_that_cannot_be_read_or_written_gets_a_plain_sentence(tmp_path: Path) -> None:
    """The tables are missing (a database never migrated): the page shows a sentence, not SQL."""
    from sqlalchemy import create_engine

    from assistant.context.classify import MeetingTypeStorageError

    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(MeetingTypeStorageError, match=r"^The meeting type could not be saved; try again"):
        set_override(engine, "alice", "acme-qbr", "board", NOW)
    with pytest.raises(MeetingTypeStorageError, match=r"^The meeting type could not be reset"):
        clear_override(engine, "alice", "acme-qbr")
    with pytest.raises(MeetingTypeStorageError, match=r"^Your meeting types could not be read"):
        overrides(engine, "alice")
    with pytest.raises(MeetingTypeStorageError, match=r"^Your saved prep notes could not be read"):
        prepared_counts(engine, "alice", ["acme-qbr"])
    engine.dispose()


def test_an_override_keeps_its_time_in_utc_whatever_the_clock_it_was_given(any_engine: Engine) -> None:
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from assistant.db import meeting_overrides

    set_override(any_engine, "alice", "acme-qbr", "board", NOW.astimezone(ZoneInfo("Pacific/Auckland")))
    with any_engine.connect() as conn:
        stored = conn.execute(select(meeting_overrides.c.updated_at)).scalar_one()
    assert (stored if stored.tzinfo is None else stored.astimezone(NOW.tzinfo)).replace(tzinfo=None) == NOW.replace(
        tzinfo=None
    )
