"""Other people's text placed in Markdown (``assistant/markdown_text.py``): it reads as typed, and search finds it."""

from __future__ import annotations

import re

import pytest

from assistant.markdown_text import defuse_autolinks, literal, visible_text


@pytest.mark.parametrize(
    ("markdown", "shown"),
    [
        ("**Board** prep", "Board prep"),
        ("Cloud \\[Renewal\\] \\*core\\* \\\\ \\$5", "Cloud [Renewal] *core* \\ $5"),
        ("## Agenda\n- `item` one\n> quoted", "Agenda\nitem one\nquoted"),
        ("5 * 3 and plan_to_date, _note_ ~~old~~", "5 * 3 and plan_to_date, note old"),
        ("1. first", "1. first"),
    ],
)
def test_visible_text_is_what_the_markdown_shows(markdown: str, shown: str) -> None:
    assert visible_text(markdown) == shown


def test_addresses_in_other_peoples_text_are_not_links_in_the_browser() -> None:
    # A meeting titled "Verify at http://evil.example/login" (a prep card, an answer quoting it)
    # was a clickable link in the app: "http\://" stops CommonMark's autolinks, but Streamlit's
    # renderer finds addresses in the text after escapes are read (checked in Chromium: the
    # escaped http\://, www\. and a\@b.com were all links). A zero-width space now splits each.
    out = literal("Verify at http://evil.example/login, www.evil.example or it@evil.example")
    assert "://" not in out and not re.search(r"www\\?\.", out) and not re.search(r"@\w", out), out
    assert out.replace("\u200b", "").replace("\\", "") == (
        "Verify at http://evil.example/login, www.evil.example or it@evil.example"
    )  # reads as typed


def test_a_defused_address_is_found_by_search_as_typed() -> None:
    # The zero-width space that keeps an address in an answer from being a link must not keep a
    # search for "https://phish.example" from finding that answer.
    assert "https://phish.example/login" in visible_text(literal("Renewal (https://phish.example/login)"))
    assert "www.phish.example" in visible_text(literal("see www.phish.example"))
    assert "it@phish.example" in visible_text(literal("mail it@phish.example"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[Verify your account](https://host/login)", "\\[Verify your account\\](https\\:\u200b//host/login)"),
        ("# Board <b>prep</b> | *now*", "\\# Board \\<b\\>prep\\</b\\> \\| \\*now\\*"),
        ("![pixel](x.png) `code` ~~gone~~ $5", "\\!\\[pixel\\](x.png) \\`code\\` \\~\\~gone\\~\\~ \\$5"),
        ("a \\ b", "a \\\\ b"),
    ],
)
def test_literal_escapes_every_mark_that_would_render(text: str, expected: str) -> None:
    assert literal(text) == expected


def test_literal_is_one_line_whatever_the_whitespace() -> None:
    # A title with a line break in it would start a heading or a list on the next line of an agenda.
    assert literal("Q3 review\n# not a heading\r\n\t- nor a bullet  ") == "Q3 review \\# not a heading - nor a bullet"
    assert literal("") == ""
    assert literal("   \n\t ") == ""


def test_literal_takes_any_value_as_its_text() -> None:
    assert literal(None) == "None"
    assert literal(1_200) == "1200"


def test_defused_autolinks_read_the_same_once_zero_width_spaces_are_dropped() -> None:
    typed = "See https://a.example, WWW.B.example and x@y.example"
    out = defuse_autolinks(typed)
    assert "://" not in out and "WWW." not in out and "x@y" not in out
    assert out.replace("\u200b", "").replace("\\", "") == typed


def test_text_without_addresses_is_left_alone_by_defuse_autolinks() -> None:
    assert (
        defuse_autolinks("Plan the Q3 offsite: 2.5 days, budget $40k") == "Plan the Q3 offsite: 2.5 days, budget $40k"
    )


def test_visible_text_drops_the_zero_width_spaces_that_keep_addresses_inert() -> None:
    assert "\u200b" not in visible_text(literal("mail it@phish.example or www.phish.example"))
