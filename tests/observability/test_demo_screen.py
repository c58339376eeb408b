"""``idleshare demo``'s first screen: the URL and keys, not Alembic's migration steps."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.observability.helpers import REPO
from tests.servers import free_port

SCREEN_LINES = 24


def test_the_first_screen_shows_the_url_and_keys_and_no_alembic_lines() -> None:
    port = free_port()
    # As a terminal shows it: stdout and stderr (the log) on one screen.
    demo = subprocess.Popen([sys.executable, "-m", "shell.cli", "demo", "--port", str(port),
                             "--assets", "6"], cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    screen: list[str] = []
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 120
        while not any("platform key" in line for line in screen):
            assert time.monotonic() < deadline, screen
            line = demo.stdout.readline()
            assert line, f"the demo stopped: {screen}"
            screen.append(line)
        time.sleep(3)  # a few seconds running: what follows the keys is on screen too
    finally:
        demo.terminate()
        rest, _ = demo.communicate(timeout=60)
    screen += rest.splitlines()
    first = screen[:SCREEN_LINES]

    assert not [line for line in first if "alembic" in line], first
    assert any(f"Open http://127.0.0.1:{port}/" in line for line in first), first
    assert any(line.startswith("API key: idl_") for line in first), first
