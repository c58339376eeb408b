"""``idleshare api --workers N`` (api/workers.py): connections spread over the processes,
and a worker that cannot start stops the server with an error instead of a restart loop."""

from __future__ import annotations

import socket
import time
from subprocess import Popen
from urllib.parse import urlsplit

import pytest

from shell import workers
from tests.api.conftest import ESTABLISHED, socket_inodes, tcp_sockets, worker_pids


def test_keep_alive_connections_spread_over_both_workers(two_workers: tuple[str, Popen]) -> None:
    base_url, server = two_workers
    port = urlsplit(base_url).port
    assert port is not None
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        time.sleep(0.5)  # let the workers accept
        established = tcp_sockets(port, ESTABLISHED)
        per_worker = [len(socket_inodes(pid) & established) for pid in worker_pids(server.pid)]
        assert sum(per_worker) == 32
        # The kernel hashes connections over the two sockets: a split worse than 26/6 has a
        # probability of about 1e-4 (one shared socket gave 29/3).
        assert min(per_worker) >= 6, per_worker
    finally:
        for c in conns:
            c.close()


def test_a_worker_that_cannot_bind_stops_the_server_with_an_error() -> None:
    with socket.socket() as taken:  # no SO_REUSEPORT: the workers cannot share this port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        began = time.monotonic()
        with pytest.raises(RuntimeError, match=f"port {port} taken"):
            workers.serve("127.0.0.1", port, 2, log_level="critical")
    assert time.monotonic() - began < workers.MIN_LIFETIME_S + 5
