"""What the display model derives from a conversation: here, a session's title from its first message."""

from __future__ import annotations

from assistant.chat.display import derive_title


def test_a_prep_sessions_title_keeps_its_meeting_day_and_zone() -> None:
    """A session started from the Prep queue or a starter is titled with its first message, which
    names the meeting's day, time and zone: cut at 60 characters, a Singapore 1:1 was titled
    "Prepare me for 1:1 with Marcus (CFO), Tue 8 Dec at 09:30…", its zone gone."""
    prompt = "Prepare me for Quarterly Business Review - Acme Corp, Wed 9 Dec at 14:00 UTC+08"
    assert derive_title(prompt) == prompt


def test_a_long_first_message_is_cut_at_a_word_and_says_so() -> None:
    title = derive_title("Walk me through every budget line that moved this quarter, and why, " * 3)
    assert title == "Walk me through every budget line that moved this quarter, and why, Walk me…"
    assert derive_title("  What is\n my   budget?  ") == "What is my budget?"
