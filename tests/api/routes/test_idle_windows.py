from __future__ import annotations

from fastapi.testclient import TestClient

from storage.catalog import Catalog
from tests.api.conftest import T0, add_asset, add_window, auth, walk

H = 3600.0


def test_only_the_callers_windows_are_listed(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1", unit="m2")
    add_asset(catalog, "globex", "z1")
    add_window(catalog, "acme", "z1", T0, T0 + 2 * H)
    add_window(catalog, "globex", "z1", T0, T0 + 5 * H)
    body = client.get("/v1/idle-windows", headers=auth(catalog, "acme")).json()
    assert body == {
        "items": [
            {
                "asset": "z1",
                "start": "2024-05-01T00:00:00Z",
                "end": "2024-05-01T02:00:00Z",
                "min_free": 60.0,
                "mean_free": 70.0,
                "unit": "m2",
                "ongoing": False,
            }
        ],
        "next_cursor": None,
    }


def test_windows_filter_by_asset_and_overlap(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    add_asset(catalog, "acme", "z2")
    add_window(catalog, "acme", "z1", T0, T0 + H)  # ends at the range start: out
    add_window(catalog, "acme", "z1", T0 + 2 * H, T0 + 4 * H)  # overlaps: in
    add_window(catalog, "acme", "z1", T0 + 5 * H, T0 + 6 * H)  # starts at the range end: out
    add_window(catalog, "acme", "z2", T0 + 2 * H, T0 + 3 * H)  # other asset: out
    r = client.get(
        "/v1/idle-windows",
        headers=auth(catalog, "acme"),
        params={"asset": "z1", "start": T0 + H, "end": "2024-05-01T05:00:00Z"},
    )
    assert [(w["asset"], w["start"]) for w in r.json()["items"]] == [("z1", "2024-05-01T02:00:00Z")]


def test_pagination_walks_every_window_once_even_with_equal_starts(
    client: TestClient, catalog: Catalog
) -> None:
    for a in ("z1", "z2", "z3"):
        add_asset(catalog, "acme", a)
        for i in range(3):
            add_window(catalog, "acme", a, T0 + i * H, T0 + (i + 1) * H)
    items, pages = walk(client, "/v1/idle-windows", auth(catalog, "acme"), limit=2)
    seen = [(w["asset"], w["start"]) for w in items]
    assert len(seen) == len(set(seen)) == 9
    assert [w["start"] for w in items] == sorted(w["start"] for w in items)
    assert pages == 5


def test_inverted_range_is_422(client: TestClient, catalog: Catalog) -> None:
    r = client.get(
        "/v1/idle-windows", headers=auth(catalog, "acme"), params={"start": T0, "end": T0}
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "start must be before end"
