"""What every resource's schemas share: UTC times, pages, locations, ids, examples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

#: Ids as the wire format allows them in topics (see idleshare.assets.check_id).
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Capability = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,32}$")]


def utc(epoch: float) -> datetime:
    # Explicit, because pydantic would read numbers above 2e10 as milliseconds.
    return datetime.fromtimestamp(epoch, UTC)


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
