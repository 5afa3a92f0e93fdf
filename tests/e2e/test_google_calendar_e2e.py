"""Calendars per Google identity, and Google Calendar itself, in a real Chromium (ENV=dev).

One real server signed in through the fake OIDC provider (tests/fixtures/fake_oidc.py), its
Google endpoints pointed at the fake Calendar API (tests/fixtures/fake_calendar_api.py):

* Alice uploads her calendar; Bob, in another browser, sees the demo calendar on My context
  and on the Prep queue and none of Alice's meetings; Alice's reload still shows hers.
* Bob connects Google Calendar (the consent page auto-approves and sends the tab back to the
  app), sees his Google meetings labelled "Google Calendar (bob@…)" (declined and cancelled
  events left out); his grant is revoked at Google and Refresh shows "Reconnect" with the
  last copy still listed, not an error; Disconnect brings the demo back. Alice never sees
  Bob's Google meetings.

Screenshots go to tests/e2e/artifacts/ (``gcal-*.png``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from assistant.dates import short_day
from tests.e2e.conftest import shot
from tests.fixtures.fake_calendar_api import SAMPLE_WEEK, FakeGoogleCalendar, sample_events, shift_events
from tests.fixtures.fake_oidc import FakeOidcProvider
from tests.fixtures.streamlit_server import CHROMIUM, HAVE_BROWSER

pytestmark = pytest.mark.e2e

if not HAVE_BROWSER:
    pytest.skip(f"no chromium at {CHROMIUM} or playwright missing", allow_module_level=True)

from cryptography.fernet import Fernet  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402

from tests.e2e import google_sign_in  # noqa: E402
from tests.e2e.google_sign_in import fake_provider, google_app, moto_bucket  # noqa: E402
from tests.e2e.test_calendar_e2e import (  # noqa: E402
    DEMO_TITLE,
    FILE_NAME,
    HOSTILE,
    ONE_ON_ONE,
    PANEL,
    QUEUE,
    SERIES,
    evil_images,
    idle,
    source_header,
    table_rows,
    upload,
    work_calendar,
)

SIDEBAR = "section[data-testid='stSidebar']"
GOOGLE_SEEN = ["Weekly staff", "Acme renewal call", "Leadership offsite", "Tokyo sync", "Board prep"]
GOOGLE_LEFT_OUT = ["Vendor pitch", "Cancelled lunch"]  # declined by Bob; cancelled


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeOidcProvider]:
    with fake_provider("alice-sub", "bob-sub") as provider:
        yield provider


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleCalendar]:
    """Bob's Google Calendar: the fake's sample fortnight, moved to start tomorrow."""
    with FakeGoogleCalendar() as fake:
        fake.account_email = "bob@example.com"
        tomorrow = datetime.now(UTC).date() + timedelta(days=1)
        fake.set_events(shift_events(sample_events("bob@example.com"), (tomorrow - SAMPLE_WEEK.date()).days))
        yield fake


@pytest.fixture(scope="module")
def app_url(
    idp: FakeOidcProvider, google: FakeGoogleCalendar, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with (
        moto_bucket("e2e-gcal") as endpoint,
        google_app(
            tmp_path_factory.mktemp("e2e-gcal"),
            idp,
            bucket="e2e-gcal",
            s3_endpoint=endpoint,
            **google.env(),  # Google's OAuth and Calendar endpoints; OAUTHLIB_INSECURE_TRANSPORT=1
            CALENDAR_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        ) as url,
    ):
        yield url


def sign_in(browser: Browser, app_url: str, idp: FakeOidcProvider, sub: str) -> tuple[BrowserContext, Page]:
    """A new browser (New York time) signed in as ``sub`` through the fake provider, on My context."""
    context, page = google_sign_in.sign_in(
        browser, app_url, idp, sub, viewport={"width": 1400, "height": 1000}, timezone_id="America/New_York"
    )
    open_context(page, app_url)
    return context, page


def open_context(page: Page, app_url: str) -> None:
    page.goto(app_url + "/context")
    page.locator(PANEL).wait_for()
    idle(page)


def queue_text(page: Page, app_url: str) -> str:
    page.goto(app_url + "/")
    page.locator(QUEUE).wait_for()
    idle(page)
    return str(page.locator(QUEUE).inner_text())


def open_google_tab(page: Page) -> None:
    """Open "Connect your calendar" (collapsed once a calendar is connected) and its Google tab."""
    tab = page.get_by_role("tab", name="Google Calendar")
    if not tab.is_visible():
        page.locator('[data-testid="stExpander"] summary', has_text="Connect your calendar").click()
    tab.click()


def upload_until_shown(page: Page, data: bytes) -> None:
    """Upload Alice's file and wait for it to be her source.

    Signed in a moment ago, the page may still rerun once (the browser's zone arriving, the
    sign-in cookie written) and replace the uploader under a file chosen in that instant; this
    test is about who sees what, so such an upload is chosen again (uploading itself is proven
    by tests/e2e/test_calendar_e2e.py).
    """
    source = page.locator(".st-key-cal-source", has_text=FILE_NAME)
    for attempt in range(2):
        idle(page)
        upload(page, FILE_NAME, data)
        try:
            source.wait_for(timeout=15_000 if attempt == 0 else 30_000)
            break
        except PlaywrightTimeoutError:
            if attempt:
                raise
    idle(page)


def meeting_titles(page: Page) -> list[str]:
    return [row["Meeting"].rstrip(" ↻") for row in table_rows(page)]


def test_alices_calendar_is_never_shown_to_bob(browser: Browser, app_url: str, idp: FakeOidcProvider) -> None:
    alice_ctx, alice = sign_in(browser, app_url, idp, "alice-sub")
    alice.locator(PANEL).get_by_text("Demo data").wait_for()
    upload_until_shown(alice, work_calendar(datetime.now(UTC)).data)
    assert {SERIES, HOSTILE, ONE_ON_ONE} <= set(meeting_titles(alice))
    alice_queue = queue_text(alice, app_url)
    assert FILE_NAME in alice_queue and HOSTILE in alice_queue, alice_queue
    shot(alice, "gcal-01-alice-queue")

    bob_ctx, bob = sign_in(browser, app_url, idp, "bob-sub")
    assert "bob@example.com" in bob.inner_text(SIDEBAR)
    bob.locator(PANEL).get_by_text("Demo data").wait_for()
    titles = meeting_titles(bob)
    assert DEMO_TITLE in titles and not {SERIES, HOSTILE, ONE_ON_ONE} & set(titles), titles
    assert FILE_NAME not in bob.inner_text("body")
    shot(bob, "gcal-02-bob-demo-context")
    bob_queue = queue_text(bob, app_url)
    assert "Demo calendar" in bob_queue and DEMO_TITLE in bob_queue, bob_queue
    for secret in (FILE_NAME, SERIES, HOSTILE, ONE_ON_ONE):
        assert secret not in bob.inner_text("body"), secret
    shot(bob, "gcal-03-bob-demo-queue")

    open_context(alice, app_url)
    alice.locator(".st-key-cal-source", has_text=FILE_NAME).wait_for()
    assert HOSTILE in meeting_titles(alice)
    assert evil_images(alice) == []
    alice_ctx.close()
    bob_ctx.close()


def test_google_connect_revoke_reconnect_disconnect(
    browser: Browser, app_url: str, idp: FakeOidcProvider, google: FakeGoogleCalendar
) -> None:
    context, page = sign_in(browser, app_url, idp, "bob-sub")
    page.locator(PANEL).get_by_text("Demo data").wait_for()
    open_google_tab(page)
    page.get_by_role("button", name="Connect Google Calendar").click()
    # The tab goes to the (auto-approving) consent page and comes back to the app's root.
    page.wait_for_url(lambda url: "code=" not in url and "/context" in url, timeout=30_000)
    page.locator(".st-key-cal-source", has_text="Google Calendar (bob@example.com)").wait_for()
    idle(page)
    assert any(r.path.endswith("/auth") for r in google.requests), "the consent page was never visited"
    # The success notice is drawn in the Google tab of the (now collapsed) "Connect your calendar" expander.
    page.get_by_text("Connected Google Calendar (bob@example.com)").first.wait_for(state="attached")
    titles = meeting_titles(page)
    for title in GOOGLE_SEEN:
        assert title in titles, (title, titles)
    for title in [*GOOGLE_LEFT_OUT, DEMO_TITLE]:
        assert title not in titles, (title, titles)
    offsite = date(2030, 6, 5) + (datetime.now(UTC).date() + timedelta(days=1) - SAMPLE_WEEK.date())
    assert [r["When"] for r in table_rows(page) if r["Meeting"] == "Leadership offsite"] == [
        f"{short_day(offsite)} · all day"
    ]
    assert "updated" in source_header(page)
    shot(page, "gcal-04-connected")
    queue = queue_text(page, app_url).replace("\u200b", "")  # an address is split by a zero-width space: no link
    assert "Google Calendar (bob@example.com)" in queue and "Demo calendar" not in queue, queue
    shot(page, "gcal-05-google-queue")

    # Google revokes the grant: Refresh shows "Reconnect", and the last copy stays listed.
    for token in list(google._grants):  # every grant the fake issued, revoked at "Google"
        google.revoke_token(token)
    open_context(page, app_url)
    page.locator(".st-key-cal-refresh button").click()
    warning = page.locator('[data-testid="stAlertContentWarning"]', has_text="revoked or expired").first
    warning.wait_for()
    idle(page)
    assert "Traceback" not in page.inner_text("body")
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    shot(page, "gcal-06-revoked-warning")
    open_google_tab(page)  # Reconnect is in the collapsed "Connect your calendar" section
    page.get_by_role("button", name="Reconnect Google Calendar").wait_for()
    titles = meeting_titles(page)
    assert {"Weekly staff", "Acme renewal call"} <= set(titles), titles
    shot(page, "gcal-07-reconnect")

    # Disconnect: the demo calendar again.
    page.get_by_role("button", name="Disconnect Google Calendar").click()
    page.get_by_text("Google Calendar disconnected").first.wait_for()
    page.locator(PANEL).get_by_text("Demo data").wait_for()
    idle(page)
    assert DEMO_TITLE in meeting_titles(page)
    shot(page, "gcal-08-disconnected")
    context.close()
