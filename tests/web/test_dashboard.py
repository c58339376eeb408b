"""The market dashboard (/) through the page script it shares with the app: an owner sees its
assets, and forgetting the key empties the page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.conftest import Site


def open_dashboard(page: Page, site: Site, key: str) -> None:
    page.goto(f"{site.url}/")
    page.fill("#key", key)
    page.click("#keyform button[type=submit]")


def test_owner_sees_its_assets_and_forgetting_the_key_empties_the_page(
    page: Page, site: Site
) -> None:
    open_dashboard(page, site, site.owner_key)
    expect(page.locator("#assets tr")).to_have_count(len(site.assets))
    for asset in site.assets:
        expect(page.locator("#assets")).to_contain_text(asset)
    expect(page.locator("#who")).not_to_be_empty()
    page.click("#forget")
    expect(page.locator("#assets tr")).to_have_count(0)
    expect(page.locator("#who")).to_be_empty()
    expect(page.locator("#status")).to_contain_text("Paste an API key")
    assert page.evaluate("localStorage.getItem('idleshare.apiKey')") is None
