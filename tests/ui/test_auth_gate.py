"""The sign-in gate's log line for a refused code exchange (ui/auth_gate.py)."""

from __future__ import annotations

import httpx
import pytest
from httpx_oauth.oauth2 import GetAccessTokenError

from ui.auth_gate import token_error_fields


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        # a wrong GOOGLE_CLIENT_SECRET (or client id): Google answers 401 invalid_client
        (
            {"error": "invalid_client", "error_description": "Unauthorized"},
            401,
            "status=<401>, oauth_error=<invalid_client>, check=<GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET>",
        ),
        (
            {"error": "redirect_uri_mismatch"},
            400,
            "status=<400>, oauth_error=<redirect_uri_mismatch>, check=<OAUTH_REDIRECT_URI>",
        ),
        ({"error": "invalid_grant"}, 400, "status=<400>, oauth_error=<invalid_grant>"),
        ({"error": "a|forged>\nline"}, 400, "status=<400>, oauth_error=<a\\x7cforged\\x3e\\x0aline>"),
    ],
)
def test_a_refused_code_exchange_logs_the_providers_error_code_and_the_setting_to_check(
    body: dict[str, str], status: int, expected: str
) -> None:
    response = httpx.Response(status, json=body, request=httpx.Request("POST", "https://oauth2.example/token"))
    assert token_error_fields(GetAccessTokenError(str(body), response)) == expected


def test_an_exchange_that_never_got_an_answer_logs_its_type_only() -> None:
    assert token_error_fields(httpx.ConnectError("refused")) == "error=<ConnectError>"
    html = httpx.Response(502, text="<html>bad gateway</html>", request=httpx.Request("POST", "https://x/token"))
    assert token_error_fields(GetAccessTokenError("x", html)) == "status=<502>, oauth_error=<none>"
