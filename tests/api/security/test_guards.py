"""The guards in front of the routes, tried as an abuser would: key guessing, floods,
oversized and deeply nested bodies, absurd query values, and the web page's headers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import RateLimits
from storage.catalog import Catalog
from tests.api.conftest import add_asset, add_live_offer, auth
from tests.stores import MemoryStore


@pytest.fixture
def guarded(catalog: Catalog, store: MemoryStore) -> Iterator[TestClient]:
    limits = RateLimits(failed_auth="5/minute", per_key="10/minute")
    app = create_app(catalog, store, dispatch_interval_s=None, rate_limits=limits,
                     max_body_bytes=4096)
    with TestClient(app) as c:
        yield c


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_key_guessing_is_stopped_with_429_and_retry_after(
    guarded: TestClient, catalog: Catalog
) -> None:
    lookups = 0
    real = catalog.authenticate

    def counting(key: str, at: float | None = None):  # type: ignore[no-untyped-def]
        nonlocal lookups
        lookups += 1
        return real(key, at)

    catalog.authenticate = counting  # type: ignore[method-assign]
    codes = [guarded.get("/v1/tenant", headers=_bearer(f"idl_guess{i}")).status_code
             for i in range(8)]
    assert codes == [401] * 5 + [429] * 3
    r = guarded.get("/v1/tenant", headers=_bearer("idl_guess-more"))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert lookups == 5  # refused guesses cost no database lookup


def test_a_key_over_its_request_limit_gets_429_with_retry_after(
    guarded: TestClient, catalog: Catalog
) -> None:
    h = auth(catalog, "acme")
    codes = [guarded.get("/v1/tenant", headers=h).status_code for _ in range(12)]
    assert codes == [200] * 10 + [429] * 2
    r = guarded.get("/v1/tenant", headers=h)
    assert int(r.headers["Retry-After"]) >= 1
    assert guarded.get("/v1/tenant", headers=auth(catalog, "acme")).status_code == 200


def test_an_expired_key_does_not_authenticate(client: TestClient, catalog: Catalog) -> None:
    row, key = catalog.mint_key("acme")
    assert client.get("/v1/tenant", headers=_bearer(key)).status_code == 200
    from storage.catalog import ApiKey

    with catalog.session() as s:
        s.get_one(ApiKey, row.id).expires_at = time.time() - 1
    assert client.get("/v1/tenant", headers=_bearer(key)).status_code == 401


def test_an_oversized_body_is_refused_with_413_before_it_is_parsed(
    guarded: TestClient, catalog: Catalog
) -> None:
    h = auth(catalog, "acme", "platform")
    big = {"url": "https://hooks.example/" + "a" * 10_000}
    assert guarded.post("/v1/webhooks", headers=h, json=big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"url": "https://hooks.example/'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    r = guarded.post("/v1/webhooks", headers=h | {"Content-Type": "application/json"},
                     content=chunks())
    assert r.status_code == 413


@pytest.mark.parametrize("depth", [100, 2000])
def test_deeply_nested_json_is_a_client_error(
    client: TestClient, catalog: Catalog, depth: int
) -> None:
    h = auth(catalog, "acme", "platform")
    body = '{"url": ' + "[" * depth + "]" * depth + "}"
    r = client.post("/v1/webhooks", headers=h | {"Content-Type": "application/json"},
                    content=body)
    assert 400 <= r.status_code < 500


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 10**12},
        {"limit": -1},
        {"lat": "nan", "lon": "0", "km": "10"},
        {"lat": "inf", "lon": "-inf", "km": "1e308"},
        {"lat": "0", "lon": "0", "km": "nan"},
        {"max_price": "nan"},
        {"min_quantity": "-inf"},
        {"start": "1e300", "end": "-1e300"},
        {"cursor": "not-a-cursor"},
        {"cursor": "A" * 5000},
        {"cursor": "eyJrIjogWzEsMiwzXX0"},  # base64 of a forged payload
        {"capability": "%"},
        {"sort": "id; DROP TABLE offers"},
    ],
)
def test_absurd_query_values_never_give_a_5xx_or_stall(
    client: TestClient, catalog: Catalog, params: dict[str, object]
) -> None:
    add_asset(catalog, "acme", "z1")
    add_live_offer(catalog, "acme", "z1", time.time() + 86400)
    h = auth(catalog, "market", "platform")
    for url in ("/v1/offers", "/v1/feeds/offers", "/v1/feeds/offer-changes"):
        started = time.monotonic()
        r = client.get(url, headers=h, params=params)
        assert r.status_code < 500, (url, r.text)
        assert time.monotonic() - started < 2


def test_the_web_page_allows_only_its_own_script_and_cannot_be_framed(
    client: TestClient,
) -> None:
    r = client.get("/")
    csp = dict(
        part.strip().split(" ", 1) for part in r.headers["Content-Security-Policy"].split(";")
    )
    # Script and style only as files from this server: no inline block, no 'unsafe-inline',
    # no hash that an injected copy could match, no other source.
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert "<script>" not in r.text and "<style>" not in r.text and " on" not in \
        r.text.split("<body", 1)[1].split(">", 1)[0]
    assert client.get("/static/dashboard.js").headers["content-type"].startswith(
        "text/javascript")
    assert csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/healthz").headers["X-Content-Type-Options"] == "nosniff"
