"""The fleet page: per-kind utilisation this week vs last, offers and offline assets, each
number as the API gives it, and a drawn chart."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from playwright.sync_api import Page

from tests.web.conftest import Site, sign_in


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f} %"


def drawn_pixels(page: Page, selector: str) -> int:
    """Pixels of the canvas under ``selector`` that are not transparent: 0 for a blank one."""
    return page.eval_on_selector(selector, """c => {
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
    }""")


def kpis(site: Site, start: float, end: float) -> dict:
    iso = lambda t: datetime.fromtimestamp(t, UTC).isoformat()  # noqa: E731
    r = httpx.get(f"{site.url}/v1/kpis", params={"start": iso(start), "end": iso(end)},
                  headers={"Authorization": f"Bearer {site.owner_key}"})
    assert r.status_code == 200, r.text
    return r.json()


def test_fleet_page_shows_each_kinds_utilisation_as_the_api_computes_it(
    page: Page, site: Site
) -> None:
    sign_in(page, site.url, site.owner_key)
    now = time.time()
    this_week, last_week = kpis(site, now - 7 * 86400, now), kpis(site, now - 14 * 86400,
                                                                    now - 7 * 86400)
    assert {k["kind"] for k in this_week["kinds"]} == {"warehouse_zone", "machine", "vehicle"}
    before = {k["kind"]: k["utilisation"] for k in last_week["kinds"]}
    for k in this_week["kinds"]:
        row = page.locator(f'#kinds tr[data-kind="{k["kind"]}"]')
        # The page asked a moment earlier: the 5-minute readings give the same 0.1 %.
        assert row.locator(".util-now").inner_text() == pct(k["utilisation"])
        assert row.locator(".util-last").inner_text() == pct(before.get(k["kind"]))
    assert drawn_pixels(page, "#kinds-chart canvas") > 1000
    assert page.inner_text("#assets-offline") == "1"  # van-1's agent is gone


def test_fleet_page_counts_live_offers_as_the_api_lists_them(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.owner_key)
    r = httpx.get(f"{site.url}/v1/offers", params={"status": "live", "limit": 1000},
                  headers={"Authorization": f"Bearer {site.owner_key}"})
    live = len(r.json()["items"])
    assert live > 0, "the analytics pass made no offers"
    assert page.inner_text("#offers-live") == str(live)


def test_an_asset_opens_from_the_fleet_list(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.owner_key)
    page.click('#fleet-assets tr[data-asset="zone-a"] a')
    page.wait_for_selector("body[data-loaded=asset]")
    assert page.url.endswith("#/asset/zone-a")
    assert "Hall A, bays 1-40" in page.inner_text("#asset-title")


def test_fleet_page_shows_each_sites_kinds_as_the_api_computes_them(
    page: Page, site: Site
) -> None:
    sign_in(page, site.url, site.owner_key)
    now = time.time()
    iso = lambda t: datetime.fromtimestamp(t, UTC).isoformat()  # noqa: E731
    for site_id, kinds in (("berlin-1", {"warehouse_zone", "machine"}), ("hamburg-1", {"vehicle"})):
        r = httpx.get(f"{site.url}/v1/kpis", headers={"Authorization": f"Bearer {site.owner_key}"},
                      params={"site": site_id, "start": iso(now - 7 * 86400), "end": iso(now)})
        got = {k["kind"]: k for k in r.json()["kinds"]}
        assert set(got) == kinds
        for kind, k in got.items():
            row = page.locator(f'#sites tr[data-site="{site_id}"][data-kind="{kind}"]')
            assert row.locator(".util-now").inner_text() == pct(k["utilisation"])


def test_fleet_page_shows_the_weeks_revenue_as_the_api_computes_it(page: Page, site: Site) -> None:
    platform = {"Authorization": f"Bearer {site.platform_key}"}
    offers = httpx.get(f"{site.url}/v1/offers", params={"limit": 1000}, headers=platform)
    offer = next(o for o in offers.json()["items"] if o["tenant"] == "acme" and o["available"])
    held = httpx.post(f"{site.url}/v1/bookings", headers=platform,
                      json={"offer_id": offer["id"], "quantity": min(1.0, offer["available"])})
    assert held.status_code == 201, held.text
    confirmed = httpx.post(f"{site.url}/v1/bookings/{held.json()['id']}/confirm",
                           headers=platform)
    assert confirmed.status_code == 200, confirmed.text
    sign_in(page, site.url, site.owner_key)
    now = time.time()
    iso = lambda t: datetime.fromtimestamp(t, UTC).isoformat()  # noqa: E731
    week = 7 * 86400
    r = httpx.get(f"{site.url}/v1/impact",
                  params={"start": iso(now - week), "end": iso(now + week)},
                  headers={"Authorization": f"Bearer {site.owner_key}"})
    revenue = r.json()["total"]["revenue"]
    assert revenue, "no confirmed booking counted"

    def shown(x: float) -> str:  # the page's fmtNum(x, 2): en grouping, at most 2 decimals
        return f"{x:,.2f}".rstrip("0").rstrip(".")

    assert page.inner_text("#revenue") == " · ".join(
        f"{shown(v)} {c}" for c, v in revenue.items())
