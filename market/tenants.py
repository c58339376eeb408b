"""A tenant as its keys see it: its groups and its partners (API keys are the catalog's own:
:meth:`storage.catalog.Catalog.mint_key`, ``keys``, ``delete_key``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import CursorResult, delete, select

from market import audit
from market.errors import Invalid
from market.visibility import forget_peers
from storage.catalog import Catalog, GroupMemberRow, PartnerRow, Tenant


@dataclass(frozen=True)
class TenantView:
    id: str
    name: str
    groups: list[str]
    partners: list[str]  # tenants this one shares `partners` offers with
    partner_of: list[str]  # tenants that share theirs with this one


def view(catalog: Catalog, tenant: str) -> TenantView:
    with catalog.session() as s:
        row = s.get(Tenant, tenant)
        groups = s.scalars(
            select(GroupMemberRow.group_id).where(GroupMemberRow.tenant_id == tenant)
        )
        partners = s.scalars(select(PartnerRow.partner_id).where(PartnerRow.tenant_id == tenant))
        of = s.scalars(select(PartnerRow.tenant_id).where(PartnerRow.partner_id == tenant))
        return TenantView(
            id=tenant,
            name=row.name if row else tenant,
            groups=sorted(groups),
            partners=sorted(partners),
            partner_of=sorted(of),
        )


def add_partner(catalog: Catalog, tenant: str, partner: str, by: int | None = None) -> None:
    """Share ``tenant``'s `partners` offers with ``partner`` (idempotent); ``by``: the key
    id, for the audit log (whose new entry makes every API process forget its peers)."""
    if partner == tenant:
        raise Invalid("a tenant cannot partner itself")
    with catalog.session() as s:
        if s.get(PartnerRow, (tenant, partner)) is None:
            s.add(PartnerRow(tenant_id=tenant, partner_id=partner))
            audit.record(s, tenant, by, "partner.added", partner)
    forget_peers()


def remove_partner(catalog: Catalog, tenant: str, partner: str, by: int | None = None) -> None:
    """Stop sharing `partners` offers with ``partner`` (idempotent), at once in every API
    process (see :func:`add_partner`)."""
    with catalog.session() as s:
        result = s.execute(
            delete(PartnerRow).where(
                PartnerRow.tenant_id == tenant, PartnerRow.partner_id == partner
            )
        )
        if isinstance(result, CursorResult) and result.rowcount:
            audit.record(s, tenant, by, "partner.removed", partner)
    forget_peers()
