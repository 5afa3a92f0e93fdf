"""AppTest tests of the chat page's model choice: the picker, the header badge, "Ask another model".

The second model is ``anthropic:claude-haiku-4-5`` through the real SDK on the fake Anthropic
API (tests/fixtures/fake_llm_servers.py), so it is priced from data/prices.toml.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import assistant.config
from assistant.config import get_settings
from assistant.factory import get_chat_service
from tests.fixtures.fake_llm_servers import TEST_KEY, FakeLLMServer, say

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
USER = "test-user-123"
HAIKU = "anthropic:claude-haiku-4-5"


@pytest.fixture
def make_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_anthropic: FakeLLMServer
) -> Iterator[Callable[..., AppTest]]:
    """An AppTest of the app (ENV=local, temp SQLite) that may offer the fake Anthropic model too."""

    def build(**env: str) -> AppTest:
        monkeypatch.setenv("ENV", "local")
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'chat.db'}")
        monkeypatch.setenv("ASSISTANT_SECRETS_FILE", os.devnull)
        monkeypatch.setenv("MODEL_PROVIDER", "offline")
        monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_anthropic.base_url)
        for name in ("MODELS", "ADMIN_MODELS", "ADMIN_EMAILS"):
            monkeypatch.delenv(name, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assistant.config.get_settings.cache_clear()
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        return at

    yield build
    assistant.config.get_settings.cache_clear()


def _badges(at: AppTest) -> str:
    """The header's badges (st.badge is drawn as a Markdown badge directive)."""
    header = [str(m.value) for m in at.markdown if "-badge[" in str(m.value)]
    return "\n".join(header)


def _texts(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def _send(at: AppTest, text: str) -> AppTest:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def _sid(at: AppTest) -> str:
    value = at.query_params["session"]
    return str(value[0] if isinstance(value, list) else value)


def _picker(at: AppTest) -> Any:
    found = [s for s in at.selectbox if s.key == "model-picker"]
    return found[0] if found else None


def test_with_one_model_nothing_changes(make_app: Callable[..., AppTest]) -> None:
    at = make_app()
    assert _picker(at) is None
    assert "offline demo model" in _badges(at)
    at = _send(at, "What meetings do I have this week?")
    assert not [b for b in at.button if b.key and b.key.startswith("compare-ask-")], "no Ask another model"
    assert not [s for s in at.selectbox if s.key and s.key.startswith("compare-model-")]


def test_picker_offers_each_model_with_its_price_and_the_session_records_the_pick(
    make_app: Callable[..., AppTest], fake_anthropic: FakeLLMServer
) -> None:
    at = make_app(MODELS=f"offline,{HAIKU}")
    picker = _picker(at)
    assert picker is not None and picker.value == "offline"
    assert picker.options == ["offline demo model · $0", "Anthropic Claude Haiku 4.5 · $1.00/$5.00 per M tokens"]
    assert "offline demo model" in _badges(at)

    picker.set_value(HAIKU).run()
    assert "Anthropic Claude Haiku 4.5" in _badges(at), "the header names the model the session will start with"
    fake_anthropic.script(say("You have three meetings this week."))
    at = _send(at, "What meetings do I have this week?")
    sid = _sid(at)
    assert get_chat_service(get_settings()).get_session(sid, USER).model == HAIKU
    assert "Anthropic Claude Haiku 4.5" in _badges(at)
    assert _picker(at) is None, "a started session keeps its model: no picker"

    at.button(key="new-session").click().run()
    picker = _picker(at)
    assert picker is not None and picker.value == HAIKU, "the pick is remembered for the next new session"


def test_the_offline_model_offered_under_two_names_reads_as_two_models(make_app: Callable[..., AppTest]) -> None:
    """MODELS=offline,offline:alt listed "offline demo model · $0" twice: a pick between two equal lines."""
    at = make_app(MODELS="offline,offline:alt")
    picker = _picker(at)
    assert picker is not None
    assert picker.options == ["offline demo model · $0", "offline demo model (alt) · $0"]
    picker.set_value("offline:alt").run()
    assert "offline demo model (alt)" in _badges(at), "the header names the model the session will start with"


def test_one_claude_offered_on_bedrock_and_on_anthropics_api_reads_as_two_models(
    make_app: Callable[..., AppTest],
) -> None:
    """The same Claude offered through Bedrock and through Anthropic's API was listed twice as
    "Anthropic Claude Haiku 4.5 · $1.00/$5.00 per M tokens": a pick between two equal lines."""
    bedrock = "bedrock:us.anthropic.claude-haiku-4-5-20251001-v1:0"
    at = make_app(MODELS=f"offline,{HAIKU},{bedrock}")
    picker = _picker(at)
    assert picker is not None
    assert picker.options == [
        "offline demo model · $0",
        "Anthropic Claude Haiku 4.5 (Anthropic) · $1.00/$5.00 per M tokens",
        "Anthropic Claude Haiku 4.5 (Bedrock) · $1.00/$5.00 per M tokens",
    ]
    picker.set_value(bedrock).run()
    assert "Anthropic Claude Haiku 4.5 (Bedrock)" in _badges(at), "the header names it as the picker does"


def test_admin_only_models_are_not_offered_to_a_user(make_app: Callable[..., AppTest]) -> None:
    at = make_app(MODELS=f"offline,{HAIKU}", ADMIN_MODELS=HAIKU, ADMIN_EMAILS="boss@example.com")
    assert _picker(at) is None
    assert "offline demo model" in _badges(at)


def test_an_admin_sees_admin_only_models_marked(make_app: Callable[..., AppTest]) -> None:
    at = make_app(MODELS=f"offline,{HAIKU}", ADMIN_MODELS=HAIKU, ADMIN_EMAILS="exec@example.com")
    picker = _picker(at)
    assert picker is not None
    assert picker.options[1].endswith("· admins only")


def test_ask_another_model_shows_both_answers_side_by_side(
    make_app: Callable[..., AppTest], fake_anthropic: FakeLLMServer
) -> None:
    at = _send(make_app(MODELS=f"offline,{HAIKU}"), "What meetings do I have this week?")
    sid = _sid(at)
    service = get_chat_service(get_settings())
    before = service.open_session(sid, USER)
    fake_anthropic.script(say("Three meetings: the Acme QBR, a 1:1 and the leadership sync."))

    at.button(key=f"compare-ask-{sid}-0").click().run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "Same question, two models" in text
    assert "Three meetings: the Acme QBR" in text
    [table] = [str(m.value) for m in at.markdown if str(m.value).startswith("| Measured")]
    header, _rule, *rows = table.splitlines()
    assert header == "| Measured | offline demo model · this session | Anthropic Claude Haiku 4.5 · new session |"
    assert [r.split("|")[1].strip() for r in rows] == ["Tokens", "Cost", "First token", "Total time"]
    cost = rows[1].split("|")
    assert cost[2].strip() == "$0.00 (offline demo model)" and cost[3].strip().startswith("$0.0")
    assert "Anthropic Claude Haiku 4.5" in _badges(at)
    assert _sid(at) == sid, "the page stays on the original session"

    after = service.open_session(sid, USER)
    assert after.meta == before.meta and after.turns == before.turns
    sessions, total = service.list_sessions(USER)
    assert total == 2
    branch = next(s for s in sessions if s.id != sid)
    assert branch.model == HAIKU and branch.continued_from == sid

    at.button(key="compare-open-0").click().run()
    assert _sid(at) == branch.id
    assert "Anthropic Claude Haiku 4.5" in _badges(at)


def test_another_model_that_fails_leaves_a_way_to_its_session(make_app: Callable[..., AppTest]) -> None:
    """The failed side read "Press Retry in a moment" with neither a Retry nor a way to the new
    session, until some other click happened to redraw the panel."""
    at = _send(make_app(MODELS="offline,faulty:unavailable*100"), "What meetings do I have this week?")
    sid = _sid(at)
    at.button(key=f"compare-ask-{sid}-0").click().run()
    assert not at.exception, at.exception
    assert "Same question, two models" in _texts(at)
    assert [b for b in at.button if b.key == "compare-open-0"], "Open the new session, where its Retry is"
    assert "Press Retry in a moment. Open the new session to retry." in _texts(at), "one full stop, the button's name"
    branch = next(s for s in get_chat_service(get_settings()).list_sessions(USER)[0] if s.id != sid)
    at.button(key="compare-open-0").click().run()
    assert _sid(at) == branch.id
    assert [b for b in at.button if b.key == "retry-turn"], "the branch session offers Retry"


def test_another_model_refused_by_the_rate_limit_says_when_it_can_be_asked(make_app: Callable[..., AppTest]) -> None:
    """A refused send says when it can be sent again; a refused comparison said only "Not asked. You
    have sent 1 message in the last minute, the most allowed." and left the reader guessing."""
    at = _send(make_app(MODELS="offline,faulty:unavailable*100", MESSAGES_PER_MINUTE="1"), "What meetings?")
    sid = _sid(at)
    at.button(key=f"compare-ask-{sid}-0").click().run()
    assert not at.exception, at.exception
    refused = [str(w.value) for w in at.warning if "Not asked." in str(w.value)]
    assert refused and "You can send again at " in refused[0] and " UTC (in " in refused[0], _texts(at)
    assert get_chat_service(get_settings()).list_sessions(USER)[1] == 1, "no branch left behind"


def test_another_model_that_failed_says_so_in_its_answer_box(make_app: Callable[..., AppTest]) -> None:
    """Redrawn after the failure, the other side was an empty box reading "(no answer text)" with the
    failure in small grey print under it: read as an answer that said nothing."""
    at = _send(make_app(MODELS="offline,faulty:unavailable*100"), "What meetings do I have this week?")
    at.button(key=f"compare-ask-{_sid(at)}-0").click().run()
    assert not at.exception, at.exception

    failures = [str(e.value) for e in at.error if "Open the new session to retry" in str(e.value)]
    assert failures and failures[0].startswith("Not answered: "), _texts(at)
    assert "(no answer text)" not in _texts(at)
    assert not [c for c in at.caption if "Open the new session to retry" in str(c.value)], "said once, as an error"


def test_a_session_whose_model_was_withdrawn_is_read_only_with_a_note(
    make_app: Callable[..., AppTest], fake_anthropic: FakeLLMServer
) -> None:
    at = make_app(MODELS=f"offline,{HAIKU}")
    _picker(at).set_value(HAIKU).run()
    at = _send(at, "What meetings do I have this week?")
    sid = _sid(at)

    again = make_app()  # the deployment now offers the offline model only
    again.query_params["session"] = sid
    again.run()
    assert not again.exception
    notes = " ".join(i.value for i in again.info)
    assert "Anthropic Claude Haiku 4.5, which is no longer offered here" in notes
    assert again.chat_input[0].disabled
    assert again.button(key="continue-session")
