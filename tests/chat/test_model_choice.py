"""Which models are offered, to whom, and whether a session may still answer with its own (``chat/model_choice.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.chat.events import ChatInputError, ModelChoiceError
from assistant.chat.model_choice import CONTINUE_ADVICE, ModelOffer, model_key, model_label
from assistant.config import load_settings
from assistant.sessions.base import SessionMeta

OFFLINE = "offline"
NOVA = "bedrock:us.amazon.nova-lite-v1:0"
ADMIN = "boss@example.com"
USER = "someone@example.com"


def _offer(**overrides: str) -> ModelOffer:
    overrides.setdefault("models", f"{OFFLINE},{NOVA}")
    return ModelOffer(load_settings(**overrides))


def _meta(model: str, user_email: str | None = USER) -> SessionMeta:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    return SessionMeta("s1", "u1", "Board prep", "active", now, now, model, user_email=user_email)


def test_the_default_comes_first_and_another_name_for_an_offered_model_is_that_model() -> None:
    offer = _offer()
    assert offer.offered == (OFFLINE, NOVA)
    assert offer.choose(None, USER) == OFFLINE
    assert offer.offered_name("offline:demo") == OFFLINE  # the registry's other spelling
    assert offer.choose("offline:demo", USER) == OFFLINE
    assert offer.offered_name("openai:gpt-4o") is None
    assert offer.offered_name("not a model at all") is None


def test_admin_only_models_are_for_admins_whatever_the_emails_case() -> None:
    offer = _offer(admin_models=NOVA, admin_emails=ADMIN)
    assert offer.is_admin_only(NOVA) and not offer.is_admin_only(OFFLINE)
    assert offer.models_for(USER) == [OFFLINE]
    assert offer.models_for(None) == [OFFLINE]
    assert offer.models_for("Boss@Example.com") == [OFFLINE, NOVA]
    assert offer.choose(NOVA, ADMIN) == NOVA
    with pytest.raises(ModelChoiceError, match=r"^Amazon Nova Lite is only for administrators; pick another model\.$"):
        offer.choose(NOVA, USER)


@pytest.mark.parametrize("name", ["openai:gpt-4o", "", "bedrock:", "offline\x00"])
def test_a_model_not_offered_is_refused_naming_the_ones_that_are(name: str) -> None:
    with pytest.raises(ModelChoiceError) as refused:
        _offer().choose(name, ADMIN)
    assert str(refused.value).endswith(f"is not one of the models offered here ({OFFLINE}, {NOVA}).")
    assert isinstance(refused.value, ChatInputError)  # pages and the CLI show it as a refused input


def test_a_session_on_an_offered_model_may_answer() -> None:
    offer = _offer()
    assert offer.refusal(_meta(NOVA)) is None
    assert offer.refusal(_meta("")) is None  # no model recorded: the default's


def test_a_session_whose_model_was_withdrawn_is_read_only_with_the_way_on() -> None:
    refusal = _offer(models=OFFLINE).refusal(_meta(NOVA))
    assert refusal == (
        "This session answers with Amazon Nova Lite, which is no longer offered here, so it is read-only. "
        + CONTINUE_ADVICE
    )
    unknown = _offer().refusal(_meta("gone:model-x"))
    assert unknown is not None and unknown.startswith("This session answers with gone:model-x, which is no longer")


def test_a_session_whose_model_became_admin_only_is_read_only_for_a_user_not_an_admin() -> None:
    offer = _offer(admin_models=NOVA, admin_emails=ADMIN)
    refusal = offer.refusal(_meta(NOVA, USER))
    assert refusal is not None and "now only for administrators, so it is read-only" in refusal
    assert offer.refusal(_meta(NOVA, ADMIN)) is None


def test_a_turn_may_name_its_sessions_model_in_any_spelling_but_no_other() -> None:
    offer = _offer()
    offer.check_same("offline:demo", OFFLINE)
    offer.check_same(OFFLINE, None)  # the default, recorded as nothing
    with pytest.raises(ModelChoiceError, match=r"^This session answers with offline demo model; start a new session"):
        offer.check_same(NOVA, OFFLINE)


def test_a_names_label_is_the_registrys_or_the_name_as_given() -> None:
    assert model_key("offline:demo") == model_key(OFFLINE) is not None
    assert model_key("no-such-provider:x") is None
    assert model_label(NOVA) == "Amazon Nova Lite"
    assert model_label("no-such-provider:x") == "no-such-provider:x"
