"""Rate limits shared by several API processes through Redis (the `limits` library's
storage): a key-guessing run spread over the processes meets one budget, not one each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import RateLimits
from storage.catalog import Catalog
from tests.api.conftest import auth
from tests.servers import RedisServer, start_redis
from tests.stores import MemoryStore


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = start_redis(tmp_path / "redis")
    yield server
    server.stop()


def _apps(catalog: Catalog, store: MemoryStore, redis: RedisServer,
          **limits: str) -> list[TestClient]:
    """Two API apps, as two worker processes or hosts would run them, with their own limit
    objects on one Redis."""
    return [TestClient(create_app(catalog, store, dispatch_interval_s=None,
                                  rate_limits=RateLimits(storage_uri=redis.url, **limits)))
            for _ in range(2)]


def test_failed_authentications_count_across_processes(
    catalog: Catalog, store: MemoryStore, redis: RedisServer
) -> None:
    one, two = _apps(catalog, store, redis, failed_auth="4/minute")
    codes = [(one if i % 2 else two).get("/v1/tenant", headers={
        "Authorization": f"Bearer idl_guess{i}"}).status_code for i in range(6)]
    # In memory each process would allow 4: 8 guesses before the first 429.
    assert codes == [401] * 4 + [429] * 2
    r = one.get("/v1/tenant", headers={"Authorization": "Bearer idl_more"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_a_keys_request_budget_is_shared_across_processes(
    catalog: Catalog, store: MemoryStore, redis: RedisServer
) -> None:
    one, two = _apps(catalog, store, redis, per_key="6/minute")
    h = auth(catalog, "acme")
    codes = [(one if i % 2 else two).get("/v1/tenant", headers=h).status_code
             for i in range(8)]
    assert codes == [200] * 6 + [429] * 2
