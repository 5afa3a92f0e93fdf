from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from assistant.context.prep_notes import PrepStorageError, list_prep_responses, save_prep_response
from assistant.db import make_engine
from assistant.migrate import upgrade
from tests.fixtures.meeting_data import NOW


def test_saved_notes_survive_a_restart(engine: Engine, db_path: Path) -> None:
    saved, total = save_prep_response(
        engine, user_id="alice", meeting_id="acme-qbr", topic="goal", response="Sign EU expansion", now=NOW
    )
    assert total == 1 and saved.id > 0
    save_prep_response(
        engine, user_id="alice", meeting_id="acme-qbr", topic="risk", response="SSO slip", now=NOW + timedelta(1)
    )
    engine.dispose()

    fresh = make_engine("sqlite:///" + str(db_path))
    upgrade(fresh)
    notes = list_prep_responses(fresh, "alice", "acme-qbr")
    assert [(n.topic, n.response) for n in notes] == [("goal", "Sign EU expansion"), ("risk", "SSO slip")]
    assert notes[0].created_at == NOW
    fresh.dispose()


def test_notes_are_isolated_per_user_and_meeting(engine: Engine) -> None:
    save_prep_response(engine, user_id="alice", meeting_id="m1", topic="t", response="alice's", now=NOW)
    _, bob_total = save_prep_response(engine, user_id="bob", meeting_id="m1", topic="t", response="bob's", now=NOW)
    assert bob_total == 1
    assert [n.response for n in list_prep_responses(engine, "alice", "m1")] == ["alice's"]
    assert [n.response for n in list_prep_responses(engine, "bob", "m1")] == ["bob's"]
    assert list_prep_responses(engine, "alice", "m2") == []


def test_database_failure_is_a_clear_error(tmp_path: Path) -> None:
    unmigrated = make_engine("sqlite:///" + str(tmp_path / "empty.db"))
    with pytest.raises(PrepStorageError, match="could not be saved"):
        save_prep_response(unmigrated, user_id="a", meeting_id="m", topic="t", response="r", now=NOW)
    with pytest.raises(PrepStorageError, match="could not be read"):
        list_prep_responses(unmigrated, "a", "m")
    unmigrated.dispose()


def test_the_same_note_saved_again_is_kept_once(engine: Engine) -> None:
    """Sent twice (a resend, a second tab), one note became two agenda items that squeezed the
    others, and no page can delete one."""
    first, _ = save_prep_response(engine, user_id="alice", meeting_id="m1", topic="goal", response="Go/no-go", now=NOW)
    again, total = save_prep_response(
        engine, user_id="alice", meeting_id="m1", topic="goal", response="Go/no-go", now=NOW + timedelta(1)
    )
    assert total == 1 and again.id == first.id and again.created_at == NOW  # the earlier one, as it was
    _, total = save_prep_response(
        engine, user_id="alice", meeting_id="m1", topic="goal", response="Go/no-go by Friday", now=NOW + timedelta(2)
    )
    assert total == 2  # another answer is another note
    _, bob_total = save_prep_response(
        engine, user_id="bob", meeting_id="m1", topic="goal", response="Go/no-go", now=NOW
    )
    assert bob_total == 1  # and another user's is theirs
    assert [n.response for n in list_prep_responses(engine, "alice", "m1")] == ["Go/no-go", "Go/no-go by Friday"]
