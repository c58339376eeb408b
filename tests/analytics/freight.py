"""A known week of three simulated trucks at Duisburg, for the trip and leg tests.

Truck A shuttles to Rotterdam on weekdays at 06:00, truck B goes to Cologne on Monday,
Wednesday and Friday and to Antwerp on Tuesday and Thursday at 07:00, truck C makes a round
Venlo - Eindhoven on weekdays at 05:30. No day is skipped and there are no one-off orders, so
the week holds 10 + 10 + 15 trips and these 2 + 4 + 3 legs.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from analytics.trips import Trip, infer_trips, track_from_rows
from edge_agent.sources.truck_sim import (
    CITIES,
    CITIES_BY_CODE,
    LegPlan,
    Place,
    Rotation,
    TruckPlan,
    TruckSim,
)

TIMEZONE = "Europe/Berlin"
MONDAY = datetime(2024, 1, 8, tzinfo=ZoneInfo(TIMEZONE)).timestamp()
WEEK_S = 7 * 86400.0
NAMED_PLACES = tuple((c.name, c.lat, c.lon) for c in CITIES)
WEEKDAYS = (0, 1, 2, 3, 4)


def city(code: str) -> Place:
    c = CITIES_BY_CODE[code]
    return Place(code, c.lat + 0.01, c.lon - 0.01)  # a site near the centre


def known_plans(gps_noise_m: float = 10.0) -> list[TruckPlan]:
    depot = city("dui")

    def plan(truck: str, *rotations: Rotation) -> TruckPlan:
        return TruckPlan(truck, depot, TIMEZONE, 24.0, rotations, seed=3,
                         gps_noise_m=gps_noise_m, skip_day_share=0.0)

    return [
        plan("truck-a", Rotation(WEEKDAYS, 6.0, (LegPlan(city("rtm"), 0.8),
                                                 LegPlan(depot, 0.3, 0.5)))),
        plan("truck-b", Rotation((0, 2, 4), 7.0, (LegPlan(city("cgn"), 0.7),
                                                  LegPlan(depot, 0.2, 0.5))),
             Rotation((1, 3), 7.0, (LegPlan(city("anr"), 0.9), LegPlan(depot, 0.4, 0.5)))),
        plan("truck-c", Rotation(WEEKDAYS, 5.5, (LegPlan(city("ven"), 0.9),
                                                 LegPlan(city("ein"), 0.4),
                                                 LegPlan(depot, 0.3, 0.5)))),
    ]


#: (truck, origin, destination, weekdays) of every leg of the known week.
KNOWN_LEGS = {
    ("truck-a", "Duisburg", "Rotterdam", WEEKDAYS), ("truck-a", "Rotterdam", "Duisburg", WEEKDAYS),
    ("truck-b", "Duisburg", "Cologne", (0, 2, 4)), ("truck-b", "Cologne", "Duisburg", (0, 2, 4)),
    ("truck-b", "Duisburg", "Antwerp", (1, 3)), ("truck-b", "Antwerp", "Duisburg", (1, 3)),
    ("truck-c", "Duisburg", "Venlo", WEEKDAYS), ("truck-c", "Venlo", "Eindhoven", WEEKDAYS),
    ("truck-c", "Eindhoven", "Duisburg", WEEKDAYS),
}


def inferred_trips(plans: list[TruckPlan], start: float = MONDAY, weeks: int = 1
                   ) -> list[Trip]:
    trips = []
    for p in plans:
        rows = TruckSim(p).readings(start, start + weeks * WEEK_S)
        trips += infer_trips(track_from_rows(rows), p.capacity_t, p.truck_id)
    return trips
