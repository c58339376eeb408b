"""Webhook subscriptions of the caller's tenant and their delivery log."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from api.deps import CatalogDep, SubscriberDep
from api.params import Limit, RowId
from api.schemas import utc
from api.schemas_market import DeliveryPublic, WebhookCreate, WebhookCreated, WebhookPublic
from market.feeds import head
from storage.catalog import Catalog, WebhookDeliveryRow, WebhookRow

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
NOT_FOUND = {404: {"description": "no such webhook in the caller's tenant"}}


def _public(row: WebhookRow) -> WebhookPublic:
    return WebhookPublic(
        id=row.id,
        url=row.url,
        events=list(row.events),
        last_event_id=row.last_event_id,
        created_at=utc(row.created_at),
    )


def _own(catalog: Catalog, tenant: str, webhook_id: int) -> WebhookRow:
    with catalog.session() as s:
        row = s.get(WebhookRow, webhook_id)
    if row is None or row.tenant_id != tenant:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no webhook {webhook_id}")
    return row


@router.post("", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: WebhookCreate, caller: SubscriberDep, catalog: CatalogDep
) -> WebhookCreated:
    """Subscribe a URL to future offer events visible to the caller. Each delivery is a POST
    of `{"webhook": id, "event": <change>}` with headers `X-Idleshare-Timestamp` and
    `X-Idleshare-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body, keyed with the
    secret>`; any 2xx acknowledges, anything else is retried with exponential backoff."""
    secret = "whsec_" + secrets.token_urlsafe(24)
    with catalog.session() as s:
        position, _ = head(s)
        row = WebhookRow(
            tenant_id=caller.tenant_id,
            role=caller.role,
            url=str(body.url),
            secret=secret,
            events=sorted(set(body.events)),
            last_event_id=position,
        )
        s.add(row)
        s.flush()
        return WebhookCreated(**_public(row).model_dump(), secret=secret)


@router.get("", response_model=list[WebhookPublic])
def list_webhooks(caller: SubscriberDep, catalog: CatalogDep) -> list[WebhookPublic]:
    with catalog.session() as s:
        rows = s.scalars(
            select(WebhookRow)
            .where(WebhookRow.tenant_id == caller.tenant_id)
            .order_by(WebhookRow.id)
        ).all()
        return [_public(r) for r in rows]


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_webhook(webhook_id: RowId, caller: SubscriberDep, catalog: CatalogDep) -> None:
    """Stop deliveries; the delivery log goes with the subscription."""
    _own(catalog, caller.tenant_id, webhook_id)
    with catalog.session() as s:
        for d in s.scalars(
            select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id)
        ):
            s.delete(d)
        s.flush()
        row = s.get(WebhookRow, webhook_id)
        if row is not None:
            s.delete(row)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryPublic], responses=NOT_FOUND)
def list_deliveries(
    webhook_id: RowId, caller: SubscriberDep, catalog: CatalogDep, limit: Limit = 100
) -> list[DeliveryPublic]:
    """The delivery log, newest attempt first."""
    _own(catalog, caller.tenant_id, webhook_id)
    d = WebhookDeliveryRow
    with catalog.session() as s:
        rows = s.scalars(
            select(d).where(d.webhook_id == webhook_id).order_by(d.id.desc()).limit(limit)
        )
        return [
            DeliveryPublic(
                id=r.id,
                event_id=r.event_id,
                attempt=r.attempt,
                status_code=r.status_code,
                ok=r.ok,
                error=r.error,
                at=utc(r.at),
            )
            for r in rows
        ]
