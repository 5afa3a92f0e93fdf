"""Two Google identities (fake OIDC provider) on one real server: each sees only their own budget.

Alice uploads a budget on the My context page and saves it; Bob, signed in in another browser
context, still sees the demo data and never Alice's area; Alice's reload still shows hers.
Skipped until ``streamlit_app.py`` registers ``app_pages/context.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import shot
from tests.fixtures.fake_oidc import FakeOidcProvider, FakeUser
from tests.fixtures.streamlit_server import CHROMIUM, HAVE_BROWSER, ROOT, free_port, start_streamlit

pytestmark = pytest.mark.e2e

if not HAVE_BROWSER:
    pytest.skip(f"no chromium at {CHROMIUM} or playwright missing", allow_module_level=True)
if "app_pages/context.py" not in (ROOT / "streamlit_app.py").read_text():
    pytest.skip("streamlit_app.py does not register app_pages/context.py yet", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, FilePayload, Page  # noqa: E402

SIDEBAR = "section[data-testid='stSidebar']"
ALICE_CSV = (
    b"area,owner,plan,actual,forecast,notes\n"
    b'Alice Secret Area,Alice,"$1,000,000",400000,1100000,Only Alice may see this\n'
)


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider() as provider:
        provider.add_user(FakeUser(sub="alice-sub", email="alice@example.com", name="Alice A", hd="example.com"))
        provider.add_user(FakeUser(sub="bob-sub", email="bob@example.com", name="Bob B", hd="example.com"))
        yield provider


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    moto_server = pytest.importorskip("moto.server")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    ).create_bucket(Bucket="e2e-context")
    yield endpoint
    server.stop()


@pytest.fixture(scope="module")
def app_url(idp: FakeOidcProvider, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
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
        "SESSIONS_BUCKET_NAME": "e2e-context",
        "S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_REGION": "us-east-1",
    }
    server = start_streamlit(tmp_path_factory.mktemp("e2e-context"), env, port=port)
    try:
        yield server.url
    finally:
        server.stop()


def sign_in(browser: Browser, app_url: str, idp: FakeOidcProvider, sub: str) -> tuple[BrowserContext, Page]:
    """A new browser context signed in as ``sub`` through the fake provider, on the My context page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app_url + "/")
    page.get_by_text("Sign in with your Google work account").wait_for()
    idp.next_user = sub
    button = page.frame_locator("iframe[title*='authorize_button']").get_by_text("Continue with Google")
    with page.context.expect_page() as popup_info:
        button.click()
    popup_info.value.wait_for_event("close")
    page.get_by_text("Signed in as").wait_for()
    page.wait_for_function("() => document.cookie.includes('ea_sign_in=')", timeout=10_000)
    page.goto(app_url + "/context")
    page.get_by_text("My context", exact=True).first.wait_for()
    return context, page


def test_alices_budget_is_never_shown_to_bob(browser: Browser, app_url: str, idp: FakeOidcProvider) -> None:
    alice_ctx, alice = sign_in(browser, app_url, idp, "alice-sub")
    alice.get_by_text("Demo data").first.wait_for()
    upload: FilePayload = {"name": "budget.csv", "mimeType": "text/csv", "buffer": ALICE_CSV}
    alice.locator(".st-key-ctx-budget input[type='file']").set_input_files(files=upload)
    alice.get_by_text("budget.csv: 1 areas checked, no problems").wait_for()
    alice.get_by_role("button", name="Save budget").click()
    alice.get_by_text("Budget saved (1 areas)").first.wait_for()
    alice.get_by_text("Budget: yours, saved just now").first.wait_for()
    shot(alice, "context-alice-saved", full_page=True)

    bob_ctx, bob = sign_in(browser, app_url, idp, "bob-sub")
    bob.get_by_text("Demo data").first.wait_for()
    bob.get_by_text("Launch Platform v3").first.wait_for(state="attached")
    assert "bob@example.com" in bob.inner_text(SIDEBAR)
    bob.get_by_text("Needs attention:").wait_for()  # the table is a canvas; this line is text
    assert "Alice Secret Area" not in bob.inner_text("body")
    assert "$44M" in bob.inner_text("body")  # the demo budget's plan
    shot(bob, "context-bob-demo", full_page=True)

    alice.reload()
    alice.get_by_text("Budget: yours").first.wait_for()
    alice.get_by_text("Needs attention: Alice Secret Area (over budget)").wait_for()
    alice_ctx.close()
    bob_ctx.close()
