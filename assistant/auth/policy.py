"""Who may enter, with which role, and for how long.

Rules (ALLOWED_EMAIL_DOMAINS, ALLOWED_EMAILS, ADMIN_EMAILS are lower-cased lists):

* An email in ADMIN_EMAILS is admitted with the ``admin`` role.
* An email in ALLOWED_EMAILS is admitted.
* A domain in ALLOWED_EMAIL_DOMAINS admits a token whose Google ``hd`` (Workspace)
  claim is that domain; a token *without* ``hd`` is admitted when its verified email's
  domain is listed (consumer accounts, other providers). A token whose ``hd`` names an
  unlisted organisation is refused even if the email domain matches.
* When both ALLOWED_EMAIL_DOMAINS and ALLOWED_EMAILS are empty, every verified email is
  admitted (restrict the OAuth client itself, e.g. Google's "Internal" consent screen).
* An email holding control characters or inner whitespace is refused (never cleaned into a
  listed address). The display name is kept as one line of plain text without control
  characters (:func:`assistant.inputs.clean_display_text`): it is shown on every page.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Protocol

from assistant.auth.tokens import AuthError, Identity, Role
from assistant.inputs import clean_display_text, has_control_chars, strip_control_chars

logger = logging.getLogger(__name__)

NOT_ALLOWED_MESSAGE = (
    "This account is not allowed to use the assistant. "
    "Sign in with your work account, or ask your administrator for access."
)


class AccessSettings(Protocol):
    """The settings the access policy reads (satisfied by :class:`assistant.config.Settings`)."""

    @property
    def allowed_email_domains(self) -> list[str]: ...

    @property
    def allowed_emails(self) -> list[str]: ...

    @property
    def admin_emails(self) -> list[str]: ...


class DevLoginSettings(Protocol):
    """The settings the local dev login reads."""

    @property
    def env(self) -> str: ...

    @property
    def test_user_id(self) -> str: ...

    @property
    def test_user_email(self) -> str: ...

    @property
    def test_user_name(self) -> str: ...

    @property
    def admin_emails(self) -> list[str]: ...


def _lowered(values: list[str]) -> set[str]:
    return {v.strip().lower() for v in values if v and v.strip()}


def _domain_allowed(identity: Identity, domains: set[str]) -> bool:
    if identity.hosted_domain:
        return identity.hosted_domain in domains
    return identity.email.rsplit("@", 1)[-1] in domains


def check_access(identity: Identity, settings: AccessSettings) -> Identity:
    """Apply the allow-lists and assign the role.

    Args:
        identity: A verified identity (from :func:`assistant.auth.verify_id_token`).
        settings: Source of ALLOWED_EMAIL_DOMAINS, ALLOWED_EMAILS and ADMIN_EMAILS.

    Returns:
        The same identity with ``role`` set to ``"admin"`` or ``"user"``.

    Raises:
        AuthError: ``not_allowed`` with a polite message naming neither the lists nor
            any secret.
    """
    email = identity.email.strip(" ").lower()
    if has_control_chars(email) or any(char.isspace() for char in email):
        logger.warning("user_id=<%s> | sign-in refused: email with control characters or spaces", identity.user_id)
        raise AuthError("not_allowed", NOT_ALLOWED_MESSAGE)
    admins = _lowered(settings.admin_emails)
    emails = _lowered(settings.allowed_emails)
    domains = _lowered(settings.allowed_email_domains)

    role: Role
    if email in admins:
        role = "admin"
    elif (not emails and not domains) or email in emails or _domain_allowed(identity, domains):
        role = "user"
    else:
        logger.warning(
            "user_id=<%s>, hd=<%s> | sign-in refused by access policy", identity.user_id, identity.hosted_domain
        )
        raise AuthError("not_allowed", NOT_ALLOWED_MESSAGE)
    logger.info("user_id=<%s>, role=<%s> | sign-in accepted", identity.user_id, role)
    return replace(identity, email=email, name=clean_display_text(identity.name), role=role)


authorize_identity = check_access
"""Alias of :func:`check_access`."""


def identity_expired(identity: Identity, *, max_age_hours: float, now: float | None = None) -> bool:
    """Whether an identity is older than the configured lifetime and must sign in again.

    Args:
        identity: The signed-in identity.
        max_age_hours: IDENTITY_MAX_AGE_HOURS.
        now: Current epoch seconds (tests).

    Returns:
        True when the identity must be discarded. Dev identities follow the same rule.
    """
    current = time.time() if now is None else now
    return current - identity.issued_at > max_age_hours * 3600.0


def dev_identity(settings: DevLoginSettings, *, now: float | None = None) -> Identity:
    """The local dev login as TEST_USER_ID; impossible outside ENV=local.

    Args:
        settings: Settings with ``env`` and the TEST_USER_* values.
        now: Current epoch seconds (tests).

    Returns:
        An identity flagged ``is_dev``; admin when TEST_USER_EMAIL is in ADMIN_EMAILS.

    Raises:
        AuthError: ``dev_login_disabled`` when ENV is not ``local``.
    """
    if settings.env != "local":
        logger.error("env=<%s> | dev login refused outside local", settings.env)
        raise AuthError("dev_login_disabled", "The dev login is only available when ENV=local.")
    email = strip_control_chars(settings.test_user_email).strip().lower()
    return Identity(
        user_id=settings.test_user_id,
        email=email,
        name=clean_display_text(settings.test_user_name),
        role="admin" if email in _lowered(settings.admin_emails) else "user",
        issued_at=time.time() if now is None else now,
        is_dev=True,
    )
