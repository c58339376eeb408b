"""``python -m shell ...``: the ``idleshare`` command, for a checkout without the entry point."""

import sys

from shell.cli import main

sys.exit(main())
