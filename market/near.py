"""A point and a radius, as offer searches ask them: equirectangular distance in any SQL
database, the circle's bounding box, and the box in the spatial indexes."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, func
from sqlalchemy.sql.expression import TableClause

from storage.catalog import OfferRow

KM_PER_DEGREE = 111.195  # mean Earth radius 6371.0 km * pi / 180


#: How a value enters a statement: as itself (an anonymous bound parameter) or, when a search
#: shape is compiled once, as the named parameter each request fills in.
Bind = Callable[[str, Any], Any]


def as_value(_name: str, value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    km: float

    @cached_property
    def lon_km(self) -> float:
        """Kilometres per degree of longitude at the point's latitude."""
        return KM_PER_DEGREE * math.cos(math.radians(self.lat))

    def squared_km(self, p: Bind = as_value, prefix: str = "near") -> ColumnElement[float]:
        """Equirectangular distance squared: within 0.5 % of great-circle distance below a few
        hundred km, and plain arithmetic, so any SQL database computes it. From the offer's
        location (``near``) or a leg offer's destination (``dest``), named by ``prefix``."""
        lat, lon = (OfferRow.dest_lat, OfferRow.dest_lon) if prefix == "dest" else (
            OfferRow.lat, OfferRow.lon)
        dx = (lon - p(f"{prefix}_lon", self.lon)) * p(f"{prefix}_lon_km", self.lon_km)
        dy = (lat - p(f"{prefix}_lat", self.lat)) * KM_PER_DEGREE
        return dx * dx + dy * dy

    def values(self, prefix: str) -> dict[str, float]:
        """The parameters :meth:`squared_km` names, and the radius squared."""
        return {f"{prefix}_lat": self.lat, f"{prefix}_lon": self.lon,
                f"{prefix}_lon_km": self.lon_km,
                f"{prefix}_km2": self.km**2}

    def bounds(self, km: float | None = None) -> dict[str, float]:
        """The bounding box of the circle (of radius ``km``, default its own), as the
        statements' parameters name it."""
        km = self.km if km is None else km
        dlat = km / KM_PER_DEGREE
        dlon = min(km / max(self.lon_km, KM_PER_DEGREE * 1e-6), 360.0)
        return {
            "box_lat0": self.lat - dlat, "box_lat1": self.lat + dlat,
            "box_lon0": self.lon - dlon, "box_lon1": self.lon + dlon,
        }

    def within(self, share: float) -> dict[str, float]:
        """The values that change when the same search asks a circle of ``share`` times the
        radius (:func:`market.search._nearest_first`): its radius squared and its box."""
        km = self.km * share
        return {"near_km2": km * km, **self.bounds(km)}

    def box(self, indexed: bool, p: Bind = as_value) -> ColumnElement[bool]:
        """A bounding box before the exact test. ``indexed``: let the (status, lat, lon) index
        find the box (sort by distance needs every offer in it); otherwise "+ 0" hides the
        columns from SQLite's planner, so it walks the sort order and stops after a page."""
        b = {name: p(name, value) for name, value in self.bounds().items()}
        lat, lon = (OfferRow.lat, OfferRow.lon) if indexed else (OfferRow.lat + 0, OfferRow.lon + 0)
        return and_(
            lat.between(b["box_lat0"], b["box_lat1"]), lon.between(b["box_lon0"], b["box_lon1"])
        )

    def in_places(self, places: TableClause, p: Bind = as_value) -> ColumnElement[bool]:
        """The box in one of SQLite's R*Trees of live offers (:mod:`storage.catalog.spatial`):
        candidates, which the exact tests then check."""
        b = {name: p(name, value) for name, value in self.bounds().items()}
        c = places.c
        return and_(
            c.lat_min <= b["box_lat1"], c.lat_max >= b["box_lat0"],
            c.lon_min <= b["box_lon1"], c.lon_max >= b["box_lon0"],
        )

    def in_gist_box(self, p: Bind = as_value) -> ColumnElement[bool]:
        """The box as PostgreSQL's GiST index on ``point(lon, lat)`` answers it."""
        b = {name: p(name, value) for name, value in self.bounds().items()}
        corner0 = func.point(b["box_lon0"], b["box_lat0"])
        corner1 = func.point(b["box_lon1"], b["box_lat1"])
        return func.point(OfferRow.lon, OfferRow.lat).op("<@", return_type=Boolean)(
            func.box(corner0, corner1)
        )
