"""The asset page: charts drawn from the API's numbers, the policy editor's field errors, CSV
exports equal to the JSON lists, and a booking made on the market dashboard showing on the
asset's timeline."""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page

from tests.web.conftest import Console, Site, sign_in
from tests.web.test_fleet import pct

#: The README's picture of the asset page, made by this test: written where
#: IDLESHARE_SCREENSHOT says (``IDLESHARE_SCREENSHOT=docs/asset-page.png ./dev test tests/web``),
#: else into the test's own folder, so a test run leaves the checkout as it was.
SCREENSHOT = os.environ.get("IDLESHARE_SCREENSHOT", "")
UTIL_BLUE = (0, 114, 178)  # the utilisation line, Okabe-Ito blue
OFFER_ORANGE = (230, 159, 0)
BAND = (242, 207, 178)  # the forecast band: vermilion at 30 % on white


def get(site: Site, path: str, key: str | None = None, **params: object) -> httpx.Response:
    r = httpx.get(f"{site.url}/{path}", params=params,
                  headers={"Authorization": f"Bearer {key or site.owner_key}"})
    assert r.status_code == 200, r.text
    return r


def pixels_of(page: Page, selector: str, rgb: tuple[int, int, int]) -> int:
    """Opaque pixels of about colour ``rgb`` on the canvas: 0 where nothing was drawn in it."""
    return page.eval_on_selector(selector, """(c, rgb) => {
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 200 && Math.abs(d[i] - rgb[0]) < 24 && Math.abs(d[i + 1] - rgb[1]) < 24
                && Math.abs(d[i + 2] - rgb[2]) < 24) n++;
        }
        return n;
    }""", list(rgb))


def heat_cell(page: Page, day: int, hour: int) -> list[int]:
    """The colour at the centre of the heat map's cell (0 = Monday, hour UTC)."""
    return page.eval_on_selector("#heatmap", """(c, at) => {
        const cw = (c.width - 44) / 24, ch = (c.height - 22) / 7;
        const x = Math.round(40 + (at[1] + 0.5) * cw), y = Math.round(18 + (at[0] + 0.5) * ch);
        return Array.from(c.getContext("2d").getImageData(x, y, 1, 1).data.slice(0, 3));
    }""", [day, hour])


def test_asset_page_draws_utilisation_offers_and_heatmap_with_the_apis_numbers(
    page: Page, site: Site, tmp_path: Path
) -> None:
    sign_in(page, site.url, site.owner_key, "#/asset/zone-a")
    assert pixels_of(page, "#usage-chart canvas", UTIL_BLUE) > 200
    assert pixels_of(page, "#usage-chart canvas", OFFER_ORANGE) > 20  # the offer lane
    # Viridis: the busy Monday noon bright yellow-green (85 %), the night dark blue (20 %).
    noon, night = heat_cell(page, 0, 12), heat_cell(page, 0, 3)
    assert noon[1] > 190 and noon[2] < 110, noon
    assert night[1] < 90 and night[2] > 110, night
    k = next(a for a in get(site, "v1/kpis", asset="zone-a").json()["assets"])
    assert page.inner_text("#kpi-utilisation") == pct(k["utilisation"])
    assert page.inner_text("#kpi-idle") == pct(k["idle_share"])
    status = get(site, "v1/assets/zone-a/status").json()
    assert status["online"] and page.inner_text("#asset-status") == "online"
    offers = get(site, "v1/offers", asset="zone-a", status="any", limit=1000).json()["items"]
    assert offers
    shown = page.locator("#timeline tr[data-offer]")
    assert sorted(int(shown.nth(i).get_attribute("data-offer") or 0)
                  for i in range(shown.count())) == sorted(o["id"] for o in offers)
    shot = Path(SCREENSHOT) if SCREENSHOT else tmp_path / "asset-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000  # a picture of a drawn page, not a blank one


def shown(x: float | None) -> str:
    """A quantity as the page's forecast table writes it (fmtNum with 3 digits)."""
    return "–" if x is None else f"{x:,.3f}".rstrip("0").rstrip(".")


def test_the_forecast_band_is_drawn_and_its_figures_are_the_apis(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.owner_key, "#/asset/zone-a")
    slots = get(site, "v1/assets/zone-a/forecast").json()["slots"]
    assert slots and all(s["median"] is not None for s in slots)
    # Seeded nights: 2 of every 7 at 70 pallets free, the others at 80, so a night's slot
    # has P10 70 and median 80 (a slot reaching into working hours has a lower P10).
    assert all(s["p10"] <= s["median"] for s in slots)
    assert any(s["p10"] < s["median"] for s in slots)
    # A band at least 10 % of capacity high in a 300 px plot, slots of hours: not a strip.
    assert pixels_of(page, "#usage-chart canvas", BAND) > 400
    rows = page.locator("#forecast tr[data-slot]")
    assert rows.count() == len(slots)
    for i, slot in enumerate(slots):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[1:4] == [shown(slot["quantity"]), shown(slot["p10"]),
                              shown(slot["median"])], (cells, slot)
    assert page.inner_text("#forecast-unit") == "pallet"


def test_an_offline_asset_says_so(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.owner_key, "#/asset/van-1")
    assert page.inner_text("#asset-status") == "offline"


def test_policy_editor_shows_the_apis_field_error_then_saves_a_good_value(
    page: Page, site: Site, console: Console
) -> None:
    sign_in(page, site.url, site.owner_key, "#/asset/press-1")
    # Refused in the page, before any request: out of PolicyBody's range.
    page.fill("#policy-min_free_fraction", "1.5")
    page.click("#policy-save")
    assert "at most 1" in page.inner_text("#policy-min_free_fraction-error")
    page.fill("#policy-min_free_fraction", "0.5")
    # Only the API can tell a time zone exists: its 422 lands beside the field.
    page.fill("#policy-timezone", "Mars/Olympus_Mons")
    page.click("#policy-save")
    page.wait_for_selector("#policy-timezone[aria-invalid=true]")
    assert "IANA time zone" in page.inner_text("#policy-timezone-error")
    assert page.inner_text("#policy-min_free_fraction-error") == ""
    console.take("422")  # the browser logs the refused request
    assert get(site, "v1/assets/press-1/policy").json()["overrides"] == {}
    # A one-machine asset offers nothing by default (0.9 machine kept after the 10 % reserve
    # is below the smallest quantity, 1): half a machine is enough now.
    assert get(site, "v1/assets/press-1/forecast").json()["slots"] == []
    page.fill("#policy-timezone", "Europe/Berlin")
    page.fill("#policy-blackout_hours", "0, 1, 2")
    page.fill("#policy-min_quantity", "0.5")
    page.click("#policy-save")
    page.wait_for_selector("#policy-result:has-text('Saved')")
    assert page.get_attribute("#policy-timezone", "aria-invalid") is None
    policy = get(site, "v1/assets/press-1/policy").json()
    assert policy["overrides"] == {"timezone": "Europe/Berlin", "blackout_hours": [0, 1, 2],
                                   "min_quantity": 0.5}
    # The forecast follows the new policy at once (offers at the next analysis pass): slots
    # now, none of them in the blackout hours.
    page.wait_for_selector("#policy-result:has-text('forecast slots')")
    slots = get(site, "v1/assets/press-1/forecast").json()["slots"]
    assert f" {len(slots)} forecast slots." in page.inner_text("#policy-result")
    assert slots, "no forecast slots to check"
    berlin = ZoneInfo("Europe/Berlin")
    for slot in slots:  # no slot reaches into 00-03 Berlin time
        t, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
        while t < end:
            assert t.astimezone(berlin).hour not in (0, 1, 2), slot
            t += timedelta(minutes=5)


def download(page: Page, what: str) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.click(f"button[data-export={what}]")
    text = Path(info.value.path()).read_text()
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_exports_hold_what_the_json_routes_answer(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.owner_key, "#/asset/zone-a")
    start = page.get_attribute("#usage-chart", "data-start")
    end = page.get_attribute("#usage-chart", "data-end")
    util = get(site, "v1/assets/zone-a/utilisation", bucket="hour", start=start, end=end).json()
    rows = download(page, "utilisation")
    assert len(rows) == len(util["points"]) >= 7 * 24
    for row, p in zip(rows, util["points"], strict=True):
        assert row["start"] == p["start"]
        assert row["utilisation"] == ("" if p["utilisation"] is None else str(p["utilisation"]))
    windows = get(site, "v1/idle-windows", asset="zone-a", start=start, limit=1000).json()
    rows = download(page, "idle-windows")
    assert [(r["start"], r["end"], float(r["min_free"])) for r in rows] == [
        (w["start"], w["end"], w["min_free"]) for w in windows["items"]] and rows
    offers = get(site, "v1/offers", asset="zone-a", status="any", limit=1000).json()["items"]
    rows = download(page, "offers")
    assert [(int(r["id"]), float(r["available"])) for r in rows] == [
        (o["id"], o["available"]) for o in offers]


def test_a_booking_held_and_confirmed_on_the_market_shows_on_the_assets_timeline(
    page: Page, site: Site, console: Console
) -> None:
    # The platform holds an offer of zone-a and confirms it on the market dashboard.
    page.goto(site.url + "/")
    page.fill("#key", site.platform_key)
    page.click("#keyform button[type=submit]")
    row = page.locator("#offers tr", has=page.locator("td", has_text="zone-a")).first
    row.locator("input").fill("5")
    row.locator("button", has_text="Hold").click()
    page.wait_for_selector("#status.info:has-text('Held')")
    page.locator("#bookings tr", has=page.locator("button", has_text="Confirm")).first.locator(
        "button", has_text="Confirm").click()
    page.wait_for_selector("#status.info:has-text('confirmed')")
    booking = get(site, "v1/bookings", site.platform_key, status="confirmed").json()["items"][0]
    assert booking["asset"] == "zone-a" and booking["quantity"] == 5
    # The owner sees it on the asset's timeline and in the bookings export.
    page.evaluate("localStorage.clear()")
    sign_in(page, site.url, site.owner_key, "#/asset/zone-a")
    shown = page.locator(f'#timeline tr[data-booking="{booking["id"]}"]')
    assert "confirmed" in shown.inner_text() and "by market" in shown.inner_text()
    assert pixels_of(page, "#usage-chart canvas", (204, 121, 167)) > 0  # the booking lane
    rows = download(page, "bookings")
    assert [(int(r["id"]), r["status"]) for r in rows] == [(booking["id"], "confirmed")]


def test_thirty_days_of_the_asset_load_and_draw(page: Page, site: Site) -> None:
    # How fast is measured by `python -m bench web` (a timed assertion here would fail on a
    # loaded machine, not on a slow page).
    sign_in(page, site.url, site.owner_key, "#/asset/zone-a")
    page.select_option("#range-select", "30h")  # 720 hourly buckets and 4 weeks for the heat map
    page.wait_for_selector("body[data-loaded=asset]")
    assert pixels_of(page, "#usage-chart canvas", UTIL_BLUE) > 200
