"""The offer search query: filters, visibility, sort keys and keyset cursors, all in SQL so
pages stay cheap however many offers there are."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    and_,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLColumnExpression

from idleshare.errors import StoreError
from market.caller import Caller
from market.visibility import visible_filter
from storage.catalog import BookingRow, Catalog, OfferRow, counts

KM_PER_DEGREE = 111.195  # mean Earth radius 6371.0 km * pi / 180


def booked_column(now: float) -> ColumnElement[float]:
    """Per offer: quantity taken by live holds and confirmed bookings (correlated)."""
    b = BookingRow
    return (
        select(func.coalesce(func.sum(b.quantity), 0.0))
        .where(
            b.offer_id == OfferRow.id,
            counts(now),
        )
        .correlate(OfferRow)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    km: float

    def squared_km(self) -> ColumnElement[float]:
        """Equirectangular distance squared: within 0.5 % of great-circle distance below a few
        hundred km, and plain arithmetic, so any SQL database computes it."""
        dx = (OfferRow.lon - self.lon) * (KM_PER_DEGREE * math.cos(math.radians(self.lat)))
        dy = (OfferRow.lat - self.lat) * KM_PER_DEGREE
        return dx * dx + dy * dy

    def box(self, indexed: bool) -> ColumnElement[bool]:
        """A bounding box before the exact test. ``indexed``: let the (status, lat, lon) index
        find the box (sort by distance needs every offer in it); otherwise "+ 0" hides the
        columns from SQLite's planner, so it walks the sort order and stops after a page."""
        dlat = self.km / KM_PER_DEGREE
        cos = max(math.cos(math.radians(self.lat)), 1e-6)
        dlon = min(self.km / (KM_PER_DEGREE * cos), 360.0)
        lat, lon = (OfferRow.lat, OfferRow.lon) if indexed else (OfferRow.lat + 0, OfferRow.lon + 0)
        return and_(
            lat.between(self.lat - dlat, self.lat + dlat),
            lon.between(self.lon - dlon, self.lon + dlon),
        )


@dataclass(frozen=True)
class OfferQuery:
    kind: str | None = None
    asset: str | None = None
    status: str | None = "live"
    capabilities: tuple[str, ...] = ()
    min_quantity: float | None = None
    start: float | None = None
    end: float | None = None
    near: Near | None = None
    max_price: float | None = None
    sort: str = "start"


#: Sort name -> SQL key (before the id tie-breaker); descending sorts negate the key.
def sort_key(q: OfferQuery) -> SQLColumnExpression[Any]:
    o = OfferRow
    if q.sort == "price":
        return o.price_per_unit_hour
    if q.sort == "-quantity":
        return -o.quantity
    if q.sort == "distance":
        assert q.near is not None
        return q.near.squared_km()
    return o.start


def build(
    session: Session | Connection,
    caller: Caller,
    q: OfferQuery,
    now: float,
    after: list[Any] | None,
    limit: int,
) -> Select[Any]:
    """``SELECT <offers columns>, booked, k`` (k: the sort key) for one page of ``limit``
    rows; plain columns, not ORM objects, because this is the API's hot path."""
    o = OfferRow
    booked = booked_column(now)
    key = sort_key(q)
    stmt = select(o.__table__, booked.label("booked"), key.label("k")).where(
        visible_filter(session, caller, o)
    )
    if q.kind is not None:
        stmt = stmt.where(o.kind == q.kind)
    if q.asset is not None:
        stmt = stmt.where(o.asset_id == q.asset)
    if q.status is not None:
        stmt = stmt.where(o.status == q.status)
    for cap in q.capabilities:
        # The quoted name cannot match across elements; LIKE's wildcards (``_`` is allowed in
        # names, ``%`` is not, but the market does not trust its caller) match literally.
        literal = cap.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(cast(o.capabilities, String).like(f'%"{literal}"%', escape="\\"))
    if q.min_quantity is not None:
        stmt = stmt.where(o.quantity - booked >= q.min_quantity)
    if q.start is not None:
        stmt = stmt.where(o.end > q.start)
    if q.end is not None:
        stmt = stmt.where(o.start < q.end)
    if q.near is not None:
        stmt = stmt.where(
            q.near.box(indexed=q.sort == "distance"), q.near.squared_km() <= q.near.km**2
        )
    if q.max_price is not None:
        price = o.price_per_unit_hour if q.sort == "price" else o.price_per_unit_hour + 0
        stmt = stmt.where(price <= q.max_price)
    if after is not None:
        stmt = stmt.where(or_(key > after[0], and_(key == after[0], o.id > after[1])))
    return stmt.order_by(key, o.id).limit(limit)


def search(
    catalog: Catalog, caller: Caller, q: OfferQuery, now: float, after: list[Any] | None, limit: int
) -> list[Row[Any]]:
    """One page of :func:`build`'s rows, on a plain connection: an ORM session would add
    half a millisecond per search for nothing, since nothing is loaded as objects."""
    try:
        with catalog.engine.connect() as conn:
            return list(conn.execute(build(conn, caller, q, now, after, limit)).all())
    except SQLAlchemyError as err:
        raise StoreError(f"catalog error: {err}") from err
