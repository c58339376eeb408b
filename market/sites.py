"""A tenant's sites: the places its assets stand at, each with a wall-clock time zone.

An asset stands at one site at most (``asset_sites``); another tenant's site or asset is
indistinguishable from a missing one. Not in the audit log: its entries also move the
catalog's visibility generation (market/audit.py), and sites change no one's visibility.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from market.assets import own, page
from market.errors import Conflict, Invalid, NotFound
from market.rows import ascending, change_owned, owned
from storage.catalog import AssetRow, Catalog
from storage.catalog.models import AssetSiteRow, SiteRow


def _check_timezone(tz: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise Invalid(f"timezone must be an IANA time zone such as 'Europe/Berlin': got {tz!r}",
                      field="timezone") from err


def of_tenant(catalog: Catalog, tenant: str, after: str | None, limit: int) -> list[SiteRow]:
    """The tenant's sites by id, beyond ``after``."""
    return ascending(catalog, select(SiteRow).where(SiteRow.tenant_id == tenant), SiteRow.id,
                     after, limit)


def one(catalog: Catalog, tenant: str, site_id: str) -> SiteRow:
    with catalog.session() as s:
        return owned(s, SiteRow, tenant, site_id, "site")


def create(catalog: Catalog, tenant: str, fields: dict[str, Any]) -> SiteRow:
    _check_timezone(fields.get("timezone", "UTC"))
    try:
        with catalog.session() as s:
            if s.get(SiteRow, (tenant, fields["id"])) is not None:
                raise Conflict(f"site {fields['id']!r} exists")
            row = SiteRow(tenant_id=tenant, **fields)
            s.add(row)
    except IntegrityError as err:  # created at the same moment by another request
        raise Conflict(f"site {fields['id']!r} exists") from err
    return one(catalog, tenant, fields["id"])


def update(catalog: Catalog, tenant: str, site_id: str, changes: dict[str, Any]) -> SiteRow:
    if "timezone" in changes:
        _check_timezone(changes["timezone"])
    change_owned(catalog, SiteRow, tenant, site_id, "site", changes)
    return one(catalog, tenant, site_id)


def place(catalog: Catalog, tenant: str, site_id: str, asset_id: str) -> None:
    """Put the tenant's asset at the tenant's site (moving it from any other)."""
    one(catalog, tenant, site_id)
    own(catalog, tenant, asset_id)
    with catalog.session() as s:
        link = s.get(AssetSiteRow, (tenant, asset_id))
        if link is None:
            s.add(AssetSiteRow(tenant_id=tenant, asset_id=asset_id, site_id=site_id))
        else:
            link.site_id = site_id


def unplace(catalog: Catalog, tenant: str, site_id: str, asset_id: str) -> None:
    with catalog.session() as s:
        link = s.get(AssetSiteRow, (tenant, asset_id))
        if link is None or link.site_id != site_id:
            raise NotFound(f"no asset {asset_id!r} at site {site_id!r}")
        s.delete(link)


def asset_ids(catalog: Catalog, tenant: str, site_id: str) -> set[str]:
    """Ids of the assets at the tenant's site (:class:`NotFound` for no such site)."""
    one(catalog, tenant, site_id)
    q = select(AssetSiteRow.asset_id).where(AssetSiteRow.tenant_id == tenant,
                                            AssetSiteRow.site_id == site_id)
    with catalog.session() as s:
        return set(s.scalars(q).all())


def assets_at(catalog: Catalog, tenant: str, site_id: str, kind: str | None, after: str | None,
              limit: int) -> list[AssetRow]:
    """The assets at the tenant's site by id, beyond ``after`` (as assets.of_tenant pages)."""
    one(catalog, tenant, site_id)
    q = (select(AssetRow).join(AssetSiteRow, (AssetSiteRow.tenant_id == AssetRow.tenant_id)
                               & (AssetSiteRow.asset_id == AssetRow.id))
         .where(AssetRow.tenant_id == tenant, AssetSiteRow.site_id == site_id))
    return page(catalog, q, kind, after, limit)
