"""What every resource's schemas share: UTC times, pages, locations, ids, examples, and the
base of the models read from catalog rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

T = TypeVar("T")

#: Ids as the wire format allows them in topics (see idleshare.assets.check_id).
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Capability = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,32}$")]


def utc(epoch: float) -> datetime:
    # Explicit, because pydantic would read numbers above 2e10 as milliseconds.
    return datetime.fromtimestamp(epoch, UTC)


def _epoch_as_utc(value: object) -> object:
    return utc(value) if isinstance(value, int | float) else value


def _epoch_as_utc_or_never(value: object) -> object:
    return _epoch_as_utc(value) if value else None


#: A catalog time (epoch seconds) answered as an ISO 8601 UTC time.
UtcTime = Annotated[datetime, BeforeValidator(_epoch_as_utc)]
#: As :data:`UtcTime`, for a column whose 0 (its default) or null means "never": null.
UtcTimeOrNever = Annotated[datetime | None, BeforeValidator(_epoch_as_utc_or_never)]


class RowPublic(BaseModel):
    """A response model read by attribute from a catalog row: ``Model.model_validate(row)``.
    A field named otherwise than its column gives the column as ``validation_alias``; the
    model can still be built by field name."""

    model_config = ConfigDict(from_attributes=True, validate_by_name=True)


def examples(*items: dict[str, Any], forbid: bool = False) -> ConfigDict:
    """Examples for /docs; ``forbid``: refuse unknown fields (request bodies)."""
    config = ConfigDict(json_schema_extra={"examples": list(items)})
    if forbid:
        config["extra"] = "forbid"
    return config


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` for the next, until it is null."""

    items: list[T]
    next_cursor: str | None = Field(description="null on the last page")


class Location(BaseModel):
    lat: float
    lon: float
