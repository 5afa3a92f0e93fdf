"""Meeting fixtures (see tests/fixtures/meeting_data.py)."""

from tests.fixtures.meeting_data import agent, data_dir, db_path, deps, engine

__all__ = ["agent", "data_dir", "db_path", "deps", "engine"]
