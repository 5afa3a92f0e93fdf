"""bench/a11y_audit.py: without axe-core it says where to get it and changes nothing.

The whole audit needs axe-core (npm, not a dependency) and takes a minute; it is run by hand
(README, "Accessibility"). Here: its refusal of a missing file, as a user would meet it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.bench.run import ROOT


def test_the_audit_without_axe_core_names_how_to_get_it(tmp_path: Path) -> None:
    missing = tmp_path / "axe.min.js"
    result = subprocess.run(
        [sys.executable, "bench/a11y_audit.py", "--axe", str(missing)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"no file at {missing}" in result.stderr and "npm install" in result.stderr, result.stderr
    assert result.stdout == ""  # no server was started, nothing audited
