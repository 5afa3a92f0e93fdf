"""What the e2e tests that sign in with Google share: the fake provider's people, a bucket on a
moto server, the app started in ENV=dev against both, and the sign-in popup.

ENV=dev, so the dev login is impossible: the app gets its endpoints from the fake issuer's
discovery document, Chromium clicks "Continue with Google", the fake provider auto-approves
the user named by ``idp.next_user``, and the app verifies the id token.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from playwright.sync_api import Browser, BrowserContext, Page

from tests.fixtures.fake_oidc import FakeOidcProvider, FakeUser
from tests.fixtures.streamlit_server import free_port, start_streamlit

PEOPLE = {
    "alice-sub": FakeUser(sub="alice-sub", email="alice@example.com", name="Alice A", hd="example.com"),
    "bob-sub": FakeUser(sub="bob-sub", email="bob@example.com", name="Bob B", hd="example.com"),
    "olga-sub": FakeUser(sub="olga-sub", email="olga@example.com", name="Olga Admin", hd="example.com"),
    "eve-sub": FakeUser(sub="eve-sub", email="eve@evil.org", name="Eve", hd="evil.org"),
}


@contextmanager
def fake_provider(*subs: str) -> Iterator[FakeOidcProvider]:
    """The fake OIDC provider knowing ``subs`` (keys of :data:`PEOPLE`)."""
    with FakeOidcProvider() as provider:
        for sub in subs:
            provider.add_user(PEOPLE[sub])
        yield provider


@contextmanager
def moto_bucket(bucket: str) -> Iterator[str]:
    """A moto S3 server on loopback holding an empty ``bucket``; yields its endpoint."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        ).create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        server.stop()


@contextmanager
def google_app(
    workdir: Path, idp: FakeOidcProvider, *, bucket: str, s3_endpoint: str, **extra_env: str
) -> Iterator[str]:
    """The app (ENV=dev, sessions in ``bucket``) signing in through ``idp``; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    idp.redirect_uris = [url + "/"]
    env = {
        "ENV": "dev",
        "GOOGLE_CLIENT_ID": idp.client_id,
        "GOOGLE_CLIENT_SECRET": idp.client_secret,
        "OAUTH_ISSUER": idp.issuer,
        "OAUTH_REDIRECT_URI": url + "/",
        "ALLOWED_EMAIL_DOMAINS": "example.com",
        "SESSIONS_BUCKET_NAME": bucket,
        "S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_REGION": "us-east-1",
        **extra_env,
    }
    server = start_streamlit(workdir, env, port=port)
    try:
        yield server.url
    finally:
        server.stop()


def complete_sign_in(page: Page, idp: FakeOidcProvider, sub: str) -> None:
    """Complete the sign-in card shown on ``page`` as the fake provider's user ``sub``."""
    page.get_by_text("Sign in with your Google work account").wait_for(timeout=30_000)
    idp.next_user = sub
    button = page.frame_locator("iframe[title*='authorize_button']").get_by_text("Continue with Google")
    with page.context.expect_page(timeout=30_000) as popup_info:
        button.click(timeout=30_000)
    popup_info.value.wait_for_event("close", timeout=30_000)


def sign_in(
    browser: Browser, app_url: str, idp: FakeOidcProvider, sub: str, *, signed_in: bool = True, **context_args: Any
) -> tuple[BrowserContext, Page]:
    """A new browser context that went through the sign-in as ``sub``.

    With ``signed_in`` it also waits for "Signed in as" and the remembered sign-in cookie
    (leave it off for a user the app is meant to refuse).
    """
    context = browser.new_context(**context_args)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app_url + "/")
    complete_sign_in(page, idp, sub)
    if signed_in:
        page.get_by_text("Signed in as").wait_for()
        page.wait_for_function("() => document.cookie.includes('ea_sign_in=')", timeout=10_000)
    return context, page
