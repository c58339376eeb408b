"""The application as a whole: OpenAPI docs, and storage failures turned into 503."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from idleshare.errors import StoreError
from storage.catalog import Catalog
from tests.api.conftest import add_asset, auth
from tests.stores import MemoryStore


def test_docs_and_openapi_load(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "idleshare"
    assert {
        "/healthz",
        "/v1/assets",
        "/v1/assets/{asset_id}",
        "/v1/assets/{asset_id}/utilisation",
        "/v1/idle-windows",
        "/v1/offers",
    } <= set(spec["paths"])
    # The bearer scheme is what makes /docs show its Authorize button.
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An idleshare API key (`idleshare keys create`), sent as `Bearer <key>`.",
    }
    assert spec["paths"]["/v1/offers"]["get"]["security"] == [{"ApiKey": []}]
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_schemas_carry_examples_for_docs(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("AssetPublic", "OfferPublic", "IdleWindowPublic", "UtilisationPublic"):
        assert schemas[name]["examples"], name


class FailingStore(MemoryStore):
    def query(self, *args: object) -> list[tuple[float, float]]:
        raise StoreError("influx: connection refused")


def test_store_failure_is_503_without_backend_details(catalog: Catalog) -> None:
    add_asset(catalog, "acme", "z1")
    client = TestClient(create_app(catalog, FailingStore()))
    r = client.get("/v1/assets/z1/utilisation", headers=auth(catalog, "acme"))
    assert r.status_code == 503
    assert "connection refused" not in r.text
