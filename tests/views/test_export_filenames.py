"""Export file names for titles that are not plain ASCII, as a heavy user's downloads folder sees them.

"Prépare-moi pour la réunion" was saved as "…-pr-pare-moi-pour-la-r-union.md", and every session
titled in Japanese, Chinese, Arabic or emoji as "session-<date>-session.md": a day's exports could
only be told apart by the browser's " (1)", " (2)".
"""

from __future__ import annotations

from sqlalchemy import Engine

from assistant.views.conversation import export_filename
from tests.fixtures.chat import make_service


def _titled(engine: Engine, *questions: str) -> list[str]:
    service = make_service(engine)
    names = []
    for question in questions:
        meta = service.create_session("u1")
        service.run_turn(meta.id, "u1", question)
        names.append(export_filename(service.get_session(meta.id, "u1"), "md"))
    return names


def test_accented_titles_keep_their_letters(sqlite_engine: Engine) -> None:
    (name,) = _titled(sqlite_engine, "Prépare-moi pour la réunion de l'équipe")
    assert name.endswith("-prepare-moi-pour-la-reunion-de-l-equipe.md"), name


def test_titles_with_no_latin_letters_get_names_of_their_own(sqlite_engine: Engine) -> None:
    names = _titled(sqlite_engine, "来週の会議の準備をしてください", "今日の予定は？", "📅📅")
    assert len(set(names)) == 3, names
    assert all(n.startswith("session-") and n.endswith(".md") and n.isascii() for n in names), names


def test_plain_titles_read_as_before(sqlite_engine: Engine) -> None:
    (name,) = _titled(sqlite_engine, "Prepare me for the Acme QBR")
    assert name.endswith("-prepare-me-for-the-acme-qbr.md"), name
