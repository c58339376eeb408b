"""Replay the real data sets; measure states, forecasts, offers (``python -m bench evaluate``).

Definitions (also in docs/analytics.md)
    *Forecast MAE*: mean absolute error of the median forecast of the hourly free fraction, over
    every hour with data in each 7-day horizon, per asset (car park, plant, bike fleet) and
    origin. The baselines are
    seasonal naive with a period of one day (the platform's offer builder) and of one week.
    *P10 coverage*: share of those hours whose actual free fraction is at or above P10.
    Offers are made from the forecaster's *offer bound* (calibrated to a precision, not to
    P10: :meth:`analytics.forecast.FleetForecaster.predict_offer`) with the default policy.
    *Offer precision*: offered unit-hours that were truly free (``min(offered, actual free)``
    summed over hours) over all offered unit-hours. *Idle capture*: the same truly free offered
    unit-hours over all actually free unit-hours in the evaluated hours, and over the
    *shareable* ones (free less the owner's reserve). Both use hourly means.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from analytics.forecast import (
    OFFER_PRECISION,
    WEEK_H,
    FleetForecaster,
    daily_naive,
    hourly_free,
    seasonal_naive,
)
from analytics.forecast_offers import hourly_offered, offers_from_forecast
from analytics.policy import SharingPolicy
from analytics.states import MachineStateModel, occupancy_classifier
from bench import datasets

if TYPE_CHECKING:
    from bench.intraday import IntradayFigures

HOUR = 3600.0
#: The occupancy model's inputs: light and CO2 (indices into datasets.OCCUPANCY_FEATURES).
OCCUPANCY_COLUMNS = (2, 3)


def _utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class ForecastData:
    """A data set as hourly free fractions of capacity, ready for a rolling-origin backtest.

    Hour ``i`` of every series starts at ``t0 + i h``; origins run from hour ``first`` every
    ``step_h`` hours while the 7-day horizon ends by hour ``n``.
    """

    name: str
    t0: float
    n: int
    first: int
    series: list[np.ndarray]
    capacities: list[float]


@dataclass(frozen=True)
class ForecastFigures:
    origins: int
    hours: int
    mae: float
    mae_daily_naive: float
    mae_weekly_naive: float
    p10_coverage: float
    offer_precision: float
    idle_capture: float
    seconds: float
    #: Idle capture over the shareable free unit-hours (free less the owner's reserve).
    idle_capture_shareable: float = float("nan")

    @property
    def improvement_daily(self) -> float:
        return 1.0 - self.mae / self.mae_daily_naive

    @property
    def improvement_weekly(self) -> float:
        return 1.0 - self.mae / self.mae_weekly_naive


#: Kept for callers of the first version, which only evaluated the car parks.
ParkingFigures = ForecastFigures


#: A forecaster as the backtest calls it: ``(history, t0)`` -> quantiles (P10, median) of shape
#: (assets, 168, 2) and the offer bound (assets, 168), for the 7 days after the history.
Forecast = Callable[[np.ndarray, float], tuple[np.ndarray, np.ndarray]]


def idleshare_forecast(history: np.ndarray, t0: float) -> tuple[np.ndarray, np.ndarray]:
    """The platform's forecaster, refitted on ``history``: its quantiles and offer bound."""
    return FleetForecaster(t0=t0).fit(history).predict_all(history)


def backtest(data: ForecastData, step_h: int = 48, policy: SharingPolicy | None = None,
             forecast: Forecast = idleshare_forecast) -> ForecastFigures:
    """Rolling-origin backtest: at each origin the model is refitted on the history before it,
    forecasts 7 days, and offers are made from its offer bound with ``policy`` (default
    policy). ``forecast`` is idleshare's forecaster unless another is plugged in (the
    peer comparison's), so both are judged by the same code."""
    began = time.perf_counter()
    policy = policy or SharingPolicy.from_dict({})
    origins = list(range(data.first, data.n - WEEK_H + 1, step_h))
    err, err_day, err_week, covered = [], [], [], []
    truly, offered_total, free_total = 0.0, 0.0, 0.0
    shareable = 1.0 - policy.reserve_fraction
    series = np.stack(data.series)
    for o in origins:
        pred, bound = forecast(series[:, :o], data.t0)  # refitted on the hours before o only
        idx = np.arange(o, o + WEEK_H)
        start = data.t0 + o * HOUR
        for cap, y, q, b in zip(data.capacities, data.series, pred, bound, strict=True):
            actual = y[idx]
            day, week = daily_naive(y, o, idx), seasonal_naive(y, o, idx)
            ok = np.isfinite(actual) & np.isfinite(day) & np.isfinite(week)
            err.append(np.abs(q[ok, 1] - actual[ok]))
            err_day.append(np.abs(day[ok] - actual[ok]))
            err_week.append(np.abs(week[ok] - actual[ok]))
            covered.append(actual[ok] >= q[ok, 0])
            # Offers made at the origin, judged in hours with data (no data: nothing offered).
            lower = np.where(np.isfinite(actual), b * cap, 0.0)
            offered = hourly_offered(offers_from_forecast(lower, start, cap, policy, start),
                                     start, WEEK_H)
            free = np.nan_to_num(actual) * cap
            truly += float(np.minimum(offered, free).sum())
            offered_total += float(offered.sum())
            free_total += float(free.sum())
    e = np.concatenate(err)
    return ForecastFigures(
        origins=len(origins), hours=int(e.size), mae=float(e.mean()),
        mae_daily_naive=float(np.concatenate(err_day).mean()),
        mae_weekly_naive=float(np.concatenate(err_week).mean()),
        p10_coverage=float(np.concatenate(covered).mean()),
        offer_precision=truly / offered_total if offered_total else float("nan"),
        idle_capture=truly / free_total if free_total else float("nan"),
        seconds=time.perf_counter() - began,
        idle_capture_shareable=truly / (free_total * shareable) if free_total else float("nan"))


def parking_data(first_origin: str = "2016-11-08", end: str = "2016-12-06") -> ForecastData:
    """The 29 Birmingham car parks (data up to 2016-12-05); free = capacity - occupied."""
    t0 = _utc("2016-10-03")
    n = int((_utc(end) - t0) // HOUR)
    parks = list(datasets.parking().values())
    return ForecastData(
        "uci_parking_birmingham", t0, n, int((_utc(first_origin) - t0) // HOUR),
        [hourly_free(t, np.clip(cap - occ, 0.0, cap), t0, n) / cap for cap, t, occ in parks],
        [cap for cap, _, _ in parks])


def _hourly_mean(times: np.ndarray, values: np.ndarray, t0: float, n: int) -> np.ndarray:
    hour = ((times - t0) // HOUR).astype(int)
    keep = (hour >= 0) & (hour < n)
    counts = np.bincount(hour[keep], minlength=n)
    sums = np.bincount(hour[keep], weights=values[keep], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def steel_data() -> ForecastData:
    """The steel plant as one machine whose free capacity is power: capacity = the year's
    highest 15-minute use as kW (629 kW, a stand-in for its rating), free = capacity - mean
    use. Each 15-minute row closes its interval, so it counts in the hour it ends in less
    1 s. Origins from 2018-10-01 to the year's end."""
    times, usage, _ = datasets.steel()
    t0 = _utc("2018-01-01")
    n = int((_utc("2019-01-01") - t0) // HOUR)
    peak = float(usage.max())
    free = 1.0 - _hourly_mean(times - 1.0, usage, t0, n) / peak
    return ForecastData("uci_steel_industry_energy", t0, n, int((_utc("2018-10-01") - t0) // HOUR),
                        [free], [peak * 4.0])


def bike_share_data() -> ForecastData:
    """The Capital Bikeshare fleet as one equipment pool of 977 bikes (the most rentals in any
    hour of the two years): free = 977 - rentals started in the hour (trips are mostly shorter
    than an hour, so rentals per hour stand in for bikes in use). Origins from 2012-10-01 to
    the year's end."""
    times, count = datasets.bike_share()
    t0 = _utc("2011-01-03")  # the first Monday
    n = int((_utc("2013-01-01") - t0) // HOUR)
    peak = float(count.max())
    free = 1.0 - _hourly_mean(times, count, t0, n) / peak
    return ForecastData("uci_bike_sharing", t0, n, int((_utc("2012-10-01") - t0) // HOUR),
                        [free], [peak])


def evaluate_parking(first_origin: str = "2016-11-08", step_h: int = 48,
                     end: str = "2016-12-06", policy: SharingPolicy | None = None
                     ) -> ForecastFigures:
    """Rolling-origin backtest on the Birmingham car parks (data up to 2016-12-05).

    Origins are UTC midnights every ``step_h`` hours from ``first_origin`` while the 7-day
    horizon ends by ``end``; the model is refitted at each origin on the history before it.
    """
    return backtest(parking_data(first_origin, end), step_h, policy)


def hindsight_bounds(first_origin: str = "2016-11-08", step_h: int = 48,
                     end: str = "2016-12-06") -> dict[str, float]:
    """How much better than weekly seasonal naive a forecaster could be that *knew the
    future*, on the same hours as :func:`evaluate_parking`.

    Improvement over weekly naive (MAE) of two clairvoyant week profiles: ``week_profile``,
    each car park's mean of every week Oct 3 - Dec 5 at that hour of the week (the whole
    period, test weeks included), and ``neighbour_weeks``, the mean of the week before and
    the week *after* the forecast hour. No forecaster from the past can be expected to beat
    them; they show how much of the error is unpredictable day-to-day variation.
    """
    data = parking_data(first_origin, end)
    n, series = data.n, data.series
    origins = range(data.first, n - WEEK_H + 1, step_h)
    err_week, err_profile, err_neighbours = [], [], []
    for y in series:
        weeks = np.full((-(-n // WEEK_H)) * WEEK_H, np.nan)
        weeks[:n] = y
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # hours never with data
            profile = np.nanmean(weeks.reshape(-1, WEEK_H), axis=0)
        for o in origins:
            idx = np.arange(o, o + WEEK_H)
            actual, week = y[idx], seasonal_naive(y, o, idx)
            ok = np.isfinite(actual) & np.isfinite(week)
            before = y[idx - WEEK_H]
            after = np.where(idx + WEEK_H < n, y[np.minimum(idx + WEEK_H, n - 1)], np.nan)
            both = np.where(np.isfinite(after), (before + after) / 2, before)
            ok_n = ok & np.isfinite(both)
            err_week.append(np.abs(week - actual)[ok])
            err_profile.append(np.abs(profile[idx % WEEK_H] - actual)[ok])
            err_neighbours.append(np.where(ok_n, np.abs(both - actual), np.abs(week - actual))[ok])
    base = float(np.concatenate(err_week).mean())
    return {"week_profile": 1.0 - float(np.concatenate(err_profile).mean()) / base,
            "neighbour_weeks": 1.0 - float(np.concatenate(err_neighbours).mean()) / base}


def capture_bound(data: ForecastData, step_h: int = 48, level: float = 0.1,
                  policy: SharingPolicy | None = None, precision: float | None = None
                  ) -> dict[str, float]:
    """The idle capture (shareable base) of a P10 that *knew the future*, on the hours of
    :func:`backtest`: its median is the mean of the actual weeks before and after each hour,
    its shift each asset's split-conformal ``level`` quantile of that median's residuals over
    every evaluated hour (test weeks included), and its offers are every hour's P10 less the
    reserve, with no band (each hour its own quantity). No forecaster from the past can be
    expected to do better at the same coverage; returns its capture, precision, coverage.
    With ``precision``, the shift is instead each asset's :func:`analytics.calibration.
    precision_shift` to that precision over the same hours: the reference for offers made
    from a bound calibrated to a precision. It is a reference, not a bound on every
    forecaster: one shift per asset for all hours, and no current level (the forecaster,
    whose bound follows each hour's learned spread, captures more on all three sets)."""
    from analytics.calibration import conformal_shift, precision_shift

    policy = policy or SharingPolicy.from_dict({})
    keep = 1.0 - policy.reserve_fraction
    truly = offered_total = free_total = 0.0
    covered = []
    origins = range(data.first, data.n - WEEK_H + 1, step_h)
    for cap, y in zip(data.capacities, data.series, strict=True):
        medians, actuals = [], []
        for o in origins:
            idx = np.arange(o, o + WEEK_H)
            before = y[idx - WEEK_H]
            after = np.where(idx + WEEK_H < data.n, y[np.minimum(idx + WEEK_H, data.n - 1)],
                             np.nan)
            both = np.where(np.isfinite(after), (before + after) / 2, before)
            medians.append(np.where(np.isfinite(both), both, before))
            actuals.append(y[idx])
        m, actual = np.concatenate(medians), np.concatenate(actuals)
        ok = np.isfinite(actual) & np.isfinite(m)
        shift = conformal_shift(actual[ok] - m[ok], level) if precision is None \
            else precision_shift(actual[ok], m[ok], precision)
        p10 = np.clip(m + shift, 0.0, 1.0)
        offered = np.floor(np.where(ok, p10, 0.0) * cap * keep * 1000) / 1000
        offered = np.where(offered >= policy.min_quantity, offered, 0.0)
        free = np.nan_to_num(actual) * cap
        truly += float(np.minimum(offered, free).sum())
        offered_total += float(offered.sum())
        free_total += float(free.sum())
        covered.append(actual[ok] >= p10[ok])
    return {"idle_capture_shareable": truly / (free_total * keep),
            "offer_precision": truly / offered_total,
            "p10_coverage": float(np.concatenate(covered).mean())}


def evaluate_occupancy() -> dict[str, float]:
    """Train on ``datatraining.txt``, report accuracy on ``datatest.txt``."""
    cols = list(OCCUPANCY_COLUMNS)
    _, X, y = datasets.occupancy("datatraining.txt")
    _, X_test, y_test = datasets.occupancy("datatest.txt")
    model = occupancy_classifier().fit(X[:, cols], y)
    return {"accuracy": float((model.predict(X_test[:, cols]) == y_test).mean()),
            "test_rows": float(y_test.size)}


def evaluate_steel() -> dict[str, float]:
    """Machine states from the plant's 15-minute energy use, against its load labels
    (states and labels both ordered by rising load)."""
    _, usage, load = datasets.steel()
    states = MachineStateModel(n_states=3).fit(usage[:, None]).labels_
    return {"accuracy": float((states == load).mean()),
            "adjusted_rand_index": float(adjusted_rand_score(load, states)),
            "rows": float(load.size)}


def _forecast_lines(title: str, f: ForecastFigures, step_h: int, unit: str,
                    intraday: IntradayFigures, bound: dict[str, float], weekly_note: str = "",
                    after_weekly: tuple[str, ...] = (), after_capture: tuple[str, ...] = ()
                    ) -> list[str]:
    i = intraday
    return [
        f"{title} (rolling origin, {f.origins} origins every {step_h} h, {f.hours} {unit}, "
        f"{f.seconds:.0f} s)",
        f"  forecast MAE          {f.mae:.4f} of capacity",
        f"  seasonal naive, day   {f.mae_daily_naive:.4f}   improvement {f.improvement_daily:.1%}"
        "   (target >= 25 %)",
        f"  seasonal naive, week  {f.mae_weekly_naive:.4f}   improvement "
        f"{f.improvement_weekly:.1%}{weekly_note}",
        *after_weekly,
        f"  intraday origins every 2 h of the active hours ({i.origins} origins, "
        f"{i.seconds:.0f} s)",
        f"    next 1-{i.short_h} h         MAE {i.mae_short:.4f}, weekly naive "
        f"{i.mae_short_weekly_naive:.4f}   improvement {i.improvement_short:.1%}"
        "   (target >= 30 % on the car parks)",
        f"      persistence fitted on these hours in hindsight: {i.improvement_short_hindsight:.1%}"
        " (the best a median of the anchor plus a share of the current deviation can do)",
        f"    next 7 days         MAE {i.mae_week:.4f}, weekly naive "
        f"{i.mae_week_weekly_naive:.4f}   improvement {i.improvement_week:.1%}"
        "   (target >= 3 % on the car parks)",
        f"  P10 coverage          {f.p10_coverage:.2%}   (target 88-92 %)",
        f"  offer precision       {f.offer_precision:.2%}   (target >= 97 %; offers from the "
        f"bound calibrated to {OFFER_PRECISION:.0%} of its unit-hours truly free)",
        f"  idle capture          {f.idle_capture_shareable:.2%} of the shareable free "
        f"unit-hours, {f.idle_capture:.2%} of all free   (target >= 85 % of shareable)",
        f"    knowing the future (the weeks before and after, calibrated in hindsight to "
        f"{OFFER_PRECISION:.0%} precision, no band): {bound['idle_capture_shareable']:.1%} at "
        f"precision {bound['offer_precision']:.1%}",
        *after_capture,
    ]


def report(step_h: int = 48, intraday_day_step: int = 1, churn_interval_s: float = 3600.0,
           peers: bool = False) -> str:
    """Every figure, one block per data set, as ``python -m bench evaluate`` prints it;
    ``peers``: then the off-the-shelf forecaster beside these same figures
    (:mod:`bench.evaluate_peers`).

    Runs with one thread per library pool: gradient boosting's OpenMP threads spin on a
    shared 2-core machine and run 10-20x slower."""
    with threadpool_limits(limits=1):
        return _report(step_h, intraday_day_step, churn_interval_s, peers)


def _report(step_h: int, intraday_day_step: int, churn_interval_s: float,
            peers: bool = False) -> str:
    from bench.evaluate_legs import evaluate_legs
    from bench.evaluate_legs import report_lines as leg_lines
    from bench.intraday import intraday_backtest  # it builds on this module
    from bench.refreshed import refreshed_backtest
    from bench.replay import replay_day

    occ, steel = evaluate_occupancy(), evaluate_steel()
    sets = {name: load() for name, load in (("parking", parking_data), ("steel", steel_data),
                                            ("bikes", bike_share_data))}
    figures = {name: backtest(data, step_h) for name, data in sets.items()}
    bounds = {name: capture_bound(data, step_h, precision=OFFER_PRECISION)
              for name, data in sets.items()}
    intraday = {name: intraday_backtest(data, day_step=intraday_day_step)
                for name, data in sets.items()}
    bound = hindsight_bounds(step_h=step_h)
    refreshed = refreshed_backtest(sets["parking"], day_step=intraday_day_step)
    churn = replay_day(interval_s=churn_interval_s)
    lines = [
        "uci_occupancy_detection (train datatraining.txt, test datatest.txt)",
        f"  accuracy              {occ['accuracy']:.2%}   (target >= 97 %)",
        "uci_steel_industry_energy, machine states (3-state mixture on Usage_kWh vs Load_Type)",
        f"  accuracy              {steel['accuracy']:.2%}",
        f"  adjusted Rand index   {steel['adjusted_rand_index']:.3f}",
        *_forecast_lines(
            "uci_parking_birmingham", figures["parking"], step_h, "car-park hours",
            intraday["parking"], bounds["parking"],
            "   (from midnight origins, before the day's first reading)",
            (f"    knowing the future: whole-period week profile {bound['week_profile']:.1%}, "
             f"mean of the weeks before and after {bound['neighbour_weeks']:.1%}",),
            (f"    as the service offers (re-issued at {refreshed.origins} intraday origins, "
             f"churn rule, the offer live at each hour's start; {refreshed.seconds:.0f} s): "
             f"capture {refreshed.idle_capture_shareable:.1%} of shareable / "
             f"{refreshed.idle_capture:.1%} of all, precision {refreshed.offer_precision:.2%}",)),
        *_forecast_lines("uci_steel_industry_energy, free power (2018-10-01 to year end)",
                         figures["steel"], step_h, "hours", intraday["steel"], bounds["steel"]),
        *_forecast_lines("uci_bike_sharing, free bikes (2012-10-01 to year end)",
                         figures["bikes"], step_h, "hours", intraday["bikes"], bounds["bikes"]),
        f"offer churn, a replayed day of the car parks ({churn.passes} analysis passes every "
        f"{churn_interval_s:.0f} s through analytics.runner.run_once, {churn.seconds:.0f} s)",
        f"  updated events        {churn.updated_per_offer_day:.2f} per offer per day "
        f"({churn.updated} for {churn.offers} offers; {churn.created} created, "
        f"{churn.withdrawn} withdrawn)   (target <= 4)",
        *leg_lines(evaluate_legs()),  # the simulated truck fleet: says so in its first line
    ]
    if peers:  # idleshare's backtests above are the peer's reference, not run again
        from bench.evaluate_peers import DATA_SETS, side_by_side, side_by_side_lines

        for (_, title, unit), name in zip(DATA_SETS, sets, strict=True):
            lines += side_by_side_lines(
                title, side_by_side(sets[name], figures[name], step_h), step_h, unit)
    return "\n".join(lines)


__all__ = [
    "Forecast",
    "ForecastData",
    "ForecastFigures",
    "ParkingFigures",
    "asdict",
    "backtest",
    "bike_share_data",
    "capture_bound",
    "evaluate_occupancy",
    "evaluate_parking",
    "evaluate_steel",
    "hindsight_bounds",
    "idleshare_forecast",
    "parking_data",
    "report",
    "steel_data",
]
