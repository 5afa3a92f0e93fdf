"""Shared fixtures. Keep this file small: put fixture code in tests/fixtures/ and import it here."""

from tests.fixtures.no_real_models import no_real_models

__all__ = ["no_real_models"]
