"""Sites: the places a tenant's assets stand at."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from api.schemas.common import Id, RowPublic, examples

Timezone = Annotated[str, StringConstraints(min_length=1, max_length=64)]

#: A site as created and as read back.
SITE_EXAMPLE: dict[str, object] = {
    "id": "berlin-1", "name": "Berlin Nord", "address": "Am Borsigturm 1, 13507 Berlin",
    "timezone": "Europe/Berlin", "lat": 52.58, "lon": 13.28,
}


class SiteCreate(BaseModel):
    model_config = examples(SITE_EXAMPLE, forbid=True)

    id: Id
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    address: Annotated[str, StringConstraints(max_length=400)] = ""
    timezone: Timezone = Field("UTC", description="IANA time zone of the site's wall clock")
    lat: float = Field(0.0, ge=-90, le=90)
    lon: float = Field(0.0, ge=-180, le=180)


class SiteUpdate(BaseModel):
    """Only the fields given change."""

    model_config = examples({"address": "Am Borsigturm 2, 13507 Berlin"}, forbid=True)

    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    address: Annotated[str, StringConstraints(max_length=400)] | None = None
    timezone: Timezone | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class SitePublic(RowPublic):
    model_config = examples(SITE_EXAMPLE, forbid=True)

    id: str
    name: str
    address: str
    timezone: str
    lat: float
    lon: float
