"""Shared fixtures, registered once here; fixture code lives in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.no_real_models",
    "tests.fixtures.db",
    "tests.fixtures.old_releases",
    "tests.fixtures.s3",
    "tests.fixtures.stores",
    "tests.fixtures.meeting_data",
    "tests.fixtures.fake_calendar_api",
    "tests.fixtures.fake_llm_servers",
    "tests.fixtures.order",
    "tests.fixtures.logging_state",
]
