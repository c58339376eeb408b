"""Alerts under several API processes or hosts on one catalog: one alerts pass runs at a time
(the ``alerts`` job lease), so each alert fires once and is delivered once; when the holder
stops another takes over; and deliveries that overlap anyway send each alert once. On SQLite
and PostgreSQL, each thread with its own Catalog (its own engine and connections), as
separate processes have."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from market import alerts
from storage.catalog import AssetRow, Catalog
from storage.catalog.models import AlertRow
from tests.api.conftest import add_asset, auth
from tests.ingest.conftest import wait_for
from tests.market.receiver import LOCAL, Receiver, local_client
from tests.stores import MemoryStore


@pytest.fixture
def lclient(catalog: Catalog, store: MemoryStore) -> Iterator[TestClient]:
    yield from local_client(catalog, store)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hosts(catalog_url: str, catalog: Catalog) -> Iterator[list[Catalog]]:
    """Two more catalogs on the ``catalog`` fixture's database: two hosts' connections."""
    made = [Catalog(catalog_url), Catalog(catalog_url)]
    yield made
    for c in made:
        c.close()


def offline_rule_over(client: TestClient, catalog: Catalog, receiver: Receiver,
                      n: int) -> list[str]:
    """``n`` assets of acme, an owner webhook to ``receiver`` and an offline rule over all;
    returns the assets' ids."""
    ids = [f"z{i}" for i in range(n)]
    for asset_id in ids:
        add_asset(catalog, "acme", asset_id)
    client.post("/v1/webhooks", json={"url": receiver.url}, headers=auth(catalog, "acme"))
    client.post("/v1/alert-rules", json={"kind": "offline", "minutes": 1},
                headers=auth(catalog, "acme"))
    return ids


def go_offline(catalog: Catalog, *asset_ids: str) -> None:
    with catalog.session() as s:
        for asset_id in asset_ids:
            row = s.get(AssetRow, ("acme", asset_id))
            row.online, row.status_at = False, time.time() - 600


def delivery_ids(receiver: Receiver) -> list[str]:
    return [headers["X-Idleshare-Delivery"] for headers, _ in list(receiver.requests)]


def test_two_alerts_threads_fire_and_deliver_each_alert_once_and_one_takes_over(
    lclient: TestClient, catalog: Catalog, store: MemoryStore, hosts: list[Catalog],
    receiver: Receiver,
) -> None:
    ids = offline_rule_over(lclient, catalog, receiver, 6)
    threads = [alerts.AlertsThread(c, store, LOCAL.post, interval_s=0.05) for c in hosts]
    passes = {t.owner: 0 for t in threads}
    for t in threads:
        run = t._pass

        def counted(t: alerts.AlertsThread = t, run=run) -> bool:  # type: ignore[no-untyped-def]
            if ran := run():
                passes[t.owner] += 1
            return ran

        t._run_pass = counted
    for t in threads:
        t.start()
    try:
        go_offline(catalog, *ids[:4])
        wait_for(lambda: len(receiver.requests) >= 4, lambda: delivery_ids(receiver))
        time.sleep(0.6)  # a dozen passes more of each thread
        assert sorted(delivery_ids(receiver)) == sorted(set(delivery_ids(receiver)))
        assert len(receiver.requests) == 4
        holder = next(o for o, n in passes.items() if n)
        assert [n for o, n in passes.items() if o != holder] == [0]  # one ran every pass
        # The holder stops (its process ends): the other takes over at once.
        [stopping] = [t for t in threads if t.owner == holder]
        stopping.stop()
        go_offline(catalog, *ids[4:])
        wait_for(lambda: len(receiver.requests) >= 6, lambda: delivery_ids(receiver))
        time.sleep(0.6)
        assert len(receiver.requests) == len(set(delivery_ids(receiver))) == 6
        assert all(passes.values())
    finally:
        for t in threads:
            t.stop()
    with catalog.session() as s:
        fired = [a.asset_id for a in s.query(AlertRow).all()]
    assert sorted(fired) == ids  # each fired once
    assert sorted(json.loads(body)["alert"]["asset"] for _, body in receiver.requests) == ids


def test_a_live_lease_is_refused_to_others_and_a_lapsed_one_is_taken_over(
    catalog: Catalog, hosts: list[Catalog]
) -> None:
    a, b = hosts
    now = time.time()
    assert a.hold_lease("alerts", "host-a", now, 30.0)
    assert not b.hold_lease("alerts", "host-b", now + 1, 30.0)
    assert a.hold_lease("alerts", "host-a", now + 2, 30.0)  # renewed: until now + 32
    assert not b.hold_lease("alerts", "host-b", now + 31, 30.0)
    assert b.hold_lease("alerts", "host-b", now + 33, 30.0)  # lapsed: host-a died
    assert not a.hold_lease("alerts", "host-a", now + 34, 30.0)
    b.release_lease("alerts", "host-b")
    assert a.hold_lease("alerts", "host-a", now + 35, 30.0)


def test_racing_for_a_free_lease_exactly_one_wins(hosts: list[Catalog]) -> None:
    now, start, won = time.time(), threading.Barrier(2), []

    def race(c: Catalog, owner: str) -> None:
        start.wait()
        if c.hold_lease("race", owner, now, 30.0):
            won.append(owner)

    racers = [threading.Thread(target=race, args=(c, f"host-{i}")) for i, c in enumerate(hosts)]
    for t in racers:
        t.start()
    for t in racers:
        t.join(30)
    assert len(won) == 1


def test_overlapping_deliveries_send_each_alert_once(
    lclient: TestClient, catalog: Catalog, store: MemoryStore, hosts: list[Catalog],
    receiver: Receiver,
) -> None:
    ids = offline_rule_over(lclient, catalog, receiver, 20)
    go_offline(catalog, *ids)
    assert alerts.evaluate(catalog, store) == 20
    start = threading.Barrier(2)

    def slow_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        time.sleep(0.01)  # deliveries take time: the other pass runs meanwhile
        return LOCAL.post(url, body, headers)

    def deliver(c: Catalog) -> None:
        start.wait()
        alerts.deliver(c, slow_post)

    racers = [threading.Thread(target=deliver, args=(c,)) for c in hosts]
    for t in racers:
        t.start()
    for t in racers:
        t.join(60)
    assert len(receiver.requests) == len(set(delivery_ids(receiver))) == 20
