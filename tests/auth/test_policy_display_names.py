"""The identity's name and email as the pages get them: one line, no control characters."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.auth import AuthError, Identity, check_access, dev_identity
from assistant.config import load_settings


@dataclass
class Policy:
    allowed_email_domains: list[str] = field(default_factory=list)
    allowed_emails: list[str] = field(default_factory=list)
    admin_emails: list[str] = field(default_factory=lambda: ["boss@example.com"])


def test_provider_name_is_kept_as_one_line_of_plain_text() -> None:
    identity = Identity(user_id="sub-1", email="eve@example.com", name="Eve\x00 **Admin**\n\n# Boss\x1b", issued_at=1.0)
    assert check_access(identity, Policy()).name == "Eve **Admin** # Boss"


@pytest.mark.parametrize(
    "email", ["boss@example.com\x00", "boss@example.com\n", "bo\x07ss@example.com", "boss @example.com"]
)
def test_email_with_control_characters_or_spaces_is_refused_not_cleaned_into_a_listed_one(email: str) -> None:
    identity = Identity(user_id="sub-2", email=email, name="Mallory", issued_at=1.0)
    with pytest.raises(AuthError) as info:
        check_access(identity, Policy())
    assert info.value.reason == "not_allowed"


def test_dev_login_name_and_email_from_settings_are_cleaned() -> None:
    settings = load_settings(
        env="local", test_user_name="Demo\x1b[31m\x07 Executive\n\n# Boss", test_user_email="Exec\x07@Example.com"
    )
    identity = dev_identity(settings)
    assert identity.name == "Demo Executive # Boss"
    assert identity.email == "exec@example.com"
