"""``python -m ingest``: run ingest with the ``IDLESHARE_*`` settings until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading

from idleshare.errors import IdleshareError
from idleshare.settings import load_settings
from ingest import logs
from ingest.service import run


def main() -> None:
    logs.setup()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        done = run(load_settings(), stop)
    except IdleshareError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from err
    raise SystemExit(0 if done else 1)


if __name__ == "__main__":
    main()
