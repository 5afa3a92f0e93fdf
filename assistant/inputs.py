"""What text may enter the app, decided once at the boundary and the same on SQLite and Postgres.

Postgres ``text`` columns cannot hold NUL, and no UTF-8 encoder accepts a lone surrogate; the
other control characters are invisible, break log lines and titles, and carry no meaning in
a chat message. :func:`strip_control_chars` removes them all (tab and newline are kept; CR
and CRLF become newlines), so what SQLite accepts Postgres accepts too.

Session ids come from URLs and the command line: :func:`validate_session_id` accepts only ids
the app creates, and :func:`log_safe` is how any untrusted value is written to a log line.
"""

from __future__ import annotations

import re
import reprlib
import unicodedata

# Bidirectional embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI):
# invisible, and one left open reverses or reorders the text after it on the same line - a
# quoted title followed by the app's own words ("Trojan Source"). The marks LRM and RLM, which
# only steer neutral characters, and right-to-left text itself are kept.
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_BIDI_RE = re.compile(f"[{_BIDI_CONTROLS}]")
# C0 controls except \t and \n, DEL, C1 controls, lone UTF-16 surrogates, bidi controls.
_CONTROL_RE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_BIDI_CONTROLS}]")
# A whole terminal escape sequence (colour codes like ESC[31m, OSC titles): removing only the
# ESC would leave "[31m" in the text.
_ESCAPE_SEQ_RE = re.compile("\x1b(?:\\[[0-?]*[ -/]*[@-~]|\\][^\x07\x1b]*(?:\x07|\x1b\\\\)?|[@-Z\\\\-_])")


def strip_control_chars(text: str) -> str:
    """``text`` without control characters (tab and newline kept; CR/CRLF become newline).

    Args:
        text: Any string (user input, model output, a title).

    Returns:
        The string with NUL, other C0/C1 controls, DEL, lone surrogates and bidirectional
        embeddings/overrides/isolates removed.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x1b" in text:
        text = _ESCAPE_SEQ_RE.sub("", text)
    return _CONTROL_RE.sub("", text)


def not_utf8(error: UnicodeDecodeError) -> str:
    """Why a file could not be read as UTF-8, and what to do: "is not UTF-8 text (byte 0x80 at
    position 12); save it as UTF-8" (an editor saved it in a Windows encoding)."""
    return f"is not UTF-8 text (byte 0x{error.object[error.start]:02x} at position {error.start}); save it as UTF-8"


def whole_characters(text: str) -> str:
    """``text`` with its UTF-16 surrogates made characters: a pair (an emoji sent as two escaped
    halves) becomes its character, a lone half U+FFFD. Nothing else changes.

    No UTF-8 encoder accepts a surrogate: not SQLite, Postgres or S3, nor the page's protobuf.
    """
    if text.isascii():
        return text
    try:
        # UTF-8's strict encoder refuses surrogates and nothing else: a C-speed test, ~3x faster
        # than searching for them (a turn's 50 kB snapshot passes through here when it is stored)
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def ends_with_high_surrogate(text: str) -> bool:
    """Whether ``text`` ends with the first half of a UTF-16 pair (its second half may come next)."""
    return bool(text) and "\ud800" <= text[-1] <= "\udbff"


def strip_bidi_controls(text: str) -> str:
    """``text`` without bidirectional embeddings, overrides and isolates (for model output shown as is)."""
    return _BIDI_RE.sub("", text)


def has_control_chars(text: str) -> bool:
    """Whether :func:`strip_control_chars` would change ``text`` (CR aside)."""
    return _CONTROL_RE.search(text) is not None


# Characters that draw nothing on their own: the Hangul fillers, the blank braille pattern and
# the variation selectors (format characters, whitespace and controls are found by category).
_BLANK_CHARS = frozenset("\u115f\u1160\u3164\uffa0\u2800") | frozenset(map(chr, range(0xFE00, 0xFE10)))


def has_visible_text(text: str) -> bool:
    """Whether ``text`` draws anything: not only spaces, controls or invisible format characters.

    A message or title of nothing but zero-width spaces, joiners, direction marks or a byte-order
    mark passes ``str.strip()`` yet shows as an empty bubble or an empty title.

    Args:
        text: Any string (a message, a title).

    Returns:
        True when at least one character is neither whitespace, a control or format character
        (Unicode categories Z*, Cc, Cf) nor one of the blank fillers.
    """
    return any(
        c not in _BLANK_CHARS and unicodedata.category(c)[0] != "Z" and unicodedata.category(c) not in ("Cc", "Cf")
        for c in text
    )


MAX_COMBINING_MARKS = 4
"""Combining marks kept on one character: enough for any script's accents (Vietnamese has two)."""


def cap_combining_marks(text: str, limit: int = MAX_COMBINING_MARKS) -> str:
    """``text`` with at most ``limit`` combining marks (categories M*) after each character.

    A letter followed by a hundred marks ("Zalgo" text) is one grapheme: no line can break
    inside it, so a title of one ran off the right edge of the page, and a font that stacks
    the marks draws a column of them over the lines above.

    Args:
        text: A title, name or other line shown on a page.

    Returns:
        The text, each run of combining marks cut to its first ``limit``.
    """
    if text.isascii():
        return text
    out: list[str] = []
    run = 0
    for ch in text:
        run = run + 1 if unicodedata.category(ch)[0] == "M" else 0
        if run <= limit:
            out.append(ch)
    return "".join(out)


def clean_display_text(value: object, limit: int = 120) -> str:
    """A person's name or email as one line of plain text: for pages, tables and charts.

    Control characters are removed and every run of whitespace (line breaks, tabs) becomes one
    space; a longer text is cut to ``limit`` characters ending in "…". Markdown is *not* escaped
    here: the page that renders Markdown escapes it.

    Args:
        value: A display name or email (from the identity provider, settings or the index).
        limit: The most characters to keep.

    Returns:
        The cleaned text ("" for a non-string).
    """
    if not isinstance(value, str):
        return ""
    text = cap_combining_marks(" ".join(strip_control_chars(value[: limit * 4]).split()))
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


# What the stores create (uuid4 text) and the S3 store's key rule: a letter or digit, then up
# to 63 letters, digits, dots, underscores or dashes. Matched whole (fullmatch), so no trailing
# newline slips through the way it does past ``^...$`` with ``re.match``.
_SESSION_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_SESSION_ID_CHARS = 64

# In a log line these would open or close a ``key=<value>`` field or a ``... | message`` part.
_LOG_FIELD_CHARS = frozenset("<>|")


def validate_session_id(value: object) -> str | None:
    """The session id when ``value`` is one the app could have created, else None.

    Accepts uuid4 text and anything the S3 store's key rule accepts (a letter or digit, then up
    to 63 letters, digits, ``.``, ``_`` or ``-``), nothing else: no whitespace, control
    characters, slashes or over-long values. A None answer means "that session was not found";
    log the raw value only through :func:`log_safe`.

    Args:
        value: A session id from a URL, the command line or a form (any type).

    Returns:
        The id unchanged, or None when it cannot name a session.
    """
    if not isinstance(value, str) or len(value) > MAX_SESSION_ID_CHARS:
        return None
    return value if _SESSION_ID_RE.fullmatch(value) else None


def _escape_char(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char.isprintable() and char not in _LOG_FIELD_CHARS:
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


_other_repr = reprlib.Repr()
_other_repr.maxlevel = 2
_other_repr.maxlist = _other_repr.maxtuple = _other_repr.maxdict = _other_repr.maxset = 4


def log_safe(value: object, limit: int = 80) -> str:
    """A bounded, escaped, one-line form of an untrusted value for a log line.

    Line breaks, NUL and every other non-printable character, and ``<``, ``>`` and ``|`` are
    written as ``\\xNN``/``\\uNNNN`` escapes (a backslash as two), so the value can neither
    forge a log line nor close its ``key=<value>`` field. At most ``limit`` characters of the
    escaped text are shown; a value cut short ends with ``…(N chars)`` (``N bytes`` for bytes)
    giving its full length. The work done is bounded by ``limit``, not by the value's size.

    Args:
        value: Anything: a str is shown as its text, bytes and other values by a bounded repr.
        limit: How many characters of the escaped text to show.

    Returns:
        The escaped text, printable and on one line.
    """
    limit = max(1, int(limit))
    if isinstance(value, str):
        text, size, unit = value, len(value), "chars"
    elif isinstance(value, bytes | bytearray):
        text, size, unit = repr(bytes(value[:limit])), len(value), "bytes"
    else:
        _other_repr.maxstring = _other_repr.maxother = limit
        text = _other_repr.repr(value)
        size, unit = len(text), "chars"
    parts: list[str] = []
    used = 0
    for char in text[: limit + 1]:
        part = _escape_char(char)
        if used + len(part) > limit:
            break
        parts.append(part)
        used += len(part)
    out = "".join(parts)
    cut = len(parts) < len(text) or (unit == "bytes" and size > limit)
    return f"{out}…({size:,} {unit})" if cut else out


def fold_for_search(text: str) -> str:
    """``text`` as searches compare it: case and accents ignored, so "reunion elysee" (typed on
    any keyboard) finds "Réunion Élysée"; letters of other scripts are kept as they are."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


__all__ = [
    "cap_combining_marks",
    "clean_display_text",
    "fold_for_search",
    "has_control_chars",
    "log_safe",
    "strip_bidi_controls",
    "strip_control_chars",
    "validate_session_id",
]
