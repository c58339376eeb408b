"""The caller's tenant, its groups and its partners; the tenant's API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from api.deps import CallerDep, CatalogDep, OwnerDep, forget_keys
from api.params import RowId
from api.schemas.tenants import KeyCreate, KeyCreated, KeyPublic, TenantPublic
from market import tenants

router = APIRouter(tags=["tenant"])

PartnerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="a tenant id")]


@router.get("/v1/tenant", response_model=TenantPublic)
def read_tenant(caller: CallerDep, catalog: CatalogDep) -> TenantPublic:
    """The caller's tenant with its groups (set by the operator) and partner relations."""
    return TenantPublic.from_view(tenants.view(catalog, caller.tenant_id))


@router.put("/v1/tenant/partners/{partner_id}", response_model=TenantPublic)
def add_partner(partner_id: PartnerId, caller: OwnerDep, catalog: CatalogDep) -> TenantPublic:
    """Share this tenant's `partners` offers with another tenant (idempotent)."""
    tenants.add_partner(catalog, caller.tenant_id, partner_id)
    return read_tenant(caller, catalog)


@router.delete("/v1/tenant/partners/{partner_id}", response_model=TenantPublic)
def remove_partner(partner_id: PartnerId, caller: OwnerDep, catalog: CatalogDep) -> TenantPublic:
    """Stop sharing `partners` offers with a tenant (idempotent)."""
    tenants.remove_partner(catalog, caller.tenant_id, partner_id)
    return read_tenant(caller, catalog)


@router.get("/v1/keys", response_model=list[KeyPublic])
def list_keys(caller: OwnerDep, catalog: CatalogDep) -> list[KeyPublic]:
    """The tenant's keys (never the keys themselves: only their hashes are stored)."""
    return [KeyPublic.from_row(r) for r in catalog.keys(caller.tenant_id)]


@router.post("/v1/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, caller: OwnerDep, catalog: CatalogDep) -> KeyCreated:
    """A new key for the caller's tenant, shown once in the answer."""
    row, key = catalog.mint_key(caller.tenant_id, role=body.role, name=body.name)
    return KeyCreated(**KeyPublic.from_row(row).model_dump(), key=key)


@router.delete(
    "/v1/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no such key in the caller's tenant"}},
)
def delete_key(key_id: RowId, caller: OwnerDep, catalog: CatalogDep) -> None:
    """Revoke a key of the caller's tenant; it stops working at once."""
    if not catalog.delete_key(caller.tenant_id, key_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no key {key_id}")
    forget_keys()
