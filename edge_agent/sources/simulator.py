"""``simulator``: believable readings of every asset kind, for demos and tests.

Every value is a pure function of (seed, asset id, clock time), so a restarted agent or a fast
clock that catches up produces the same series. Patterns follow the asset's local time
(``timezone``): weekday shifts, quieter nights and weekends.

Emits (SenML name, unit, type), per kind:

====================  ========  =======  ===============================================
kind                  name      unit     meaning
====================  ========  =======  ===============================================
warehouse_zone        occupied  (asset)  occupied positions, integer in 0..capacity
machine               running   ``/``    1 while running (two weekday shifts, short stops)
machine               power     ``kW``   draw: near ``rated_kw`` running, standby otherwise
vehicle               in_use    ``/``    1 while on a trip away from the depot
vehicle               load      ``t``    payload, 0..capacity (full out, light back)
vehicle               lat/lon   lat/lon  position: depot (asset location) or on the road
equipment             in_use    ``/``    1 while in use (busy weekday daytime)
container             fill      (asset)  material in it, rising, emptied periodically
====================  ========  =======  ===============================================
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from edge_agent.sources.base import check_timezone, to_measurement
from idleshare.assets import Asset
from idleshare.errors import ConfigError
from idleshare.wire import Measurement

_HOUR = 3600.0
_DAY = 86400.0


@dataclass(frozen=True)
class SimulatorSettings:
    #: Same seed, same series.
    seed: int = 0
    #: IANA zone of the site; shifts and weekends follow its local time.
    timezone: str = "UTC"
    #: Relative size of the random noise on continuous values.
    noise: float = 0.03
    #: Machines: power draw while running, kW.
    rated_kw: float = 50.0
    #: Containers: hours between two emptyings.
    empty_every_h: float = 72.0

    def __post_init__(self) -> None:
        check_timezone(self.timezone)
        if not 0 <= self.noise <= 0.5:
            raise ConfigError(f"noise must be within 0..0.5: got {self.noise}")
        if not self.rated_kw > 0:
            raise ConfigError(f"rated_kw must be > 0: got {self.rated_kw}")
        if not self.empty_every_h > 0:
            raise ConfigError(f"empty_every_h must be > 0: got {self.empty_every_h}")


@dataclass(frozen=True)
class _Moment:
    """A clock time seen from the site: Monday is weekday 0."""

    t: float
    weekday: int
    hour: float
    day: int  # local date as an ordinal, a key for per-day randomness


def _interp(table: tuple[tuple[float, float], ...], hour: float) -> float:
    for (h0, v0), (h1, v1) in itertools.pairwise(table):
        if h0 <= hour <= h1:
            return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)
    return table[-1][1]


# Share of a zone's positions in use over the local day (hour, share).
_ZONE_WEEKDAY = ((0, 0.35), (5, 0.38), (7, 0.7), (12, 0.8), (15, 0.9), (18, 0.75),
                 (21, 0.5), (24, 0.35))
_ZONE_SATURDAY = ((0, 0.33), (8, 0.4), (13, 0.45), (18, 0.3), (24, 0.25))
_ZONE_SUNDAY = ((0, 0.25), (24, 0.22))
_ZONE_DAYS = (_ZONE_WEEKDAY,) * 5 + (_ZONE_SATURDAY, _ZONE_SUNDAY)
#: Machines and equipment work two weekday shifts.
_SHIFTS = ((6.0, 14.0), (14.0, 22.0))


class SimulatorSource:
    settings_type: ClassVar[type[SimulatorSettings]] = SimulatorSettings

    def __init__(self, settings: SimulatorSettings, asset: Asset, start: float) -> None:
        self.settings = settings
        self.asset = asset
        self._zone = ZoneInfo(settings.timezone)
        self._model = _MODELS[asset.kind]
        self._metrics = {m.name: m for m in asset.asset_kind.metrics}

    def read(self, t: float) -> list[Measurement]:
        local = datetime.fromtimestamp(t, self._zone)
        moment = _Moment(t, local.weekday(), local.hour + local.minute / 60 + local.second / 3600,
                         local.toordinal())
        return [to_measurement(self.asset, self._metrics[name], value, t)
                for name, value in self._model(self, moment)]

    # -- randomness that depends only on (seed, asset, what, when) ---------------------------

    def _rng(self, *key: object) -> random.Random:
        return random.Random("|".join(map(str, (self.settings.seed, self.asset.id, *key))))

    def _noise(self, m: _Moment, what: str) -> float:
        return self._rng(what, m.t).gauss(0.0, self.settings.noise)

    def _shift_of(self, m: _Moment) -> int | None:
        if m.weekday >= 5:
            return None
        return next((i for i, (a, b) in enumerate(_SHIFTS) if a <= m.hour < b), None)

    # -- one model per kind --------------------------------------------------------------------

    def _zone_model(self, m: _Moment) -> list[tuple[str, float]]:
        share = _interp(_ZONE_DAYS[m.weekday], m.hour)
        scale = 0.75 + 0.25 * self._rng("scale").random()  # some zones are fuller than others
        daily = self._rng("day", m.day).uniform(-0.05, 0.05)
        level = share * scale + daily + self._noise(m, "occupied")
        return [("occupied", round(level * self.asset.capacity))]

    def _machine_model(self, m: _Moment) -> list[tuple[str, float]]:
        shift = self._shift_of(m)
        # Some shifts have no orders; within a worked shift, short stops of 15 minutes.
        worked = shift is not None and self._rng("shift", m.day, shift).random() > 0.2
        stopped = self._rng("stop", m.t // 900).random() < 0.08
        running = 1.0 if worked and not stopped else 0.0
        rated = self.settings.rated_kw
        draw = rated * (0.8 + self._noise(m, "power")) if running else rated * 0.03
        return [("running", running), ("power", round(max(draw, 0.0), 2))]

    def _equipment_model(self, m: _Moment) -> list[tuple[str, float]]:
        busy = 0.65 if self._shift_of(m) is not None and 7 <= m.hour < 19 else 0.04
        in_use = self._rng("use", m.t // 1800).random() < busy
        return [("in_use", 1.0 if in_use else 0.0)]

    def _vehicle_model(self, m: _Moment) -> list[tuple[str, float]]:
        trip = self._trip(m)
        lat, lon = self.asset.lat, self.asset.lon
        if trip is None:
            return [("in_use", 0.0), ("load", 0.0), ("lat", lat), ("lon", lon)]
        progress, load_out, load_back, dlat, dlon = trip
        # Out (0..0.4), unloading at the destination (0.4..0.6), back (0.6..1).
        reach = min(progress / 0.4, 1.0) if progress < 0.6 else (1.0 - progress) / 0.4
        load = load_out if progress < 0.5 else load_back
        return [("in_use", 1.0), ("load", round(load, 2)),
                ("lat", round(lat + dlat * reach, 5)), ("lon", round(lon + dlon * reach, 5))]

    def _trip(self, m: _Moment) -> tuple[float, float, float, float, float] | None:
        """Today's trip, if the truck is on it: (progress 0..1, loads, destination offset)."""
        rng = self._rng("trip", m.day)
        if rng.random() > (0.85 if m.weekday < 5 else 0.15):
            return None
        depart = rng.uniform(5.5, 9.0)
        duration = rng.uniform(3.0, 9.0)
        if not depart <= m.hour < depart + duration:
            return None
        capacity = self.asset.capacity
        load_out, load_back = capacity * rng.uniform(0.5, 1.0), capacity * rng.uniform(0.0, 0.2)
        km, bearing = rng.uniform(20.0, 40.0) * duration / 3, rng.uniform(0, 2 * math.pi)
        dlat = km / 111.0 * math.cos(bearing)
        dlon = km / (111.0 * max(math.cos(math.radians(self.asset.lat)), 0.1)) * math.sin(bearing)
        return (m.hour - depart) / duration, load_out, load_back, dlat, dlon

    def _container_model(self, m: _Moment) -> list[tuple[str, float]]:
        period = self.settings.empty_every_h * _HOUR
        shifted = m.t + self._rng("phase").random() * period  # containers are not emptied together
        cycle, elapsed = divmod(shifted, period)
        peak = self._rng("peak", cycle).uniform(0.6, 0.95)
        level = peak * elapsed / period + self._noise(m, "fill") * 0.2
        return [("fill", round(level * self.asset.capacity, 2))]


_MODELS: dict[str, Callable[[SimulatorSource, _Moment], list[tuple[str, float]]]] = {
    "warehouse_zone": SimulatorSource._zone_model,
    "machine": SimulatorSource._machine_model,
    "vehicle": SimulatorSource._vehicle_model,
    "equipment": SimulatorSource._equipment_model,
    "container": SimulatorSource._container_model,
}
