"""An offer as a schema.org ``Offer`` in JSON-LD, so marketplaces and search engines can index
it: capacity leased out (GoodRelations ``LeaseOut``) for a window, at a place, priced per unit
and hour. A by-product offer is material handed over for good, so GoodRelations ``Sell``
(ownership passes to the collector and nothing comes back, which ``LeaseOut`` would say), its
item the material: a ``Product`` named by its description, with its EWC code and hazardous
flag as properties, available for collection in the offer's window. The offer is read
through :func:`market.offers.read`, so the caller sees exactly the offers it may read
(visibility rules there, not here)."""

from __future__ import annotations

from typing import Any

from idleshare.assets import KINDS_BY_NAME
from idleshare.materials import MATERIAL_KINDS
from market.caller import Caller
from market.offers import read
from storage.catalog import Catalog

MEDIA_TYPE = "application/ld+json"
LEASE_OUT = "http://purl.org/goodrelations/v1#LeaseOut"
SELL = "http://purl.org/goodrelations/v1#Sell"
#: The European Waste Catalogue, as the ``propertyID`` of a material's code.
EWC = "EWC"

#: Offer units with a UN/CEFACT Recommendation 20 common code; any other unit (pallet,
#: machine, ...) is given as ``unitText`` only.
UN_CEFACT_CODES = {"t": "TNE", "kg": "KGM", "m3": "MTQ", "m2": "MTK", "l": "LTR", "h": "HUR"}
HOUR = "HUR"


def _unit(unit: str) -> dict[str, str]:
    code = UN_CEFACT_CODES.get(unit)
    return {"unitText": unit} if code is None else {"unitCode": code, "unitText": unit}


def _availability(offer: dict[str, Any]) -> str:
    if offer["status"] != "live":
        return "https://schema.org/Discontinued"
    return "https://schema.org/InStock" if offer["available"] > 0 else "https://schema.org/SoldOut"


def offer_jsonld(offer: dict[str, Any]) -> dict[str, Any]:
    """The schema.org Offer for an offer in :func:`market.offers.offer_json`'s shape."""
    kind = KINDS_BY_NAME.get(offer["kind"])
    item: dict[str, Any] = {
        "@type": "Product" if offer["kind"] in MATERIAL_KINDS else "Service",
        "name": offer["kind"],
        "description": kind.description if kind else offer["kind"],
        "identifier": offer["asset"],
    }
    properties = [{"@type": "PropertyValue", "name": "capability", "value": c}
                  for c in offer["capabilities"]]
    material = offer.get("material")
    if material is not None:
        item.update(name=material["description"], identifier=material["code"])
        properties += [
            {"@type": "PropertyValue", "propertyID": EWC, "name": "waste code",
             "value": material["code"]},
            {"@type": "PropertyValue", "name": "hazardous", "value": material["hazardous"]},
        ]
        if material["density_t_per_m3"] is not None:
            properties.append({"@type": "PropertyValue", "name": "bulk density",
                               "value": material["density_t_per_m3"], "unitCode": "D41",
                               "unitText": "t/m3"})
    if properties:
        item["additionalProperty"] = properties
    return {
        "@context": "https://schema.org",
        "@type": "Offer",
        "identifier": str(offer["id"]),
        "businessFunction": SELL if material is not None else LEASE_OUT,
        "availability": _availability(offer),
        "availabilityStarts": offer["start"],
        "availabilityEnds": offer["end"],
        "eligibleQuantity": {
            "@type": "QuantitativeValue", "maxValue": offer["available"], **_unit(offer["unit"]),
        },
        "availableAtOrFrom": {
            "@type": "Place",
            "geo": {"@type": "GeoCoordinates", "latitude": offer["location"]["lat"],
                    "longitude": offer["location"]["lon"]},
        },
        "priceSpecification": {
            "@type": "UnitPriceSpecification",
            "price": offer["price_per_unit_hour"],
            "priceCurrency": offer["currency"],
            # The price of one unit of the offer for one hour.
            **_unit(offer["unit"]),
            "referenceQuantity": {"@type": "QuantitativeValue", "value": 1, "unitCode": HOUR,
                                  "unitText": "hour"},
        },
        "seller": {"@type": "Organization", "identifier": offer["tenant"]},
        "itemOffered": item,
    }


def read_jsonld(catalog: Catalog, caller: Caller, offer_id: int) -> dict[str, Any]:
    """The JSON-LD of an offer the caller may see, else :class:`market.errors.NotFound`."""
    return offer_jsonld(read(catalog, caller, offer_id))
