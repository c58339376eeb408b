"""Browser tests: Debian's chromium driven by Playwright against a real API (uvicorn in a
thread) on the embedded defaults, a SQLite catalog and SQLite readings, seeded with two weeks
of 5-minute readings and one analytics pass, once per session (the tests only add to it)."""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from analytics.runner import run_once
from api.main import create_app
from idleshare.assets import Asset
from storage.catalog import Catalog
from storage.catalog.models import AssetSiteRow, SiteRow
from storage.readings import Reading
from storage.sqlite import SqliteReadingStore
from tests.market.receiver import LOCAL
from tests.servers import serving

DAYS = 14
STEP_S = 300.0
#: Launch flags for a sandboxed CI box: no GPU, no calls home, no first-run pages.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
    "--disable-default-apps", "--disable-sync",
]


@dataclass
class Site:
    url: str
    catalog: Catalog
    store: SqliteReadingStore
    owner_key: str
    platform_key: str
    assets: tuple[str, ...] = ("zone-a", "press-1", "van-1")


def _level(asset: str, t: float) -> float:
    """A working-day pattern: busy 07-19 UTC on weekdays, quiet at night and at weekends."""
    hour = (t % 86400) / 3600
    weekday = int(t // 86400 + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    busy = 7 <= hour < 19 and weekday < 5
    if asset == "zone-a":
        # Quiet at 20 %, on Thursdays and Sundays at 30 %: any week of nights has two busier
        # ones, so the forecast band (P10 to median of past nights) has a width.
        quiet = 30.0 if weekday in (3, 6) else 20.0
        return 85.0 + 5 * math.sin(t / 5000) if busy else quiet
    if asset == "press-1":
        return 1.0 if busy and hour < 16 else 0.0
    return 1.0 if busy and 9 <= hour < 13 else 0.0


def seed(catalog: Catalog, store: SqliteReadingStore, now: float) -> None:
    metric = {"zone-a": "occupied", "press-1": "running", "van-1": "in_use"}
    kinds = {"zone-a": ("warehouse_zone", 100.0, "pallet"), "press-1": ("machine", 1.0, "machine"),
             "van-1": ("vehicle", 3.5, "t")}
    for asset, (kind, capacity, unit) in kinds.items():
        catalog.upsert_asset(
            Asset(id=asset, tenant="acme", kind=kind, capacity=capacity, unit=unit,
                  name={"zone-a": "Hall A, bays 1-40"}.get(asset, "")),
            online=asset != "van-1", at=now - 600,
        )
        start = math.floor((now - DAYS * 86400) / STEP_S) * STEP_S
        times = [start + i * STEP_S for i in range(int((now - start) // STEP_S))]
        store.write([Reading("acme", asset, metric[asset], t, _level(asset, t)) for t in times])
    catalog.upsert_asset(Asset(id="m1", tenant="market", kind="machine", capacity=1.0,
                               unit="machine"), online=True, at=now)
    run_once(catalog, store, now)
    with catalog.session() as s:  # the sites' own routes are tested in tests/api
        s.add_all([SiteRow(tenant_id="acme", id="berlin-1", name="Berlin Nord",
                           timezone="Europe/Berlin"),
                   SiteRow(tenant_id="acme", id="hamburg-1", name="Hamburg Hafen",
                           timezone="Europe/Berlin")])
        s.flush()
        s.add_all([AssetSiteRow(tenant_id="acme", asset_id=a, site_id=site)
                   for a, site in (("zone-a", "berlin-1"), ("press-1", "berlin-1"),
                                   ("van-1", "hamburg-1"))])


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("web")
    catalog = Catalog(f"sqlite:///{root / 'catalog.db'}")
    store = SqliteReadingStore(root / "readings.db")
    seed(catalog, store, time.time())
    # The dispatcher and alert threads run, at a test's pace; webhooks may call this machine.
    with serving(create_app(catalog, store, dispatch_interval_s=0.3, outbound=LOCAL)) as url:
        yield Site(url, catalog, store, catalog.create_key("acme", role="owner"),
                   catalog.create_key("market", "platform"))
    store.close()
    catalog.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    binary = shutil.which("chromium")
    assert binary, "Debian's chromium package is needed (./dev test installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=binary, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Console:
    """Every console error and uncaught exception of a page; each test ends with none left
    but those it expected and took away."""

    errors: list[str] = field(default_factory=list)

    def on_message(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)

    def take(self, text: str) -> None:
        found = [e for e in self.errors if text in e]
        assert found, f"expected a console error with {text!r}: got {self.errors}"
        self.errors.remove(found[0])


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    p = context.new_page()
    p.set_default_timeout(10_000)
    p.on("console", console.on_message)
    p.on("pageerror", lambda err: console.errors.append(f"uncaught: {err}"))
    yield p
    context.close()
    assert console.errors == [], console.errors


def sign_in(page: Page, url: str, key: str, hash_: str = "#/fleet") -> None:
    page.goto(f"{url}/app{hash_}")
    page.fill("#key", key)
    page.click("#keyform button[type=submit]")
    page.wait_for_selector("body[data-loaded]")
