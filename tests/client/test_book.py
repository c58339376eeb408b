"""Client.book against a real API: an answer lost after the server committed (dropped, or a
gateway's 502) is retried with the same Idempotency-Key and makes one booking; 4xx answers
raise at once, each as its own exception."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from idleshare_client import (
    Client,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServerError,
    Unreachable,
)
from storage.catalog import BookingRow
from tests.client.conftest import Api
from tests.servers import free_port


class Faulty(httpx.HTTPTransport):
    """Passes requests to the real API; the first ``failures`` posts to ``path`` are sent and
    answered by the server, then their answer is lost: ``mode`` "drop" (the connection
    breaks before the answer arrives) or "502" (a gateway in between fails). Keeps the
    Idempotency-Key of every post to ``path``."""

    def __init__(self, path: str = "/v1/bookings", failures: int = 1, mode: str = "drop"):
        super().__init__()
        self.path, self.failures, self.mode = path, failures, mode
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method != "POST" or request.url.path != self.path:
            return response
        self.keys.append(request.headers.get("Idempotency-Key"))
        response.read()  # the server has answered: its transaction is committed
        if len(self.keys) > self.failures:
            return response
        if self.mode == "drop":
            raise httpx.ReadError("connection reset before the answer", request=request)
        return httpx.Response(502, text="bad gateway", request=request)


def client(api: Api, transport: httpx.BaseTransport | None = None, key: str = "",
           retries: int = 4) -> Client:
    return Client(api.url, key or api.platform_key, transport=transport, retries=retries,
                  sleep=lambda _s: None)


def bookings(api: Api) -> list[BookingRow]:
    with api.catalog.session() as s:
        return list(s.scalars(select(BookingRow).order_by(BookingRow.id)))


@pytest.mark.parametrize("mode", ["drop", "502"])
def test_an_answer_lost_after_the_commit_is_retried_and_books_once(api: Api, mode: str) -> None:
    faulty = Faulty(failures=2, mode=mode)
    with client(api, faulty) as c:
        booking = c.book(api.offers[3], 15, hold_s=600)
    assert len(faulty.keys) == 3 and len(set(faulty.keys)) == 1 and faulty.keys[0]
    assert [(b.id, b.quantity) for b in bookings(api)] == [(booking.id, 15.0)]
    assert (booking.status, booking.offer_id, booking.tenant) == ("held", api.offers[3], "market")
    with client(api) as c:
        assert c.offer(api.offers[3]).available == 25.0


def test_each_logical_booking_has_its_own_key(api: Api) -> None:
    faulty = Faulty(failures=0)
    with client(api, faulty) as c:
        first, second = c.book(api.offers[0], 1), c.book(api.offers[0], 1)
    assert first.id != second.id and len(set(faulty.keys)) == 2


def test_a_key_of_ones_own_survives_a_restart_of_the_platform(api: Api) -> None:
    with client(api) as c:
        first = c.book(api.offers[0], 2, idempotency_key='order-77 "rush"')
    with client(api) as restarted:
        assert restarted.book(api.offers[0], 2, idempotency_key='order-77 "rush"') == first
        with pytest.raises(InvalidRequest, match="another request"):
            restarted.book(api.offers[0], 3, idempotency_key='order-77 "rush"')
    assert len(bookings(api)) == 1


def test_a_confirm_whose_answer_was_lost_is_confirmed(api: Api) -> None:
    with client(api) as c:
        held = c.book(api.offers[0], 1)
    faulty = Faulty(path=f"/v1/bookings/{held.id}/confirm")
    with client(api, faulty) as c:
        assert c.confirm(held.id).status == "confirmed"
        assert c.cancel(held.id).status == "cancelled"
        # A 409 that is no lost success still raises.
        with pytest.raises(Conflict, match="cancelled, not held"):
            c.confirm(held.id)
    assert len(faulty.keys) == 3  # the dropped confirm, its retry (409: done), the last one


def test_refusals_raise_at_once_as_their_kind(api: Api) -> None:
    faulty = Faulty(failures=0)
    with client(api, faulty) as c:
        with pytest.raises(Conflict, match="10 pallet available") as conflict:
            c.book(api.offers[0], 11)
        assert conflict.value.status == 409
        with pytest.raises(NotFound):
            c.book(10**9, 1)
        with pytest.raises(InvalidRequest, match="quantity"):
            c.book(api.offers[0], -1)
    assert len(faulty.keys) == 3  # no retries of a 4xx
    with client(api, key=api.owner_key) as owner, pytest.raises(Forbidden, match="platform"):
        owner.book(api.offers[0], 1)
    assert bookings(api) == []


def test_no_api_or_persisting_5xx_raises_after_the_retries(api: Api) -> None:
    with client(api, retries=2) as c:
        c._http.base_url = httpx.URL(f"http://127.0.0.1:{free_port()}")  # nobody listens
        with pytest.raises(Unreachable, match="POST /v1/bookings"):
            c.book(api.offers[0], 1)
    always = Faulty(failures=10, mode="502")
    with client(api, always, retries=2) as c, pytest.raises(ServerError) as err:
        c.book(api.offers[0], 1)
    assert err.value.status == 502 and len(always.keys) == 3 and len(set(always.keys)) == 1
    assert len(bookings(api)) == 1  # three attempts reached the server: one hold
