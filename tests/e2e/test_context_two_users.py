"""Two Google identities (fake OIDC provider) on one real server: each sees only their own budget.

Alice uploads a budget on the My context page and saves it; Bob, signed in in another browser
context, still sees the demo data and never Alice's area; Alice's reload still shows hers.
Skipped until ``streamlit_app.py`` registers ``app_pages/context.py``.
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

from playwright.sync_api import Browser, BrowserContext, FilePayload, Page  # noqa: E402

from tests.e2e import google_sign_in  # noqa: E402
from tests.e2e.google_sign_in import fake_provider, google_app, moto_bucket  # noqa: E402

SIDEBAR = "section[data-testid='stSidebar']"
ALICE_CSV = (
    b"area,owner,plan,actual,forecast,notes\n"
    b'Alice Secret Area,Alice,"$1,000,000",400000,1100000,Only Alice may see this\n'
)


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeOidcProvider]:
    with fake_provider("alice-sub", "bob-sub") as provider:
        yield provider


@pytest.fixture(scope="module")
def app_url(idp: FakeOidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with (
        moto_bucket("e2e-context") as endpoint,
        google_app(tmp_path_factory.mktemp("e2e-context"), idp, bucket="e2e-context", s3_endpoint=endpoint) as url,
    ):
        yield url


def sign_in(browser: Browser, app_url: str, idp: FakeOidcProvider, sub: str) -> tuple[BrowserContext, Page]:
    """A new browser context signed in as ``sub`` through the fake provider, on the My context page."""
    context, page = google_sign_in.sign_in(browser, app_url, idp, sub, viewport={"width": 1400, "height": 1000})
    page.goto(app_url + "/context")
    page.get_by_text("My context", exact=True).first.wait_for()
    return context, page


def test_alices_budget_is_never_shown_to_bob(browser: Browser, app_url: str, idp: FakeOidcProvider) -> None:
    alice_ctx, alice = sign_in(browser, app_url, idp, "alice-sub")
    alice.get_by_text("Demo data").first.wait_for()
    upload: FilePayload = {"name": "budget.csv", "mimeType": "text/csv", "buffer": ALICE_CSV}
    alice.locator(".st-key-ctx-budget input[type='file']").set_input_files(files=upload)
    alice.get_by_text("budget.csv: 1 area checked, no problems").wait_for()
    alice.get_by_role("button", name="Save budget").click()
    alice.get_by_text("Budget saved (1 area)").first.wait_for()
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
