"""How fast the asset page loads and draws in Debian's chromium: 30 days of 5-minute readings
(hourly buckets, the heat map's 4 weeks) next to the 7-day view in the same run.

One warehouse zone with a working-day pattern, one analytics pass, the API under uvicorn in a
thread on embedded SQLite, the page driven by Playwright. Each figure is the median of
``rounds`` switches of the range selector, timed in the page (``performance.now()``) from
the switch to the page marking itself loaded (its API calls answered, its charts drawn).
"""

from __future__ import annotations

import math
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

DAYS = 35
STEP_S = 300.0
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]


def _occupied(t: float) -> float:
    hour, weekday = (t % 86400) / 3600, int(t // 86400 + 3) % 7
    return 85.0 + 5 * math.sin(t / 5000) if 7 <= hour < 19 and weekday < 5 else 20.0


def run(rounds: int = 5) -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from analytics.runner import run_once
    from api.main import create_app
    from idleshare.assets import Asset
    from shell.localservers import free_port, wait_for_port
    from storage.catalog import Catalog
    from storage.readings import Reading
    from storage.sqlite import SqliteReadingStore

    binary = shutil.which("chromium")
    if not binary:
        raise SystemExit("error: Debian's chromium package is needed (apt-get install chromium)")
    root = Path(tempfile.mkdtemp(prefix="bench-web-"))
    catalog = Catalog(f"sqlite:///{root / 'catalog.db'}")
    store = SqliteReadingStore(root / "readings.db")
    now = time.time()
    catalog.upsert_asset(Asset(id="zone-a", tenant="acme", kind="warehouse_zone",
                               capacity=100.0, unit="pallet"), online=True, at=now)
    start = math.floor((now - DAYS * 86400) / STEP_S) * STEP_S
    times = [start + i * STEP_S for i in range(int((now - start) // STEP_S))]
    store.write([Reading("acme", "zone-a", "occupied", t, _occupied(t)) for t in times])
    run_once(catalog, store, now)
    key = catalog.create_key("acme", role="owner")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(catalog, store, dispatch_interval_s=None),
                                           host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    wait_for_port(port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=binary, args=ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/app#/asset/zone-a")
            page.fill("#key", key)
            page.click("#keyform button[type=submit]")
            page.wait_for_selector("body[data-loaded=asset]")
            took: dict[str, list[float]] = {"7h": [], "30h": []}
            for _ in range(rounds):
                for view in ("30h", "7h"):
                    began = page.evaluate("performance.now()")
                    page.select_option("#range-select", view)
                    page.wait_for_selector("body[data-loaded=asset]")
                    took[view].append(page.evaluate("performance.now()") - began)
            browser.close()
    finally:
        server.should_exit = True
        store.close()
        catalog.close()
        shutil.rmtree(root, ignore_errors=True)
    week, month = statistics.median(took["7h"]), statistics.median(took["30h"])
    print(f"asset page, {len(times):,} readings of 5 minutes, median of {rounds} rounds "
          f"(load average {_load():.1f}):")
    print(f"  7 days, hourly (the page's default view)        {week:7.0f} ms")
    print(f"  30 days, hourly (720 buckets, 4-week heat map)  {month:7.0f} ms  "
          f"({month / week:.2f}x the 7-day view; target < 1,000 ms)")


def _load() -> float:
    import os

    return os.getloadavg()[0]
