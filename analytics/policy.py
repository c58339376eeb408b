"""An asset's sharing policy and the one mapping from it to the analytics estimators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from analytics.idle_windows import IdleWindowDetector
from analytics.offers import SeasonalNaiveOfferBuilder
from analytics.series import MAX_GAP_S
from idleshare.errors import ConfigError
from storage.catalog import DEFAULT_POLICY


@dataclass(frozen=True)
class SharingPolicy:
    """The owner's rules for sharing one asset; field names are the policy keys.

    Defaults live in :data:`storage.catalog.DEFAULT_POLICY`, not here.
    """

    min_free_fraction: float
    min_duration_s: float
    reserve_fraction: float
    min_quantity: float
    price_per_unit_hour: float
    currency: str
    visibility: str

    @classmethod
    def from_dict(cls, policy: Mapping[str, Any]) -> SharingPolicy:
        """Merge ``policy`` over the defaults and check each value's type.

        Unknown keys are ignored, so the API may store more than analytics reads. Ranges are
        checked by the estimators that use the values.

        Raises
        ------
        ConfigError
            Naming the key whose value has the wrong type.
        """
        merged = {**DEFAULT_POLICY, **policy}
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = merged[f.name]
            if f.type == "float":
                # bool is an int, but True as a price is a mistake, not 1.0.
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ConfigError(f"policy key {f.name!r} must be a number: got {value!r}")
                value = float(value)
            elif not isinstance(value, str):
                raise ConfigError(f"policy key {f.name!r} must be a string: got {value!r}")
            values[f.name] = value
        return cls(**values)

    def detector(self, max_gap_s: float = MAX_GAP_S) -> IdleWindowDetector:
        """The idle-window detector this policy asks for."""
        return IdleWindowDetector(
            min_free_fraction=self.min_free_fraction,
            min_duration_s=self.min_duration_s,
            max_gap_s=max_gap_s,
        )

    def offer_builder(
        self, lookback_s: float, period_s: float = 86400.0
    ) -> SeasonalNaiveOfferBuilder:
        """The offer builder this policy asks for, searching history over ``lookback_s``."""
        return SeasonalNaiveOfferBuilder(
            period_s=period_s,
            reserve_fraction=self.reserve_fraction,
            min_quantity=self.min_quantity,
            lookback_periods=max(int(lookback_s // period_s), 0),
        )
