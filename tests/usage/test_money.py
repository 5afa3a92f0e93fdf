"""Dollar amounts as the pages, the chat's limits and the CLI write them."""

from __future__ import annotations

import pytest

from assistant.usage.money import fmt_cost
from assistant.views import format as views_format


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "unknown"), (0.0, "$0.00"), (0.0004, "$0.0004"), (0.13116, "$0.131"), (12_345.678, "$12,345.68")],
)
def test_amounts_keep_their_meaningful_digits(value: float | None, text: str) -> None:
    assert fmt_cost(value) == text


def test_the_views_write_amounts_with_the_same_function() -> None:
    """The chat's budget refusal and the page's sidebar must not round one amount two ways."""
    assert views_format.fmt_cost is fmt_cost
