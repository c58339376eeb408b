"""The caller's tenant, its groups and its partners; the tenant's API keys; its audit log."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from api.deps import CallerDep, CatalogDep, OwnerDep
from api.params import CursorParam, Limit, RowId
from api.routes.paging import after_id, page_by_id
from api.schemas.audit import AuditEntry
from api.schemas.common import Page
from api.schemas.tenants import KeyCreate, KeyCreated, KeyPublic, KeyRotate, TenantPublic
from market import audit, keys, tenants

router = APIRouter(tags=["tenant"])

PartnerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="a tenant id")]


@router.get("/v1/tenant", response_model=TenantPublic)
def read_tenant(caller: CallerDep, catalog: CatalogDep) -> TenantPublic:
    """The caller's tenant with its groups (set by the operator) and partner relations, and
    the role of the calling key (so a client, the web page among them, need not probe)."""
    view = tenants.view(catalog, caller.tenant_id)
    return TenantPublic.model_validate({**asdict(view), "role": caller.role})


@router.put("/v1/tenant/partners/{partner_id}", response_model=TenantPublic)
def add_partner(partner_id: PartnerId, caller: OwnerDep, catalog: CatalogDep) -> TenantPublic:
    """Share this tenant's `partners` offers with another tenant (idempotent)."""
    tenants.add_partner(catalog, caller.tenant_id, partner_id, caller.key_id)
    return read_tenant(caller, catalog)


@router.delete("/v1/tenant/partners/{partner_id}", response_model=TenantPublic)
def remove_partner(partner_id: PartnerId, caller: OwnerDep, catalog: CatalogDep) -> TenantPublic:
    """Stop sharing `partners` offers with a tenant (idempotent)."""
    tenants.remove_partner(catalog, caller.tenant_id, partner_id, caller.key_id)
    return read_tenant(caller, catalog)


@router.get("/v1/keys", response_model=list[KeyPublic])
def list_keys(caller: OwnerDep, catalog: CatalogDep) -> list[KeyPublic]:
    """The tenant's keys (never the keys themselves: only their hashes are stored)."""
    return [KeyPublic.model_validate(r) for r in catalog.keys(caller.tenant_id)]


@router.post("/v1/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, caller: OwnerDep, catalog: CatalogDep) -> KeyCreated:
    """A new key for the caller's tenant, shown once in the answer; it stops working after
    `expires_in_s` or at `expires_at` if one is given."""
    now = time.time()
    at = body.expires_at
    ends = [] if at is None else [(at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()]
    ends += [now + body.expires_in_s] if body.expires_in_s is not None else []
    expires_at = min(ends, default=None)  # both given: the sooner
    row, key = keys.create(catalog, caller, body.role, body.name, expires_at, now)
    return KeyCreated(**KeyPublic.model_validate(row).model_dump(), key=key)


@router.post(
    "/v1/keys/{key_id}/rotate",
    response_model=KeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "no such key in the caller's tenant"}},
)
def rotate_key(
    key_id: RowId, caller: OwnerDep, catalog: CatalogDep, request: Request,
    body: KeyRotate | None = None,
) -> KeyCreated:
    """A new key with the old one's role and name, shown once; the old key keeps working for
    `grace_s` (default 24 h), then stops. Webhooks of the old key move to the new one."""
    grace = body.grace_s if body is not None and body.grace_s is not None else None
    grace = request.app.state.key_rotation_grace_s if grace is None else grace
    row, key = keys.rotate(catalog, caller, key_id, grace, time.time())
    return KeyCreated(**KeyPublic.model_validate(row).model_dump(), key=key)


@router.delete(
    "/v1/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no such key in the caller's tenant"}},
)
def delete_key(key_id: RowId, caller: OwnerDep, catalog: CatalogDep) -> None:
    """Revoke a key of the caller's tenant: its next request, in any API process, is refused,
    and its webhooks stop."""
    keys.revoke(catalog, caller, key_id, time.time())


@router.get("/v1/audit", response_model=Page[AuditEntry])
def read_audit(
    caller: OwnerDep, catalog: CatalogDep, limit: Limit = 100, cursor: CursorParam = None
) -> Page[AuditEntry]:
    """Who (key id; null for the operator) did what to the caller's tenant, newest first:
    keys created, rotated and revoked, policies changed, devices added, partners added and
    removed, bookings cancelled, groups joined."""
    rows = audit.entries(catalog, caller.tenant_id, after_id(cursor, int), limit + 1)
    return page_by_id(AuditEntry, rows, limit)
