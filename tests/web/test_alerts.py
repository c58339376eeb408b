"""An alert rule made on the asset page fires: the owner's webhook receives it signed, and
the page lists it."""

from __future__ import annotations

import json
import time

import httpx
from playwright.sync_api import Page, expect

from market.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.market.receiver import Receiver
from tests.web.conftest import Site, sign_in


def test_an_offline_rule_made_on_the_page_fires_a_signed_webhook(page: Page, site: Site) -> None:
    receiver = Receiver()
    try:
        hook = httpx.post(f"{site.url}/v1/webhooks", json={"url": receiver.url},
                          headers={"Authorization": f"Bearer {site.owner_key}"})
        assert hook.status_code == 201, hook.text
        sign_in(page, site.url, site.owner_key, "#/asset/van-1")  # offline for 10 minutes
        page.select_option("#rule-kind", "offline")
        page.fill("#rule-minutes", "5")
        page.click("#alert-rule button[type=submit]")
        page.wait_for_selector("#rule-result:has-text('Rule added')")
        # The list is drawn again after the answer: wait for it rather than read it at once.
        expect(page.locator("#rules")).to_contain_text("offline for more than 5 min")
        deadline = time.monotonic() + 10
        alerts = []
        while time.monotonic() < deadline and not alerts:
            alerts = [(h, b) for h, b in receiver.requests
                      if h.get("X-Idleshare-Event") == "alert.offline"]
            time.sleep(0.1)
        [(headers, body)] = alerts
        secret = hook.json()["secret"]
        assert verify(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        sent = json.loads(body)["alert"]
        assert sent["asset"] == "van-1" and sent["active"]
        page.reload()
        page.wait_for_selector("body[data-loaded=asset]")
        row = page.locator(f'#alerts tr[data-alert="{sent["id"]}"]')
        assert "active" in row.inner_text() and "van-1 offline" in row.inner_text()
    finally:
        receiver.close()
