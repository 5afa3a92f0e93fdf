"""The style every page shares: wide tables, captions, selected tabs and choices, code colours.

Drawn once per full run by ``streamlit_app.py``. Every colour here reads on the light and the
dark theme: a rule does not know which one the reader chose, so a colour is mixed with the text
around it (``currentColor``), which is dark on the light theme and light on the dark one.
"""

from __future__ import annotations

import streamlit as st

# Every page: a Markdown table wider than its column (an answer's, a question's, a transcript's)
# scrolls inside itself instead of widening the whole page (on a phone the page scrolled sideways).
# Captions: Streamlit fades them with opacity 0.6, 4.0:1 on white and 3.96:1 on the light sidebar,
# and fades a link in them too (the sidebar's address: 2.7:1 light, 3.8:1 dark). Their text is now
# the page's text at 72% (5.7:1 or more in both themes) and a link keeps its own colour.
# A selected tab or segmented-control choice is written in the accent colour: the dark theme's
# (#3D79B3) is 3.96:1 on the page, 3.6:1 on the choice's tinted box. It is now a blue mixed with
# the page's text: the light theme's accent as it was (#2F5D8A), a lighter blue in the dark
# (#6B97C2, 5.4:1 or more); the accent itself stays, the white label of a primary button needs it.
# The sidebar's pages showed no focus ring: a focused link only took the hover grey, which the
# current page's link already has. They now show the ring Streamlit draws round a focused button.
_PAGE_CSS = """<style>
  [data-testid="stMarkdownContainer"] table { display: block; width: max-content; max-width: 100%;
    overflow-x: auto; }
  [data-testid="stCaptionContainer"] { opacity: 1; color: color-mix(in srgb, currentColor 72%, transparent); }
  [role="tab"][aria-selected="true"]:not([data-disabled]),
  [data-testid="stButtonGroup"] button[data-selected]:not([data-disabled]) {
    color: color-mix(in srgb, #3673AF 70%, currentColor) !important; }
  [data-testid="stLayoutWrapper"]:has(> .st-key-ea-warm-up), .st-key-ea-warm-up { display: none; }
  [data-testid="stSidebarNav"] a:focus-visible { box-shadow: 0 0 0 3px rgba(54, 115, 175, 0.5); }
__CODE_TOKENS__
</style>"""

# Code (a tool step's Input JSON, code in an answer): Streamlit colours its tokens from one palette
# in both themes, made for dark boxes; on the light theme's code box a name read 2.8:1, a number
# 2.6:1, a string 2.9:1, punctuation 3.6:1 (and a URL 2.4:1 on the dark one). Each colour is mixed
# with the text around it: darker on light, lighter on dark, the same hue (4.9:1 or more on both).
_CODE_TOKEN_COLOURS = {
    "#808495": ".comment, .prolog, .doctype, .cdata, .punctuation, .unchanged",
    "#00a4d4": ".attr-name, .property, .variable",
    "#21c354": ".boolean, .constant, .symbol, .inserted",
    "#29b09d": ".number, .regex",
    "#09ab3b": ".string, .char, .attr-value",
    "#ed6f13": ".operator, .entity, .decorator, .atrule",
    "#6d3fc0": ".url",
    "#1c83e1": ".keyword, .tag, .function, .class-name, .selector",
    "#ff4b4b": ".important, .deleted",
}
_PAGE_CSS = _PAGE_CSS.replace(
    "__CODE_TOKENS__",
    "\n".join(
        f'  [data-testid="stApp"] pre .token:is({kinds}) {{ color: color-mix(in srgb, {colour} 55%, currentColor); }}'
        for colour, kinds in _CODE_TOKEN_COLOURS.items()
    ),
)


def page_style() -> None:
    """The style every page shares (see ``_PAGE_CSS``); drawn once per full run."""
    st.html(_PAGE_CSS)
