"""What ``idleshare demo`` tells its user once the analytics has found it: each *showcase*
looks at the catalog after every few seconds until it has something to show, prints it once,
and is done. Leg offers are shown, then booked by the demo platform, then totalled as impact;
another kind of offer (by-product offers, say) is one more :class:`Showcase` in
:func:`showcases`.

The demo platform acts through the market's functions, as the API would for its key: a
corridor search (origin near the first leg offer's origin, destination near its destination,
departing in the next 7 days, at least :data:`DEMO_BOOKING_T` free), a hold, a confirmation,
then the impact of its confirmed bookings (:func:`market.impact.of_caller`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from market import bookings, impact
from market.caller import Caller
from market.search import Near, OfferQuery, search
from storage.catalog import Catalog

log = logging.getLogger("shell.demo")

#: Tonnes the demo platform books on the first leg offer it finds.
DEMO_BOOKING_T = 2.0
WEEK_S = 7 * 86400.0
#: Radius of the corridor search around the leg's origin and destination, km.
CORRIDOR_KM = 25.0


@dataclass(frozen=True)
class Showcase:
    name: str
    #: The lines to print once there is something to show, else None (asked again later).
    show: Callable[[Catalog, Caller, float], list[str] | None]


def _place(area: dict[str, Any]) -> str:
    return str(area.get("name") or f"{area['lat']:.3f},{area['lon']:.3f}")


def _when(iso_start: str, iso_end: str) -> str:
    start, end = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (iso_start, iso_end))
    return f"{start:%a %d %b %H:%M}-{end:%H:%M} UTC"


def _leg_line(o: dict[str, Any]) -> str:
    leg = o["leg"]
    return (f"  #{o['id']} {o['asset']}: {_place(leg['origin'])} -> "
            f"{_place(leg['destination'])}, {leg['distance_km']:.0f} km, departs "
            f"{_when(o['start'], o['end'])}, {o['available']:.1f} {o['unit']} free")


def leg_offers(catalog: Catalog, platform: Caller, now: float) -> list[str] | None:
    """The live leg offers departing in the next 7 days; the first found again by corridor
    search and :data:`DEMO_BOOKING_T` of it booked and confirmed; the impact total."""
    ahead = OfferQuery(kind="vehicle", start=now, end=now + WEEK_S, min_quantity=DEMO_BOOKING_T)
    legs = [o for o, _ in search(catalog, platform, ahead, now, None, 1000) if o["leg"]]
    if not legs:
        return None
    first = legs[0]
    origin, dest = first["leg"]["origin"], first["leg"]["destination"]
    corridor = [o for o, _ in search(catalog, platform, OfferQuery(
        kind="vehicle", start=now, end=now + WEEK_S, min_quantity=DEMO_BOOKING_T,
        near=Near(origin["lat"], origin["lon"], CORRIDOR_KM),
        dest=Near(dest["lat"], dest["lon"], CORRIDOR_KM)), now, None, 100)]
    lines = [f"leg offers: {len(legs)} live, departing in the next 7 days (GET /v1/offers"
             f"?dest_lat=..&dest_lon=..&dest_km=..), for example:",
             *(_leg_line(o) for o in legs[:3]),
             f"corridor search {_place(origin)} -> {_place(dest)}: {len(corridor)} offers"]
    held = bookings.hold(catalog, platform, corridor[0]["id"], DEMO_BOOKING_T, 900.0, now)
    bookings.confirm(catalog, platform, held.id, now)
    lines.append(f"demo platform booked {DEMO_BOOKING_T:g} t on leg offer #{corridor[0]['id']}")
    total = impact.of_caller(catalog, platform, now, now + 2 * WEEK_S).total
    co2 = "no CO2e" if total.kg_co2e_avoided is None else (
        f"{total.kg_co2e_avoided:.1f} kg CO2e avoided ({', '.join(sorted(total.factors))})")
    lines.append(f"impact of the demo platform's bookings (GET /v1/impact): "
                 f"{total.bookings} booking(s), {total.tonne_km or 0.0:.1f} tonne-km on existing "
                 f"legs, {co2}")
    return lines


def showcases() -> list[Showcase]:
    """What the demo shows, in order. (By-product offers: add theirs here.)"""
    return [Showcase("leg offers", leg_offers)]


def run(catalog: Catalog, platform: Caller, stop: threading.Event,
        shown: Sequence[Showcase] | None = None, every_s: float = 5.0,
        out: Callable[[str], None] = lambda line: print(line, flush=True)) -> None:
    """Try each showcase every ``every_s`` until it has shown its lines, or ``stop``."""
    waiting = list(showcases() if shown is None else shown)
    while waiting and not stop.wait(every_s):
        for showcase in list(waiting):
            try:
                lines = showcase.show(catalog, platform, time.time())
            except Exception:  # a demo's console line must not take the demo down
                log.exception("showing %s failed; trying again", showcase.name)
                continue
            if lines is not None:
                for line in lines:
                    out(line)
                waiting.remove(showcase)
