from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_root_serves_the_self_contained_page_without_a_key(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert 'id="key"' in page and "localStorage" in page
    # Self-contained: nothing loaded from elsewhere (the SVG namespace is a name, not a fetch).
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    assert "v1/assets" in page and "v1/idle-windows" in page and "v1/offers" in page


def test_root_is_not_in_the_api_schema(client: TestClient) -> None:
    assert "/" not in client.get("/openapi.json").json()["paths"]
