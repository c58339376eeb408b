"""The exception hierarchy of idleshare.

Library errors (paho, influxdb-client, sqlite, SQLAlchemy) are re-raised ``from err`` at the
place where they enter, so that none leaks through a port.
"""


class IdleshareError(Exception):
    """Base class of every error idleshare raises on purpose."""


class ConfigError(IdleshareError):
    """A setting is missing or invalid; the message names the key and the reason."""


class WireError(IdleshareError):
    """A message does not follow the wire format; the message says why."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class StoreError(IdleshareError):
    """A storage backend failed or refused a request."""


class StoreRefused(StoreError):
    """The backend answered and refused the data itself (bad line, type conflict): retrying the
    same write can never succeed, unlike a backend that is down or overloaded."""
