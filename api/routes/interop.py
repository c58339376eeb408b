"""Offers in other vocabularies, for marketplaces and search engines: schema.org JSON-LD, and
leg offers as freight load boards list them."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Response

from api.deps import CallerDep, CatalogDep
from api.params import RowId
from api.schemas.offers import OFFER_EXAMPLE
from market import offers
from market.jsonld import MEDIA_TYPE, offer_jsonld, read_jsonld

router = APIRouter(prefix="/v1/offers", tags=["offers"])

JSONLD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the offer as a schema.org Offer",
        "content": {MEDIA_TYPE: {"schema": {"type": "object"},
                                 "example": offer_jsonld(OFFER_EXAMPLE)}},
    },
    404: {"description": "no such offer visible to the caller"},
}


@router.get("/{offer_id}/jsonld", response_class=Response, responses=JSONLD_RESPONSES)
def read_offer_jsonld(offer_id: RowId, caller: CallerDep, catalog: CatalogDep) -> Response:
    """One offer the caller may see (as `GET /v1/offers/{offer_id}`: hidden and missing look
    the same) as a schema.org `Offer` in JSON-LD: `businessFunction` LeaseOut, availability
    window, eligible quantity (UN/CEFACT unit code where one fits), place, price per unit and
    hour, and the kind of asset offered."""
    return Response(orjson.dumps(read_jsonld(catalog, caller, offer_id)), media_type=MEDIA_TYPE)


@router.get(
    "/{offer_id}/loadboard",
    responses={404: {"description": "no such leg offer visible to the caller"}},
)
def read_offer_loadboard(offer_id: RowId, caller: CallerDep, catalog: CatalogDep
                         ) -> dict[str, Any]:
    """A leg offer the caller may see in a load board's shape: origin and destination (point,
    radius, place name), pick-up window (the departure window), delivery estimate, equipment
    (the offer's capabilities), weight still free in tonnes, rate per tonne. Another offer
    answers 404."""
    return offers.loadboard_json(offers.read(catalog, caller, offer_id))
