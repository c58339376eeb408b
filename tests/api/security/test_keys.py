"""Keys that expire and rotate, and revocation that is total: a key revoked or a partner removed
by another process (a real one: caches in this one are not told) is refused here on the very
next request, not after a cache's lifetime."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from storage.catalog import Catalog, WebhookRow
from storage.catalog.models import AuditRow
from tests.api.conftest import add_asset, add_live_offer, auth
from tests.market.receiver import LOCAL
from tests.stores import MemoryStore


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def elsewhere(catalog_url: str, change: str) -> None:
    """Run ``change`` (Python, with ``catalog`` and ``caller`` an owner of acme) in another
    process, as another API process or the command line would."""
    code = ("from market import keys, tenants\nfrom market.caller import Caller\n"
            "from storage.catalog import Catalog\n"
            f"catalog = Catalog({catalog_url!r})\ncaller = Caller('acme', 'owner', None)\n"
            f"{change}\ncatalog.close()\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_key_created_with_expires_in_s_stops_working_after_it(
    client: TestClient, catalog: Catalog
) -> None:
    r = client.post("/v1/keys", headers=auth(catalog, "acme"),
                    json={"role": "viewer", "expires_in_s": 1})
    assert r.status_code == 201 and r.json()["expires_at"] is not None
    key = _bearer(r.json()["key"])
    assert client.get("/v1/tenant", headers=key).status_code == 200
    time.sleep(1.1)
    assert client.get("/v1/tenant", headers=key).status_code == 401


def test_a_key_created_with_expires_at_in_the_past_never_works(
    client: TestClient, catalog: Catalog
) -> None:
    r = client.post("/v1/keys", headers=auth(catalog, "acme"),
                    json={"expires_at": "2020-01-01T00:00:00Z"})
    assert r.status_code == 201
    assert client.get("/v1/tenant", headers=_bearer(r.json()["key"])).status_code == 401


def test_a_key_expiry_is_finite_and_positive(client: TestClient, catalog: Catalog) -> None:
    owner = auth(catalog, "acme")
    for body in ({"expires_in_s": 0}, {"expires_in_s": 1e12}, {"expires_in_s": "NaN"}):
        assert client.post("/v1/keys", headers=owner, json=body).status_code == 422, body
    both = {"expires_in_s": 1, "expires_at": "2030-01-01T00:00:00Z"}
    r = client.post("/v1/keys", headers=owner, json=both)
    assert r.status_code == 201 and r.json()["expires_at"] < "2030"  # the sooner of the two


def test_a_rotated_key_works_through_its_grace_then_stops(
    catalog: Catalog, store: MemoryStore
) -> None:
    app = create_app(catalog, store, dispatch_interval_s=None, key_rotation_grace_s=1.0)
    with TestClient(app) as client:
        owner = auth(catalog, "acme")
        old = client.post("/v1/keys", headers=owner, json={"role": "platform", "name": "sync"})
        old_key, old_id = _bearer(old.json()["key"]), old.json()["id"]
        r = client.post(f"/v1/keys/{old_id}/rotate", headers=owner)
        assert r.status_code == 201, r.text
        new = r.json()
        assert (new["role"], new["name"]) == ("platform", "sync") and new["id"] != old_id
        assert client.get("/v1/tenant", headers=old_key).status_code == 200  # in its grace
        assert client.get("/v1/tenant", headers=_bearer(new["key"])).status_code == 200
        time.sleep(1.1)
        assert client.get("/v1/tenant", headers=old_key).status_code == 401
        assert client.get("/v1/tenant", headers=_bearer(new["key"])).status_code == 200


def test_rotating_with_no_grace_stops_the_old_key_at_once(
    client: TestClient, catalog: Catalog
) -> None:
    owner = auth(catalog, "acme")
    old = client.post("/v1/keys", headers=owner, json={"role": "viewer"}).json()
    r = client.post(f"/v1/keys/{old['id']}/rotate", headers=owner, json={"grace_s": 0})
    assert r.status_code == 201
    assert client.get("/v1/tenant", headers=_bearer(old["key"])).status_code == 401
    assert client.get("/v1/tenant", headers=_bearer(r.json()["key"])).status_code == 200


def test_a_rotated_keys_webhooks_move_to_the_new_key(catalog: Catalog, store: MemoryStore) -> None:
    with TestClient(create_app(catalog, store, dispatch_interval_s=None, outbound=LOCAL)) as c:
        owner = auth(catalog, "market")
        old = c.post("/v1/keys", headers=owner, json={"role": "platform"}).json()
        hook = c.post("/v1/webhooks", headers=_bearer(old["key"]),
                      json={"url": "http://127.0.0.1:9/hook"})
        assert hook.status_code == 201, hook.text
        new = c.post(f"/v1/keys/{old['id']}/rotate", headers=owner, json={"grace_s": 0}).json()
    with catalog.session() as s:
        assert s.get_one(WebhookRow, hook.json()["id"]).key_id == new["id"]


def test_a_key_revoked_in_another_process_is_refused_on_its_next_request(
    client: TestClient, catalog: Catalog, catalog_url: str
) -> None:
    row, key = catalog.mint_key("acme", "platform")
    h = _bearer(key)
    assert client.get("/v1/tenant", headers=h).status_code == 200  # this process knows it
    assert client.get("/v1/feeds/offer-changes", headers=h).status_code == 200
    elsewhere(catalog_url, f"keys.revoke(catalog, caller, {row.id}, 0.0)")
    assert client.get("/v1/tenant", headers=h).status_code == 401
    assert client.get("/v1/feeds/offer-changes", headers=h).status_code == 401


def test_a_partner_removed_in_another_process_sees_nothing_more_here(
    client: TestClient, catalog: Catalog, catalog_url: str
) -> None:
    owner = auth(catalog, "acme")
    assert client.put("/v1/tenant/partners/globex", headers=owner).is_success
    add_asset(catalog, "acme", "z1")
    offer = add_live_offer(catalog, "acme", "z1", time.time() + 86400, visibility="partners")
    globex = auth(catalog, "globex", "platform")
    assert [o["id"] for o in client.get("/v1/offers", headers=globex).json()["items"]] == [offer]
    assert client.get(f"/v1/offers/{offer}", headers=globex).status_code == 200
    elsewhere(catalog_url, "tenants.remove_partner(catalog, 'acme', 'globex')")
    # The very next requests, in the process that cached globex's peers, no longer show it.
    assert client.get("/v1/offers", headers=globex).json()["items"] == []
    assert client.get(f"/v1/offers/{offer}", headers=globex).status_code == 404
    feed = client.get("/v1/feeds/offers", headers=globex).json()
    assert offer not in [o["id"] for o in feed["items"]]


def test_the_cli_creates_a_key_that_expires_and_audits_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shell.commands import app

    runner = CliRunner()
    args = ["keys", "create", "--tenant", "acme", "--data-dir", str(tmp_path)]
    result = runner.invoke(app, [*args, "--expires-in", "2h"])
    assert result.exit_code == 0, result.output
    for bad in ("0", "-5m", "soon", "infd"):
        assert runner.invoke(app, [*args, "--expires-in", bad]).exit_code == 2, bad
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        (row,) = catalog.keys("acme")
        assert row.expires_at is not None and 7190 < row.expires_at - time.time() <= 7200
        with catalog.session() as s:
            (entry,) = s.scalars(select(AuditRow)).all()
        assert (entry.action, entry.key_id, entry.target) == ("key.created", None, str(row.id))
    finally:
        catalog.close()
