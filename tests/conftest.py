"""Shared fixtures, registered once here; fixture code lives in tests/fixtures/."""

from tests.fixtures.no_real_models import no_real_models

pytest_plugins = ["tests.fixtures.db", "tests.fixtures.s3", "tests.fixtures.stores"]

__all__ = ["no_real_models"]
