"""CSV exports: the rows of the JSON routes with the same filters, every page, nothing of
another tenant's, and cells a spreadsheet will not run as formulas."""

from __future__ import annotations

import csv
import io
import time

from fastapi.testclient import TestClient

from market.bookings import hold
from market.caller import Caller
from market.exports import to_csv
from storage.catalog import Catalog
from storage.readings import Reading
from tests.api.conftest import T0, add_asset, add_live_offer, add_window, auth
from tests.stores import MemoryStore


def rows(r) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


def test_utilisation_csv_is_the_json_series_bucket_for_bucket(
    client: TestClient, catalog: Catalog, store: MemoryStore
) -> None:
    add_asset(catalog, "acme", "z1")
    # 25 % occupied for the first hour, 75 % for the second, nothing in the third.
    store.write([Reading("acme", "z1", "occupied", T0 + i * 300, 25.0 if i < 12 else 75.0)
                 for i in range(24)])
    q = {"start": T0, "end": T0 + 3 * 3600, "bucket": "hour"}
    h = auth(catalog, "acme")
    points = client.get("/v1/assets/z1/utilisation", params=q, headers=h).json()["points"]
    got = rows(client.get("/v1/exports/utilisation.csv", params=q | {"asset": "z1"}, headers=h))
    assert [(r["start"], r["utilisation"], r["coverage"]) for r in got] == [
        (p["start"], "" if p["utilisation"] is None else str(p["utilisation"]), str(p["coverage"]))
        for p in points]
    assert [r["utilisation"] for r in got] == ["0.25", "0.75", ""]


def test_idle_window_csv_holds_every_page_of_the_json_list(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    for i in range(1205):  # more than one page of 1000
        add_window(catalog, "acme", "z1", T0 + i * 7200, T0 + i * 7200 + 3600)
    got = rows(client.get("/v1/exports/idle-windows.csv", params={"asset": "z1"},
                          headers=auth(catalog, "acme")))
    assert len(got) == 1205
    assert got[0]["min_free"] == "60.0" and got[0]["ongoing"] == "false"


def test_offer_and_booking_csv_are_the_callers_own_as_in_json(
    client: TestClient, catalog: Catalog
) -> None:
    add_asset(catalog, "acme", "z1")
    add_asset(catalog, "acme", "z2")
    future = time.time() + 86400
    o1 = add_live_offer(catalog, "acme", "z1", future)
    add_live_offer(catalog, "acme", "z2", future)
    add_asset(catalog, "globex", "g1")
    add_live_offer(catalog, "globex", "g1", future)
    b = hold(catalog, Caller("market", "platform"), o1, 10.0, 900.0, time.time())
    h = auth(catalog, "acme")
    offers = client.get("/v1/offers", params={"asset": "z1", "status": "any"}, headers=h).json()
    got = rows(client.get("/v1/exports/offers.csv", params={"asset": "z1", "status": "any"},
                          headers=h))
    assert [(int(r["id"]), float(r["available"])) for r in got] == [
        (o["id"], o["available"]) for o in offers["items"]] == [(o1, 30.0)]
    assert {r["tenant"] for r in rows(client.get("/v1/exports/offers.csv", headers=h))} == {"acme"}
    got = rows(client.get("/v1/exports/bookings.csv", params={"asset": "z1"}, headers=h))
    assert [(int(r["id"]), r["tenant"], r["status"]) for r in got] == [(b.id, "market", "held")]
    assert rows(client.get("/v1/exports/bookings.csv", params={"asset": "z2"}, headers=h)) == []


def test_another_tenants_asset_exports_as_missing(client: TestClient, catalog: Catalog) -> None:
    add_asset(catalog, "globex", "g1")
    add_window(catalog, "globex", "g1", T0, T0 + 3600)
    h = auth(catalog, "acme")
    r = client.get("/v1/exports/utilisation.csv", params={"asset": "g1"}, headers=h)
    assert r.status_code == 404
    assert rows(client.get("/v1/exports/idle-windows.csv", params={"asset": "g1"},
                           headers=h)) == []
    assert client.get("/v1/exports/offers.csv").status_code == 401


def test_text_cells_that_look_like_formulas_are_quoted_and_numbers_are_not() -> None:
    text = to_csv("idle-windows", [{"asset": "=HYPERLINK(1)", "min_free": -1.5, "unit": "@x",
                                    "ongoing": True}])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["asset"] == "'=HYPERLINK(1)" and row["unit"] == "'@x"
    assert row["min_free"] == "-1.5" and row["ongoing"] == "true" and row["end"] == ""
