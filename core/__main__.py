"""``python -m core ...``: the lab's analyses from the command line."""

import sys

from core.cli import main

sys.exit(main())
