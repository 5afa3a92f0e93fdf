"""Access policy: allowed domains (hd vs email domain), allow-list, admin role, lifetime, dev login."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from assistant.auth import NOT_ALLOWED_MESSAGE, AuthError, Identity, check_access, dev_identity, identity_expired
from assistant.config import load_settings


@dataclass
class Policy:
    allowed_email_domains: list[str] = field(default_factory=list)
    allowed_emails: list[str] = field(default_factory=list)
    admin_emails: list[str] = field(default_factory=list)


def ident(email: str, hd: str | None = None, issued_at: float = 1_000_000.0) -> Identity:
    return Identity(user_id="sub-" + email, email=email, name=email, issued_at=issued_at, hosted_domain=hd)


def refused(identity: Identity, policy: Policy) -> AuthError:
    with pytest.raises(AuthError) as info:
        check_access(identity, policy)
    assert info.value.reason == "not_allowed"
    return info.value


def test_open_policy_admits_any_verified_email() -> None:
    assert check_access(ident("anyone@gmail.com"), Policy()).role == "user"


def test_domain_matches_hd_claim() -> None:
    policy = Policy(allowed_email_domains=["example.com"])
    assert check_access(ident("alice@example.com", hd="example.com"), policy).role == "user"
    # Workspace secondary domain: email at another domain, hd names the allowed organisation.
    assert check_access(ident("alice@example.co.uk", hd="example.com"), policy).role == "user"


def test_domain_matches_email_domain_without_hd() -> None:
    policy = Policy(allowed_email_domains=["gmail.com"])
    assert check_access(ident("bob@gmail.com"), policy).role == "user"


def test_hd_of_unlisted_organisation_is_refused_even_if_email_domain_matches() -> None:
    refused(ident("eve@example.com", hd="evil.org"), Policy(allowed_email_domains=["example.com"]))


def test_disallowed_domain_is_refused() -> None:
    refused(ident("eve@evil.org"), Policy(allowed_email_domains=["example.com"]))


def test_subdomain_or_suffix_trick_is_refused() -> None:
    policy = Policy(allowed_email_domains=["example.com"])
    refused(ident("eve@notexample.com"), policy)
    refused(ident("eve@example.com.evil.org"), policy)
    refused(ident("eve@mail.example.com"), policy)


def test_allow_list_admits_listed_email_outside_domains() -> None:
    policy = Policy(allowed_email_domains=["example.com"], allowed_emails=["guest@gmail.com"])
    assert check_access(ident("Guest@Gmail.com"), policy).role == "user"
    refused(ident("other@gmail.com"), policy)


def test_allow_list_alone_restricts_to_listed_emails() -> None:
    policy = Policy(allowed_emails=["guest@gmail.com"])
    assert check_access(ident("guest@gmail.com"), policy).email == "guest@gmail.com"
    refused(ident("alice@example.com", hd="example.com"), policy)


def test_admin_emails_get_admin_role() -> None:
    policy = Policy(allowed_email_domains=["example.com"], admin_emails=["boss@example.com"])
    assert check_access(ident("Boss@Example.com", hd="example.com"), policy).role == "admin"
    assert check_access(ident("alice@example.com", hd="example.com"), policy).role == "user"


def test_refusal_message_names_no_lists_or_secrets(caplog: pytest.LogCaptureFixture) -> None:
    policy = Policy(allowed_email_domains=["secret-corp.com"], allowed_emails=["vip@secret-corp.com"])
    with caplog.at_level(logging.WARNING, logger="assistant.auth"):
        err = refused(ident("eve@evil.org"), policy)
    assert err.message == NOT_ALLOWED_MESSAGE
    assert "secret-corp" not in str(err)
    assert "refused by access policy" in caplog.text


def test_works_with_real_settings() -> None:
    settings = load_settings(
        allowed_email_domains="Example.com, other.org", admin_emails="boss@example.com", allowed_emails=""
    )
    assert check_access(ident("x@other.org"), settings).role == "user"
    assert check_access(ident("boss@example.com", hd="example.com"), settings).is_admin


def test_identity_lifetime() -> None:
    identity = ident("alice@example.com", issued_at=1_000_000.0)
    assert not identity_expired(identity, max_age_hours=12, now=1_000_000.0 + 12 * 3600 - 1)
    assert identity_expired(identity, max_age_hours=12, now=1_000_000.0 + 12 * 3600 + 1)


def test_dev_login_in_local() -> None:
    settings = load_settings(env="local", test_user_id="dev-1", test_user_email="Exec@Example.com")
    identity = dev_identity(settings, now=5.0)
    assert identity.user_id == "dev-1"
    assert identity.is_dev and identity.role == "user" and identity.issued_at == 5.0
    admin = dev_identity(
        load_settings(env="local", test_user_email="exec@example.com", admin_emails="exec@example.com")
    )
    assert admin.role == "admin"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_dev_login_impossible_outside_local(env: str) -> None:
    @dataclass
    class S:
        env: str
        test_user_id: str = "dev-1"
        test_user_email: str = "exec@example.com"
        test_user_name: str = "Exec"
        admin_emails: list[str] = field(default_factory=list)

    with pytest.raises(AuthError) as info:
        dev_identity(S(env=env))
    assert info.value.reason == "dev_login_disabled"
