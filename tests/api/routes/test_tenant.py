from __future__ import annotations

from fastapi.testclient import TestClient

from storage.catalog import Catalog
from tests.api.conftest import auth


def test_an_owner_creates_lists_and_revokes_keys_shown_once(
    client: TestClient, catalog: Catalog
) -> None:
    h = auth(catalog, "acme")
    r = client.post("/v1/keys", headers=h, json={"role": "viewer", "name": "dash"})
    assert r.status_code == 201
    new = r.json()
    viewer = {"Authorization": f"Bearer {new['key']}"}
    assert client.get("/v1/assets", headers=viewer).status_code == 200
    listed = client.get("/v1/keys", headers=h).json()
    assert {k["name"] for k in listed} == {"", "dash"} and all("key" not in k for k in listed)
    assert client.delete(f"/v1/keys/{new['id']}", headers=h).status_code == 204
    assert client.get("/v1/assets", headers=viewer).status_code == 401


def test_viewer_and_platform_keys_cannot_manage_keys(client: TestClient, catalog: Catalog) -> None:
    for role in ("viewer", "platform"):
        r = client.post("/v1/keys", headers=auth(catalog, "acme", role), json={"role": "owner"})
        assert r.status_code == 403 and "owner" in r.json()["detail"]


def test_partners_see_partner_offers_and_groups_come_from_the_operator(
    client: TestClient, catalog: Catalog
) -> None:
    from storage.catalog import GroupMemberRow

    h = auth(catalog, "acme")
    body = client.put("/v1/tenant/partners/globex", headers=h).json()
    assert body["partners"] == ["globex"]
    assert client.get("/v1/tenant", headers=auth(catalog, "globex")).json()["partner_of"] == [
        "acme"
    ]
    assert client.put("/v1/tenant/partners/acme", headers=h).status_code == 422
    with catalog.session() as s:
        s.add(GroupMemberRow(group_id="conglo", tenant_id="acme"))
    assert client.get("/v1/tenant", headers=h).json()["groups"] == ["conglo"]
    assert client.delete("/v1/tenant/partners/globex", headers=h).json()["partners"] == []


def test_the_tenant_route_tells_each_key_its_own_role(client: TestClient, catalog: Catalog) -> None:
    for role in ("owner", "viewer", "platform"):
        body = client.get("/v1/tenant", headers=auth(catalog, "acme", role)).json()
        assert (body["id"], body["role"]) == ("acme", role)
    # The owner's partner changes answer with the tenant too, and the owner's role.
    assert client.put("/v1/tenant/partners/globex",
                      headers=auth(catalog, "acme")).json()["role"] == "owner"
