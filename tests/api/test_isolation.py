"""Tenant isolation, generated from the application's route table.

Every route of the app is exercised with tenant A's keys (each role) aimed at tenant B's
resources: B's data never shows in the answer and B's rows never change. A route the table
cannot exercise (unknown path parameter, body without a sample) or does not list as public
fails the test, so a new route is covered the day it is added.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import or_, select

from api.main import create_app
from storage import catalog as cat
from storage.catalog import Catalog
from tests.api.conftest import add_asset, add_live_offer, add_window, auth
from tests.market.receiver import LOCAL
from tests.stores import MemoryStore

A, B, C = "acme", "globex", "initech"
#: Routes anyone may call without a key.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/"),
    ("GET", "/app"),  # the fleet and asset pages and their files: no data without a key
    ("GET", "/static/{name:path}"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("HEAD", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("HEAD", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("HEAD", "/redoc"),
    ("HEAD", "/openapi.json"),
}
#: Strings only tenant B's data contains.
MARKERS = ("B-SECRET-NAME", "b-secret-hook", "b-secret-key", "b-secret-partner",
           "b-secret-agent")
#: Bodies for routes that take one, aimed at B's resources where they name any.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/assets"): {
        "id": "a-new",
        "kind": "warehouse_zone",
        "capacity": 10,
        "unit": "pallet",
    },
    ("PATCH", "/v1/assets/{asset_id}"): {"name": "hijacked"},
    ("PUT", "/v1/assets/{asset_id}/policy"): {"visibility": "public"},
    ("PUT", "/v1/assets/{asset_id}/material"): {"code": "03 01 05", "description": "sawdust"},
    ("POST", "/v1/keys"): {"role": "owner"},
    ("POST", "/v1/keys/{key_id}/rotate"): {"grace_s": 0},
    ("POST", "/v1/bookings"): {"offer_id": "{offer_id}", "quantity": 1},
    ("POST", "/v1/webhooks"): {"url": "http://127.0.0.1:9/a"},
    ("POST", "/v1/sites"): {"id": "b-site"},  # the same id as B's: still A's own new site
    ("PATCH", "/v1/sites/{site_id}"): {"name": "hijacked"},
    ("POST", "/v1/alert-rules"): {"kind": "offline", "asset": "b-asset", "minutes": 1},
}
_app = create_app(Catalog("sqlite://"), MemoryStore(), dispatch_interval_s=None)


def route_table(app: Any) -> dict[tuple[str, str], Any]:
    """(method, path) -> route, flattening included routers (FastAPI >= 0.16x keeps them as
    lazy ``_IncludedRouter`` entries whose effective routes carry the full path)."""
    table: dict[tuple[str, str], Any] = {}
    for r in app.routes:
        routes = r.effective_route_contexts() if hasattr(r, "effective_route_contexts") else [r]
        for route in routes:
            for m in getattr(route, "methods", None) or ():
                if m != "HEAD":
                    table[(m, route.path)] = route
    return table


TABLE = route_table(_app)
ROUTES = sorted(TABLE)
assert len(ROUTES) > 25, "the route table looks empty: has FastAPI changed how it lists routes?"


B_RESOURCES = (
    "asset_id", "offer_id", "booking_id", "webhook_id", "key_id", "partner_id", "site_id",
    "rule_id",
)


def b_world(catalog: Catalog) -> dict[str, Any]:
    """Tenant B with one of everything, none of it visible to A."""
    add_asset(catalog, B, "b-asset")
    with catalog.session() as s:
        asset = s.get(cat.AssetRow, (B, "b-asset"))
        asset.name, asset.agent = "B-SECRET-NAME", "b-secret-agent"
    # The agent's outbox counts, which GET /v1/assets/{id}/status shows B's owner only.
    catalog.record_agent_status(B, "b-secret-agent", True, time.time(), (7, 3))
    add_window(catalog, B, "b-asset", 1714521600.0, 1714525200.0)
    offer = add_live_offer(catalog, B, "b-asset", time.time() + 86400, visibility="private")
    add_asset(catalog, C, "c-asset")
    c_offer = add_live_offer(catalog, C, "c-asset", time.time() + 86400)
    b_platform = auth(catalog, B, "platform")
    # LOCAL: B's webhook points at this machine, which the default policy refuses.
    client = TestClient(create_app(catalog, MemoryStore(), dispatch_interval_s=None,
                                   outbound=LOCAL))
    booking = client.post(
        "/v1/bookings", headers=b_platform, json={"offer_id": c_offer, "quantity": 1}
    ).json()["id"]
    hook = client.post(
        "/v1/webhooks", headers=b_platform, json={"url": "http://127.0.0.1:9/b-secret-hook"}
    ).json()["id"]
    catalog.create_key(B, role="viewer", name="b-secret-key")
    b_owner = auth(catalog, B)
    client.post("/v1/sites", headers=b_owner, json={"id": "b-site", "name": "B-SECRET-NAME"})
    client.put("/v1/sites/b-site/assets/b-asset", headers=b_owner)
    rule = client.post("/v1/alert-rules", headers=b_owner,
                       json={"kind": "offline", "asset": "b-asset", "minutes": 1}).json()["id"]
    client.put("/v1/tenant/partners/b-secret-partner", headers=auth(catalog, B))
    with catalog.session() as s:
        key = s.scalar(select(cat.ApiKey.id).where(cat.ApiKey.name == "b-secret-key"))
    return {
        "asset_id": "b-asset",
        "offer_id": offer,
        "booking_id": booking,
        "webhook_id": hook,
        "key_id": key,
        "partner_id": B,
        "site_id": "b-site",
        "rule_id": rule,
    }


def test_b_world_has_an_audit_log_that_would_show_as_a_leak(
    client: TestClient, catalog: Catalog
) -> None:
    # So the route-table test below proves GET /v1/audit shows A none of B's entries.
    assert ("GET", "/v1/audit") in ROUTES
    b_world(catalog)
    entries = client.get("/v1/audit", headers=auth(catalog, B)).json()["items"]
    assert "b-secret-partner" in leaks(entries)


def test_b_world_has_an_agent_status_that_would_show_as_a_leak(
    client: TestClient, catalog: Catalog
) -> None:
    # So the route-table test below proves A reads none of B's agent's outbox.
    b_world(catalog)
    status = client.get("/v1/assets/b-asset/status", headers=auth(catalog, B)).json()
    assert "b-secret-agent" in leaks(status) and (status["queued"], status["dropped"]) == (7, 3)


def fingerprint(catalog: Catalog) -> str:
    """Every row that belongs to B, serialised."""
    out = []
    with catalog.session() as s:
        for table in cat.Base.metadata.sorted_tables:
            cols = [c for c in ("tenant_id", "owner_tenant_id") if c in table.c]
            if not cols:
                continue
            q = select(table).where(or_(*(table.c[c] == B for c in cols)))
            out += [f"{table.name}:{tuple(r)}" for r in s.execute(q)]
    return json.dumps(sorted(out))


def leaks(value: Any) -> list[str]:
    found = [m for m in MARKERS if m in json.dumps(value)]
    if isinstance(value, dict):
        found += [f"{k}={B}" for k in ("tenant", "owner") if value.get(k) == B]
        for v in value.values():
            found += leaks(v)
    elif isinstance(value, list):
        for v in value:
            found += leaks(v)
    return found


def fill(template: Any, ids: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        return {k: fill(v, ids) for k, v in template.items()}
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        return ids[template[1:-1]]
    return template


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_is_public_or_exercisable(method: str, path: str) -> None:
    if (method, path) in PUBLIC:
        return
    route = TABLE[(method, path)]
    assert getattr(route, "dependant", None) is not None, (
        f"{method} {path}: not an API route and not listed as public"
    )
    params = {p.name for p in route.dependant.path_params}
    unknown = params - set(B_RESOURCES)
    assert not unknown, f"{method} {path}: no B resource for path parameter(s) {unknown}"
    if route.dependant.body_params:
        assert (method, path) in BODIES, f"{method} {path}: add a sample body to BODIES"


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r not in PUBLIC])
def test_a_route_without_a_key_is_401(client: TestClient, method: str, path: str) -> None:
    url = path.format(
        asset_id="x", offer_id=1, booking_id=1, webhook_id=1, key_id=1, partner_id="x",
        site_id="x", rule_id=1,
    )
    assert client.request(method, url).status_code == 401


@pytest.mark.parametrize("role", ["owner", "viewer", "platform"])
def test_tenant_a_can_neither_read_nor_change_tenant_b(
    client: TestClient, catalog: Catalog, role: str
) -> None:
    ids = b_world(catalog)
    a = auth(catalog, A, role)
    before = fingerprint(catalog)
    for method, path in ROUTES:
        if (method, path) in PUBLIC:
            continue
        url = path.format(**ids)
        body = fill(BODIES.get((method, path)), ids)
        r = client.request(method, url, headers=a, json=body)
        assert r.status_code < 500, f"{method} {url}: {r.status_code} {r.text}"
        if "{" in path and "partner_id" not in path:
            # Aimed at one of B's resources: refused, and hidden like a missing one.
            assert r.status_code in (403, 404), f"{method} {url}: {r.status_code} {r.text}"
        payload = r.json() if r.content and "json" in r.headers.get("content-type", "") else None
        assert not leaks(payload), f"{method} {url} leaks {leaks(payload)}: {r.text}"
        assert fingerprint(catalog) == before, f"{method} {url} changed tenant B's data"
