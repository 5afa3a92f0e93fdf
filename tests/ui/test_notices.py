"""``ui.notices``: a notice after an action is still on the page when the browser sends the same
change twice (the data editor's cell edit does: on Enter, then as its editor closes)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import ui.notices


def _app() -> None:
    import streamlit as st

    from ui.notices import draw_notices, notify

    st.button("Save", key="save", on_click=notify, args=("k", "success", "Meeting type saved."))
    st.button("Fail", key="fail", on_click=notify, args=("k", "error", "It was not saved."))
    draw_notices("k")


def _shown(at: AppTest) -> list[str]:
    return [str(m.value) for m in [*at.success, *at.error]]


def test_a_notice_outlives_a_second_run_that_changes_nothing() -> None:
    at = AppTest.from_function(_app, default_timeout=30).run()
    assert _shown(at) == []
    at.button(key="save").click().run()
    assert _shown(at) == ["Meeting type saved."]
    at.run()  # the same change sent again by the browser: the reader has not seen the notice yet
    assert _shown(at) == ["Meeting type saved."]


def test_the_same_notice_twice_is_shown_once_and_each_kind_as_itself() -> None:
    at = AppTest.from_function(_app, default_timeout=30).run()
    at.button(key="save").click().run()
    at.button(key="save").click().run()
    at.button(key="fail").click().run()
    assert [str(m.value) for m in at.success] == ["Meeting type saved."]
    assert [str(m.value) for m in at.error] == ["It was not saved."]


def test_a_notice_goes_after_its_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui.notices, "HOLD_SECONDS", 0.0)
    at = AppTest.from_function(_app, default_timeout=30).run()
    at.button(key="save").click().run()
    assert _shown(at) == ["Meeting type saved."]  # drawn once, however short its hold
    at.run()
    assert _shown(at) == []
