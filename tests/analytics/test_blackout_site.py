"""Blackout hours are wall-clock hours at the asset's site (a zone with daylight saving time
here), unless the asset's policy names a zone itself; the forecast route agrees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from analytics.runner import run_once
from api.main import create_app
from idleshare.assets import Asset
from market import sites
from storage.catalog import AssetRow, Catalog, OfferRow
from storage.readings import Reading
from tests.api.conftest import auth
from tests.stores import MemoryStore

NEW_YORK = ZoneInfo("America/New_York")  # UTC-5 in winter, UTC-4 from March to November
BLACKOUT = list(range(8, 18))  # 08:00-18:00 on the site's clock: never offered
STEP_S = 300.0


def idle_week(store: MemoryStore, now: float) -> None:
    """A warehouse zone empty all week: free at every hour, so only blackouts cut offers."""
    store.write([Reading("acme", "bay-1", "occupied", now - 7 * 86400 + i * STEP_S, 0.0)
                 for i in range(int(7 * 86400 / STEP_S))])


def offered_hours(catalog: Catalog, zone: ZoneInfo) -> set[int]:
    """Hours of the day, on ``zone``'s clock, that some live offer covers."""
    with catalog.session() as s:
        offers = s.scalars(select(OfferRow).where(OfferRow.status == "live")).all()
    hours = set()
    for o in offers:
        t = o.start
        while t < o.end:
            hours.add(datetime.fromtimestamp(t, zone).hour)
            t += STEP_S
    return hours


@pytest.fixture
def at_site(catalog: Catalog) -> Catalog:
    catalog.upsert_asset(Asset(id="bay-1", tenant="acme", kind="warehouse_zone",
                               capacity=100.0, unit="pallet"))
    sites.create(catalog, "acme", {"id": "nyc", "name": "Brooklyn",
                                   "timezone": "America/New_York"})
    sites.place(catalog, "acme", "nyc", "bay-1")
    with catalog.session() as s:
        s.get(AssetRow, ("acme", "bay-1")).policy = {"blackout_hours": BLACKOUT}
    return catalog


@pytest.mark.parametrize("day", [datetime(2024, 1, 16, tzinfo=UTC),  # EST
                                 datetime(2024, 7, 16, tzinfo=UTC)],  # EDT
                         ids=["winter", "summer"])
def test_blackout_hours_are_the_sites_wall_clock_hours_in_both_seasons(
    at_site: Catalog, day: datetime
) -> None:
    store, now = MemoryStore(), (day + timedelta(hours=3)).timestamp()
    idle_week(store, now)
    run_once(at_site, store, now)
    hours = offered_hours(at_site, NEW_YORK)
    assert hours, "no offers at all"
    assert not hours & set(BLACKOUT), sorted(hours)
    assert hours == set(range(24)) - set(BLACKOUT)
    # The same hours on the UTC clock move with daylight saving time.
    utc_hours = offered_hours(at_site, ZoneInfo("UTC"))
    shift = 5 if day.month == 1 else 4
    assert utc_hours == {(h + shift) % 24 for h in hours}


def test_a_zone_the_policy_names_wins_over_the_sites(at_site: Catalog) -> None:
    with at_site.session() as s:
        s.get(AssetRow, ("acme", "bay-1")).policy = {"blackout_hours": BLACKOUT,
                                                     "timezone": "UTC"}
    store, now = MemoryStore(), datetime(2024, 7, 16, 3, tzinfo=UTC).timestamp()
    idle_week(store, now)
    run_once(at_site, store, now)
    assert offered_hours(at_site, ZoneInfo("UTC")) == set(range(24)) - set(BLACKOUT)


def test_the_forecast_route_cuts_the_sites_blackout_hours_too(at_site: Catalog) -> None:
    store = MemoryStore()
    now = datetime.now(UTC).timestamp()
    idle_week(store, now)
    with TestClient(create_app(at_site, store, dispatch_interval_s=None)) as client:
        r = client.get("/v1/assets/bay-1/forecast", headers=auth(at_site, "acme"))
    assert r.status_code == 200, r.text
    slots = r.json()["slots"]
    assert slots
    for slot in slots:
        start = datetime.fromisoformat(slot["start"].replace("Z", "+00:00")).timestamp()
        end = datetime.fromisoformat(slot["end"].replace("Z", "+00:00")).timestamp()
        t = start
        while t < end:
            assert datetime.fromtimestamp(t, NEW_YORK).hour not in BLACKOUT, slot
            t += STEP_S
