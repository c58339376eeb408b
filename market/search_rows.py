"""Search rows (the offers table's columns, then ``booked`` and ``k``) straight to the offer
JSON :func:`market.offers.offer_json` gives, without building ORM objects."""

from __future__ import annotations

from typing import Any

import orjson

from market.offers import iso, leg_json, material_json
from storage.catalog import OfferRow

#: The offers table's columns as search selects them, then ``booked`` and ``k``.
_COLUMNS = [c.name for c in OfferRow.__table__.columns]
_AT = {name: i for i, name in enumerate([*_COLUMNS, "booked", "k"])}


_ID, _TENANT, _ASSET, _KIND = _AT["id"], _AT["tenant_id"], _AT["asset_id"], _AT["kind"]
_QTY, _UNIT, _START, _END = _AT["quantity"], _AT["unit"], _AT["start"], _AT["end"]
_CONF, _METHOD, _LAT, _LON = _AT["confidence"], _AT["method"], _AT["lat"], _AT["lon"]
_PRICE, _CUR, _VIS, _STATUS = (
    _AT["price_per_unit_hour"], _AT["currency"], _AT["visibility"], _AT["status"]
)
_CAPS, _BOOKED, _LEG = _AT["capabilities"], _AT["booked"], _AT["leg"]
#: Where a row holds its sort key.
SORT_KEY = _AT["k"]
_MATERIAL = _AT["material"]


#: Epoch -> ISO text: offers start and end on few distinct instants (forecast steps), and
#: formatting a datetime was a tenth of a search.
_iso_cache: dict[float, str] = {}


def _iso(epoch: float) -> str:
    text = _iso_cache.get(epoch)
    if text is None:
        if len(_iso_cache) > 100_000:
            _iso_cache.clear()
        text = _iso_cache[epoch] = iso(epoch)
    return text


def offer_json_of_row(r: Any) -> dict[str, Any]:
    """:func:`market.offers.offer_json` of a raw row (same keys, same values)."""
    caps = r[_CAPS]
    if isinstance(caps, str | bytes):  # SQLite keeps JSON as text; psycopg parses it
        caps = orjson.loads(caps)
    quantity = r[_QTY]
    return {
        "id": r[_ID],
        "tenant": r[_TENANT],
        "asset": r[_ASSET],
        "kind": r[_KIND],
        "quantity": quantity,
        "unit": r[_UNIT],
        "start": _iso(r[_START]),
        "end": _iso(r[_END]),
        "confidence": r[_CONF],
        "method": r[_METHOD],
        "location": {"lat": r[_LAT], "lon": r[_LON]},
        "price_per_unit_hour": r[_PRICE],
        "currency": r[_CUR],
        "visibility": r[_VIS],
        "status": r[_STATUS],
        "available": max(quantity - float(r[_BOOKED]), 0.0),
        "capabilities": list(caps or ()),
        "leg": leg_json(r[_LEG]),
        "material": material_json(r[_MATERIAL]),
    }
