"""An event description written as HTML (Google Calendar stores and exports formatted
descriptions as HTML; Teams and Zoom invitations often arrive that way) read as plain text.

The agent, the offline answer and the materials showed ``<html><body><p>Join Zoom <a href=…>``
as typed. A description that holds HTML tags is turned into its text with the standard
library's :class:`html.parser.HTMLParser`: paragraphs, line breaks and list items become lines,
entities are decoded, a link keeps its address beside its text, and scripts, styles and images
are dropped. A description without HTML tags ("revenue < 5M, churn > 2%") is returned as it is.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# A tag HTML descriptions use: what tells HTML apart from text that merely holds "<" or ">".
_HTML_TAG = re.compile(
    r"</?(?:html|head|body|p|br|div|span|a|b|i|u|s|em|strong|font|ul|ol|li|table|tbody|thead|tr|td|th"
    r"|h[1-6]|img|hr|blockquote|pre|code|meta|style|script|title|center|sup|sub|small|big)\b[^>]*>",
    re.IGNORECASE,
)
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote", "pre"}
)
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title"})
_VOID_TAGS = frozenset({"br", "hr", "img"})  # never closed: "<br/>" is the tag alone
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextOf(HTMLParser):
    """Collects the text of an HTML fragment, one line per block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._links: list[str | None] = []  # the href of each open <a>, to add after its text
        self._link_text: list[int] = []  # where each open <a>'s text starts in parts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "a":
            self._links.append(dict(attrs).get("href"))
            self._link_text.append(len(self.parts))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # "<br/>" (Outlook, Teams) is one break, as "<br>" is: not a start and an end, two lines.
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag == "a" and self._links:
            href, start = (self._links.pop() or "").strip(), self._link_text.pop()
            text = "".join(self.parts[start:]).strip()
            if href.lower().startswith(("http://", "https://")) and href not in text:
                self.parts.append(f" ({href})" if text else href)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(text: str) -> str:
    """``text`` as plain text when it holds HTML tags, else unchanged."""
    if not _HTML_TAG.search(text):
        return text
    parser = _TextOf()
    parser.feed(text)
    parser.close()
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


__all__ = ["html_to_text"]
