"""Other people's text (calendar titles, places, names) placed in Markdown that a model or page shows.

The agenda the tools build and the offline model's answers are Markdown; a title written as
``[Verify your account](https://host/login)`` pasted into them as is became a link reading
"Verify your account". :func:`literal` makes such text read as typed.
"""

from __future__ import annotations

import re

_SYNTAX = re.compile(r"([\\`*_\[\]#|~$<>!])")
_AUTOLINK = re.compile(r"(?i)(://|\bwww\.|@)")
_DEFUSED = {"://": "\\://", "@": "\\@"}


def defuse_autolinks(markdown: str) -> str:
    """``markdown`` with addresses that GitHub-flavoured Markdown would auto-link left as text.

    "http://x", "www.x" and "a@b.com" are links even unmarked; an escaped character in the
    middle ("http\\://", "www\\.", "a\\@b.com") renders the same but is not a link.
    """
    return _AUTOLINK.sub(lambda m: _DEFUSED.get(m.group(1), m.group(1)[:-1] + "\\."), markdown)


def literal(text: object) -> str:
    """``text`` as one Markdown line that renders as itself: no link, emphasis, heading or HTML.

    Args:
        text: A title, place, name or note from a calendar.

    Returns:
        One line, Markdown punctuation backslash-escaped, addresses not auto-linked
        ("http\\://", "www\\.", "a\\@b.com" render as typed).
    """
    return defuse_autolinks(_SYNTAX.sub(r"\\\1", " ".join(str(text).split())))


__all__ = ["defuse_autolinks", "literal"]
