"""The prep questions the demo model asks about a meeting, less the ones a saved note answers.

A note saved in reply to a question is stored under that question as its topic. The next
answer that prepared the meeting (its agenda) asked the same question again, as if the note
had not been saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from assistant.markdown_text import literal


def attendee_text(attendee: Any) -> str:
    """``Dana Brooks (SVP Operations, Acme Corp)``: a listed attendee as the answers name them."""
    if not isinstance(attendee, dict):
        return str(attendee)
    name = str(attendee.get("name") or attendee.get("email") or "someone")
    extras = [str(attendee[key]) for key in ("role", "org") if attendee.get(key)]
    extras += ["you"] if attendee.get("you") else []
    return f"{name} ({', '.join(extras)})" if extras else name


def _plain(question: str) -> str:
    """A question or a note's topic compared as words: Markdown escapes, case and the "?" left out."""
    return " ".join(question.replace("\\", "").rstrip("?").split()).casefold()


def prep_questions(meeting: dict[str, Any], answered: Iterable[str] = ()) -> list[str]:
    """The two questions that prepare ``meeting``, without those a saved note's topic answers.

    Args:
        meeting: The meeting as the tools return it (title, type, attendees).
        answered: The topics of the notes saved for it.

    Returns:
        The questions still open, in order (none when both are answered).
    """
    title = str(meeting.get("title", "this meeting"))
    kind = str(meeting.get("type", "")).lower()
    attendees = meeting.get("attendees")
    first = f"What is the one outcome you need from {literal(title)}?"
    if "customer" in kind or "client" in kind or "qbr" in title.lower():
        second = "Which risks or open issues with the customer do you want to raise?"
    elif "board" in kind or "board" in title.lower():
        second = "Which numbers do you expect the board to challenge?"
    elif "1:1" in title or "one-on-one" in kind:
        second = "What feedback or support do you want to give?"
    elif isinstance(attendees, list) and (
        others := [a for a in attendees if not (isinstance(a, dict) and a.get("you"))]
    ):
        name = literal(attendee_text(others[0]).split(" (")[0])
        second = f"Is there anything you need from {name} before the meeting?"
    else:
        second = "Which decision should this meeting end with?"
    done = {_plain(topic) for topic in answered}
    return [q for q in (first, second) if _plain(q) not in done]
