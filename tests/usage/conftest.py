"""The seeded ledger (tests/usage/seeded_ledger.py) on a SQLite file and a fresh Postgres schema."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.usage.seeded_ledger import seed


@pytest.fixture
def ledger(query_engine: Engine) -> Engine:
    """The ledger of :mod:`tests.usage.seeded_ledger` on each backend (``query_engine``)."""
    return seed(query_engine)
