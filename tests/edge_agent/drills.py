"""Helpers of the drills: configs, a subscriber's view of what arrived, outbox snapshots."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path

from tests.edge_agent.test_agent_mqtt import Subscriber

Key = tuple[str, str, float]  # (asset, metric, time)


def agent_toml(url: str, tenant: str, outbox: Path, assets: str, extra_mqtt: str = "",
               buffer: str = "", clock: str = "") -> str:
    # These drills have a broker and no ingest, so nothing would receipt: the agent runs as a
    # plain MQTT publisher (PUBACK deletes). Receipts: tests/ingest/test_receipt_drills.py.
    return (f'[agent]\nid = "gw-{tenant}"\ntenant = "{tenant}"\n'
            f'[mqtt]\nurl = "{url}"\nreconnect_min_s = 1\nreconnect_max_s = 1\n'
            f'receipts = false\n{extra_mqtt}'
            f'[buffer]\npath = "{outbox}"\nmax_pack = 50\n{buffer}'
            f"{clock}{assets}")


def zones(n: int, interval_s: int = 1) -> str:
    return "".join(f'[[assets]]\nid = "zone-{i:02d}"\nkind = "warehouse_zone"\ncapacity = 400\n'
                   f"interval_s = {interval_s}\n" for i in range(n))


MIXED = ('[[assets]]\nid = "zone-a"\nkind = "warehouse_zone"\ncapacity = 400\ninterval_s = 1\n'
         '[[assets]]\nid = "truck-1"\nkind = "vehicle"\ncapacity = 20\nlat = 52.4\nlon = -1.9\n'
         "interval_s = 1\n")


def arrivals(sub: Subscriber) -> dict[Key, set[int]]:
    """Every reading that arrived, with the sequence numbers of the messages that carried it."""
    seen: dict[Key, set[int]] = defaultdict(set)
    for pack in sub.packs():
        for m in pack.measurements:
            seen[(pack.asset, m.name, m.time)].add(pack.seq)
    return seen


def assert_none_twice(seen: dict[Key, set[int]]) -> None:
    """A message may be delivered again (same seq, same content: ingest drops it by seq), but
    no reading may travel in two different messages, or ingest would store it twice."""
    twice = {key: seqs for key, seqs in seen.items() if len(seqs) > 1}
    assert not twice, f"{len(twice)} readings in two messages, e.g. {next(iter(twice.items()))}"


def outbox_keys(path: Path) -> set[Key]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {(a, n, t) for a, n, t in db.execute("SELECT asset, name, time FROM outbox")}
    finally:
        db.close()
