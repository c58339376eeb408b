"""Analytics on several workers: a pass is split among the live workers through the catalog's
leases, every asset analysed by exactly one of them; a dead worker's share is taken over once
its lease lapses, within the pass; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from analytics.workers import PassReport, run_pass, run_worker
from idleshare.assets import Asset
from idleshare.errors import ConfigError
from storage.catalog import Catalog
from storage.catalog import leases as L
from storage.readings import Reading

INTERVAL = 3600.0
ASSETS = 200


class CountingStore:
    """No readings; counts how often each asset's primary series is read (once per analysis)."""

    def __init__(self) -> None:
        self.analyses: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def write(self, readings: list[Reading]) -> None:
        pass

    def query(self, tenant: str, asset: str, metric: str, start: float,
              end: float) -> list[tuple[float, float]]:
        if metric == "occupied":
            with self.lock:
                self.analyses[(tenant, asset)] += 1
        return []

    def count(self, tenant: str | None = None) -> int:
        return 0

    def close(self) -> None:
        pass


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    cat = Catalog(catalog_url)
    for n in range(ASSETS):
        cat.upsert_asset(Asset(f"zone-{n}", f"t{n % 7}", "warehouse_zone", 100, "pallet"))
    yield cat
    cat.close()


def pass_clock(offset_s: float = 10.0) -> Callable[[], float]:
    """Real seconds, starting ``offset_s`` into a pass, so a test never straddles two."""
    origin, base = time.time(), 1_000 * INTERVAL + offset_s
    return lambda: base + time.time() - origin


def in_threads(*work: Callable[[], PassReport]) -> list[PassReport]:
    reports: list[PassReport | BaseException] = [RuntimeError("not run")] * len(work)
    start = threading.Barrier(len(work))

    def run(i: int) -> None:
        start.wait()
        try:
            reports[i] = work[i]()
        except BaseException as err:  # re-raised below, in the test's thread
            reports[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for r in reports:
        if isinstance(r, BaseException):
            raise r
    return reports  # type: ignore[return-value]


def test_two_workers_split_a_pass_and_analyse_every_asset_exactly_once(
    catalog_url: str, catalog: Catalog,
) -> None:
    store, clock = CountingStore(), pass_clock()
    hosts = [Catalog(catalog_url), Catalog(catalog_url)]
    with hosts[0].session() as s:
        now = clock()
        for worker in ("w1", "w2"):  # both live before either claims its share
            L.heartbeat(s, worker, now, INTERVAL)

    a, b = in_threads(*(
        (lambda c=c, w=w: run_pass(c, store, w, INTERVAL, 30.0, clock=clock))
        for c, w in zip(hosts, ("w1", "w2"), strict=True)))

    assert sorted(a.buckets + b.buckets) == list(range(L.BUCKETS))
    assert len(a.buckets) == len(b.buckets) == L.BUCKETS // 2  # a fair share each
    assert a.assets + b.assets == ASSETS and a.assets > 0 and b.assets > 0
    assert len(store.analyses) == ASSETS and set(store.analyses.values()) == {1}
    for h in hosts:
        h.close()


def test_a_dead_workers_buckets_are_analysed_by_another_once_its_lease_lapses(
    catalog: Catalog,
) -> None:
    store, clock = CountingStore(), pass_clock()
    pass_no = int(clock() // INTERVAL)
    with catalog.session() as s:
        L.ensure_buckets(s)
        L.heartbeat(s, "dead", clock(), INTERVAL)
    with catalog.session() as s:  # claims a share, then dies (SIGKILL: no leave, no finish)
        theirs = L.claim(s, "dead", pass_no, clock(), ttl_s=1.0)
    assert len(theirs) == L.BUCKETS  # alone when it claimed: everything

    began = time.monotonic()
    report = run_pass(catalog, store, "alive", INTERVAL, lease_s=1.0, clock=clock)

    assert report.buckets == list(range(L.BUCKETS))
    assert report.assets == ASSETS and set(store.analyses.values()) == {1}
    assert time.monotonic() - began < 10  # a lease, not an interval, later


def test_a_worker_taken_over_after_its_lease_lapsed_learns_it(catalog: Catalog) -> None:
    clock = pass_clock()
    pass_no = int(clock() // INTERVAL)
    with catalog.session() as s:
        L.ensure_buckets(s)
    with catalog.session() as s:
        slow = L.claim(s, "slow", pass_no, clock(), ttl_s=0.0, limit=4)
    with catalog.session() as s:
        taken = L.claim(s, "fast", pass_no, clock(), ttl_s=60.0, limit=64)
    with catalog.session() as s:
        assert set(slow) <= set(taken)
        assert L.finish(s, "slow", pass_no, slow) == []  # not its any more
        assert L.finish(s, "fast", pass_no, taken) == taken


def test_the_next_pass_splits_the_assets_again(catalog: Catalog) -> None:
    store, clock = CountingStore(), pass_clock()
    first = run_pass(catalog, store, "w1", INTERVAL, 30.0, clock=clock)
    later = pass_clock(INTERVAL + 10.0)
    second = run_pass(catalog, store, "w1", INTERVAL, 30.0, clock=later)

    assert second.pass_no == first.pass_no + 1
    assert first.assets == second.assets == ASSETS
    assert set(store.analyses.values()) == {2}
    # Within a pass, the same worker does not analyse again.
    assert run_pass(catalog, store, "w1", INTERVAL, 30.0, clock=later).assets == 0


def test_a_worker_leaving_cleanly_is_no_longer_live(catalog: Catalog) -> None:
    stop = threading.Event()
    store = CountingStore()
    worker = threading.Thread(target=run_worker,
                              args=(catalog, store, "w1", 0.5, 0.2, stop))
    worker.start()
    deadline = time.monotonic() + 20
    while len(store.analyses) < ASSETS:
        assert time.monotonic() < deadline, "the worker analysed nothing"
        time.sleep(0.05)
    # Its 0.2 s heartbeat may lapse between passes on a busy machine: live again at the next.
    while True:
        with catalog.session() as s:
            if L.live_workers(s, time.time()) == ["w1"]:
                break
        assert time.monotonic() < deadline, "the running worker was never live"
        time.sleep(0.02)
    stop.set()
    worker.join(20)
    with catalog.session() as s:
        assert L.live_workers(s, time.time()) == []


@pytest.mark.parametrize(("interval", "lease", "word"), [
    (0.0, 1.0, "analytics_interval_s"), (30.0, 30.0, "analytics_lease_s"),
    (30.0, 0.0, "analytics_lease_s")])
def test_a_lease_not_shorter_than_the_interval_is_refused_naming_the_setting(
    catalog: Catalog, interval: float, lease: float, word: str,
) -> None:
    with pytest.raises(ConfigError, match=word):
        run_worker(catalog, CountingStore(), "w1", interval, lease, threading.Event())
