"""The caller's tenant, its groups and its partners; the tenant's API keys."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from sqlalchemy import delete, select

from api.deps import CallerDep, CatalogDep, OwnerDep, forget_keys
from api.params import RowId
from api.schemas import utc
from api.schemas_tenant import KeyCreate, KeyCreated, KeyPublic, TenantPublic
from market.visibility import forget_peers
from storage.catalog import ApiKey, GroupMemberRow, PartnerRow, Tenant, hash_key

router = APIRouter(tags=["tenant"])

PartnerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="a tenant id")]


@router.get("/v1/tenant", response_model=TenantPublic)
def read_tenant(caller: CallerDep, catalog: CatalogDep) -> TenantPublic:
    """The caller's tenant with its groups (set by the operator) and partner relations."""
    me = caller.tenant_id
    with catalog.session() as s:
        row = s.get(Tenant, me)
        groups = s.scalars(select(GroupMemberRow.group_id).where(GroupMemberRow.tenant_id == me))
        partners = s.scalars(select(PartnerRow.partner_id).where(PartnerRow.tenant_id == me))
        of = s.scalars(select(PartnerRow.tenant_id).where(PartnerRow.partner_id == me))
        return TenantPublic(
            id=me,
            name=row.name if row else me,
            groups=sorted(groups),
            partners=sorted(partners),
            partner_of=sorted(of),
        )


@router.put("/v1/tenant/partners/{partner_id}", response_model=TenantPublic)
def add_partner(partner_id: PartnerId, caller: OwnerDep, catalog: CatalogDep) -> TenantPublic:
    """Share this tenant's `partners` offers with another tenant (idempotent)."""
    if partner_id == caller.tenant_id:
        raise HTTPException(422, "a tenant cannot partner itself")
    with catalog.session() as s:
        if s.get(PartnerRow, (caller.tenant_id, partner_id)) is None:
            s.add(PartnerRow(tenant_id=caller.tenant_id, partner_id=partner_id))
    forget_peers()
    return read_tenant(caller, catalog)


@router.delete("/v1/tenant/partners/{partner_id}", response_model=TenantPublic)
def remove_partner(partner_id: PartnerId, caller: OwnerDep, catalog: CatalogDep) -> TenantPublic:
    """Stop sharing `partners` offers with a tenant (idempotent)."""
    with catalog.session() as s:
        s.execute(
            delete(PartnerRow).where(
                PartnerRow.tenant_id == caller.tenant_id, PartnerRow.partner_id == partner_id
            )
        )
    forget_peers()
    return read_tenant(caller, catalog)


def _key_public(row: ApiKey) -> KeyPublic:
    return KeyPublic(
        id=row.id, role=row.role, name=row.name, prefix=row.prefix, created_at=utc(row.created_at)
    )


@router.get("/v1/keys", response_model=list[KeyPublic])
def list_keys(caller: OwnerDep, catalog: CatalogDep) -> list[KeyPublic]:
    """The tenant's keys (never the keys themselves: only their hashes are stored)."""
    with catalog.session() as s:
        rows = s.scalars(
            select(ApiKey).where(ApiKey.tenant_id == caller.tenant_id).order_by(ApiKey.id)
        ).all()
        return [_key_public(r) for r in rows]


@router.post("/v1/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, caller: OwnerDep, catalog: CatalogDep) -> KeyCreated:
    """A new key for the caller's tenant, shown once in the answer."""
    key = "idl_" + secrets.token_urlsafe(24)
    row = ApiKey(
        tenant_id=caller.tenant_id,
        role=body.role,
        name=body.name,
        prefix=key[:8],
        key_hash=hash_key(key),
    )
    with catalog.session() as s:
        s.add(row)
        s.flush()
        return KeyCreated(**_key_public(row).model_dump(), key=key)


@router.delete(
    "/v1/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no such key in the caller's tenant"}},
)
def delete_key(key_id: RowId, caller: OwnerDep, catalog: CatalogDep) -> None:
    """Revoke a key of the caller's tenant; it stops working at once."""
    with catalog.session() as s:
        row = s.get(ApiKey, key_id)
        if row is None or row.tenant_id != caller.tenant_id:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no key {key_id}")
        s.delete(row)
    forget_keys()
