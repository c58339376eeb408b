"""What the market refuses, by kind; the API maps each kind to its HTTP status, so the rules
stay free of HTTP and the routes free of rules."""

from __future__ import annotations

from idleshare.errors import IdleshareError


class MarketError(IdleshareError):
    """A request the market rules refuse; the message says why, for the caller."""


class NotFound(MarketError):
    """No such thing visible to the caller: hidden and missing look the same."""


class Forbidden(MarketError):
    """The caller sees the thing but its role may not do this to it."""


class Conflict(MarketError):
    """Not possible in the current state (offer not live, too little available, ...)."""


class Invalid(MarketError):
    """The request contradicts itself (a tenant partnering itself, a policy analytics refuses).

    ``field`` names the part of the request body at fault (``"url"``), so the API can answer
    in the shape of its own validation errors and a form can show the message by the field.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
