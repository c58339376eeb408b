"""`idleshare demo` as a user runs it: starts, prints a key, serves offers, shows leg offers
of its trucks, a booking on one and the impact total, then by-product offers of its containers,
a collection booked on one and the impact total with the tonnes collected, stops cleanly."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from edge_agent.fleet import DEMO_MATERIALS
from market.impact_factors import HGV_AVERAGE_LADEN_TKM
from shell.demo_showcase import DEMO_BOOKING_T, DEMO_COLLECTION_M3
from tests.servers import free_port


def get(url: str, key: str = "") -> tuple[int, dict]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, json.loads(r.read())


def next_line(lines: queue.Queue[str], output: list[str], proc: subprocess.Popen[str],
              starts: str, timeout_s: float) -> str:
    """The next line of the demo's output that starts with ``starts``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            assert proc.poll() is None, "".join(output)
            continue
        output.append(line)
        if line.startswith(starts):
            return line
    raise AssertionError(f"no line starting {starts!r}:\n" + "".join(output))


def test_demo_starts_serves_offers_shows_leg_and_byproduct_offers_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "shell.cli", "demo", "--port", str(port),
         "--assets", "15", "--speed", "600"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []],
                     daemon=True).start()
    output: list[str] = []
    try:
        key = next_line(lines, output, proc, "API key: ", 60).split()[-1]
        platform = next_line(lines, output, proc, "  platform key", 10).split()[-1]

        base = f"http://127.0.0.1:{port}"
        assert get(f"{base}/healthz")[0] == 200
        offers: list[dict] = []
        deadline = time.monotonic() + 120
        while not offers and time.monotonic() < deadline:
            offers = get(f"{base}/v1/offers", key)[1]["items"]
            time.sleep(2)
        assert offers, "no offer within two minutes"
        assert all(o["quantity"] > 0 and o["start"] < o["end"] for o in offers)
        assets = get(f"{base}/v1/assets", key)[1]["items"]
        assert {o["asset"] for o in offers} <= {a["id"] for a in assets}

        # The trucks' two weeks of history give leg offers; the demo platform books one.
        next_line(lines, output, proc, "leg offers: ", 240)
        booked = next_line(lines, output, proc, "demo platform booked", 30)
        offer = get(f"{base}/v1/offers/{booked.split('#')[-1].strip()}", platform)[1]
        leg = offer["leg"]
        corridor = get(f"{base}/v1/offers?kind=vehicle&lat={leg['origin']['lat']}"
                       f"&lon={leg['origin']['lon']}&km=25&dest_lat={leg['destination']['lat']}"
                       f"&dest_lon={leg['destination']['lon']}&dest_km=25", platform)[1]
        assert offer["id"] in {o["id"] for o in corridor["items"]}
        assert " 1 booking(s)" in next_line(lines, output, proc, "impact of the demo platform", 30)

        # The containers' material, declared in their agents' births, gives by-product offers;
        # the demo platform finds one by its EWC sub-chapter and books a collection.
        next_line(lines, output, proc, "by-product offers: ", 120)
        searched = next_line(lines, output, proc, "EWC prefix search", 10)
        collected = next_line(lines, output, proc, "demo platform booked the collection", 10)
        byproduct = get(f"{base}/v1/offers/{collected.split('#')[-1].strip()}", platform)[1]
        material = byproduct["material"]
        assert (byproduct["kind"], byproduct["unit"]) == ("container", "m3")
        declared = {m.to_dict()["code"]: m for m in DEMO_MATERIALS.values()}
        assert material["code"] in declared
        assert searched.split()[3:5] == material["code"].split()[:2]  # its sub-chapter
        for prefix in (material["code"][:2], material["code"][:5], material["code"]):
            found = get(f"{base}/v1/offers?eural={prefix.replace(' ', '%20')}", platform)[1]
            assert byproduct["id"] in {o["id"] for o in found["items"]}, prefix
        other = next(c for c in declared if c[:2] != material["code"][:2])
        found = get(f"{base}/v1/offers?eural={other[:2]}", platform)[1]["items"]
        assert byproduct["id"] not in {o["id"] for o in found}
        assert "t of material collected" in next_line(
            lines, output, proc, "impact of the demo platform", 10)

        # As the showcase counts: bookings start at their offer's start, a week back to two ahead.
        now = time.time()
        impact = get(f"{base}/v1/impact?start={now - 7 * 86400:.0f}&end={now + 14 * 86400:.0f}",
                     platform)[1]
        total, kinds = impact["total"], {k["kind"]: k for k in impact["kinds"]}
        tkm = DEMO_BOOKING_T * leg["distance_km"]
        tonnes = DEMO_COLLECTION_M3 * declared[material["code"]].density_t_per_m3
        assert total["bookings"] == 2 and total["tonne_km"] == tkm
        assert abs(total["tonnes_diverted"] - tonnes) < 1e-9
        # No sourced factor for a collection: the CO2e is the leg's alone.
        assert abs(total["kg_co2e_avoided"] - tkm * HGV_AVERAGE_LADEN_TKM.value) < 1e-6
        assert total["bookings_without_co2e"] == 1
        assert (kinds["container"]["unit"], kinds["container"]["bookings"],
                kinds["container"]["quantity"]) == ("m3", 1, DEMO_COLLECTION_M3)
        assert kinds["vehicle"]["bookings"] == 1
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    while not lines.empty():
        output.append(lines.get())
    assert proc.returncode == 0, "".join(output)
    assert "idleshare demo stopped" in "".join(output)
    assert "Traceback" not in "".join(output), "".join(output)
