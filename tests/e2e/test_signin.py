"""End-to-end Google-style sign-in through the fake OIDC provider against a real streamlit server.

ENV=dev, so the dev login is impossible; the app gets its endpoints from the fake issuer's
discovery document, a real Chromium clicks "Continue with Google", the fake provider
auto-approves the preset user, and the app verifies the id token.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import shot
from tests.fixtures.fake_oidc import FakeOidcProvider
from tests.fixtures.streamlit_server import CHROMIUM, HAVE_BROWSER

pytestmark = pytest.mark.e2e

if not HAVE_BROWSER:
    pytest.skip(f"no chromium at {CHROMIUM} or playwright missing", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page  # noqa: E402

from tests.e2e import google_sign_in  # noqa: E402
from tests.e2e.google_sign_in import complete_sign_in, fake_provider, google_app, moto_bucket  # noqa: E402


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeOidcProvider]:
    with fake_provider("alice-sub", "bob-sub", "olga-sub", "eve-sub") as provider:
        yield provider


@pytest.fixture(scope="module")
def app_url(idp: FakeOidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with (
        moto_bucket("e2e-sessions") as endpoint,
        google_app(
            tmp_path_factory.mktemp("e2e-signin"),
            idp,
            bucket="e2e-sessions",
            s3_endpoint=endpoint,
            ADMIN_EMAILS="olga@example.com",
        ) as url,
    ):
        yield url


def sign_in(browser: Browser, app_url: str, idp: FakeOidcProvider, sub: str) -> tuple[BrowserContext, Page]:
    """Through the sign-in as ``sub``, without waiting to be let in (some of these are refused)."""
    return google_sign_in.sign_in(browser, app_url, idp, sub, signed_in=False)


def test_dev_login_banner_absent_and_sign_in_card_shown(browser: Browser, app_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_url + "/")
    page.get_by_text("Sign in with your Google work account").wait_for(timeout=30_000)
    assert "Local dev login" not in page.inner_text("body")
    context.close()


SIGN_IN_CARD = "Sign in with your Google work account"
INPUT = '[data-testid="stChatInputTextArea"]'
FOOTERS = '[class*="st-key-turn-footer-"]'
SIDEBAR = "section[data-testid='stSidebar']"


def test_sign_in_and_sign_out(browser: Browser, app_url: str, idp: FakeOidcProvider) -> None:
    context, page = sign_in(browser, app_url, idp, "alice-sub")
    page.get_by_text("Signed in as").wait_for(timeout=30_000)
    assert "alice@example.com" in page.inner_text(SIDEBAR)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text(SIGN_IN_CARD).wait_for(timeout=30_000)
    context.close()


def test_sign_in_is_remembered_across_reload_and_tabs_until_sign_out(
    browser: Browser, app_url: str, idp: FakeOidcProvider
) -> None:
    context, page = sign_in(browser, app_url, idp, "alice-sub")
    page.get_by_text("Signed in as").wait_for(timeout=30_000)
    page.wait_for_function("() => document.cookie.includes('ea_sign_in=')", timeout=10_000)
    page.wait_for_selector(INPUT, timeout=30_000)
    shot(page, "signin-just-signed-in")
    cookie = next(c for c in context.cookies() if c["name"] == "ea_sign_in")
    assert cookie["sameSite"] == "Lax"

    # A reload and a second tab are signed in without going back to Google.
    idp.next_user = None
    page.reload()
    page.get_by_text("Signed in as").wait_for(timeout=30_000)
    assert "alice@example.com" in page.inner_text(SIDEBAR)
    page.wait_for_selector(INPUT, timeout=30_000)
    shot(page, "signin-remembered-after-reload")
    second = context.new_page()
    second.goto(app_url + "/sessions")
    second.get_by_text("Signed in as").wait_for(timeout=30_000)

    # Sign out in the second tab: the first tab is signed out at its next interaction,
    # and a copy of the cookie no longer works anywhere.
    second.get_by_role("button", name="Sign out").click()
    second.get_by_text(SIGN_IN_CARD).wait_for(timeout=30_000)
    page.get_by_role("button", name="New session").click()
    page.get_by_text("You signed out in another tab").wait_for(timeout=30_000)
    shot(page, "signin-signed-out-elsewhere")
    assert "Signed in as" not in page.inner_text("body")

    thief = browser.new_context()
    thief.add_cookies([{**cookie}])
    stolen = thief.new_page()
    stolen.goto(app_url + "/")
    stolen.get_by_text(SIGN_IN_CARD).wait_for(timeout=30_000)
    assert "Signed in as" not in stolen.inner_text("body")
    thief.close()
    context.close()


def test_a_send_after_signing_out_in_another_tab_is_not_answered(
    browser: Browser, app_url: str, idp: FakeOidcProvider
) -> None:
    """A send into an open session reruns only the conversation, not the sign-in gate: it must
    still find the sign-in ended elsewhere and answer nothing."""
    context, page = sign_in(browser, app_url, idp, "bob-sub")
    page.get_by_text("Signed in as").wait_for(timeout=30_000)
    _chat(page, "What is the status of our big rocks?")
    page.get_by_text("This session: 1 answer").wait_for(timeout=30_000)
    second = context.new_page()
    second.goto(app_url + "/sessions")
    second.get_by_role("button", name="Sign out").click()
    second.get_by_text(SIGN_IN_CARD).wait_for(timeout=30_000)

    page.fill(INPUT, "How is our budget tracking?")
    page.press(INPUT, "Enter")
    page.get_by_text("You signed out in another tab").wait_for(timeout=30_000)
    assert "How is our budget tracking?" not in page.inner_text("body")
    assert page.locator(FOOTERS).count() == 0
    context.close()


def test_forged_sign_in_cookie_is_refused(browser: Browser, app_url: str, idp: FakeOidcProvider) -> None:
    import time

    import jwt

    from assistant.auth.remember import AUDIENCE, ISSUER, derive_key

    # Everything right (issuer, this deployment's audience, fresh times) except the key.
    now = int(time.time())
    aud = f"{AUDIENCE}:{app_url}/"
    claims = {"iss": ISSUER, "aud": aud, "sub": "alice-sub", "email": "alice@example.com", "name": "Alice"}
    claims |= {"auth_time": now, "iat": now, "exp": now + 3600, "jti": "forged"}
    forged = jwt.encode(claims, derive_key("a guessed secret"), algorithm="HS256")
    host = app_url.split("//", 1)[1].split(":", 1)[0]
    context = browser.new_context()
    context.add_cookies([{"name": "ea_sign_in", "value": forged, "domain": host, "path": "/"}])
    page = context.new_page()
    page.goto(app_url + "/")
    page.get_by_text(SIGN_IN_CARD).wait_for(timeout=30_000)
    assert "Signed in as" not in page.inner_text("body")
    # The refused cookie is removed from the browser.
    page.wait_for_function("() => !document.cookie.includes('ea_sign_in=')", timeout=10_000)
    context.close()

    # Control: the same claims signed with the deployment's real key do sign in, so the
    # refusal above came from the key alone. (Whoever holds the client secret can sign in
    # as anyone; it is a server secret, like the session store's credentials.)
    genuine = jwt.encode(claims | {"jti": "genuine"}, derive_key(idp.client_secret), algorithm="HS256")
    context = browser.new_context()
    context.add_cookies([{"name": "ea_sign_in", "value": genuine, "domain": host, "path": "/"}])
    page = context.new_page()
    page.goto(app_url + "/")
    page.get_by_text("Signed in as").wait_for(timeout=30_000)
    assert "alice@example.com" in page.inner_text(SIDEBAR)
    context.close()


def test_disallowed_domain_sees_polite_refusal(browser: Browser, app_url: str, idp: FakeOidcProvider) -> None:
    context, page = sign_in(browser, app_url, idp, "eve-sub")
    page.get_by_text("This account is not allowed to use the assistant").wait_for(timeout=30_000)
    body = page.inner_text("body")
    assert "example.com" not in body and idp.client_secret not in body
    assert "Signed in as" not in body
    context.close()


def test_identity_cannot_come_from_url(browser: Browser, app_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_url + "/?user_id=alice-sub&email=alice@example.com&code=forged&state=forged")
    page.get_by_text("Sign in with your Google work account").wait_for(timeout=30_000)
    assert "Signed in as" not in page.inner_text("body")
    context.close()


def _chat(page: Page, text: str) -> str:
    """Send a message in a fresh session, wait for the stored answer, return the session id."""
    page.wait_for_selector(INPUT, timeout=30_000)
    page.fill(INPUT, text)
    page.press(INPUT, "Enter")
    page.wait_for_function(
        "(sel) => document.querySelectorAll(sel).length === 1 && !document.querySelector('.st-key-live-answer')",
        arg=FOOTERS,
        timeout=30_000,
    )
    page.wait_for_function("() => new URLSearchParams(location.search).get('session')", timeout=10_000)
    return str(page.evaluate("() => new URLSearchParams(location.search).get('session')"))


def test_two_users_never_see_each_others_sessions(browser: Browser, app_url: str, idp: FakeOidcProvider) -> None:
    alice_ctx, alice = sign_in(browser, app_url, idp, "alice-sub")
    alice_session = _chat(alice, "Alice secret plan: prepare me for the Acme QBR")
    bob_ctx, bob = sign_in(browser, app_url, idp, "bob-sub")
    bob_session = _chat(bob, "Bob asks: what is my budget?")
    assert alice_session != bob_session

    # Bob's sidebar lists only his own session; Alice's title appears nowhere.
    sidebar = bob.inner_text("section[data-testid='stSidebar']")
    assert "Bob asks" in sidebar and "Alice secret plan" not in sidebar

    # Bob opens Alice's session URL (a new page load; his sign-in is remembered): "not found",
    # nothing of hers drawn.
    bob.goto(f"{app_url}/?session={alice_session}")
    bob.get_by_text("not found").first.wait_for(timeout=30_000)
    assert "Alice secret plan" not in bob.inner_text("body")

    # Bob's sessions page lists his session only.
    bob.get_by_role("link", name="Sessions & cost").click()
    bob.locator("td[role='gridcell']", has_text="Bob asks").first.wait_for(state="attached", timeout=30_000)
    assert bob.locator("td[role='gridcell']", has_text="Alice secret plan").count() == 0
    assert "Alice secret plan" not in bob.inner_text("body")
    bob_ctx.close()

    # Alice still sees her own session.
    alice.get_by_text("Alice secret plan").first.wait_for(timeout=30_000)
    alice_ctx.close()

    # The admin sees both users' sessions on the sessions page (read-only).
    olga_ctx, olga = sign_in(browser, app_url, idp, "olga-sub")
    olga.get_by_role("link", name="Sessions & cost").click()
    grid = "td[role='gridcell']"  # the table draws on a canvas; its accessible copy holds the text
    olga.locator(grid, has_text="Alice secret plan").first.wait_for(state="attached", timeout=30_000)
    olga.locator(grid, has_text="Bob asks").first.wait_for(state="attached", timeout=30_000)
    olga_ctx.close()


def test_session_link_opened_before_sign_in_lands_on_that_session(
    browser: Browser, app_url: str, idp: FakeOidcProvider
) -> None:
    context, page = sign_in(browser, app_url, idp, "alice-sub")
    sid = _chat(page, "Link test: prepare me for the Acme QBR")
    context.close()

    # A link to the chat page and one to the sessions page, opened in a browser that has not
    # signed in yet: after the sign-in card, each shows the session it named.
    for path, where in ((f"/?session={sid}", "chat"), (f"/sessions?session={sid}", "sessions")):
        fresh = browser.new_context()
        page = fresh.new_page()
        page.goto(app_url + path)
        page.get_by_text(SIGN_IN_CARD).wait_for(timeout=30_000)
        assert page.get_by_role("link", name="Sessions & cost").count() == 0  # no menu before sign-in
        complete_sign_in(page, idp, "alice-sub")
        page.get_by_text("Link test: prepare me for the Acme QBR").first.wait_for(timeout=30_000)
        assert sid in page.url, where
        if where == "sessions":
            page.get_by_role("button", name="Resume in chat").wait_for(timeout=30_000)
        fresh.close()
