"""The input boundary: which session ids the app accepts and how untrusted values reach the logs."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.inputs import (
    clean_display_text,
    has_control_chars,
    has_visible_text,
    log_safe,
    strip_control_chars,
    validate_session_id,
    whole_characters,
)


@pytest.mark.parametrize(
    "value",
    ["c812cc8d-2883-4d32-83d0-218949f0f977", "a", "A" * 64, "s1", "0abc.def_ghi-jkl", "legacy.session-01"],
)
def test_ids_the_app_and_the_s3_store_create_are_accepted(value: str) -> None:
    assert validate_session_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "-leading-dash",
        ".hidden",
        "a" * 65,
        "abc\n",  # a trailing newline: `^...$` with re.match would let it through
        "abc\nINFO forged line",
        "abc\x00",
        "abc def",
        "../../etc/passwd",
        "a/b",
        "é" * 3,
        "x" * 10_000,
        None,
        42,
        b"abc",
        ["abc"],
    ],
)
def test_anything_else_is_refused(value: object) -> None:
    assert validate_session_id(value) is None


def test_log_safe_keeps_a_plain_id_as_it_is() -> None:
    sid = str(uuid.uuid4())
    assert log_safe(sid) == sid


@pytest.mark.parametrize("value", ["a\nb", "a\r\nb", "a\x00b", "a\x1b[31mred", "a\u2028b", "a\x85b", "a\udc80b"])
def test_log_safe_escapes_line_breaks_and_control_characters(value: str) -> None:
    shown = log_safe(value)
    assert shown.isprintable()
    assert strip_control_chars(shown) == shown and "\n" not in shown
    assert shown.startswith("a\\")


def test_log_safe_cannot_close_or_open_a_log_field() -> None:
    shown = log_safe("x>, user_id=<admin")
    assert "<" not in shown and ">" not in shown
    assert "\\" in log_safe("a\\b") and log_safe("a\\b") != log_safe("a\\\\b")


def test_log_safe_is_bounded_and_says_how_long_the_value_was() -> None:
    shown = log_safe("x" * 10_000_000)
    assert len(shown) <= 120
    assert shown.startswith("x" * 80) and "10,000,000 chars" in shown
    escaped = log_safe("\x00" * 10_000)
    assert len(escaped) <= 120 and "10,000 chars" in escaped
    assert len(log_safe("y" * 500, limit=20)) <= 60


@pytest.mark.parametrize("value", [None, 42, b"abc\n\x00", ["a\nb"] * 10_000, object()])
def test_log_safe_shows_other_values_bounded_on_one_line(value: object) -> None:
    shown = log_safe(value)
    assert shown.isprintable() and len(shown) <= 120


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Demo Executive", "Demo Executive"),
        ("  Eve\x00 \x1b[31mAdmin\n\n# Boss\t ", "Eve Admin # Boss"),
        ("a\r\nb\u2028c", "a b c"),
        (None, ""),
        (42, ""),
    ],
)
def test_display_text_is_one_line_without_control_characters(value: object, shown: str) -> None:
    assert clean_display_text(value) == shown


def test_display_text_is_bounded() -> None:
    shown = clean_display_text("n" * 10_000, limit=50)
    assert len(shown) == 50 and shown.endswith("…")


def test_terminal_escape_sequences_are_removed_whole() -> None:
    """A calendar title with a colour code must not keep "[31m" once the ESC is gone."""
    assert strip_control_chars("Budget review\x1b[31m now\x1b[0m") == "Budget review now"
    assert strip_control_chars("a\x1b]0;window title\x07b") == "ab"
    assert strip_control_chars("trailing escape\x1b") == "trailing escape"


def test_bidi_overrides_are_removed_and_right_to_left_text_is_kept() -> None:
    """An RLO in a title would reverse the rest of the line it is quoted in."""
    assert strip_control_chars("Eve\u202e Ops") == "Eve Ops"
    assert strip_control_chars("a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068h\u2069i") == "abcdefghi"
    hebrew = "\u05e9\u05dc\u05d5\u05dd \u200fworld\u200e"
    assert strip_control_chars(hebrew) == hebrew
    assert has_control_chars("x\u202ey")


@pytest.mark.parametrize(
    "value", ["", " \n\t", "\u200b\u200b", "\u200c\u200d\u2060", "\ufeff", "\u200e\u200f", "\u3164", "\u2800 \ufe0f"]
)
def test_text_that_draws_nothing_has_no_visible_text(value: str) -> None:
    assert not has_visible_text(value)


@pytest.mark.parametrize("value", ["a", "\u200bx\u200b", "שלום", "👍", "👨\u200d👩\u200d👧", ".", "\u0301e"])
def test_text_with_something_to_see_has_visible_text(value: str) -> None:
    assert has_visible_text(value)


@given(st.text(st.characters(codec="utf-8")))
def test_text_without_surrogates_is_kept_as_it_is(value: str) -> None:
    assert whole_characters(value) is value


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("party \ud83c\udf89 time", "party \U0001f389 time"),  # an emoji's two escaped halves
        ("caf\u00e9 \ud83c", "caf\u00e9 \ufffd"),  # a lone first half, in non-ASCII text
        ("\udf89 then ascii", "\ufffd then ascii"),  # a lone second half
    ],
)
def test_surrogates_become_characters_that_storage_accepts(value: str, stored: str) -> None:
    assert whole_characters(value) == stored
    whole_characters(value).encode("utf-8")  # what SQLite, Postgres and S3 are given


@given(st.text())
def test_any_text_comes_out_storable(value: str) -> None:
    whole_characters(value).encode("utf-8")
