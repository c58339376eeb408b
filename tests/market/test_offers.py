"""The market hands the API JSON-ready offers and changes; the API's schemas describe exactly
that data, so validating and dumping it changes nothing."""

from __future__ import annotations

import time

from api.schemas.feeds import OfferChange
from api.schemas.offers import OfferPublic
from market.caller import Caller
from market.feeds import changes
from market.offers import offer_json
from storage.catalog import Catalog, OfferRow
from tests.api.conftest import add_asset, add_live_offer


def test_offer_and_change_data_round_trip_through_the_api_schemas(catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    oid = add_live_offer(catalog, "acme", "z1", time.time() + 86400, capabilities=["forklift"])
    with catalog.session() as s:
        row = s.get(OfferRow, oid)
        assert row is not None
    data = offer_json(row, booked=15.0)
    assert data["available"] == 25.0 and data["capabilities"] == ["forklift"]
    assert OfferPublic.model_validate(data).model_dump(mode="json") == data
    (change,) = changes(catalog, Caller("acme", "owner"), 0, 10)
    event = change.as_json()
    assert event["offer"] == offer_json(row, booked=0.0)
    assert OfferChange.model_validate(event).model_dump(mode="json") == event
