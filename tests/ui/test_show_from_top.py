"""``ui.components.show_from_top``: its script carries no text from the URL."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

HOSTILE = "sessions:</script><script>window.stolen = document.cookie</script>"


def _app(view_key: str) -> None:
    from ui.components import show_from_top

    show_from_top(view_key)


def _body(view_key: str) -> str:
    at = AppTest.from_function(_app, args=(view_key,), default_timeout=30).run()
    assert not at.exception, at.exception
    [html] = at.get("html")
    return str(html.proto.body)


def test_a_session_id_from_the_url_cannot_end_the_script() -> None:
    """The view key is the ``session`` query parameter as typed: in the script it ended the
    script element and ran whatever followed."""
    body = _body(HOSTILE)
    assert body.count("<script>") == 1 and body.count("</script>") == 1, body
    assert "window.stolen" not in body and "document.cookie" not in body


def test_each_view_has_its_own_key() -> None:
    assert _body("sessions:a") != _body("sessions:b")
    assert _body("sessions:a") == _body("sessions:a")
