"""The time zone each asset's site keeps its wall clock in, for analytics and the API: blackout
hours are the site's hours unless the asset's policy names another zone."""

from __future__ import annotations

from sqlalchemy import select

from storage.catalog.models import AssetSiteRow, SiteRow
from storage.catalog.repository import Catalog


def site_timezones(catalog: Catalog, tenant_id: str | None = None,
                   asset_id: str | None = None) -> dict[tuple[str, str], str]:
    """(tenant, asset) -> its site's IANA time zone, for the assets at a site (of the tenant,
    or only that asset, when given)."""
    q = select(AssetSiteRow.tenant_id, AssetSiteRow.asset_id, SiteRow.timezone).join(
        SiteRow, (SiteRow.tenant_id == AssetSiteRow.tenant_id)
        & (SiteRow.id == AssetSiteRow.site_id))
    if tenant_id is not None:
        q = q.where(AssetSiteRow.tenant_id == tenant_id)
    if asset_id is not None:
        q = q.where(AssetSiteRow.asset_id == asset_id)
    with catalog.session() as s:
        return {(t, a): tz for t, a, tz in s.execute(q).all()}
