"""A platform's client of the idleshare API: search, a local copy of the offers kept by the
snapshot and change feed, bookings that a retry cannot make twice, webhook subscriptions.

Requests that are safe to repeat are retried on connection errors, 5xx and 429 with
exponential backoff; 4xx answers raise at once (:mod:`idleshare_client.errors`).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from idleshare_client.errors import Conflict, Unreachable, error_for
from idleshare_client.store import OfferStore
from idleshare_client.types import Booking, Offer, OfferChange, Webhook


def structured_string(value: str) -> str:
    """``value`` as an RFC 8941 String, the Idempotency-Key header's syntax."""
    if not value or not all(" " <= ch <= "~" for ch in value):
        raise ValueError("an idempotency key is 1 or more printable ASCII characters")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Client:
    """``Client("https://idleshare.example", key)``; close it, or use it in ``with``.

    ``retries`` repeats of a request after a connection error, 5xx or 429, waiting
    ``backoff_s`` doubled each time (at most ``max_backoff_s``, or the answer's Retry-After).
    ``transport`` and ``sleep`` are for tests (an ``httpx`` transport, a fake clock).
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout_s: float = 10.0,
        retries: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retries, self.backoff_s, self.max_backoff_s = retries, backoff_s, max_backoff_s
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport,
            headers={"Authorization": f"Bearer {key}", "User-Agent": "idleshare-client/0.1"},
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- offers ---------------------------------------------------------------------------

    def search(self, **params: Any) -> Iterator[Offer]:
        """Every offer ``GET /v1/offers`` finds with ``params`` (its query parameters:
        ``kind``, ``min_quantity``, ``lat``/``lon``/``km``, ``sort``, ...), page after page."""
        yield from self._pages("/v1/offers", params, Offer.from_json)

    def offer(self, offer_id: int) -> Offer:
        return Offer.from_json(self._call("GET", f"/v1/offers/{offer_id}"))

    def changes(self, after: int, limit: int = 500) -> tuple[list[OfferChange], int, bool]:
        """One page of the change feed after ``after``: (changes, the cursor to ask after
        next, whether more are waiting)."""
        page = self._call("GET", "/v1/feeds/offer-changes", params={"after": after, "limit": limit})
        items = [OfferChange.from_json(c) for c in page["items"]]
        return items, int(page["next_after"]), bool(page["more"])

    def follow_offers(
        self,
        store: OfferStore,
        *,
        page_size: int = 500,
        poll_s: float | None = None,
        stop: threading.Event | None = None,
        fresh: bool = False,
    ) -> int:
        """Bring ``store`` up to date: a snapshot first (or when ``fresh``: take one again
        after your tenant's group or partner relations changed), then the change feed from
        the store's cursor. Each page of changes is saved with its cursor in one go, so after
        a crash or a stop the next call resumes after the last saved change, missing none and
        applying none twice. Returns the cursor reached once caught up; with ``poll_s``, asks
        again every ``poll_s`` seconds instead, until ``stop`` is set (if given)."""
        if fresh or store.cursor() is None:
            self._snapshot_into(store, page_size)
        while True:
            after = store.cursor()
            assert after is not None  # the snapshot set it
            changes, next_after, more = self.changes(after, page_size)
            if changes:
                changed: dict[int, Offer | None] = {}
                for change in changes:  # in cursor order: the last change of an offer wins
                    changed[change.offer_id] = change.live_offer
                store.save(changed, next_after)
            if more:
                continue
            if poll_s is None or (stop is not None and stop.is_set()):
                return next_after
            if stop is None:
                time.sleep(poll_s)
            elif stop.wait(poll_s):
                return next_after

    def _snapshot_into(self, store: OfferStore, page_size: int) -> None:
        # The change-feed position of the FIRST page: changes during the paging are in the
        # feed after it, and replaying them over the snapshot is harmless.
        first = self._call("GET", "/v1/feeds/offers", params={"limit": page_size})
        offers = [Offer.from_json(o) for o in first["items"]]
        if first["next_cursor"] is not None:
            rest = {"limit": page_size, "cursor": first["next_cursor"]}
            offers += self._pages("/v1/feeds/offers", rest, Offer.from_json)
        store.replace(offers, int(first["cursor"]))

    # -- bookings -------------------------------------------------------------------------

    def book(
        self,
        offer_id: int,
        quantity: float,
        hold_s: float = 900.0,
        *,
        idempotency_key: str | None = None,
    ) -> Booking:
        """Hold ``quantity`` of an offer for ``hold_s`` seconds (confirm it before then).
        One Idempotency-Key (a new UUID unless given) goes with every attempt, so a retry
        after a lost answer gets the booking the first attempt made, never a second hold.
        Pass your own key to make a booking safe across restarts of your process too."""
        key = structured_string(idempotency_key or str(uuid.uuid4()))
        body = {"offer_id": offer_id, "quantity": quantity, "hold_s": hold_s}
        return Booking.from_json(
            self._call("POST", "/v1/bookings", json=body, headers={"Idempotency-Key": key})
        )

    def confirm(self, booking_id: int) -> Booking:
        """Turn a hold into a booking (:class:`Conflict` once it expired)."""
        return self._change_booking(booking_id, "confirm", "confirmed")

    def cancel(self, booking_id: int) -> Booking:
        return self._change_booking(booking_id, "cancel", "cancelled")

    def booking(self, booking_id: int) -> Booking:
        return Booking.from_json(self._call("GET", f"/v1/bookings/{booking_id}"))

    def _change_booking(self, booking_id: int, action: str, becomes: str) -> Booking:
        try:
            return Booking.from_json(self._call("POST", f"/v1/bookings/{booking_id}/{action}"))
        except Conflict:
            # A retry after a lost answer finds the change made: that is success.
            booking = self.booking(booking_id)
            if booking.status == becomes:
                return booking
            raise

    # -- webhooks -------------------------------------------------------------------------

    def subscribe(self, url: str, events: list[str] | None = None) -> Webhook:
        """Deliveries of future changes to ``url``; keep the answer's ``secret`` (shown once)
        for :func:`idleshare_client.verify_webhook`. Not retried: a repeat would subscribe
        twice."""
        body: dict[str, Any] = {"url": url} | ({"events": events} if events else {})
        return Webhook.from_json(self._call("POST", "/v1/webhooks", json=body, retry=False))

    def unsubscribe(self, webhook_id: int) -> None:
        self._call("DELETE", f"/v1/webhooks/{webhook_id}")

    # -- transport ------------------------------------------------------------------------

    def _pages(
        self, path: str, params: dict[str, Any], parse: Callable[[Any], Any]
    ) -> Iterator[Any]:
        params = dict(params)
        while True:
            page = self._call("GET", path, params=params)
            yield from (parse(item) for item in page["items"])
            if page.get("next_cursor") is None:
                return
            params["cursor"] = page["next_cursor"]

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        retry: bool = True,
    ) -> Any:
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(1, attempts + 1):
            try:
                r = self._http.request(method, path, params=params, json=json, headers=headers)
            except httpx.TransportError as err:
                if attempt == attempts:
                    raise Unreachable(f"{method} {path}: {err!r}") from err
                self._pause(attempt, None)
                continue
            retry_after = _retry_after(r)
            if (r.status_code >= 500 or r.status_code == 429) and attempt < attempts:
                self._pause(attempt, retry_after)
                continue
            if r.status_code >= 400:
                raise error_for(r.status_code, _detail(r), method, path, retry_after)
            return r.json() if r.content else None
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _pause(self, attempt: int, retry_after: float | None) -> None:
        backoff = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        # Jitter, so many clients failed by one outage do not come back at one instant.
        wait = retry_after if retry_after is not None else backoff * (0.5 + random.random() / 2)
        self._sleep(min(wait, self.max_backoff_s))


def _retry_after(r: httpx.Response) -> float | None:
    try:
        return float(r.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _detail(r: httpx.Response) -> Any:
    try:
        return r.json().get("detail", r.text)
    except ValueError:
        return r.text
