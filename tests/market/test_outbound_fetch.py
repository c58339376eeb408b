"""OutboundPolicy.fetch: how analytics reads an owner's calendar feed — under the same rules
as webhooks (no private address unless allowed, no redirects), within a size limit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from market.outbound import OutboundPolicy, Refused
from tests.market.receiver import LOCAL

FEED = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n"


@pytest.fixture
def feeds() -> Iterator[str]:
    """A local server: /plans.ics the feed, /big.ics 3 MB, /moved a redirect, else 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, code, extra = {"/plans.ics": (FEED, 200, {}),
                                 "/big.ics": (b"x" * 3_000_000, 200, {}),
                                 "/moved": (b"", 302, {"Location": "/plans.ics"})
                                 }.get(self.path, (b"", 404, {}))
            self.send_response(code)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_allowed_feed_is_read_whole(feeds: str) -> None:
    assert LOCAL.fetch(feeds + "/plans.ics", 5.0, 1_000_000) == FEED


def test_a_private_address_is_refused_unless_the_operator_allows_it(feeds: str) -> None:
    with pytest.raises(Refused, match="private"):
        OutboundPolicy.parse("", allow_http=True).fetch(feeds + "/plans.ics", 5.0, 1_000_000)
    with pytest.raises(Refused, match="https"):
        OutboundPolicy.parse("127.0.0.0/8").fetch(feeds + "/plans.ics", 5.0, 1_000_000)


@pytest.mark.parametrize(("path", "why"), [("/big.ics", "larger than"), ("/moved", "HTTP 302"),
                                           ("/none.ics", "HTTP 404")])
def test_a_too_large_redirected_or_missing_feed_is_an_error(feeds: str, path: str,
                                                            why: str) -> None:
    with pytest.raises(RuntimeError, match=why):
        LOCAL.fetch(feeds + path, 5.0, 2_000_000)
