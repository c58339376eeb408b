"""A tenant's own assets: listing, registering, changing and removing them, and their
sharing policy. Another tenant's asset is indistinguishable from a missing one."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from idleshare.assets import Asset
from idleshare.errors import ConfigError
from idleshare.materials import MATERIAL_KINDS, Material
from market import audit
from market.errors import Conflict, Invalid, NotFound
from market.rows import ascending, change_owned, owned
from storage.catalog import AssetRow, Catalog, IdleWindowRow, OfferRow
from storage.catalog.locks import lock_asset
from storage.catalog.models import AuditRow


def own(catalog: Catalog, tenant: str, asset_id: str) -> AssetRow:
    """The tenant's asset, or :class:`NotFound`."""
    row = catalog.asset(tenant, asset_id)
    if row is None:
        raise NotFound(f"no asset {asset_id!r}")
    return row


def of_tenant(
    catalog: Catalog, tenant: str, kind: str | None, after: str | None, limit: int
) -> list[AssetRow]:
    """The tenant's assets by id, beyond ``after``."""
    return page(catalog, select(AssetRow).where(AssetRow.tenant_id == tenant), kind, after, limit)


def page(catalog: Catalog, q: Select[AssetRow], kind: str | None, after: str | None,
         limit: int) -> list[AssetRow]:
    """One page of the assets ``q`` selects in id order: of ``kind`` if given, beyond ``after``."""
    if kind is not None:
        q = q.where(AssetRow.kind == kind)
    return ascending(catalog, q, AssetRow.id, after, limit)


def register(catalog: Catalog, asset: Asset) -> AssetRow:
    """Register an asset by hand (agents register theirs with their birth message)."""
    if catalog.asset(asset.tenant, asset.id) is not None:
        raise Conflict(f"asset {asset.id!r} exists")
    catalog.upsert_asset(asset)
    return own(catalog, asset.tenant, asset.id)


def update(catalog: Catalog, tenant: str, asset_id: str, changes: dict[str, Any]) -> AssetRow:
    """Set the given columns (name, capacity, lat, lon) of the tenant's asset."""
    return change_owned(catalog, AssetRow, tenant, asset_id, "asset", changes)


def remove(catalog: Catalog, tenant: str, asset_id: str) -> None:
    """Remove an asset that never had offers, with its idle windows. One with offers stays,
    because bookings and the feed refer to them."""
    with catalog.session() as s:
        owned(s, AssetRow, tenant, asset_id, "asset")
        offers = s.scalar(
            select(OfferRow.id)
            .where(OfferRow.tenant_id == tenant, OfferRow.asset_id == asset_id)
            .limit(1)
        )
        if offers is not None:
            raise Conflict(
                f"asset {asset_id!r} has offers, which bookings and feeds refer to: "
                "withdraw them and set its visibility to private instead"
            )
        w = IdleWindowRow
        s.execute(delete(w).where(w.tenant_id == tenant, w.asset_id == asset_id))
        s.execute(delete(AssetRow).where(AssetRow.tenant_id == tenant, AssetRow.id == asset_id))


def set_policy(
    catalog: Catalog, tenant: str, asset_id: str, overrides: dict[str, Any], by: int | None = None
) -> AssetRow:
    """Replace the owner's policy overrides, refused (:class:`Invalid`) where analytics would
    refuse them, so no stored policy stops the asset's analysis."""
    from analytics.policy import SharingPolicy  # numpy and scikit-learn: only when needed

    own(catalog, tenant, asset_id)  # another tenant's asset is a 404 whatever the body
    try:
        SharingPolicy.from_dict(overrides)
    except (ConfigError, ValueError, TypeError) as err:
        # The message names the key ("policy key 'timezone' must be ..."): so does field.
        key = re.match(r"(?:unknown )?policy key '(\w+)'", str(err))
        raise Invalid(str(err), field=key[1] if key else None) from err
    with catalog.session() as s:
        row = owned(s, AssetRow, tenant, asset_id, "asset")
        audit.record(s, tenant, by, "policy.changed", asset_id, {"policy": overrides})
        row.policy = overrides
        return row


def declare_material(catalog: Catalog, tenant: str, asset_id: str, material: Material | None,
                     by: int | None = None) -> AssetRow:
    """Declare (or with None, withdraw the declaration of) the material the tenant's
    container holds, in the audit log as by the key ``by``; :class:`Invalid` for an asset of
    another kind. Its by-product offers follow at the next analysis (an undeclared container
    is not offered)."""
    with catalog.session() as s:
        row = owned(s, AssetRow, tenant, asset_id, "asset")
        if row.kind not in MATERIAL_KINDS:
            raise Invalid(f"asset {asset_id!r} is a {row.kind}: only a "
                          f"{' or '.join(sorted(MATERIAL_KINDS))} holds a material")
        row.material = None if material is None else material.to_dict()
        audit.record(s, tenant, by, "material.declared", asset_id, {"material": row.material})
        return row


def declare_material_from_agent(catalog: Catalog, tenant: str, agent: str, asset_id: str,
                                material: Material) -> bool:
    """Declare the material an agent's birth names for the tenant's container, unless its
    owner has declared or withdrawn one through :func:`declare_material` (the owner's word
    stands; until then a changed agent config takes effect); True when it changed."""
    declared = material.to_dict()
    with catalog.session() as s:
        row = s.get(AssetRow, (tenant, asset_id))
        if row is None or row.material == declared:  # every refresh: a read, no lock
            return False
        row = lock_asset(s, tenant, asset_id)  # an owner's declaration meanwhile is seen
        if row is None or row.material == declared or _owner_declared(s, tenant, asset_id):
            return False
        row.material = declared
        audit.record(s, tenant, None, "material.declared", asset_id,
                     {"material": declared, "agent": agent})
        return True


def _owner_declared(s: Session, tenant: str, asset_id: str) -> bool:
    """The asset's latest material declaration is the owner's (not from an agent's birth)."""
    a = AuditRow
    latest = s.scalar(select(a.detail).where(
        a.tenant_id == tenant, a.action == "material.declared", a.target == asset_id
    ).order_by(a.id.desc()).limit(1))
    return latest is not None and "agent" not in latest
