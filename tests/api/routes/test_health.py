from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.main import create_app
from idleshare.errors import StoreError
from storage.catalog import Catalog
from tests.stores import MemoryStore


def test_healthz_needs_no_key_and_reports_both_stores(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "catalog": "ok", "readings": "ok"}


class DownStore(MemoryStore):
    def query(self, *args: object) -> list[tuple[float, float]]:
        raise StoreError("down")


def test_healthz_is_503_when_the_readings_store_fails(catalog: Catalog) -> None:
    r = TestClient(create_app(catalog, DownStore())).get("/healthz")
    assert r.status_code == 503
    assert r.json() == {"status": "degraded", "catalog": "ok", "readings": "unavailable"}


class DownCatalog(Catalog):
    @contextmanager
    def session(self) -> Iterator[Session]:
        raise StoreError("catalog error: database is locked")
        yield


def test_healthz_is_503_when_the_catalog_fails(tmp_path: Path, store: MemoryStore) -> None:
    catalog = DownCatalog(f"sqlite:///{tmp_path / 'c.db'}")
    r = TestClient(create_app(catalog, store)).get("/healthz")
    assert r.status_code == 503
    assert r.json()["catalog"] == "unavailable"
