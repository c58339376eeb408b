"""``truck_sim``: a simulated truck of a hub-and-spoke fleet, on real city coordinates.

No public telematics of a truck fleet exists, so the freight analytics (trips, recurring legs,
free-payload forecasts) are built and evaluated on this simulation. It is standard library only
(the edge agent carries no numpy) and, like :mod:`edge_agent.sources.simulator`, every value is
a pure function of (seed, truck, clock time): a restarted agent produces the same series.

A truck parks overnight at its depot (the asset's location) and works *rotations*: on the
weekdays of the rotation it leaves the depot at a local time, drives legs to stops in real
cities and back, loading and unloading at each stop. Readings, every ``interval_s`` of the
agent (5 minutes in the demo): ``lat``, ``lon``, ``in_use`` (1 while driving or on a break on
the road, 0 while parked or loading at a dock) and ``load`` (tonnes on board).

Assumptions and their sources (also in docs/freight.md)
    * **Empty running**: Eurostat, *Road freight transport by journey characteristics*
      (Statistics Explained, data 2024, table road_go_ta_tott): 21.6 % of EU road freight
      vehicle-km were driven empty (25.8 % national, 12.6 % international; about 20 % in 2020,
      24-25 % in 2007-2010). Returns to the depot run empty with ``empty_return_share`` (0.4)
      and carry a part load otherwise; outbound legs are nearly always laden. With returns
      about half the km this gives 20-25 % empty vehicle-km (``bench/evaluate_legs.py``
      prints the share of the simulated fleet).
    * **Payload**: a 40 t articulated truck (the EU limit of Directive 96/53/EC for a 5-axle
      articulated vehicle) weighs 14-16 t empty, leaving about 24-25 t of payload; 33 euro
      pallets on a 13.6 m trailer. Default capacity 24 t (the asset's capacity if set).
    * **Part loads**: each leg has a typical load factor (outbound 0.55-0.95, part-load
      returns 0.15-0.5 of capacity) and varies day to day by a normal factor (sd 12 %).
    * **Speed and distance**: road distance = 1.2 x the great-circle distance (circuity of road
      networks, about 1.2: Newell 1980, O'Sullivan 1996); the simulated road bends through one
      waypoint so its length is that. Mean speed 65 km/h door to door (HGVs are limited to
      90 km/h by Directive 92/6/EEC and to 80 km/h on most EU motorways; access roads and
      traffic lower the mean), varied per leg by sd 6 % for traffic.
    * **Driving rules** (Regulation (EC) No 561/2006): at most 9 h of driving a day, a 45-min
      break after 4.5 h of driving (taken on the road, ``in_use`` stays 1; a dwell at a stop
      counts as the break). Generated rotations keep within the 9 h.
    * **Dwell**: 45-90 min at each stop for unloading and loading (load changes halfway);
      loaded at the depot 30 min before the first departure.
    * **Irregularity**: departures vary by sd 10 min (at most 30 min); 3 % of working days
      the truck stays in (no orders, maintenance); 5 % of days its first stop is another city
      in range (a one-off order, not a recurring leg).
    * **GPS**: sd ``gps_noise_m`` (10 m) on each position.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from edge_agent.cities import CITIES, CITIES_BY_CODE, City
from edge_agent.sources.base import check_timezone, to_measurement
from idleshare.assets import Asset
from idleshare.errors import ConfigError
from idleshare.wire import Measurement

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
PAYLOAD_T = 24.0
CIRCUITY = 1.2
SPEED_KMH = 65.0
MAX_DRIVING_H = 4.5
BREAK_H = 0.75
MAX_DAILY_DRIVING_H = 9.0
DWELL_H = (0.75, 1.5)
LOAD_AHEAD_H = 0.5
SKIP_DAY_SHARE = 0.03
ONE_OFF_SHARE = 0.05
#: Stops are chosen within this great-circle distance of the depot (a leg within 4.5 h).
MAX_STOP_KM = 240.0




def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class LegPlan:
    """One leg of a rotation: to ``to``, usually ``load_fraction`` of capacity on board, empty
    with probability ``empty_chance``."""

    to: Place
    load_fraction: float
    empty_chance: float = 0.0


@dataclass(frozen=True)
class Rotation:
    """A working day: leave the depot at ``depart_h`` local time on ``weekdays`` (Monday 0)
    and drive ``legs`` in order, the last one back to the depot."""

    weekdays: tuple[int, ...]
    depart_h: float
    legs: tuple[LegPlan, ...]


@dataclass(frozen=True)
class TruckPlan:
    truck_id: str
    depot: Place
    timezone: str
    capacity_t: float
    rotations: tuple[Rotation, ...]
    seed: int = 0
    gps_noise_m: float = 10.0
    #: Stops a one-off order may go to instead of a rotation's first stop (none: no one-offs).
    one_off_stops: tuple[Place, ...] = ()
    skip_day_share: float = SKIP_DAY_SHARE


@dataclass(frozen=True)
class TripTruth:
    """A trip as simulated: what trip inference should find."""

    departure: float
    arrival: float
    origin: Place
    destination: Place
    road_km: float
    load_t: float
    recurring: bool  # False for a one-off order


@dataclass(frozen=True)
class _Segment:
    start: float
    end: float
    in_use: bool
    load_t: float
    path: tuple[Place, ...]  # one place while standing, origin/waypoint/destination driving
    at: float = 0.0  # share of the path done at the start (a break stands part way)
    upto: float = 0.0  # share done at the end


@functools.lru_cache(maxsize=1024)
def road_path(a: Place, b: Place, points: int = 16) -> tuple[Place, ...]:
    """The simulated road from ``a`` to ``b``: a smooth bow off the straight line (a parabola)
    whose length is :data:`CIRCUITY` x the direct distance; both directions use the same road."""
    first, second = sorted((a, b), key=lambda p: (p.lat, p.lon))
    scale = math.cos(math.radians((a.lat + b.lat) / 2))
    # Unit normal of the straight line, in local flat degrees (lon scaled by cos lat).
    dx, dy = (second.lon - first.lon) * scale, second.lat - first.lat
    norm = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / norm, dx / norm

    def bow(height: float) -> tuple[Place, ...]:
        out = []
        for k in range(points + 1):
            f = k / points
            off = 4 * height * f * (1 - f)
            out.append(Place("", a.lat + (b.lat - a.lat) * f + ny * off,
                             a.lon + (b.lon - a.lon) * f + nx * off / scale))
        return tuple(out)

    target = CIRCUITY * haversine_km(a.lat, a.lon, b.lat, b.lon)
    low, high = 0.0, norm  # bow height in degrees, found by bisection on the length
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if path_km(bow(mid)) < target else (low, mid)
    return (a, *bow(low)[1:-1], b)


def path_km(path: tuple[Place, ...]) -> float:
    return sum(haversine_km(p.lat, p.lon, q.lat, q.lon) for p, q in itertools.pairwise(path))


def _along(path: tuple[Place, ...], share: float) -> tuple[float, float]:
    legs = [haversine_km(p.lat, p.lon, q.lat, q.lon) for p, q in itertools.pairwise(path)]
    remaining = share * sum(legs)
    for (p, q), km in zip(itertools.pairwise(path), legs, strict=True):
        if remaining <= km or q is path[-1]:
            f = min(remaining / km, 1.0) if km else 1.0
            return p.lat + (q.lat - p.lat) * f, p.lon + (q.lon - p.lon) * f
        remaining -= km
    return path[-1].lat, path[-1].lon


class TruckDay:
    """One local day of a truck: its segments and trips, drawn from (seed, truck, date)."""

    def __init__(self, plan: TruckPlan, day: date) -> None:
        self.segments: list[_Segment] = []
        self.trips: list[TripTruth] = []
        rng = random.Random(f"{plan.seed}|{plan.truck_id}|day|{day.toordinal()}")
        rotation = next((r for r in plan.rotations if day.weekday() in r.weekdays), None)
        if rotation is None or rng.random() < plan.skip_day_share:
            return
        legs = list(rotation.legs)
        one_off = rng.random() < ONE_OFF_SHARE and len(plan.one_off_stops) > 1
        if one_off:  # another stop than the usual one
            other = [p for p in plan.one_off_stops if p != legs[0].to]
            legs[0] = LegPlan(rng.choice(other), legs[0].load_fraction)
        zone = ZoneInfo(plan.timezone)
        jitter = max(-0.5, min(0.5, rng.gauss(0.0, 1 / 6)))
        t = (datetime(day.year, day.month, day.day, tzinfo=zone)
             + timedelta(hours=rotation.depart_h + jitter)).timestamp()
        here, driven_h = plan.depot, 0.0
        loads = [self._load(plan, leg, rng) for leg in legs]
        self._stand(t - LOAD_AHEAD_H * 3600, t, here, loads[0])
        for i, (leg, load) in enumerate(zip(legs, loads, strict=True)):
            path = road_path(here, leg.to)
            km = path_km(path)
            hours = km / (SPEED_KMH * max(0.85, min(1.15, rng.gauss(1.0, 0.06))))
            depart, done = t, 0.0
            while hours - done > 1e-9:  # a break after every 4.5 h of driving
                stint = min(hours - done, MAX_DRIVING_H - driven_h)
                self.segments.append(_Segment(t, t + stint * 3600, True, load, path,
                                              done / hours, (done + stint) / hours))
                t, done, driven_h = t + stint * 3600, done + stint, driven_h + stint
                if hours - done > 1e-9:
                    self.segments.append(_Segment(t, t + BREAK_H * 3600, True, load, path,
                                                  done / hours, done / hours))
                    t, driven_h = t + BREAK_H * 3600, 0.0
            self.trips.append(TripTruth(depart, t, here, leg.to, km, load,
                                        recurring=not (one_off and i < 2)))
            dwell = rng.uniform(*DWELL_H) * 3600
            after = loads[i + 1] if i + 1 < len(legs) else 0.0
            self._stand(t, t + dwell / 2, leg.to, load)
            self._stand(t + dwell / 2, t + dwell, leg.to, after)
            here, t, driven_h = leg.to, t + dwell, 0.0

    def _stand(self, start: float, end: float, place: Place, load: float) -> None:
        self.segments.append(_Segment(start, end, False, load, (place,)))

    @staticmethod
    def _load(plan: TruckPlan, leg: LegPlan, rng: random.Random) -> float:
        if rng.random() < leg.empty_chance:
            return 0.0
        factor = leg.load_fraction * max(0.3, rng.gauss(1.0, 0.12))
        return round(min(factor, 1.0) * plan.capacity_t, 2)


class TruckSim:
    """The readings and trips of one simulated truck (days computed once, on demand)."""

    def __init__(self, plan: TruckPlan) -> None:
        self.plan = plan
        self._zone = ZoneInfo(plan.timezone)
        self._day = functools.lru_cache(maxsize=16)(functools.partial(TruckDay, plan))

    def _days(self, t: float) -> list[TruckDay]:
        local = datetime.fromtimestamp(t, self._zone).date()
        return [self._day(local - timedelta(days=1)), self._day(local)]  # a day may run late

    def state(self, t: float) -> tuple[float, float, float, float]:
        """``(lat, lon, in_use, load)`` at clock time ``t``."""
        depot = self.plan.depot
        lat, lon, in_use, load = depot.lat, depot.lon, 0.0, 0.0
        for day in self._days(t):
            for seg in day.segments:
                if seg.start <= t < seg.end:
                    share = seg.at + (seg.upto - seg.at) * (t - seg.start) / (seg.end - seg.start)
                    lat, lon = _along(seg.path, share) if len(seg.path) > 1 else (
                        seg.path[0].lat, seg.path[0].lon)
                    in_use, load = float(seg.in_use), seg.load_t
        noise = random.Random(f"{self.plan.seed}|{self.plan.truck_id}|gps|{t}")
        sd = self.plan.gps_noise_m / 111_320.0
        lat += noise.gauss(0.0, sd)
        lon += noise.gauss(0.0, sd) / max(math.cos(math.radians(lat)), 0.1)
        return round(lat, 6), round(lon, 6), in_use, load

    def readings(self, start: float, end: float, step_s: float = 300.0
                 ) -> list[tuple[float, float, float, float, float]]:
        """``(t, lat, lon, in_use, load)`` every ``step_s`` from ``start`` to before ``end``."""
        n = math.ceil((end - start) / step_s)
        return [(start + i * step_s, *self.state(start + i * step_s)) for i in range(n)]

    def trips(self, start: float, end: float) -> list[TripTruth]:
        """The trips departing in ``[start, end)``, in order."""
        first = datetime.fromtimestamp(start, self._zone).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end, self._zone).date()
        out = []
        for k in range((last - first).days + 1):
            out += [trip for trip in self._day(first + timedelta(days=k)).trips
                    if start <= trip.departure < end]
        return out


def _site(city: City, rng: random.Random) -> Place:
    """A logistics site within a few km of a city centre."""
    return Place(city.code, round(city.lat + rng.uniform(-0.03, 0.03), 5),
                 round(city.lon + rng.uniform(-0.045, 0.045), 5))


def truck_plan(truck_id: str, depot: Place, timezone: str, capacity_t: float = PAYLOAD_T,
               seed: int = 0, stops: tuple[str, ...] = (), empty_return_share: float = 0.4,
               gps_noise_m: float = 10.0) -> TruckPlan:
    """A plausible weekly plan for one truck at ``depot``: one of four rotation patterns
    (a daily shuttle to one stop; two stops on alternate days; a round of two stops; two short
    shuttles a day), to cities of :data:`CITIES` within :data:`MAX_STOP_KM` (or ``stops``,
    city codes), within 9 h of driving a day; some trucks also work Saturday mornings."""
    rng = random.Random(f"{seed}|{truck_id}|plan")
    codes = stops or tuple(c.code for c in CITIES if 15.0 < haversine_km(
        depot.lat, depot.lon, c.lat, c.lon) <= MAX_STOP_KM)
    if not codes:
        raise ConfigError(f"no city within {MAX_STOP_KM:.0f} km of the depot: give stops")
    sites = [_site(CITIES_BY_CODE[c], rng) for c in codes]

    def out(to: Place) -> LegPlan:
        return LegPlan(to, round(rng.uniform(0.55, 0.95), 2), 0.02)

    def back(to: Place = depot) -> LegPlan:
        return LegPlan(to, round(rng.uniform(0.15, 0.5), 2), empty_return_share)

    def hours(legs: tuple[LegPlan, ...]) -> float:
        places = [depot, *(leg.to for leg in legs)]
        return sum(path_km(road_path(a, b)) for a, b in itertools.pairwise(places)) / SPEED_KMH

    weekdays = (0, 1, 2, 3, 4)
    rotations: tuple[Rotation, ...]
    for _ in range(20):  # draw until the day keeps within the daily driving limit
        pattern = rng.randrange(4)
        a, b = rng.choice(sites), rng.choice(sites)
        depart_h = rng.choice((5.0, 5.5, 6.0, 6.5, 7.0, 8.0))
        if pattern == 0 or len(sites) == 1:
            rotations = (Rotation(weekdays, depart_h, (out(a), back())),)
        elif pattern == 1 and a != b:
            rotations = (Rotation((0, 2, 4), depart_h, (out(a), back())),
                         Rotation((1, 3), depart_h, (out(b), back())))
        elif pattern == 2 and a != b:
            rotations = (Rotation(weekdays, depart_h, (out(a), LegPlan(b, 0.35, 0.3), back())),)
        elif pattern == 3 and a != b and max(hours((out(a), back())), hours((out(b), back()))) < 3:
            rotations = (Rotation(weekdays, depart_h, (out(a), back())),
                         Rotation(weekdays, 13.0, (out(b), back())))
        else:
            continue
        days = {d: sum(hours(r.legs) for r in rotations if d in r.weekdays) for d in weekdays}
        if max(days.values()) <= MAX_DAILY_DRIVING_H:
            break
    else:
        rotations = (Rotation(weekdays, 6.0, (out(min(sites, key=lambda s: haversine_km(
            depot.lat, depot.lon, s.lat, s.lon))), back())),)
    if rng.random() < 0.3:  # a Saturday-morning shuttle to the first stop
        rotations += (Rotation((5,), 7.0, (out(rotations[0].legs[0].to), back())),)
    return TruckPlan(truck_id, depot, timezone, capacity_t, rotations, seed, gps_noise_m,
                     tuple(sites))


def hub_fleet(n_trucks: int = 12, seed: int = 0, hub: str = "dui",
              capacity_t: float = PAYLOAD_T) -> list[TruckPlan]:
    """``n_trucks`` trucks based at sites of one hub city (default Duisburg)."""
    city = CITIES_BY_CODE[hub]
    rng = random.Random(f"{seed}|{hub}|fleet")
    return [truck_plan(f"{hub}-truck-{i + 1:02d}", _site(city, rng), city.timezone,
                       capacity_t, seed) for i in range(n_trucks)]


@dataclass(frozen=True)
class TruckSimSettings:
    #: Same seed, same plan and series.
    seed: int = 0
    #: IANA zone of the depot; schedules follow its local time.
    timezone: str = "UTC"
    #: City codes of :data:`CITIES` the truck serves; empty: chosen near the depot.
    stops: tuple[str, ...] = ()
    #: Chance that a return to the depot runs empty (else a part load).
    empty_return_share: float = 0.4
    #: Standard deviation of GPS noise, metres.
    gps_noise_m: float = 10.0

    def __post_init__(self) -> None:
        check_timezone(self.timezone)
        unknown = sorted(set(self.stops) - set(CITIES_BY_CODE))
        if unknown:
            raise ConfigError(f"stops must be codes of {sorted(CITIES_BY_CODE)}: got {unknown}")
        if not 0 <= self.empty_return_share <= 1:
            raise ConfigError(f"empty_return_share must be within 0..1: "
                              f"got {self.empty_return_share}")
        if not 0 <= self.gps_noise_m <= 100:
            raise ConfigError(f"gps_noise_m must be within 0..100: got {self.gps_noise_m}")


class TruckSimSource:
    """Source plug-in: the asset is a truck whose depot is the asset's location."""

    settings_type: ClassVar[type[TruckSimSettings]] = TruckSimSettings

    def __init__(self, settings: TruckSimSettings, asset: Asset, start: float) -> None:
        if asset.kind != "vehicle":
            raise ConfigError(f"truck_sim simulates vehicles: asset kind is {asset.kind!r}")
        self.asset = asset
        self.sim = TruckSim(truck_plan(
            asset.id, Place(asset.id, asset.lat, asset.lon), settings.timezone, asset.capacity,
            settings.seed, settings.stops, settings.empty_return_share, settings.gps_noise_m))
        self._metrics = {m.name: m for m in asset.asset_kind.metrics}

    def read(self, t: float) -> list[Measurement]:
        lat, lon, in_use, load = self.sim.state(t)
        return [to_measurement(self.asset, self._metrics[name], value, t)
                for name, value in (("in_use", in_use), ("load", load), ("lat", lat),
                                    ("lon", lon))]
