"""Leg forecasts backtested on a SIMULATED truck fleet (no public fleet telematics exist).

The fleet is :func:`edge_agent.sources.truck_sim.hub_fleet` (trucks at Duisburg serving Rhine-
Ruhr and Benelux cities; assumptions and sources in that module and docs/freight.md), read
every 5 minutes. Trips are inferred from the readings (:func:`analytics.trips.infer_trips`),
as the product would, never taken from the simulator.

Rolling origin, one every ``step_days`` from week ``first_week``: legs are grouped from the
trips departing before the origin, the forecaster is refitted on them and forecasts every
upcoming leg of the next 7 days. A forecast leg *ran* if a trip of the same truck went from
its origin area to its destination area departing within its departure window widened by
``match_tolerance_s`` (each trip matches one forecast at most).

Definitions, as in :mod:`bench.evaluate` with a leg's tonnes for an hour's units
    *P10 coverage*: share of the forecast legs that ran whose actual free payload was at or
    above the P10. *Offer precision*: offered tonnes that were truly free, ``min(offered,
    actual free)`` summed over forecast legs (actual free = 0 if the leg did not run), over
    all offered tonnes; the offer is P10 x (1 - reserve) with the default sharing policy,
    nothing below its ``min_quantity``. *Capture*: the same truly free offered tonnes over the
    free tonnes of every trip in the test weeks (recurring or not). *Ran*: share of forecast
    legs that ran; precision is also given on legs that ran. *MAE*: of the median free
    fraction on legs that ran, against the last value of the same leg (naive).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from analytics.legs import (
    LegForecast,
    LegPayloadForecaster,
    forecast_legs,
    group_legs,
    training_rows,
)
from analytics.policy import SharingPolicy
from analytics.trips import Trip, infer_trips, track_from_rows
from edge_agent.sources.truck_sim import CITIES, TruckSim, hub_fleet

WEEK_S = 7 * 86400.0
#: A Monday, 00:00 UTC (01:00 in Duisburg): the simulated history starts here.
START = 1_704_067_200.0  # 2024-01-01
TIMEZONE = "Europe/Berlin"
NAMED_PLACES = tuple((c.name, c.lat, c.lon) for c in CITIES)


@dataclass(frozen=True)
class LegFigures:
    trucks: int
    weeks: int
    trips: int
    empty_km_share: float
    laden_load_factor: float
    origins: int
    forecast_legs: int
    ran_share: float
    p10_coverage: float
    offer_precision: float
    precision_ran: float
    capture: float
    mae: float
    mae_naive: float
    seconds: float


def simulated_trips(n_trucks: int, weeks: int, seed: int = 0) -> list[Trip]:
    """The fleet's trips, inferred from its 5-minute readings."""
    trips = []
    for plan in hub_fleet(n_trucks, seed):
        rows = TruckSim(plan).readings(START, START + weeks * WEEK_S)
        trips += infer_trips(track_from_rows(rows), plan.capacity_t, plan.truck_id)
    return trips


def _match(forecasts: list[LegForecast], actual: list[Trip], tolerance_s: float
           ) -> list[Trip | None]:
    used: set[int] = set()
    out: list[Trip | None] = []
    for f in forecasts:
        hit = next((i for i, t in enumerate(actual) if i not in used
                    and t.asset_id == f.asset_id
                    and f.departure_earliest - tolerance_s <= t.departure
                    <= f.departure_latest + tolerance_s
                    and f.origin.contains(t.origin_lat, t.origin_lon)
                    and f.destination.contains(t.destination_lat, t.destination_lon)), None)
        if hit is not None:
            used.add(hit)
        out.append(None if hit is None else actual[hit])
    return out


def evaluate_legs(n_trucks: int = 12, weeks: int = 12, first_week: int = 6, step_days: int = 7,
                  seed: int = 0, match_tolerance_s: float = 3600.0,
                  policy: SharingPolicy | None = None) -> LegFigures:
    """Rolling-origin backtest of leg forecasts on the simulated fleet (module docstring)."""
    began = time.perf_counter()
    policy = policy or SharingPolicy.from_dict({})
    trips = simulated_trips(n_trucks, weeks, seed)
    # The fits are small (thousands of rows): one OpenMP thread is as fast, and on a busy
    # machine several threads spin against each other (measured 17x slower under load).
    with threadpool_limits(1):
        return _backtest(trips, n_trucks, weeks, first_week, step_days, match_tolerance_s,
                         policy, began)


def _backtest(trips: list[Trip], n_trucks: int, weeks: int, first_week: int, step_days: int,
              match_tolerance_s: float, policy: SharingPolicy, began: float) -> LegFigures:
    km = np.array([t.distance_km for t in trips])
    empty = np.array([t.max_load_t == 0 for t in trips])
    origins = np.arange(START + first_week * WEEK_S, START + (weeks - 1) * WEEK_S + 1,
                        step_days * 86400.0)
    covered, ran, err, err_naive = [], [], [], []
    truly = offered_total = free_total = truly_ran = offered_ran = 0.0
    for origin in origins:
        history = [t for t in trips if t.arrival <= origin]
        test = [t for t in trips if origin <= t.departure < origin + WEEK_S]
        legs = group_legs(history, TIMEZONE, named_places=NAMED_PLACES)
        model = LegPayloadForecaster().fit(*training_rows(legs))
        forecasts = forecast_legs(legs, model, origin, origin + WEEK_S)
        by_id = {leg.leg_id: leg for leg in legs}
        for f, trip in zip(forecasts, _match(forecasts, test, match_tolerance_s), strict=True):
            offered = f.free_t_lower * (1 - policy.reserve_fraction)
            offered = offered if offered >= policy.min_quantity else 0.0
            actual = trip.free_t if trip is not None else 0.0
            truly += min(offered, actual)
            offered_total += offered
            ran.append(trip is not None)
            if trip is not None:
                truly_ran += min(offered, actual)
                offered_ran += offered
                covered.append(trip.free_t >= f.free_t_lower)
                err.append(abs(f.free_t_median - trip.free_t) / f.capacity_t)
                err_naive.append(abs(by_id[f.leg_id].trips[-1].free_t - trip.free_t)
                                 / f.capacity_t)
        free_total += sum(t.free_t for t in test)
    return LegFigures(
        trucks=n_trucks, weeks=weeks, trips=len(trips),
        empty_km_share=float(km[empty].sum() / km.sum()),
        laden_load_factor=float(np.mean([t.load_factor for t in trips if t.max_load_t > 0])),
        origins=len(origins), forecast_legs=len(ran), ran_share=float(np.mean(ran)),
        p10_coverage=float(np.mean(covered)),
        offer_precision=truly / offered_total if offered_total else float("nan"),
        precision_ran=truly_ran / offered_ran if offered_ran else float("nan"),
        capture=truly / free_total if free_total else float("nan"),
        mae=float(np.mean(err)), mae_naive=float(np.mean(err_naive)),
        seconds=time.perf_counter() - began)


#: The simulated fleet's assumptions and their sources, printed with its figures (the full
#: list: edge_agent/sources/truck_sim.py and docs/freight.md).
ASSUMPTIONS = (
    "  assumptions           trucks at Duisburg on weekday rotations to real cities; returns "
    "empty 40 % of the time, else part loads",
    "                        (Eurostat road_go_ta_tott 2024: 21.6 % of EU truck-km empty); "
    "24 t payload of a 40 t artic (Directive 96/53/EC);",
    "                        road = 1.2 x great-circle km (Newell 1980); 65 km/h mean under "
    "the 90 km/h HGV limiter (Directive 92/6/EEC);",
    "                        driving and breaks per Regulation (EC) 561/2006; days off 3 %, "
    "one-off orders 5 % of days, loads sd 12 % (assumed)",
)


def report_lines(f: LegFigures, step_days: int = 7) -> list[str]:
    """The block ``python -m bench evaluate`` prints."""
    return [
        f"simulated truck fleet, leg free payload (SIMULATED: edge_agent/sources/truck_sim.py, "
        f"{f.trucks} trucks, {f.weeks} weeks, {f.trips} trips inferred from 5-min readings)",
        *ASSUMPTIONS,
        f"  empty running         {f.empty_km_share:.1%} of truck-km   (Eurostat EU 2024: 21.6 %)",
        f"  laden load factor     {f.laden_load_factor:.1%}",
        f"  rolling origin        {f.origins} origins every {step_days} days, "
        f"{f.forecast_legs} forecast legs, {f.ran_share:.1%} ran, {f.seconds:.0f} s",
        f"  median MAE            {f.mae:.4f} of capacity   (last run of the leg: "
        f"{f.mae_naive:.4f})",
        f"  P10 coverage          {f.p10_coverage:.2%}   (target >= 90 %)",
        f"  offer precision       {f.offer_precision:.2%}   (target >= 95 %; a leg that did not "
        "run counts as nothing free)",
        f"    on legs that ran    {f.precision_ran:.2%}   (the rest is lost on the "
        f"{1 - f.ran_share:.1%} of legs that did not run: days off and one-off orders, drawn "
        "at random, which nothing in the readings foretells)",
        f"  capture               {f.capture:.2%}   (of the free tonnes of every trip)",
    ]


def report() -> str:
    return "\n".join(report_lines(evaluate_legs()))


if __name__ == "__main__":
    print(report())
