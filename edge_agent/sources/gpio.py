"""``gpio``: a digital input of a Raspberry Pi, e.g. a bay, door or machine-running contact.

Emits one 0/1 metric (``metric``, default the kind's primary metric, e.g. ``in_use`` or
``running``): 1 while the input is active. Uses gpiozero (``pip install gpiozero`` on the Pi,
where it is usually preinstalled); elsewhere the agent refuses the config at start-up with a
clear error. Pair it with a ``deadband`` of 0.5 to report only changes, and a ``heartbeat_s``.

Sample (``edge_agent/samples/gpio.toml``)::

    [assets.gpio]
    pin = 17             # BCM numbering, or a name like "GPIO17" / "BOARD11"
    pull_up = true       # the contact pulls the pin to ground when closed
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

from edge_agent.sources.reading import check_metric, measurement
from idleshare.assets import Asset
from idleshare.errors import ConfigError
from idleshare.wire import Measurement


@dataclass(frozen=True)
class GpioSettings:
    #: BCM pin number (0..27); ``pin_name`` instead for gpiozero's names ("BOARD11").
    pin: int = -1
    pin_name: str = ""
    metric: str = ""
    #: Use the Pi's internal pull-up (contact to ground) instead of pull-down.
    pull_up: bool = False
    #: Report 1 when the pin is low (after the pull), e.g. a normally-closed contact.
    invert: bool = False
    #: Seconds the input must be stable before a change counts.
    bounce_s: float = 0.0

    def __post_init__(self) -> None:
        if (self.pin >= 0) == bool(self.pin_name):
            raise ConfigError(f"pin must be set (0..27), or pin_name instead: got pin={self.pin}, "
                              f"pin_name={self.pin_name!r}")
        if self.pin > 27:
            raise ConfigError(f"pin must be within 0..27: got {self.pin}")
        if self.bounce_s < 0:
            raise ConfigError(f"bounce_s must be >= 0: got {self.bounce_s}")


class GpioSource:
    settings_type: ClassVar[type[GpioSettings]] = GpioSettings

    def __init__(self, settings: GpioSettings, asset: Asset, start: float) -> None:
        self.settings, self.asset = settings, asset
        self.metric = check_metric(asset, settings.metric)
        try:
            gpiozero = importlib.import_module("gpiozero")
        except ImportError:
            raise ConfigError("pin needs the gpiozero package, found on a Raspberry Pi "
                              "(pip install gpiozero): it is not installed here") from None
        pin = settings.pin_name or settings.pin
        try:
            self._device: Any = gpiozero.DigitalInputDevice(
                pin, pull_up=settings.pull_up, bounce_time=settings.bounce_s or None)
        except Exception as err:  # gpiozero: BadPinFactory, PinInvalidPin, GPIOPinInUse...
            raise ConfigError(f"pin {pin!r} cannot be opened by gpiozero "
                              f"({type(err).__name__}: {err})") from err

    def read(self, t: float) -> list[Measurement]:
        active = bool(self._device.value) != self.settings.invert
        return [measurement(self.asset, self.metric, 1.0 if active else 0.0, t, clamp=True)]

    def close(self) -> None:
        self._device.close()
