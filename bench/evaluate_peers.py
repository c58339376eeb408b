"""What a user would pick instead: an off-the-shelf forecaster through the evaluation's
backtests, side by side with idleshare's (``python -m bench evaluate-peers``).

The peer is statsforecast's MSTL (Nixtla): the hourly free fraction decomposed into a daily
and a weekly season (statsmodels' MSTL), the rest forecast by AutoETS, the seasons repeated.
It is fitted per asset at every origin on the asset's last :data:`PEER_HISTORY_H` hours (the
35 days the platform's forecaster reads, :data:`analytics.fleet.FORECAST_LOOKBACK_S`), hours
without data filled by linear interpolation (MSTL takes no gaps) up to the last hour with
data, from which it forecasts on to the end of the horizon. Its median is its point
forecast; its P10 is the lower end of its own 80 % prediction interval, and its offers are
made from that P10 by the same offer rule (idleshare's from its own offer bound, calibrated
to a precision: :meth:`analytics.forecast.FleetForecaster.predict_all`).

Definitions are those of :mod:`bench.evaluate` (MAE, naive baselines, P10 coverage, offer
precision, idle capture on both bases) and :mod:`bench.intraday` (intraday origins, next
1-8 h and 7 days against weekly naive), on the same data sets, origins and hours:
:func:`peer_backtest` with idleshare's forecaster returns :func:`bench.evaluate.backtest`'s
figures exactly (``tests/bench/test_evaluate_peers.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from statsforecast.models import MSTL, AutoETS
from threadpoolctl import threadpool_limits

from analytics.fleet import FORECAST_LOOKBACK_S
from analytics.forecast import WEEK_H, seasonal_naive
from analytics.policy import SharingPolicy
from bench.evaluate import (
    HOUR,
    Forecast,
    ForecastData,
    ForecastFigures,
    backtest,
    bike_share_data,
    parking_data,
    steel_data,
)
from bench.intraday import IntradayFigures, active_hours, intraday_backtest

PEER = "statsforecast MSTL (seasons 24 h and 168 h, AutoETS trend)"
#: Hours of history the peer is fitted on (the platform's forecaster reads as many).
PEER_HISTORY_H = int(FORECAST_LOOKBACK_S // HOUR)
#: Its own prediction interval whose lower end is the P10.
INTERVAL_LEVEL = 80
#: Intraday origins on every this many days: the peer is fitted per asset and origin
#: (0.5 s each here), so every day's origins would take the car parks alone 25 minutes.
PEER_INTRADAY_DAY_STEP = 5


def interpolated(y: np.ndarray) -> np.ndarray:
    """``y`` with NaN hours filled linearly between the nearest hours with data (held at the
    start)."""
    known = np.flatnonzero(np.isfinite(y))
    return np.interp(np.arange(y.size), known, y[known])


def mstl_forecast(history: np.ndarray, t0: float) -> tuple[np.ndarray, np.ndarray]:
    """The peer's P10 and median, shape (assets, 168, 2), and its offer bound, the P10; each
    row fitted on its own last :data:`PEER_HISTORY_H` hours (``t0`` is not needed: MSTL
    learns the seasons' phase).

    The fit ends at the last hour with data and the forecast runs on through the hours
    without data up to the origin: holding the last value over a car park's night (no
    readings) instead would hand the trend model a false level (MAE 0.114 against 0.064 on
    eight car parks, three origins). A row without data forecasts 0 free (nothing offered).
    """
    out = np.zeros((len(history), WEEK_H, 2))
    for i, y in enumerate(history):
        window = y[-PEER_HISTORY_H:]
        known = np.flatnonzero(np.isfinite(window))
        if not known.size:
            continue
        gap = window.size - 1 - int(known[-1])
        model = MSTL(season_length=[24, WEEK_H], trend_forecaster=AutoETS(model="ZZN"))
        f = model.forecast(y=interpolated(window[:known[-1] + 1]), h=gap + WEEK_H,
                           level=[INTERVAL_LEVEL])
        median = np.clip(f["mean"][gap:], 0.0, 1.0)
        out[i, :, 0] = np.minimum(np.clip(f[f"lo-{INTERVAL_LEVEL}"][gap:], 0.0, 1.0), median)
        out[i, :, 1] = median
    return out, out[:, :, 0]


def peer_backtest(data: ForecastData, step_h: int = 48, policy: SharingPolicy | None = None,
                  forecast: Forecast = mstl_forecast) -> ForecastFigures:
    """:func:`bench.evaluate.backtest` with ``forecast`` (the peer's) in place of idleshare's
    forecaster: the same origins, hours, baselines and offer rule."""
    return backtest(data, step_h, policy, forecast=forecast)


def intraday_origins(data: ForecastData, step_h: int = 2, day_step: int = 1) -> list[int]:
    """The origins of :func:`bench.intraday.intraday_backtest` with the same arguments."""
    first_hour = int(data.t0 // HOUR % 24)
    offsets = [(h - first_hour) % 24 for h in active_hours(data)[::step_h]]
    return [d + o for d in range(data.first, data.n - WEEK_H - 23, 24 * day_step)
            for o in offsets]


def peer_intraday(data: ForecastData, step_h: int = 2, short_h: int = 8,
                  day_step: int = PEER_INTRADAY_DAY_STEP,
                  forecast: Forecast = mstl_forecast) -> IntradayFigures:
    """:func:`bench.intraday.intraday_backtest`'s figures for ``forecast``'s median."""
    began = time.perf_counter()
    err: dict[str, list[np.ndarray]] = {"short": [], "short_naive": [], "week": [],
                                        "week_naive": []}
    series = np.stack(data.series)
    origins = intraday_origins(data, step_h, day_step)
    for o in origins:
        medians = forecast(series[:, :o], data.t0)[0][:, :, 1]
        idx = np.arange(o, o + WEEK_H)
        for y, median in zip(data.series, medians, strict=True):
            actual, naive = y[idx], seasonal_naive(y, o, idx)
            ok = np.isfinite(actual) & np.isfinite(naive) & np.isfinite(median)
            near = ok & (idx < o + short_h)
            for key, mask, guess in (("short", near, median), ("short_naive", near, naive),
                                     ("week", ok, median), ("week_naive", ok, naive)):
                err[key].append(np.abs(guess - actual)[mask])
    mean = {k: float(np.concatenate(v).mean()) for k, v in err.items()}
    return IntradayFigures(origins=len(origins), short_h=short_h, mae_short=mean["short"],
                           mae_short_weekly_naive=mean["short_naive"], mae_week=mean["week"],
                           mae_week_weekly_naive=mean["week_naive"],
                           seconds=time.perf_counter() - began)


@dataclass(frozen=True)
class SideBySide:
    """idleshare's and the peer's figures on the same origins."""

    ours: ForecastFigures
    peer: ForecastFigures
    ours_intraday: IntradayFigures
    peer_intraday: IntradayFigures
    #: The intraday origins are those of one day in this many.
    day_step: int


def side_by_side(data: ForecastData, ours: ForecastFigures, step_h: int = 48,
                 day_step: int = PEER_INTRADAY_DAY_STEP) -> SideBySide:
    """The peer's figures next to ``ours`` (idleshare's :func:`bench.evaluate.backtest` with
    ``step_h``), and both forecasters' from the same intraday origins."""
    return SideBySide(ours, peer_backtest(data, step_h),
                      intraday_backtest(data, day_step=day_step),
                      peer_intraday(data, day_step=day_step), day_step)


def side_by_side_lines(title: str, s: SideBySide, step_h: int, unit: str) -> list[str]:
    """One block of ``python -m bench evaluate``'s report: idleshare's column, then the peer's."""
    def row(label: str, ours: str, peer: str) -> str:
        return f"  {label:<34}{ours:<12}{peer}"

    def pct(f: ForecastFigures | IntradayFigures, attr: str) -> str:
        return f"{getattr(f, attr):.1%}"

    o, p, oi, pi = s.ours, s.peer, s.ours_intraday, s.peer_intraday
    return [
        f"{title}: idleshare vs {PEER} (the same {o.origins} origins every {step_h} h, "
        f"{o.hours} / {p.hours} {unit}; intraday: {oi.origins} / {pi.origins} origins, "
        f"one day in {s.day_step})",
        row("", "idleshare", "MSTL"),
        row("forecast MAE", f"{o.mae:.4f}", f"{p.mae:.4f}"),
        row("vs daily seasonal naive", pct(o, "improvement_daily"), pct(p, "improvement_daily")),
        row("vs weekly seasonal naive", pct(o, "improvement_weekly"),
            pct(p, "improvement_weekly")),
        row(f"next 1-{oi.short_h} h vs weekly naive", pct(oi, "improvement_short"),
            pct(pi, "improvement_short")),
        row("next 7 days (intraday) vs weekly", pct(oi, "improvement_week"),
            pct(pi, "improvement_week")),
        row("P10 coverage", f"{o.p10_coverage:.2%}", f"{p.p10_coverage:.2%}"),
        row("offer precision", f"{o.offer_precision:.2%}", f"{p.offer_precision:.2%}"),
        row("idle capture, shareable", f"{o.idle_capture_shareable:.2%}",
            f"{p.idle_capture_shareable:.2%}"),
        row("idle capture, all free", f"{o.idle_capture:.2%}", f"{p.idle_capture:.2%}"),
        row("seconds (backtest + intraday)", f"{o.seconds + oi.seconds:.0f}",
            f"{p.seconds + pi.seconds:.0f}"),
    ]


#: The data sets of the evaluation: loader, title and unit of their hours.
DATA_SETS = (
    (parking_data, "uci_parking_birmingham", "car-park hours"),
    (steel_data, "uci_steel_industry_energy, free power", "hours"),
    (bike_share_data, "uci_bike_sharing, free bikes", "hours"),
)


def report(step_h: int = 48, intraday_day_step: int = PEER_INTRADAY_DAY_STEP) -> str:
    """Every data set's side-by-side block (one thread per library pool, as the evaluation)."""
    lines = []
    with threadpool_limits(limits=1):
        for load, title, unit in DATA_SETS:
            data = load()
            lines += side_by_side_lines(
                title, side_by_side(data, backtest(data, step_h), step_h, intraday_day_step),
                step_h, unit)
    return "\n".join(lines)
