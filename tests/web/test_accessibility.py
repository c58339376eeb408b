"""axe-core run in the fleet and asset pages and the market dashboard: no serious or critical
violation (WCAG 2.x A and AA rules)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.web.conftest import Site

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


@pytest.mark.parametrize("where", ["app#/fleet", "app#/asset/zone-a", ""])
def test_page_has_no_serious_or_critical_accessibility_violations(
    browser: Browser, site: Site, where: str
) -> None:
    # axe is injected as a script the pages' CSP would refuse: this context alone bypasses it.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{site.url}/{where}")
    page.evaluate("key => localStorage.setItem('idleshare.apiKey', key)", site.owner_key)
    page.reload()
    if where:
        page.wait_for_selector("body[data-loaded]")
    else:
        page.wait_for_selector("#assets tr td:has-text('Hall A')")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa"] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact,
            nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
    }""")
    context.close()
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert bad == [], bad
    assert errors == [], errors
