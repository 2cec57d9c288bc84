"""Start the dashboard: ``python -m ui.serve [streamlit run options]``.

Streamlit decides once per process whether the app uses the old ``pages/``
auto-discovery, before the first script run; with a folder named ``pages/``
beside ``dashboard.py`` it would answer the very first deep link on a fresh
server (``/perturbed-masking``) from that folder, with a "page not found"
dialog, before ``st.navigation`` in the router has run. The lab routes only
through ``dashboard.py``, so the flag is cleared before the server starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    PagesManager.uses_pages_directory = False
    return cli.main(["run", str(ROOT / "dashboard.py"), *argv], prog_name="streamlit", standalone_mode=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
