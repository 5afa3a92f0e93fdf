"""What text may enter the app, decided once at the boundary and the same on SQLite and Postgres.

Postgres ``text`` columns cannot hold NUL, and no UTF-8 encoder accepts a lone surrogate; the
other control characters are invisible, break log lines and titles, and carry no meaning in
a chat message. :func:`strip_control_chars` removes them all (tab and newline are kept; CR
and CRLF become newlines), so what SQLite accepts Postgres accepts too.
"""

from __future__ import annotations

import re

# C0 controls except \t and \n, DEL, C1 controls, and lone UTF-16 surrogates.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def strip_control_chars(text: str) -> str:
    """``text`` without control characters (tab and newline kept; CR/CRLF become newline).

    Args:
        text: Any string (user input, model output, a title).

    Returns:
        The string with NUL, other C0/C1 controls, DEL and lone surrogates removed.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_RE.sub("", text)


def has_control_chars(text: str) -> bool:
    """Whether :func:`strip_control_chars` would change ``text`` (CR aside)."""
    return _CONTROL_RE.search(text) is not None


__all__ = ["has_control_chars", "strip_control_chars"]
