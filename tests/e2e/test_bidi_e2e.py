"""Right-to-left names in left-to-right answers, laid out by Chromium as the chat page draws them."""

from __future__ import annotations

import html
from typing import Any

import pytest

from assistant.views.markdown import screen_markdown

pytestmark = pytest.mark.e2e

# Where each character is drawn: the left edge of the first of ``needle`` and of ``other``.
_LEFT_OF = """([needle, other]) => {
  const p = document.querySelector('p'), text = p.firstChild, at = (s) => {
    const r = document.createRange(), i = text.data.indexOf(s);
    r.setStart(text, i); r.setEnd(text, i + 1);
    return r.getBoundingClientRect().left;
  };
  return [at(needle), at(other)];
}"""


@pytest.mark.parametrize(
    ("line", "name", "after"),
    [
        ("المالية: 50.0% used, forecast +5.9% vs budget", "ا", "5"),  # "50.0 :المالية% used"
        ("Budget for מחלקת כספים - $1M annual budget", "מ", "$"),  # "1$ - מחלקת כספים M annual budget"
    ],
)
def test_a_right_to_left_name_keeps_the_numbers_after_it_in_the_lines_order(
    page: Any, line: str, name: str, after: str
) -> None:
    shown = screen_markdown(line).replace("\\$", "$")
    page.set_content(f"<html><body style='font-size:20px'><p>{html.escape(shown)}</p></body></html>")
    name_left, after_left = page.evaluate(_LEFT_OF, [name, after])
    assert after_left > name_left, f"{after!r} is drawn before the name it follows in {line!r}"
