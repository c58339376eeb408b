"""The asset page's status panel shows the agent's outbox as the API reports it (queued and
dropped readings, which agent, when), and the alert-rule form offers "agent dropping
readings", which fires a signed webhook when the agent's dropped count grows."""

from __future__ import annotations

import json
import time

import httpx
from playwright.sync_api import Page, expect

from market.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from storage.catalog import AssetRow
from tests.market.receiver import Receiver
from tests.web.conftest import Site, sign_in
from tests.web.test_asset import get

AGENT = "gw-hall-a"


def test_the_status_panel_shows_the_agents_queued_and_dropped_readings(
    page: Page, site: Site
) -> None:
    with site.catalog.session() as s:
        s.get(AssetRow, ("acme", "press-1")).agent = AGENT
    site.catalog.record_agent_status("acme", AGENT, True, time.time() - 30, (1234, 0))
    site.catalog.record_agent_status("acme", AGENT, True, time.time() - 20, (1234, 56))
    sign_in(page, site.url, site.owner_key, "#/asset/press-1")
    status = get(site, "v1/assets/press-1/status").json()
    assert (status["queued"], status["dropped"]) == (1234, 56)
    assert page.inner_text("#agent-queued") == "1,234"
    assert page.inner_text("#agent-dropped") == "56"
    assert f"agent {AGENT}" in page.inner_text("#agent-reported")


def test_an_asset_without_an_agent_status_says_so(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.owner_key, "#/asset/van-1")
    assert page.inner_text("#agent-queued") == "–"
    assert page.inner_text("#agent-reported") == "no agent status"


def test_an_agent_dropping_rule_made_on_the_page_fires_a_signed_webhook(
    page: Page, site: Site
) -> None:
    receiver = Receiver()
    try:
        hook = httpx.post(f"{site.url}/v1/webhooks", json={"url": receiver.url},
                          headers={"Authorization": f"Bearer {site.owner_key}"})
        assert hook.status_code == 201, hook.text
        with site.catalog.session() as s:
            s.get(AssetRow, ("acme", "zone-a")).agent = "gw-zone-a"
        site.catalog.record_agent_status("acme", "gw-zone-a", True, time.time() - 60, (0, 0))
        sign_in(page, site.url, site.owner_key, "#/asset/zone-a")
        page.select_option("#rule-kind", "agent_dropping")
        page.fill("#rule-minutes", "15")
        page.click("#alert-rule button[type=submit]")
        page.wait_for_selector("#rule-result:has-text('Rule added')")
        expect(page.locator("#rules")).to_contain_text(
            "the agent dropped readings in the last 15 min")
        site.catalog.record_agent_status("acme", "gw-zone-a", True, time.time(), (300, 12))
        deadline = time.monotonic() + 10
        sent = []
        while time.monotonic() < deadline and not sent:
            sent = [(h, b) for h, b in list(receiver.requests)
                    if h.get("X-Idleshare-Event") == "alert.agent_dropping"]
            time.sleep(0.1)
        [(headers, body)] = sent
        assert verify(hook.json()["secret"], headers[TIMESTAMP_HEADER], body,
                      headers[SIGNATURE_HEADER])
        alert = json.loads(body)["alert"]
        assert alert["asset"] == "zone-a" and "12 in all" in alert["message"]
    finally:
        receiver.close()
