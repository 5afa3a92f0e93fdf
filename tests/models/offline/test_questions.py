"""assistant/models/offline/questions.py: the demo model's prep questions, less those a saved note answers."""

from __future__ import annotations

from typing import Any

from assistant.models.offline.questions import attendee_text, prep_questions

QBR = {"title": "Acme QBR", "type": "customer", "attendees": [{"name": "Dana Brooks", "org": "Acme"}]}


def test_two_questions_and_the_one_a_saved_note_answers_is_left_out() -> None:
    first, second = prep_questions(QBR)
    assert first == "What is the one outcome you need from Acme QBR?"
    assert second.startswith("Which risks")
    # a note's topic is its question as the answer wrote it: without "?", maybe with Markdown escapes
    assert prep_questions(QBR, ["what is the one outcome you need from Acme QBR"]) == [second]
    assert prep_questions(QBR, [first.rstrip("?"), second.rstrip("?")]) == []
    assert prep_questions(QBR, ["general prep note"]) == [first, second]


def test_a_title_with_markdown_is_matched_as_its_note_topic_was_saved() -> None:
    meeting: dict[str, Any] = {"title": "Board Prep - Q4 *deck*", "type": "board"}
    first, _ = prep_questions(meeting)
    assert first == r"What is the one outcome you need from Board Prep - Q4 \*deck\*?"
    assert len(prep_questions(meeting, ["What is the one outcome you need from Board Prep - Q4 *deck*"])) == 1


def test_an_attendee_reads_with_role_and_organisation() -> None:
    assert attendee_text({"name": "Dana Brooks", "role": "SVP", "org": "Acme", "you": True}) == (
        "Dana Brooks (SVP, Acme, you)"
    )
    assert attendee_text({"email": "dana@acme.com"}) == "dana@acme.com"
    assert attendee_text("Dana") == "Dana"
