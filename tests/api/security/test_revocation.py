"""Revocation is total: a revoked key's webhooks stop delivering, and a partner relation
removed by another process stops webhook deliveries of its offers at the next run."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import delete

from market.webhooks import Dispatcher
from storage.catalog import Catalog, PartnerRow
from tests.api.conftest import add_asset, add_live_offer, auth
from tests.market.receiver import LOCAL, Receiver, local_app, one_receiver  # noqa: F401 (fixtures)


def test_a_revoked_keys_webhooks_stop_delivering(
    client: TestClient, catalog: Catalog, receiver: Receiver
) -> None:
    owner = auth(catalog, "market")
    key = client.post("/v1/keys", headers=owner, json={"role": "platform"}).json()
    h = {"Authorization": f"Bearer {key['key']}"}
    assert client.post("/v1/webhooks", headers=h, json={"url": receiver.url}).status_code == 201
    add_asset(catalog, "acme", "z1")
    add_live_offer(catalog, "acme", "z1", time.time() + 86400)
    d = Dispatcher(catalog, LOCAL)
    assert d.run_once() == 1
    assert client.delete(f"/v1/keys/{key['id']}", headers=owner).status_code == 204
    add_live_offer(catalog, "acme", "z1", time.time() + 90000)
    assert d.run_once() == 0
    assert len(receiver.requests) == 1


def test_a_partner_removed_elsewhere_gets_no_more_webhooks_of_partner_offers(
    client: TestClient, catalog: Catalog, receiver: Receiver
) -> None:
    assert client.put("/v1/tenant/partners/globex", headers=auth(catalog, "acme")).is_success
    h = auth(catalog, "globex", "platform")
    assert client.post("/v1/webhooks", headers=h, json={"url": receiver.url}).status_code == 201
    add_asset(catalog, "acme", "z1")
    add_live_offer(catalog, "acme", "z1", time.time() + 86400, visibility="partners")
    d = Dispatcher(catalog, LOCAL)
    assert d.run_once() == 1  # this process now caches globex's peers
    with catalog.session() as s:  # another API process removes the partner
        s.execute(delete(PartnerRow).where(PartnerRow.partner_id == "globex"))
    add_live_offer(catalog, "acme", "z1", time.time() + 90000, visibility="partners")
    assert d.run_once() == 0
    assert len(receiver.requests) == 1
