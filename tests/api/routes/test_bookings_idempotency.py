"""POST /v1/bookings with an Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): a
retry answers the first request's booking and never holds twice, per tenant, for a window;
requests racing with one key make one booking, through one process and two, on both engines."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from subprocess import Popen

import httpx
import pytest
from fastapi.testclient import TestClient

from market.bookings import IDEMPOTENCY_WINDOW_S, forget_lapsed_keys, hold_once
from market.caller import Caller
from storage.catalog import BookingRow, Catalog, OfferEventRow
from storage.catalog.models import BookingIdempotencyRow
from tests.api.conftest import add_asset, add_live_offer, auth

FUTURE = time.time() + 7 * 86400
KEY = '"8e03978e-40d5-43e8-bc93-6894a57f9324"'


@pytest.fixture
def offer(catalog: Catalog) -> int:
    add_asset(catalog, "acme", "z1")
    return add_live_offer(catalog, "acme", "z1", FUTURE, quantity=100.0)


def hold(client: TestClient | httpx.Client, h: dict[str, str], key: str | None, offer: int,
         qty: float, **kw: object) -> httpx.Response:
    headers = h if key is None else h | {"Idempotency-Key": key}
    return client.post("/v1/bookings", headers=headers,
                       json={"offer_id": offer, "quantity": qty, **kw})


def bookings_of(catalog: Catalog, offer: int) -> list[BookingRow]:
    with catalog.session() as s:
        return list(s.query(BookingRow).filter(BookingRow.offer_id == offer).all())


def booked_events(catalog: Catalog, offer: int) -> int:
    with catalog.session() as s:
        return s.query(OfferEventRow).filter(
            OfferEventRow.offer_id == offer, OfferEventRow.type == "booked").count()


def test_a_retry_with_the_same_key_and_body_answers_the_same_booking_and_holds_once(
    client: TestClient, catalog: Catalog, offer: int
) -> None:
    h = auth(catalog, "market", "platform")
    first = hold(client, h, KEY, offer, 30)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    # hold_s given or left to its default is the same request.
    again = hold(client, h, KEY, offer, 30, hold_s=900)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(bookings_of(catalog, offer)) == 1
    assert booked_events(catalog, offer) == 1
    assert client.get(f"/v1/offers/{offer}", headers=h).json()["available"] == 70.0
    # The booking as it is now: confirmed since, the replay says so.
    client.post(f"/v1/bookings/{first.json()['id']}/confirm", headers=h)
    assert hold(client, h, KEY, offer, 30).json()["status"] == "confirmed"


def test_the_same_key_with_another_body_is_a_422_naming_the_header(
    client: TestClient, catalog: Catalog, offer: int
) -> None:
    h = auth(catalog, "market", "platform")
    assert hold(client, h, KEY, offer, 30).status_code == 201
    for changed in ({"qty": 31}, {"qty": 30, "hold_s": 60}):
        qty = changed.pop("qty")
        r = hold(client, h, KEY, offer, qty, **changed)
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
        assert "another request" in r.json()["detail"][0]["msg"]
    assert len(bookings_of(catalog, offer)) == 1


def test_keys_are_per_tenant_another_tenant_reusing_a_key_gets_nothing_of_the_first(
    client: TestClient, catalog: Catalog, offer: int
) -> None:
    a = auth(catalog, "market", "platform")
    mine = hold(client, a, KEY, offer, 30).json()
    # An attacker replaying A's key and body makes a booking of its own, and learns nothing.
    mallory = auth(catalog, "mallory", "platform")
    theirs = hold(client, mallory, KEY, offer, 30)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["id"] != mine["id"] and theirs.json()["tenant"] == "mallory"
    assert client.get(f"/v1/bookings/{mine['id']}", headers=mallory).status_code == 404
    # A's key with another body is no 422 for another tenant: not even the key's use shows.
    eve = hold(client, auth(catalog, "eve", "platform"), KEY, offer, 5)
    assert eve.status_code == 201 and eve.json()["tenant"] == "eve"
    # A's key still answers A's booking, untouched.
    assert hold(client, a, KEY, offer, 30).json() == mine
    assert sorted(b.tenant_id for b in bookings_of(catalog, offer)) == ["eve", "mallory", "market"]


def test_another_key_of_the_same_tenant_shares_its_keys(
    client: TestClient, catalog: Catalog, offer: int
) -> None:
    first = hold(client, auth(catalog, "market", "platform"), KEY, offer, 30).json()
    again = hold(client, auth(catalog, "market", "platform"), KEY, offer, 30)
    assert again.json() == first and again.headers["Idempotent-Replayed"] == "true"


def test_a_refused_hold_remembers_nothing_so_its_key_is_tried_afresh(
    client: TestClient, catalog: Catalog, offer: int
) -> None:
    h = auth(catalog, "market", "platform")
    assert hold(client, h, KEY, offer, 101).status_code == 409
    assert hold(client, h, KEY, offer, 101).status_code == 409
    assert hold(client, h, KEY, offer, 40).status_code == 201  # no 422: nothing was kept
    with catalog.session() as s:
        assert s.query(BookingIdempotencyRow).count() == 1


def test_without_a_key_every_request_holds_again(
    client: TestClient, catalog: Catalog, offer: int
) -> None:
    h = auth(catalog, "market", "platform")
    ids = {hold(client, h, None, offer, 10).json()["id"] for _ in range(2)}
    assert len(ids) == 2


@pytest.mark.parametrize(
    "header,accepted",
    [('"abc"', True), ("abc", True), ('"with space and \\" quote"', True),
     ('""', False), ("with space", False), ('"unterminated', False), ("back\\slash", False),
     ('"' + "k" * 201 + '"', False)],
)
def test_the_key_is_a_structured_field_string_or_bare(
    client: TestClient, catalog: Catalog, offer: int, header: str, accepted: bool
) -> None:
    r = hold(client, auth(catalog, "market", "platform"), header, offer, 1)
    if accepted:
        assert r.status_code == 201, r.text
    else:
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


def test_quoted_and_bare_forms_are_one_key(
    client: TestClient, catalog: Catalog, offer: int
) -> None:
    h = auth(catalog, "market", "platform")
    assert hold(client, h, '"abc"', offer, 1).json() == hold(client, h, "abc", offer, 1).json()


def test_a_key_is_kept_for_the_window_then_forgotten(catalog: Catalog, offer: int) -> None:
    market = Caller(tenant_id="market", role="platform")
    now = time.time()
    first, replayed = hold_once(catalog, market, "k", offer, 10, 900, now)
    assert not replayed
    late = now + IDEMPOTENCY_WINDOW_S - 1
    again, replayed = hold_once(catalog, market, "k", offer, 10, 900, late)
    assert replayed and again.id == first.id
    # Past the window the key is new again, even before the purge ran.
    after = now + IDEMPOTENCY_WINDOW_S
    second, replayed = hold_once(catalog, market, "k", offer, 20, 900, after)
    assert not replayed and second.id != first.id
    hold_once(catalog, market, "other", offer, 1, 900, now)
    assert forget_lapsed_keys(catalog, after) == 1  # "other"'s; "k"'s row is the new one
    assert forget_lapsed_keys(catalog, after) == 0
    with catalog.session() as s:
        assert [(r.key, r.booking_id) for r in s.query(BookingIdempotencyRow)] == [
            ("k", second.id)
        ]


def race(catalog: Catalog, base_url: str, offer: int, requests: int = 12) -> list[httpx.Response]:
    """``requests`` holds with one key and body, released at once from as many threads."""
    h = auth(catalog, "market", "platform")
    start = threading.Barrier(requests)

    def attempt(_: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as c:
            c.get("/healthz")  # connected before the barrier, so the posts really overlap
            start.wait()
            return hold(c, h, KEY, offer, 7)

    with ThreadPoolExecutor(max_workers=requests) as pool:
        return list(pool.map(attempt, range(requests)))


def assert_one_booking(catalog: Catalog, offer: int, answers: list[httpx.Response]) -> None:
    assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == len(answers) - 1
    assert [b.quantity for b in bookings_of(catalog, offer)] == [7.0]
    assert booked_events(catalog, offer) == 1


def test_simultaneous_requests_with_one_key_make_one_booking(
    catalog: Catalog, live_server: str, offer: int
) -> None:
    assert_one_booking(catalog, offer, race(catalog, live_server, offer))


def test_simultaneous_requests_with_one_key_through_two_worker_processes_make_one_booking(
    catalog: Catalog, two_workers: tuple[str, Popen], offer: int
) -> None:
    base_url, _ = two_workers
    assert_one_booking(catalog, offer, race(catalog, base_url, offer))
