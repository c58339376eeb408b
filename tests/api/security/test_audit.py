"""The audit log: an owner reads who (key id) did what to its tenant, and when; nobody else
reads it."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from storage.catalog import Catalog
from tests.api.conftest import add_asset, add_live_offer, auth, walk


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_an_owner_reads_who_did_what_to_its_tenant(client: TestClient, catalog: Catalog) -> None:
    row, key = catalog.mint_key("acme", "owner")
    owner = _bearer(key)
    add_asset(catalog, "acme", "z1")
    made = client.post("/v1/keys", headers=owner, json={"role": "platform"}).json()
    rotated = client.post(f"/v1/keys/{made['id']}/rotate", headers=owner, json={"grace_s": 0})
    assert client.delete(f"/v1/keys/{rotated.json()['id']}", headers=owner).status_code == 204
    assert client.put("/v1/assets/z1/policy", headers=owner,
                      json={"visibility": "partners"}).status_code == 200
    assert client.put("/v1/tenant/partners/globex", headers=owner).is_success
    assert client.delete("/v1/tenant/partners/globex", headers=owner).is_success
    add_asset(catalog, "acme", "bin", kind="container", unit="m3")
    assert client.put("/v1/assets/bin/material", headers=owner, json={
        "code": "03 01 05", "description": "sawdust"}).status_code == 200
    assert client.delete("/v1/assets/bin/material", headers=owner).status_code == 204
    add_asset(catalog, "initech", "i1")
    offer = add_live_offer(catalog, "initech", "i1", time.time() + 86400)
    platform_row, platform_key = catalog.mint_key("acme", "platform")
    booking = client.post("/v1/bookings", headers=_bearer(platform_key),
                          json={"offer_id": offer, "quantity": 1}).json()
    assert client.post(f"/v1/bookings/{booking['id']}/cancel",
                       headers=_bearer(platform_key)).status_code == 200
    catalog.add_to_group("acme-group", ["acme"])  # the operator, on the command line

    entries, _ = walk(client, "/v1/audit", owner)
    got = [(e["action"], e["key_id"], e["target"]) for e in reversed(entries)]
    assert got == [
        ("key.created", row.id, str(made["id"])),
        ("key.rotated", row.id, str(made["id"])),
        ("key.revoked", row.id, str(rotated.json()["id"])),
        ("policy.changed", row.id, "z1"),
        ("partner.added", row.id, "globex"),
        ("partner.removed", row.id, "globex"),
        ("material.declared", row.id, "bin"),
        ("material.declared", row.id, "bin"),
        ("booking.cancelled", platform_row.id, str(booking["id"])),
        ("group.joined", None, "acme-group"),
    ]
    assert all(abs(time.time() - _epoch(e["at"])) < 60 for e in entries)


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_the_audit_log_pages_newest_first(client: TestClient, catalog: Catalog) -> None:
    owner = auth(catalog, "acme")
    for i in range(5):
        client.put(f"/v1/tenant/partners/p{i}", headers=owner)
    entries, pages = walk(client, "/v1/audit", owner, limit=2)
    assert pages == 3
    assert [e["target"] for e in entries] == [f"p{i}" for i in reversed(range(5))]


def test_only_the_tenants_owners_read_its_audit_log(client: TestClient, catalog: Catalog) -> None:
    owner = auth(catalog, "acme")
    assert client.put("/v1/tenant/partners/globex", headers=owner).is_success
    assert len(client.get("/v1/audit", headers=owner).json()["items"]) == 1
    assert client.get("/v1/audit", headers=auth(catalog, "globex")).json()["items"] == []
    for role in ("viewer", "platform"):
        assert client.get("/v1/audit", headers=auth(catalog, "acme", role)).status_code == 403
    assert client.get("/v1/audit").status_code == 401
