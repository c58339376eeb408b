"""The idleshare platform client: ``pip install 'idleshare[client]'`` (httpx only; none of the
server). See the "Platform client" section of docs/api.md.

    from idleshare_client import Client, SqliteOfferStore, verify_webhook
"""

from idleshare_client.client import Client
from idleshare_client.errors import (
    ApiError,
    Conflict,
    Forbidden,
    IdleshareClientError,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    Unreachable,
    WebhookRejected,
)
from idleshare_client.store import OfferStore, SqliteOfferStore
from idleshare_client.types import Booking, Location, Offer, OfferChange, Webhook, WebhookDelivery
from idleshare_client.webhooks import verify_webhook

__all__ = [
    "ApiError",
    "Booking",
    "Client",
    "Conflict",
    "Forbidden",
    "IdleshareClientError",
    "InvalidRequest",
    "Location",
    "NotFound",
    "Offer",
    "OfferChange",
    "OfferStore",
    "RateLimited",
    "ServerError",
    "SqliteOfferStore",
    "Unauthorized",
    "Unreachable",
    "Webhook",
    "WebhookDelivery",
    "WebhookRejected",
    "verify_webhook",
]
