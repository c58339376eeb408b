"""``idleshare demo``: the whole platform on one machine, on embedded defaults.

Broker (in-process amqtt unless ``mqtt_url`` is set), readings store (SQLite unless
``influx_url`` is set), a simulated fleet of agents (one per tenant, one for each tenant's
by-product containers with six days of history, and one for a few trucks with two weeks of
it: :mod:`edge_agent.fleet`), ingest, analytics on a schedule and the API, started in
dependency order and stopped in reverse. Once the analytics has found them, the console shows
leg offers, a booking of the demo platform on one and the impact total, then by-product
offers, a collection it books and the impact total with the tonnes collected
(:mod:`shell.demo_showcase`).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from shell.localservers import free_port
from shell.settings import Settings

if TYPE_CHECKING:
    from storage.catalog import Catalog

log = logging.getLogger("shell.demo")

#: Seconds between analytics passes in the demo (the simulated clock runs fast).
DEMO_ANALYTICS_INTERVAL_S = 15.0
#: Longest wait for one agent to connect before the next is started (a broker that is down
#: does not stop the demo: the agents keep trying).
AGENT_CONNECT_S = 5.0


def create_demo_sites(catalog: Catalog) -> None:
    """The sites the demo fleet's births name: one per tenant and city, with its wall clock."""
    from edge_agent.fleet import demo_sites
    from market import sites

    for tenant, cities in demo_sites().items():
        catalog.ensure_tenant(tenant)
        for city in cities:
            sites.create(catalog, tenant, {"id": city.code, "name": city.name,
                                           "address": city.name, "timezone": city.timezone,
                                           "lat": city.lat, "lon": city.lon})


class Demo:
    def __init__(self, settings: Settings, port: int = 8000, host: str = "127.0.0.1",
                 n_assets: int = 60, speed: float = 60.0, fresh_data_dir: bool = True) -> None:
        self.settings, self.port, self.host = settings, port, host
        self.n_assets, self.speed = n_assets, speed
        self._fresh = fresh_data_dir
        self._stops: list[Callable[[], object]] = []

    def run(self, stop: threading.Event) -> None:
        try:
            self.start()
            stop.wait()
        finally:
            self.shutdown()

    def start(self) -> None:
        import uvicorn

        from analytics import calendars
        from analytics.runner import run_forever
        from api.main import create_app
        from edge_agent.agent import Agent
        from edge_agent.fleet import (
            CONTAINER_HISTORY_D,
            TRUCK_HISTORY_D,
            demo_fleet,
            demo_trucks,
        )
        from ingest.service import Ingest
        from market.caller import Caller
        from market.outbound import OutboundPolicy
        from shell import demo_showcase
        from shell.stores import open_reading_store
        from storage.catalog import Catalog

        # Owners' calendar feeds, fetched under the webhooks' outbound policy.
        calendars.set_feed_fetcher(OutboundPolicy.from_env().fetch)

        if self._fresh:
            tmp = Path(tempfile.mkdtemp(prefix="idleshare-demo-"))
            self.settings = self.settings.model_copy(update={"data_dir": tmp})
            self._stops.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
        data_dir = self.settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)

        mqtt_url = self.settings.mqtt_url
        if not mqtt_url:
            from shell.broker import EmbeddedBroker

            broker = EmbeddedBroker(port=free_port()).start()
            self._stops.append(broker.stop)
            mqtt_url = broker.url

        # The first screen is for the URL and keys: the new catalog's migration steps, logged
        # by Alembic at INFO, would push them off it.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        store = open_reading_store(self.settings)
        catalog = Catalog(self.settings.catalog)
        self._stops.append(store.close)
        self._stops.append(catalog.close)

        fleet = demo_fleet(n_assets=self.n_assets, speed=self.speed, mqtt_url=mqtt_url,
                           outbox_dir=data_dir / "outbox")
        fleet.append(demo_trucks(max(1, self.n_assets // 20), mqtt_url, data_dir / "outbox"))
        keys = {cfg.agent.tenant: catalog.create_key(cfg.agent.tenant, "owner", "demo")
                for cfg in fleet}
        platform_key = catalog.create_key("demo-platform", "platform", "demo platform")
        create_demo_sites(catalog)

        # The trucks' history is older than the 7 days ingest takes by default.
        history_d = max(TRUCK_HISTORY_D, CONTAINER_HISTORY_D)
        ingest = Ingest(store, catalog, mqtt_url, client_id=f"idleshare-demo-{time.time_ns()}",
                        max_age_s=(history_d + 1) * 86400.0)
        ingest.start()
        self._stops.append(ingest.stop)

        agents = [Agent(cfg) for cfg in fleet]
        for agent in agents:
            agent.start()
            self._stops.append(agent.stop)
            # The embedded broker (amqtt 0.12.1) walks its subscriptions while a client
            # connects and drops that connection if another client subscribes meanwhile (a
            # RuntimeError in Broker._handle_client_session): connect the agents one by one.
            deadline = time.monotonic() + AGENT_CONNECT_S
            while not agent.stats.connected and time.monotonic() < deadline:
                time.sleep(0.02)

        stop_analytics = threading.Event()
        worker = threading.Thread(
            target=run_forever, args=(catalog, store, DEMO_ANALYTICS_INTERVAL_S, stop_analytics),
            name="analytics", daemon=True)
        worker.start()

        def stop_worker() -> None:
            stop_analytics.set()
            worker.join(timeout=30)

        self._stops.append(stop_worker)

        server = uvicorn.Server(uvicorn.Config(create_app(catalog, store), host=self.host,
                                               port=self.port, log_level="warning"))
        web = threading.Thread(target=server.run, name="api", daemon=True)
        web.start()
        deadline = time.monotonic() + 20
        while not server.started and web.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not server.started:
            from idleshare.errors import ConfigError

            raise ConfigError(f"the API could not listen on {self.host}:{self.port}")

        def stop_web() -> None:
            server.should_exit = True
            web.join(timeout=15)

        self._stops.append(stop_web)

        stop_showing = threading.Event()
        showing = threading.Thread(target=demo_showcase.run,
                                   args=(catalog, Caller("demo-platform", "platform"),
                                         stop_showing), name="showcase", daemon=True)
        showing.start()

        def stop_showcase() -> None:
            stop_showing.set()
            showing.join(timeout=30)

        self._stops.append(stop_showcase)

        first_tenant = fleet[0].agent.tenant
        print(f"idleshare demo: {len(agents)} agents, broker {mqtt_url}, "
              f"readings in {'InfluxDB' if self.settings.influx_url else 'SQLite'}", flush=True)
        print(f"Open http://{self.host}:{self.port}/ (API docs at /docs)", flush=True)
        print(f"API key: {keys[first_tenant]}", flush=True)
        for tenant, key in keys.items():
            print(f"  owner key of {tenant}: {key}", flush=True)
        print(f"  platform key (public offers of every tenant): {platform_key}", flush=True)

    def shutdown(self) -> None:
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:  # keep stopping the rest
                log.exception("error while stopping the demo")
        print("idleshare demo stopped", flush=True)
