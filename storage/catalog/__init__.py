"""The relational catalog (SQLAlchemy): tenants, API keys, groups, assets, idle windows, offers,
their events and bookings, and webhooks.

- :mod:`~storage.catalog.models`: the rows, and :data:`VISIBILITIES`, the vocabulary of offers'
  ``visibility``;
- :mod:`~storage.catalog.repository`: :class:`Catalog`, the engine, sessions, tenants, keys and
  assets;
- :mod:`~storage.catalog.bookings`: which bookings take capacity;
- :mod:`~storage.catalog.events`: the offer change log;
- :mod:`~storage.catalog.locks`: the one order of row locks every writer follows;
- :mod:`~storage.catalog.leases`: analytics workers' leases on buckets of assets;
- :mod:`~storage.catalog.schema`: migrating the schema at start.

Everything public is re-exported here: ``from storage.catalog import Catalog, OfferRow``.
"""

from storage.catalog import leases  # noqa: F401 - its tables belong to the schema
from storage.catalog.bookings import CONFIRMED, HELD, booked_quantity, counts
from storage.catalog.events import offer_snapshot, record_offer_event
from storage.catalog.models import (
    VISIBILITIES,
    ApiKey,
    AssetRow,
    Base,
    BookingRow,
    GroupMemberRow,
    IdleWindowRow,
    OfferEventRow,
    OfferRow,
    PartnerRow,
    Tenant,
    WebhookDeliveryRow,
    WebhookRow,
)
from storage.catalog.repository import KEY_USE_RESOLUTION_S, Catalog, hash_key

__all__ = [
    "CONFIRMED",
    "HELD",
    "KEY_USE_RESOLUTION_S",
    "VISIBILITIES",
    "ApiKey",
    "AssetRow",
    "Base",
    "BookingRow",
    "Catalog",
    "GroupMemberRow",
    "IdleWindowRow",
    "OfferEventRow",
    "OfferRow",
    "PartnerRow",
    "Tenant",
    "WebhookDeliveryRow",
    "WebhookRow",
    "booked_quantity",
    "counts",
    "hash_key",
    "offer_snapshot",
    "record_offer_event",
]
