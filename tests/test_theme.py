"""The light and dark themes (.streamlit/config.toml) and the colours the pages draw on them."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THEME = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["theme"]


def _luminance(color: str) -> float:
    channels = [int(color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _chart_colors() -> list[str]:
    """``COLORS`` of the Sessions & cost page (read from its source: the page runs when imported)."""
    tree = ast.parse((ROOT / "app_pages" / "sessions.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "COLORS" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError("app_pages/sessions.py has no COLORS")


def test_both_themes_are_offered() -> None:
    """A [theme] with base = "light" and no [theme.dark] left the reader no dark mode."""
    assert "base" not in THEME
    assert {"light", "dark"} <= THEME.keys()


@pytest.mark.parametrize("kind", ["light", "dark"])
def test_text_and_accent_read_on_each_theme(kind: str) -> None:
    theme = THEME[kind]
    assert contrast(theme["textColor"], theme["backgroundColor"]) >= 7
    assert contrast(theme["linkColor"], theme["backgroundColor"]) >= 4.5
    assert contrast(theme["primaryColor"], "#FFFFFF") >= 4.5  # a primary button's white label
    assert contrast(theme["primaryColor"], theme["backgroundColor"]) >= 3  # focus rings, the active tab


def test_a_dozen_models_or_users_each_get_their_own_chart_colour() -> None:
    """With seven colours, the eighth model of a period's "Cost per day by model" was drawn in the
    first one's colour, two models reading as one."""
    colours = _chart_colors()
    assert len(colours) >= 12 and len({c.upper() for c in colours}) == len(colours)


@pytest.mark.parametrize("kind", ["light", "dark"])
def test_the_charts_first_colour_stands_out_on_each_theme(kind: str) -> None:
    """The single-series bars (cost per session, what-if, top users) and the p50 lines are drawn in
    the first chart colour; #2F5D8A was 2.6:1 on the dark background, dim bars on near-black."""
    assert contrast(_chart_colors()[0], THEME[kind]["backgroundColor"]) >= 3


@pytest.mark.parametrize("kind", ["light", "dark"])
def test_every_chart_colour_stands_out_on_each_theme(kind: str) -> None:
    """Charts of several series (models per day, p50/p95, users' spend) took the later colours: three
    of them (#7FA7CE, #E08E45, #B8A04A) were ~2.5:1 on white, faint bars and lines (WCAG 1.4.11: 3:1)."""
    background = THEME[kind]["backgroundColor"]
    faint = [c for c in _chart_colors() if contrast(c, background) < 3]
    assert not faint, f"{faint} under 3:1 on {background}"


def test_neighbouring_chart_colours_differ_in_hue() -> None:
    """The first two colours were both blues (#3D79B3, #6F95BD): the two models (or users) a chart
    most often has were told apart by shade only."""
    import colorsys
    import itertools

    def hue(c: str) -> float:
        r, g, b = (int(c[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return colorsys.rgb_to_hls(r, g, b)[0] * 360

    colours = _chart_colors()
    for a, b in itertools.pairwise(colours[:6]):  # the series a chart most often has
        gap = abs(hue(a) - hue(b))
        assert min(gap, 360 - gap) >= 30, (a, b)
