"""Other people's text (calendar titles, places, names) placed in Markdown that a model or page shows.

The agenda the tools build and the offline model's answers are Markdown; a title written as
``[Verify your account](https://host/login)`` pasted into them as is became a link reading
"Verify your account". :func:`literal` makes such text read as typed.
"""

from __future__ import annotations

import re

_SYNTAX = re.compile(r"([\\`*_\[\]#|~$<>!])")
_AUTOLINK = re.compile(r"(?i)(://|\bwww\.|@)")
_DEFUSED = {"://": "\\:\u200b//", "@": "\\@\u200b"}


def defuse_autolinks(markdown: str) -> str:
    """``markdown`` with addresses that GitHub-flavoured Markdown would auto-link left as text.

    "http://x", "www.x" and "a@b.com" are links even unmarked. An escaped character in the
    middle ("http\\://", "www\\.", "a\\@b.com") stops CommonMark viewers, not Streamlit's
    renderer, which finds addresses in the text after escapes are read: a zero-width space
    splits each as well ("http\\:\u200b//", "www\u200b\\.", "a\\@\u200bb.com"), shown the same.
    """
    return _AUTOLINK.sub(lambda m: _DEFUSED.get(m.group(1), m.group(1)[:-1] + "\u200b\\."), markdown)


def literal(text: object) -> str:
    """``text`` as one Markdown line that renders as itself: no link, emphasis, heading or HTML.

    Args:
        text: A title, place, name or note from a calendar.

    Returns:
        One line, Markdown punctuation backslash-escaped, addresses not auto-linked
        ("http\\://", "www\\.", "a\\@b.com" render as typed).
    """
    return defuse_autolinks(_SYNTAX.sub(r"\\\1", " ".join(str(text).split())))


# A backslash escape (CommonMark: before any ASCII punctuation), or a run of emphasis, code or
# strikethrough marks; and the marks that open a line (heading, quote, bullet).
_MARK = re.compile(r"\\([!-/:-@\[-`{-~])|(\*+|_+|`+|~~+)")
_LINE_MARKS = re.compile(r"(?m)^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-+*][ \t]+)")


def visible_text(markdown: str) -> str:
    """About what ``markdown`` shows: escapes undone, emphasis, code and heading marks left out.

    What a session's search matches (:func:`assistant.sessions.rows.turn_search_text`): "\\" or
    "**" found answers that show neither, and "[Renewal]" did not find "\\[Renewal\\]". Marks
    that render as themselves stay: an escaped one, a ``*`` between spaces ("5 * 3"), a ``_``
    inside a word ("plan_to_date"). Links and HTML are left as written.

    Args:
        markdown: A message as the chat draws it (Markdown).

    Returns:
        The text, for searching (not for display).
    """
    text = _LINE_MARKS.sub("", markdown)

    def shown(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1)
        run = match.group(2)
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        if run[0] in "*_" and before.isspace() and after.isspace():
            return run  # "5 * 3": no emphasis opens or closes here
        if run[0] == "_" and before.isalnum() and after.isalnum():
            return run  # inside a word: "plan_to_date"
        return ""

    # the zero-width spaces that keep addresses (defuse_autolinks) and shortcodes inert: a search
    # for "https://x" finds the answer that shows it
    return _MARK.sub(shown, text).replace("\u200b", "")


__all__ = ["defuse_autolinks", "literal", "visible_text"]
