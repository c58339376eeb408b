"""Webhook subscriptions of the caller's tenant and their delivery log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from api.deps import CatalogDep, OutboundDep, SubscriberDep
from api.params import Limit, RowId
from api.schemas.webhooks import DeliveryPublic, WebhookCreate, WebhookCreated, WebhookPublic
from market import webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such webhook in the caller's tenant"}
}


@router.post("", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: WebhookCreate, caller: SubscriberDep, catalog: CatalogDep, outbound: OutboundDep
) -> WebhookCreated:
    """Subscribe a URL to future offer events visible to the caller. Each delivery is a POST
    of `{"webhook": id, "event": <change>}` with headers `X-Idleshare-Timestamp` and
    `X-Idleshare-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body, keyed with the
    secret>`; any 2xx acknowledges, anything else is retried with exponential backoff.
    The URL must be `https` and resolve to public addresses (422 otherwise), checked again
    at each delivery; redirects are not followed. Revoking the creating key stops it."""
    row = webhooks.subscribe(catalog, caller, str(body.url), list(body.events), outbound)
    return WebhookCreated.model_validate(row)


@router.get("", response_model=list[WebhookPublic])
def list_webhooks(caller: SubscriberDep, catalog: CatalogDep) -> list[WebhookPublic]:
    rows = webhooks.subscriptions(catalog, caller.tenant_id)
    return [WebhookPublic.model_validate(r) for r in rows]


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_webhook(webhook_id: RowId, caller: SubscriberDep, catalog: CatalogDep) -> None:
    """Stop deliveries; the delivery log goes with the subscription."""
    webhooks.unsubscribe(catalog, caller.tenant_id, webhook_id)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryPublic], responses=NOT_FOUND)
def list_deliveries(
    webhook_id: RowId, caller: SubscriberDep, catalog: CatalogDep, limit: Limit = 100
) -> list[DeliveryPublic]:
    """The delivery log, newest attempt first."""
    rows = webhooks.deliveries(catalog, caller.tenant_id, webhook_id, limit)
    return [DeliveryPublic.model_validate(r) for r in rows]
