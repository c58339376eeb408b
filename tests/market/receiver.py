"""A real local HTTP receiver for webhook tests, and the outbound policy that lets the server
reach it (loopback is refused by default)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from market.outbound import OutboundPolicy
from storage.catalog import Catalog
from storage.readings import ReadingStore

#: What an operator sets to deliver to a receiver on this machine.
LOCAL = OutboundPolicy.parse("127.0.0.0/8", allow_http=True)


class Receiver:
    """Answers ``status`` (500 for the first ``fail`` requests), keeps every request."""

    def __init__(self, fail: int = 0, status: int = 204, headers: dict[str, str] | None = None):
        self.fail, self.requests = fail, []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers), body))
                    n = len(receiver.requests)
                self.send_response(500 if n <= receiver.fail else status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def local_client(catalog: Catalog, store: ReadingStore) -> Iterator[TestClient]:
    """The app with :data:`LOCAL` as its outbound policy."""
    with TestClient(create_app(catalog, store, dispatch_interval_s=None, outbound=LOCAL)) as c:
        yield c


@pytest.fixture(name="client")
def local_app(catalog: Catalog, store: ReadingStore) -> Iterator[TestClient]:
    """The ``client`` fixture of webhook tests: import it to use :func:`local_client`."""
    yield from local_client(catalog, store)


@pytest.fixture(name="receiver")
def one_receiver() -> Iterator[Receiver]:
    """The ``receiver`` fixture: a :class:`Receiver` that always answers 204."""
    r = Receiver()
    yield r
    r.close()
