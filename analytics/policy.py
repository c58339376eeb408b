"""An asset's sharing policy and the one mapping from it to the analytics functions.

This class is the single source of truth for policy keys: the API validates owners' updates
with it, and analytics reads it on every pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from analytics.calendars import check_source
from analytics.idle_windows import IdleWindow, idle_windows
from analytics.offers import seasonal_naive_offers
from analytics.series import MAX_GAP_S
from idleshare.errors import ConfigError
from storage.catalog import VISIBILITIES  # who sees an offer: the one list, beside the rows


def _number(key: str, value: Any) -> float:
    # bool is an int, but True as a price is a mistake, not 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"policy key {key!r} must be a number: got {value!r}")
    return float(value)


@dataclass(frozen=True)
class SharingPolicy:
    """The owner's rules for sharing one asset; field names are the policy keys.

    The field defaults are the policy of an asset whose owner has set none (the one
    definition: :data:`DEFAULT_POLICY` is read from them). Construct with :meth:`from_dict`
    or directly; both check types and ranges and raise
    :class:`~idleshare.errors.ConfigError` naming the key.
    """

    #: Idle when at least this share of capacity is free, in (0, 1].
    min_free_fraction: float = 0.5
    #: Shortest idle window kept, seconds (>= 0).
    min_duration_s: float = 3600.0
    #: Share of the free quantity the owner keeps back, in [0, 1).
    reserve_fraction: float = 0.1
    #: Smallest quantity worth offering, in the asset's unit (>= 0).
    min_quantity: float = 1.0
    #: Price per unit of quantity and hour (>= 0), in ``currency``.
    price_per_unit_hour: float = 1.0
    currency: str = "EUR"
    #: One of :data:`VISIBILITIES`.
    visibility: str = "public"
    #: How far below ``min_free_fraction`` an idle run may dip and go on, in [0, min_free_fraction].
    hysteresis: float = 0.0
    #: Shortest offer window, seconds (>= 0).
    min_window_s: float = 3600.0
    #: Offers start no sooner than this many seconds after the analysis (>= 0).
    lead_time_s: float = 0.0
    #: Hours of the day (0-23), in ``timezone``, in which nothing is offered.
    blackout_hours: tuple[int, ...] = ()
    #: IANA time zone of the asset's site; ``blackout_hours`` are its wall-clock hours.
    timezone: str = "UTC"
    #: Capabilities copied onto offers (cold storage, forklift, hazmat, ...).
    capabilities: tuple[str, ...] = ()
    #: The owner's planned use, never offered: iCalendar texts or https:// feed URLs
    #: (:mod:`analytics.calendars`).
    planned_use: tuple[str, ...] = ()
    #: A vehicle's leg offers' price per tonne carried on the leg (>= 0), in ``currency``;
    #: None: not priced per tonne (:mod:`analytics.leg_offers`).
    price_per_tonne: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "float":
                object.__setattr__(self, f.name, _number(f.name, value))
            elif f.type == "str" and not isinstance(value, str):
                raise ConfigError(f"policy key {f.name!r} must be a string: got {value!r}")
        self._check_ranges()
        hours, caps = self.blackout_hours, self.capabilities
        if isinstance(hours, str | bytes) or not isinstance(hours, list | tuple) or any(
                isinstance(h, bool) or not isinstance(h, int) or not 0 <= h <= 23 for h in hours):
            raise ConfigError(f"policy key 'blackout_hours' must be a list of hours 0-23: "
                              f"got {hours!r}")
        if isinstance(caps, str | bytes) or not isinstance(caps, list | tuple) or any(
                not isinstance(c, str) or not c for c in caps):
            raise ConfigError(f"policy key 'capabilities' must be a list of non-empty strings: "
                              f"got {caps!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ConfigError(f"policy key 'timezone' must be an IANA time zone such as "
                              f"'Europe/Berlin': got {self.timezone!r}") from err
        self._check_planned_use()
        object.__setattr__(self, "blackout_hours", tuple(sorted(set(hours))))
        object.__setattr__(self, "capabilities", tuple(caps))

    def _check_planned_use(self) -> None:
        sources = self.planned_use
        if isinstance(sources, str | bytes) or not isinstance(sources, list | tuple):
            raise ConfigError(f"policy key 'planned_use' must be a list of iCalendar texts or "
                              f"https:// URLs: got {sources!r}")
        for i, source in enumerate(sources):
            if (why := check_source(source)) is not None:
                raise ConfigError(f"policy key 'planned_use' entry {i} {why}")
        object.__setattr__(self, "planned_use", tuple(sources))

    def _check_ranges(self) -> None:
        checks = (
            ("min_free_fraction", 0 < self.min_free_fraction <= 1, "in (0, 1]"),
            ("min_duration_s", self.min_duration_s >= 0, ">= 0"),
            ("reserve_fraction", 0 <= self.reserve_fraction < 1, "in [0, 1)"),
            ("min_quantity", self.min_quantity >= 0, ">= 0"),
            ("price_per_unit_hour", self.price_per_unit_hour >= 0, ">= 0"),
            ("hysteresis", 0 <= self.hysteresis <= self.min_free_fraction,
             "in [0, min_free_fraction]"),
            ("min_window_s", self.min_window_s >= 0, ">= 0"),
            ("lead_time_s", self.lead_time_s >= 0, ">= 0"),
            ("currency", bool(self.currency.strip()), "non-empty"),
            ("visibility", self.visibility in VISIBILITIES, f"one of {list(VISIBILITIES)}"),
            ("price_per_tonne", self.price_per_tonne is None
             or _number("price_per_tonne", self.price_per_tonne) >= 0, ">= 0 or null"),
        )
        for key, ok, rule in checks:
            if not ok:
                raise ConfigError(f"policy key {key!r} must be {rule}: got {getattr(self, key)!r}")

    @classmethod
    def from_dict(cls, policy: Mapping[str, Any], strict: bool = False) -> SharingPolicy:
        """``policy`` over the defaults (:data:`DEFAULT_POLICY`), checked.

        Parameters
        ----------
        policy : mapping
            Policy keys (the field names of this class).
        strict : bool, default=False
            Refuse keys this class does not know (for validating an owner's update); when
            false they are ignored, so a stored policy may carry more than analytics reads.

        Raises
        ------
        ConfigError
            Naming the key whose value has the wrong type or range, or is unknown (strict).
        """
        if not isinstance(policy, Mapping):
            raise ConfigError(f"policy must be an object of keys: got {policy!r}")
        known = {f.name for f in fields(cls)}
        if strict and (unknown := sorted(set(policy) - known)):
            raise ConfigError(f"unknown policy key {unknown[0]!r}: expected one of "
                              f"{sorted(known)}")
        return cls(**{k: policy[k] for k in known if k in policy})

    def to_dict(self) -> dict[str, Any]:
        """The policy as JSON-ready keys (lists for the tuples)."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in fields(self)}

    def idle_windows(self, times: np.ndarray, free: np.ndarray, capacity: float,
                     max_gap_s: float = MAX_GAP_S) -> list[IdleWindow]:
        """:func:`analytics.idle_windows.idle_windows` with this policy's thresholds."""
        return idle_windows(times, free, capacity, min_free_fraction=self.min_free_fraction,
                            min_duration_s=self.min_duration_s, hysteresis=self.hysteresis,
                            max_gap_s=max_gap_s)

    def seasonal_naive_offers(self, windows: np.ndarray, coverage: np.ndarray, now: float,
                              lookback_s: float, period_s: float = 86400.0) -> np.ndarray:
        """:func:`analytics.offers.seasonal_naive_offers` with this policy's lead time,
        reserve and minimum quantity, searching every whole period in ``lookback_s``."""
        return seasonal_naive_offers(
            windows, coverage, now, period_s=period_s, lead_time_s=self.lead_time_s,
            reserve_fraction=self.reserve_fraction, min_quantity=self.min_quantity,
            lookback_periods=max(int(lookback_s // period_s), 0))


#: The sharing policy of an asset whose owner has set none, as policy keys (read-only): the
#: field defaults of :class:`SharingPolicy`.
DEFAULT_POLICY: Mapping[str, Any] = MappingProxyType(SharingPolicy().to_dict())


def effective_policy(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """An owner's stored overrides over :data:`DEFAULT_POLICY`: the policy keys in force."""
    return {**DEFAULT_POLICY, **(overrides or {})}


def with_site_timezone(overrides: Mapping[str, Any] | None,
                       site_timezone: str | None) -> dict[str, Any]:
    """The owner's overrides, with the asset's site's time zone where they name none: blackout
    hours are wall-clock hours at the site unless the policy sets ``timezone`` itself."""
    out = dict(overrides or {})
    if site_timezone and "timezone" not in out:
        out["timezone"] = site_timezone
    return out
