"""An asset's sharing policy and the one mapping from it to the analytics estimators.

This class is the single source of truth for policy keys: the API validates owners' updates
with it, and analytics reads it on every pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from analytics.idle_windows import IdleWindowDetector
from analytics.offers import SeasonalNaiveOfferBuilder
from analytics.series import MAX_GAP_S
from idleshare.errors import ConfigError
from storage.catalog import DEFAULT_POLICY

#: Who sees an offer: the owner's own group, its trusted partners, or everyone.
VISIBILITIES = ("group", "partners", "public")


def _number(key: str, value: Any) -> float:
    # bool is an int, but True as a price is a mistake, not 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"policy key {key!r} must be a number: got {value!r}")
    return float(value)


@dataclass(frozen=True)
class SharingPolicy:
    """The owner's rules for sharing one asset; field names are the policy keys.

    Construct with :meth:`from_dict` (defaults from :data:`storage.catalog.DEFAULT_POLICY`
    merged under the given keys) or directly with every field; both check types and ranges
    and raise :class:`~idleshare.errors.ConfigError` naming the key.
    """

    #: Idle when at least this share of capacity is free, in (0, 1].
    min_free_fraction: float
    #: Shortest idle window kept, seconds (>= 0).
    min_duration_s: float
    #: Share of the free quantity the owner keeps back, in [0, 1).
    reserve_fraction: float
    #: Smallest quantity worth offering, in the asset's unit (>= 0).
    min_quantity: float
    #: Price per unit of quantity and hour (>= 0), in ``currency``.
    price_per_unit_hour: float
    currency: str
    #: One of :data:`VISIBILITIES`.
    visibility: str
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
        object.__setattr__(self, "blackout_hours", tuple(sorted(set(hours))))
        object.__setattr__(self, "capabilities", tuple(caps))

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
        )
        for key, ok, rule in checks:
            if not ok:
                raise ConfigError(f"policy key {key!r} must be {rule}: got {getattr(self, key)!r}")

    @classmethod
    def from_dict(cls, policy: Mapping[str, Any], strict: bool = False) -> SharingPolicy:
        """Merge ``policy`` over :data:`storage.catalog.DEFAULT_POLICY` and check it.

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
        merged = {**DEFAULT_POLICY, **policy}
        return cls(**{k: merged[k] for k in known if k in merged})

    def to_dict(self) -> dict[str, Any]:
        """The policy as JSON-ready keys (lists for the tuples)."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in fields(self)}

    def detector(self, max_gap_s: float = MAX_GAP_S) -> IdleWindowDetector:
        """The idle-window detector this policy asks for."""
        return IdleWindowDetector(
            min_free_fraction=self.min_free_fraction,
            min_duration_s=self.min_duration_s,
            hysteresis=self.hysteresis,
            max_gap_s=max_gap_s,
        )

    def offer_builder(
        self, lookback_s: float, period_s: float = 86400.0
    ) -> SeasonalNaiveOfferBuilder:
        """The seasonal-naive offer builder this policy asks for, over ``lookback_s``."""
        return SeasonalNaiveOfferBuilder(
            period_s=period_s,
            lead_time_s=self.lead_time_s,
            reserve_fraction=self.reserve_fraction,
            min_quantity=self.min_quantity,
            lookback_periods=max(int(lookback_s // period_s), 0),
        )
