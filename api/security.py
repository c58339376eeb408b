"""The API's guards in front of the routes: request bodies bounded before they are parsed,
protective response headers, and rate limits for key guessing and per-key floods.

Rate limits use the ``limits`` library: in memory by default (one process), or shared by
every API process and host through its Redis storage
(``IDLESHARE_RATE_LIMIT_STORAGE=redis://host:6379``).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Headers every answer carries: no MIME sniffing, no framing, no referrer to elsewhere.
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class GuardMiddleware:
    """Pure ASGI (no buffering of answers): refuses a body over ``max_body_bytes`` with 413,
    by its Content-Length before reading anything, or once the bytes read pass the bound,
    and adds :data:`SECURITY_HEADERS` to every answer."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = False

        async def send_with_headers(message: Message) -> None:
            if refused:
                return  # the 413 went out; the app's late answer is dropped
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await self._refuse(send_with_headers)
            return
        seen = 0

        async def bounded_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    # Answer now and tell the app the client left: it stops reading, and
                    # nothing it parsed so far is acted on.
                    await self._refuse(send_with_headers)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, bounded_receive, send_with_headers)

    async def _refuse(self, send: Send) -> None:
        body = b'{"detail":"request body too large"}'
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        ]})
        await send({"type": "http.response.body", "body": body})


@dataclass
class RateLimits:
    """``failed_auth``: unknown keys per client address (a key-guessing run is stopped
    without a database lookup once over it); ``per_key``: requests per key."""

    failed_auth: str = "20/minute"
    per_key: str = "1000/second"  # far above any honest client; a flood's ceiling
    storage_uri: str = "memory://"
    _storage: Storage = field(init=False, repr=False)
    _limiter: MovingWindowRateLimiter = field(init=False, repr=False)
    _counter: FixedWindowRateLimiter = field(init=False, repr=False)
    _failed: RateLimitItem = field(init=False, repr=False)
    _key: RateLimitItem = field(init=False, repr=False)

    _local: _LocalWindows | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        if self.storage_uri.startswith("memory://"):
            # One process: counted here. The limits library's memory storage starts a timer
            # thread to expire counters, about every other request (a tenth of a search).
            self._local = _LocalWindows(parse(self.failed_auth), parse(self.per_key))
        self._storage = cast(Storage, storage_from_string(self.storage_uri))
        # Moving window for the small failed-auth budget (no burst at a window's edge);
        # fixed window for the per-key counter on every request (one increment).
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._counter = FixedWindowRateLimiter(self._storage)
        self._failed, self._key = parse(self.failed_auth), parse(self.per_key)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> RateLimits:
        """The limits the ``IDLESHARE_RATE_LIMIT_*`` settings (shell.settings) describe."""
        return cls(
            failed_auth=env.get("IDLESHARE_RATE_LIMIT_FAILED_AUTH", "") or cls.failed_auth,
            per_key=env.get("IDLESHARE_RATE_LIMIT_PER_KEY", "") or cls.per_key,
            storage_uri=env.get("IDLESHARE_RATE_LIMIT_STORAGE", "") or cls.storage_uri,
        )

    def _retry_after(
        self, limiter: MovingWindowRateLimiter | FixedWindowRateLimiter, item: RateLimitItem,
        *ids: str,
    ) -> int:
        reset = limiter.get_window_stats(item, *ids).reset_time
        return max(1, math.ceil(reset - time.time()))

    def address_blocked(self, address: str) -> int | None:
        """Seconds to wait when ``address`` is over its failed-authentication limit."""
        if self._local is not None:
            return self._local.address_blocked(address)
        if self._limiter.test(self._failed, "auth-failed", address):
            return None
        return self._retry_after(self._limiter, self._failed, "auth-failed", address)

    def failed(self, address: str) -> None:
        if self._local is not None:
            self._local.failed(address)
            return
        self._limiter.hit(self._failed, "auth-failed", address)

    def key_over(self, key_id: int) -> int | None:
        """Counts a request of key ``key_id``; seconds to wait when it is over its limit."""
        if self._local is not None:
            return self._local.key_over(key_id)
        if self._counter.hit(self._key, "key", str(key_id)):
            return None
        return self._retry_after(self._counter, self._key, "key", str(key_id))


class _LocalWindows:
    """The same two limits as :class:`RateLimits` applies through ``limits`` (a moving window
    of failed authentications per address, a fixed window of requests per key, starting at
    its first request), counted in this process's memory."""

    _MAX_ENTRIES = 100_000  # a flood of distinct addresses or keys cannot grow memory forever

    def __init__(self, failed: RateLimitItem, per_key: RateLimitItem) -> None:
        self._failed_n, self._failed_s = failed.amount, failed.get_expiry()
        self._key_n, self._key_s = per_key.amount, per_key.get_expiry()
        self._failures: dict[str, deque[float]] = {}
        self._windows: dict[int, list[float]] = {}  # key id -> [window end, count]
        self._lock = threading.Lock()

    def address_blocked(self, address: str) -> int | None:
        times = self._failures.get(address)
        if not times:
            return None
        now = time.time()
        with self._lock:
            while times and times[0] <= now - self._failed_s:
                times.popleft()
            if len(times) < self._failed_n:
                return None
            return max(1, math.ceil(times[0] + self._failed_s - now))

    def failed(self, address: str) -> None:
        with self._lock:
            if len(self._failures) > self._MAX_ENTRIES:
                self._failures.clear()
            times = self._failures.setdefault(address, deque())
            times.append(time.time())
            while len(times) > self._failed_n:
                times.popleft()

    def key_over(self, key_id: int) -> int | None:
        now = time.time()
        with self._lock:
            window = self._windows.get(key_id)
            if window is None or window[0] <= now:
                if len(self._windows) > self._MAX_ENTRIES:
                    self._windows.clear()
                window = self._windows[key_id] = [now + self._key_s, 0]
            window[1] += 1
            if window[1] <= self._key_n:
                return None
            return max(1, math.ceil(window[0] - now))
