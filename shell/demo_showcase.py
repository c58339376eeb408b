"""What ``idleshare demo`` tells its user once the analytics has found it: each *showcase*
looks at the catalog every few seconds until it has something to show, prints it once, and is
done; they are shown in the order of :func:`showcases`, each after the one before, so the
console reads as a story. Leg offers are shown, one booked by the demo platform and the impact
totalled; then by-product offers, one collection booked and the impact total again, now with
the tonnes collected.

The demo platform acts through the market's functions, as the API would for its key: a
corridor search (origin near the first leg offer's origin, destination near its destination,
departing in the next 7 days, at least :data:`DEMO_BOOKING_T` free), or an EWC prefix search
(the first by-product offer's sub-chapter, at least :data:`DEMO_COLLECTION_M3` available in the
next 7 days); a hold, a confirmation, then the impact of its confirmed bookings
(:func:`market.impact.of_caller`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from idleshare.materials import code_prefix
from market import bookings, impact
from market.caller import Caller
from market.near import Near
from market.search import OfferQuery, search
from storage.catalog import Catalog

log = logging.getLogger("shell.demo")

#: Tonnes the demo platform books on the first leg offer it finds.
DEMO_BOOKING_T = 2.0
#: Cubic metres of material the demo platform books the collection of.
DEMO_COLLECTION_M3 = 2.0
#: How long a demo hold lasts before its confirmation (it is confirmed at once).
HOLD_S = 900.0
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
    ends = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %d %b %H:%M}"
    return f"{start:%a %d %b %H:%M}-{ends} UTC"


def _leg_line(o: dict[str, Any]) -> str:
    leg = o["leg"]
    return (f"  #{o['id']} {o['asset']}: {_place(leg['origin'])} -> "
            f"{_place(leg['destination'])}, {leg['distance_km']:.0f} km, departs "
            f"{_when(o['start'], o['end'])}, {o['available']:.1f} {o['unit']} free")


def _byproduct_line(o: dict[str, Any]) -> str:
    m = o["material"]
    return (f"  #{o['id']} {o['asset']}: {o['available']:.1f} {o['unit']} of {m['code']} "
            f"{m['description']}{' (hazardous)' if m['hazardous'] else ''}, for collection "
            f"{_when(o['start'], o['end'])} at {_place(o['location'])}")


def _book(catalog: Catalog, platform: Caller, offer_id: int, quantity: float, now: float
          ) -> None:
    """Hold and confirm ``quantity`` of the offer for the demo platform."""
    held = bookings.hold(catalog, platform, offer_id, quantity, HOLD_S, now)
    bookings.confirm(catalog, platform, held.id, now)


def _impact_line(catalog: Catalog, platform: Caller, now: float) -> str:
    """The demo platform's impact total. A booking's time is its offer's start: a leg's
    departure ahead, a collection's opening (passed if it is open already), so the period runs
    from a week back to two weeks ahead."""
    total = impact.of_caller(catalog, platform, now - WEEK_S, now + 2 * WEEK_S).total
    co2 = "no CO2e" if total.kg_co2e_avoided is None else (
        f"{total.kg_co2e_avoided:.1f} kg CO2e avoided ({', '.join(sorted(total.factors))})")
    collected = ("" if total.tonnes_diverted is None
                 else f", {total.tonnes_diverted:.2f} t of material collected for use")
    return (f"impact of the demo platform's bookings (GET /v1/impact): {total.bookings} "
            f"booking(s), {total.tonne_km or 0.0:.1f} tonne-km on existing legs{collected}, "
            f"{co2}")


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
    _book(catalog, platform, corridor[0]["id"], DEMO_BOOKING_T, now)
    lines.append(f"demo platform booked {DEMO_BOOKING_T:g} t on leg offer #{corridor[0]['id']}")
    lines.append(_impact_line(catalog, platform, now))
    return lines


def byproduct_offers(catalog: Catalog, platform: Caller, now: float) -> list[str] | None:
    """The live by-product offers for collection in the next 7 days; the first found again by
    its EWC sub-chapter, the collection of :data:`DEMO_COLLECTION_M3` of it booked and
    confirmed; the impact total."""
    ahead = OfferQuery(kind="container", start=now, end=now + WEEK_S,
                       min_quantity=DEMO_COLLECTION_M3)
    offers = [o for o, _ in search(catalog, platform, ahead, now, None, 1000) if o["material"]]
    if not offers:
        return None
    sub_chapter = offers[0]["material"]["code"][:5]  # "10 02" of "10 02 02"
    found = [o for o, _ in search(catalog, platform, replace(
        ahead, eural=code_prefix(sub_chapter)), now, None, 100)]
    lines = [f"by-product offers: {len(offers)} live for collection in the next 7 days "
             f"(GET /v1/offers?eural=..), for example:",
             *(_byproduct_line(o) for o in offers[:3]),
             f"EWC prefix search {sub_chapter} (GET /v1/offers?eural={code_prefix(sub_chapter)}): "
             f"{len(found)} offers"]
    _book(catalog, platform, found[0]["id"], DEMO_COLLECTION_M3, now)
    lines.append(f"demo platform booked the collection of {DEMO_COLLECTION_M3:g} m3 on "
                 f"by-product offer #{found[0]['id']}")
    lines.append(_impact_line(catalog, platform, now))
    return lines


def showcases() -> list[Showcase]:
    """What the demo shows, in order."""
    return [Showcase("leg offers", leg_offers), Showcase("by-product offers", byproduct_offers)]


def run(catalog: Catalog, platform: Caller, stop: threading.Event,
        shown: Sequence[Showcase] | None = None, every_s: float = 5.0,
        out: Callable[[str], None] = lambda line: print(line, flush=True)) -> None:
    """Try the first showcase not yet shown every ``every_s`` until it has shown its lines,
    then the next, until all are shown or ``stop``."""
    waiting = list(showcases() if shown is None else shown)
    while waiting and not stop.wait(every_s):
        showcase = waiting[0]
        try:
            lines = showcase.show(catalog, platform, time.time())
        except Exception:  # a demo's console line must not take the demo down
            log.exception("showing %s failed; trying again", showcase.name)
            continue
        if lines is not None:
            for line in lines:
                out(line)
            waiting.pop(0)
