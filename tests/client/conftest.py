"""The platform client against a real API: uvicorn serving it on a free loopback port (in a
thread of the test process), its webhook dispatcher running and allowed to reach this
machine, over a fresh catalog of each engine seeded with an owner's offers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from api.main import create_app
from storage.catalog import Catalog
from tests.api.conftest import add_asset, add_live_offer, store  # noqa: F401 - a fixture
from tests.market.receiver import LOCAL
from tests.servers import serving
from tests.stores import MemoryStore

#: When the seeded offers start: a week ahead, so none is over during a test.
FUTURE = time.time() + 7 * 86400


@dataclass
class Api:
    url: str
    catalog: Catalog
    platform_key: str
    owner_key: str
    offers: list[int]

    def add_offer(self, quantity: float = 40.0) -> int:
        """A new live offer of acme's, with its ``created`` event, as analytics makes one."""
        offer = add_live_offer(self.catalog, "acme", "z1", FUTURE + 3600 * len(self.offers),
                               quantity=quantity)
        self.offers.append(offer)
        return offer


@pytest.fixture
def api(catalog: Catalog, store: MemoryStore) -> Iterator[Api]:  # noqa: F811 - the fixture
    add_asset(catalog, "acme", "z1")
    seeded = Api("", catalog, catalog.create_key("market", role="platform"),
                 catalog.create_key("acme", role="owner"), [])
    for quantity in (10.0, 20.0, 30.0, 40.0, 50.0):
        seeded.add_offer(quantity)
    with serving(create_app(catalog, store, dispatch_interval_s=0.2, outbound=LOCAL)) as url:
        seeded.url = url
        yield seeded
