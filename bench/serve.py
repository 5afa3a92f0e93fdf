"""Serve a Streamlit script for the benchmarks, optionally with the offline model's delays removed.

``python bench/serve.py [--zero-delay] SCRIPT [streamlit options...]`` runs ``streamlit run``
in this process (so the server's pid is this process's: its CPU and RSS are read from
/proc). ``--zero-delay`` sets the offline model's first-token and per-chunk pauses to 0 before
the app is imported (the app has no setting for them: they make the demo stream visibly),
which leaves the server's own work per send to measure.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path.pop(0)  # a bench script must not shadow a stdlib module inside the server


def main() -> None:
    """Patch the delays when asked, then hand over to ``streamlit run``."""
    args = sys.argv[1:]
    if args and args[0] == "--zero-delay":
        args = args[1:]
        sys.path.insert(0, str(ROOT))
        from assistant.models import registry

        registry.OFFLINE_CHUNK_DELAY_S = 0.0  # read when each model is built
        registry.OFFLINE_FIRST_TOKEN_DELAY_S = 0.0
    import calendar  # noqa: F401  the stdlib one, before `streamlit run bench/...` puts bench/ on sys.path

    from streamlit.web import cli

    sys.argv = ["streamlit", "run", *args]
    cli.main()


if __name__ == "__main__":
    main()
