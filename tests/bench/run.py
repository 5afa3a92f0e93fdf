"""Run one bench script as a user would (``python bench/<script>``) and read its last line (JSON)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str, timeout: float = 300) -> dict[str, Any]:
    """Run ``bench/<script> args`` from the repository root; fail with its output if it fails.

    Returns:
        The JSON object the script printed on its last stdout line.
    """
    result = subprocess.run(
        [sys.executable, f"bench/{script}", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data
