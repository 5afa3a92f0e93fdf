"""An event description written as HTML read as the plain text a person sees: scripts and styles
dropped, entities decoded, links kept beside their text, lines where the HTML breaks them; a
description without HTML tags is left exactly as typed."""

from __future__ import annotations

import pytest

from assistant.context.html_text import html_to_text


@pytest.mark.parametrize(
    "text",
    [
        "revenue < 5M, churn > 2%",
        "Budget <draft> & notes <internal>",
        "a <scripty> b &amp; c",  # not a tag HTML descriptions use: "&amp;" stays as typed too
        "",
    ],
)
def test_text_without_html_tags_is_returned_exactly_as_typed(text: str) -> None:
    assert html_to_text(text) == text


def test_scripts_styles_and_the_head_are_dropped_and_entities_decoded() -> None:
    html = (
        "<html><head><title>Invite</title><style>p{color:red}</style></head><body>"
        "<p>Agenda &amp; goals</p><SCRIPT>alert(document.cookie)</SCRIPT>"
        "<p>Q3 &lt;draft&gt; &#8364;5M&nbsp;&nbsp;target</p><img src=x onerror=alert(1)></body></html>"
    )
    assert html_to_text(html) == "Agenda & goals\n\nQ3 <draft> €5M target"


def test_a_link_keeps_its_address_once_and_a_script_address_is_never_shown() -> None:
    assert html_to_text('<a href="https://zoom.us/j/1">Join Zoom</a>') == "Join Zoom (https://zoom.us/j/1)"
    assert html_to_text('<a href="https://x.test/a">https://x.test/a</a>') == "https://x.test/a"
    assert html_to_text('<p><a href="https://x.test/a"></a></p>') == "https://x.test/a"
    assert html_to_text('<a href="javascript:alert(1)">click</a>') == "click"
    assert html_to_text('<a href="mailto:ada@example.com">Ada</a>') == "Ada"


def test_lists_become_dashed_lines_and_runs_of_empty_paragraphs_one_blank_line() -> None:
    assert html_to_text("<p>Topics:</p><ul><li>Pricing</li><li>Renewal</li></ul>") == "Topics:\n\n- Pricing\n- Renewal"
    assert html_to_text("<p>a</p><p></p><p></p><p></p><p>b</p>") == "a\n\nb"


@pytest.mark.parametrize("br", ["<br>", "<BR>", "<br/>", "<br />"])
def test_a_line_break_is_one_new_line_however_it_is_written(br: str) -> None:
    """Outlook and Teams write XHTML breaks ("<br/>"): a three-line dial-in block read as three
    paragraphs with blank lines between them, where "<br>" gave three lines."""
    assert html_to_text(f"<div>Dial in:{br}+1 555 0100{br}PIN 1234</div>") == "Dial in:\n+1 555 0100\nPIN 1234"
