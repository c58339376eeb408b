"""A ``private`` offer end to end: the owner sets the policy through the API, analytics makes
the offer, and only the owner's tenant ever sees it, in every place offers show. A
``partners`` offer of the same owner is the control: the partner and the group member do see
that one, so the setting-up of partners and groups is proven to work."""

from __future__ import annotations

import json
import time
from typing import Any, get_args

import numpy as np
from fastapi.testclient import TestClient

from analytics.pipeline import Analysis
from analytics.policy import SharingPolicy
from analytics.publish import publish
from api.schemas.assets import PolicyBody
from market.webhooks import Dispatcher
from storage.catalog import VISIBILITIES, AssetRow, Catalog
from tests.api.conftest import add_asset, auth
from tests.market.receiver import (
    LOCAL,
    Receiver,
    local_app,  # noqa: F401 (fixtures)
)

OWNER, PARTNER, MEMBER, STRANGER = "acme", "globex", "initech", "market"


def make_offer(client: TestClient, catalog: Catalog, asset: str, visibility: str) -> int:
    """Set the asset's visibility through the API, then let analytics publish one offer."""
    r = client.put(
        f"/v1/assets/{asset}/policy", headers=auth(catalog, OWNER), json={"visibility": visibility}
    )
    assert r.status_code == 200, r.text
    assert r.json()["effective"]["visibility"] == visibility
    now = time.time()
    start = float(np.ceil(now / 3600) * 3600 + 86400)
    analysis = Analysis(windows=[], offers=np.array([[start, start + 7200, 50.0, 0.9]]))
    with catalog.session() as s:
        row = s.get(AssetRow, (OWNER, asset))
        policy = SharingPolicy.from_dict(row.policy or {})
        assert publish(s, row, policy, analysis, now).created == 1
    (offer,) = client.get(
        "/v1/offers", headers=auth(catalog, OWNER), params={"asset": asset}
    ).json()["items"]
    assert offer["visibility"] == visibility
    return int(offer["id"])


def seen(client: TestClient, headers: dict[str, str]) -> dict[str, set[int]]:
    """Offer ids the key sees in search, the snapshot feed and the change feed."""
    search = client.get("/v1/offers", headers=headers).json()["items"]
    snapshot = client.get("/v1/feeds/offers", headers=headers).json()["items"]
    changes = client.get("/v1/feeds/offer-changes", headers=headers).json()["items"]
    return {
        "search": {o["id"] for o in search},
        "snapshot": {o["id"] for o in snapshot},
        "changes": {c["offer_id"] for c in changes},
    }


def delivered(receiver: Receiver) -> set[int]:
    events: list[dict[str, Any]] = [json.loads(body)["event"] for _, body in receiver.requests]
    return {e["offer_id"] for e in events}


def test_policy_visibilities_are_the_catalogs() -> None:
    field = PolicyBody.model_fields["visibility"].annotation
    (literal, _none) = get_args(field)
    assert set(get_args(literal)) == set(VISIBILITIES)
    assert SharingPolicy.from_dict({"visibility": "private"}).visibility == "private"


def test_a_private_offer_is_seen_by_its_owner_only_in_search_feeds_and_webhooks(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, OWNER, "secret-zone")
    add_asset(catalog, OWNER, "shared-zone")
    assert client.put(f"/v1/tenant/partners/{PARTNER}", headers=auth(catalog, OWNER)).is_success
    catalog.add_to_group("acme-group", [OWNER, MEMBER])
    keys = {t: auth(catalog, t, "platform") for t in (PARTNER, MEMBER, STRANGER)}
    keys[OWNER] = auth(catalog, OWNER, "owner")
    receivers = {t: Receiver(fail=0) for t in keys}
    try:
        for t, r in receivers.items():
            hook = client.post("/v1/webhooks", headers=keys[t], json={"url": r.url})
            assert hook.status_code == 201, hook.text
        private = make_offer(client, catalog, "secret-zone", "private")
        shared = make_offer(client, catalog, "shared-zone", "partners")
        Dispatcher(catalog, LOCAL).run_once()

        everywhere = {
            "search": {private, shared},
            "snapshot": {private, shared},
            "changes": {private, shared},
        }
        assert seen(client, keys[OWNER]) == everywhere
        assert delivered(receivers[OWNER]) == {private, shared}
        for t in (PARTNER, MEMBER):
            assert seen(client, keys[t]) == {k: {shared} for k in everywhere}, t
            assert delivered(receivers[t]) == {shared}, t
        assert seen(client, keys[STRANGER]) == {k: set() for k in everywhere}
        assert delivered(receivers[STRANGER]) == set()
        for t in (PARTNER, MEMBER, STRANGER):
            h = keys[t]
            assert client.get(f"/v1/offers/{private}", headers=h).status_code == 404
            hold = client.post("/v1/bookings", headers=h, json={"offer_id": private, "quantity": 1})
            assert hold.status_code == 404, t
        # The owner tenant's other keys see it too (viewer), as their own offer.
        assert private in seen(client, auth(catalog, OWNER, "viewer"))["search"]
    finally:
        for r in receivers.values():
            r.server.shutdown()
