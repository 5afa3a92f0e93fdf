"""Fixtures for the auth tests: a fake OIDC provider on loopback, and fresh caches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.auth import clear_discovery_cache, clear_jwks_caches
from tests.fixtures.fake_oidc import FakeOidcProvider, FakeUser


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider() as provider:
        provider.add_user(FakeUser(sub="alice-sub", email="alice@example.com", name="Alice", hd="example.com"))
        provider.add_user(FakeUser(sub="bob-sub", email="bob@gmail.com", name="Bob"))
        yield provider


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    clear_jwks_caches()
    clear_discovery_cache()
    yield
    clear_jwks_caches()
    clear_discovery_cache()


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
