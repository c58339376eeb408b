"""Helpers of the receipt drills: a real edge agent replaying known readings, a broker that
keeps nothing on disk, and the exact set of points InfluxDB must hold."""

from __future__ import annotations

import time
from pathlib import Path

from edge_agent.config import AgentConfig, parse
from shell.localservers import MOSQUITTO, mosquitto_conf
from tests.ingest.drill import influxql
from tests.servers import MosquittoServer, free_port

ASSETS = ("zone-1", "zone-2", "zone-3")
#: Rows per second of each replayed file (the agent samples every second and takes them all).
ROWS_PER_S = 20


def volatile_mosquitto(workdir: Path) -> MosquittoServer:
    """A broker with persistence off: a SIGKILL loses every queued message and session."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(mosquitto_conf(port, None, max_queued=1_000_000))
    server = MosquittoServer("mosquitto", [MOSQUITTO, "-c", str(conf)], port, workdir)
    server.start()
    return server


class Readings:
    """One CSV per asset, a row every 1/ROWS_PER_S s from ``backlog_s`` ago to ``live_s``
    ahead: the agent sends the past at once (a backlog) and the rest as the clock reaches it.
    ``expected[asset]`` is every (time in ms -> value) InfluxDB must hold at the end."""

    def __init__(self, folder: Path, backlog_s: float, live_s: float) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        start_ms = int(time.time() - backlog_s) * 1000
        n = int((backlog_s + live_s) * ROWS_PER_S)
        step = 1000 // ROWS_PER_S
        self.expected: dict[str, dict[int, float]] = {}
        self.end = (start_ms + n * step) / 1000
        for k, asset in enumerate(ASSETS):
            rows = {start_ms + i * step: float((i * 7 + k) % 400) for i in range(n)}
            self.expected[asset] = rows
            (folder / f"{asset}.csv").write_text("time,occupied\n" + "".join(
                f"{t / 1000:.3f},{v}\n" for t, v in rows.items()))

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.expected.values())

    def toml(self, agent: str, tenant: str, url: str, outbox: Path, extra: str = "") -> str:
        head = (f'[agent]\nid = "{agent}"\ntenant = "{tenant}"\n'
                f'[mqtt]\nurl = "{url}"\nreconnect_min_s = 1\nreconnect_max_s = 2\n{extra}'
                f'[buffer]\npath = "{outbox}"\nmax_pack = 50\n')
        return head + "".join(
            f'[[assets]]\nid = "{a}"\nkind = "warehouse_zone"\ncapacity = 400\nunit = "pallet"\n'
            f'source = "replay"\ninterval_s = 1\n[assets.replay]\n'
            f'file = "{self.folder / a}.csv"\ntime_format = "epoch"\n'
            f'values = {{ occupied = "occupied" }}\n' for a in ASSETS)

    def config(self, agent: str, tenant: str, url: str, outbox: Path, extra: str = ""
               ) -> AgentConfig:
        return parse(self.toml(agent, tenant, url, outbox, extra))


def stored_ms(url: str, db: str, tenant: str) -> dict[str, list[tuple[int, float]]]:
    """Every point of the tenant per asset, times in ms; a list, so a double would show."""
    answer = influxql(url, db, f"SELECT value FROM readings WHERE tenant = '{tenant}' "
                               "GROUP BY asset")
    out: dict[str, list[tuple[int, float]]] = {}
    for series in answer["results"][0].get("series", []):
        out[series["tags"]["asset"]] = [(round(t / 1000), v) for t, v in series["values"]]
    return out


def total(url: str, db: str, tenant: str) -> int:
    try:
        return sum(len(v) for v in stored_ms(url, db, tenant).values())
    except OSError:
        return 0


def assert_stored_exactly_once(url: str, db: str, tenant: str, readings: Readings) -> None:
    got = stored_ms(url, db, tenant)
    for asset, want in readings.expected.items():
        points = got.get(asset, [])
        assert len(points) == len({t for t, _ in points}), f"{asset}: a point twice"
        missing = sorted(set(want) - {t for t, _ in points})
        assert not missing, f"{asset}: {len(missing)} of {len(want)} readings lost"
        assert dict(points) == want, asset
