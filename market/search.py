"""The offer search query: filters, visibility, sort keys and keyset cursors, all in SQL so
pages stay cheap however many offers there are."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLColumnExpression
from sqlalchemy.sql.expression import TableClause

from idleshare.errors import StoreError
from market.caller import Caller
from market.offers import iso, leg_json, material_json
from market.visibility import peers, visible_filter
from storage.catalog import BookingRow, Catalog, OfferRow, counts
from storage.catalog.models import AssetSiteRow
from storage.catalog.spatial import PLACES, PLACES_BY_KIND

KM_PER_DEGREE = 111.195  # mean Earth radius 6371.0 km * pi / 180


#: How a value enters a statement: as itself (an anonymous bound parameter) or, when a search
#: shape is compiled once, as the named parameter each request fills in.
Bind = Callable[[str, Any], Any]


def _as_value(_name: str, value: Any) -> Any:
    return value


def _as_param(name: str, value: Any) -> Any:
    return bindparam(name, value)


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

    def squared_km(self, p: Bind = _as_value, prefix: str = "near") -> ColumnElement[float]:
        """Equirectangular distance squared: within 0.5 % of great-circle distance below a few
        hundred km, and plain arithmetic, so any SQL database computes it. From the offer's
        location (``near``) or a leg offer's destination (``dest``), named by ``prefix``."""
        lat, lon = (OfferRow.dest_lat, OfferRow.dest_lon) if prefix == "dest" else (
            OfferRow.lat, OfferRow.lon)
        scale = KM_PER_DEGREE * math.cos(math.radians(self.lat))
        dx = (lon - p(f"{prefix}_lon", self.lon)) * p(f"{prefix}_lon_km", scale)
        dy = (lat - p(f"{prefix}_lat", self.lat)) * KM_PER_DEGREE
        return dx * dx + dy * dy

    def values(self, prefix: str) -> dict[str, float]:
        """The parameters :meth:`squared_km` names, and the radius squared."""
        return {f"{prefix}_lat": self.lat, f"{prefix}_lon": self.lon,
                f"{prefix}_lon_km": KM_PER_DEGREE * math.cos(math.radians(self.lat)),
                f"{prefix}_km2": self.km**2}

    def bounds(self) -> dict[str, float]:
        """The bounding box of the circle, as the statements' parameters name it."""
        dlat = self.km / KM_PER_DEGREE
        cos = max(math.cos(math.radians(self.lat)), 1e-6)
        dlon = min(self.km / (KM_PER_DEGREE * cos), 360.0)
        return {
            "box_lat0": self.lat - dlat, "box_lat1": self.lat + dlat,
            "box_lon0": self.lon - dlon, "box_lon1": self.lon + dlon,
        }

    def box(self, indexed: bool, p: Bind = _as_value) -> ColumnElement[bool]:
        """A bounding box before the exact test. ``indexed``: let the (status, lat, lon) index
        find the box (sort by distance needs every offer in it); otherwise "+ 0" hides the
        columns from SQLite's planner, so it walks the sort order and stops after a page."""
        b = {name: p(name, value) for name, value in self.bounds().items()}
        lat, lon = (OfferRow.lat, OfferRow.lon) if indexed else (OfferRow.lat + 0, OfferRow.lon + 0)
        return and_(
            lat.between(b["box_lat0"], b["box_lat1"]), lon.between(b["box_lon0"], b["box_lon1"])
        )

    def in_places(self, places: TableClause, p: Bind = _as_value) -> ColumnElement[bool]:
        """The box in one of SQLite's R*Trees of live offers (:mod:`storage.catalog.spatial`):
        candidates, which the exact tests then check."""
        b = {name: p(name, value) for name, value in self.bounds().items()}
        c = places.c
        return and_(
            c.lat_min <= b["box_lat1"], c.lat_max >= b["box_lat0"],
            c.lon_min <= b["box_lon1"], c.lon_max >= b["box_lon0"],
        )

    def in_gist_box(self, p: Bind = _as_value) -> ColumnElement[bool]:
        """The box as PostgreSQL's GiST index on ``point(lon, lat)`` answers it."""
        b = {name: p(name, value) for name, value in self.bounds().items()}
        corner0 = func.point(b["box_lon0"], b["box_lat0"])
        corner1 = func.point(b["box_lon1"], b["box_lat1"])
        return func.point(OfferRow.lon, OfferRow.lat).op("<@", return_type=Boolean)(
            func.box(corner0, corner1)
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
    #: Corridor search: leg offers whose destination is within the circle (their origin is
    #: ``near``'s, their window the departure window).
    dest: Near | None = None
    #: Offers of the caller's own assets at this site of its tenant.
    site: str | None = None
    #: By-product offers whose material's EWC code starts with these digits (2, 4 or 6:
    #: :func:`idleshare.materials.code_prefix` makes them).
    eural: str | None = None


#: Sort name -> SQL key (before the id tie-breaker); descending sorts negate the key.
def sort_key(q: OfferQuery, p: Bind = _as_value) -> SQLColumnExpression[Any]:
    o = OfferRow
    if q.sort == "price":
        return o.price_per_unit_hour
    if q.sort == "-quantity":
        return -o.quantity
    if q.sort == "distance":
        assert q.near is not None
        return q.near.squared_km(p)
    return o.start


def _quoted(cap: str) -> str:
    # The quoted name cannot match across elements of the JSON list.
    return f'"{cap}"'


def _like(cap: str) -> str:
    # The quoted name cannot match across elements; LIKE's wildcards (``_`` is allowed in
    # names, ``%`` is not, but the market does not trust its caller) match literally.
    literal = cap.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f'%"{literal}"%'


def _eural_like(prefix: str) -> str:
    # Digits only (code_prefix checked them): no LIKE wildcard to escape.
    return f"{prefix}%"


def build(
    session: Session | Connection,
    caller: Caller,
    q: OfferQuery,
    now: float,
    after: list[Any] | None,
    limit: int,
    p: Bind = _as_value,
) -> Select[Any]:
    """``SELECT <offers columns>, booked, k`` (k: the sort key) for one page of ``limit``
    rows. ``p``: how values enter the statement (see :data:`Bind`).

    Two steps: the page's ids and keys first, from the columns the indexes carry (no table
    row is read for an offer the filters drop, nor its bookings summed, unless
    ``min_quantity`` needs them), then the page's rows and booked quantities. A distance
    search orders every offer in its circle: summing each one's bookings was most of it."""
    o = OfferRow
    # "+ 0" steers SQLite's planner (walk the sort order, stop after a page); PostgreSQL's
    # estimates need the plain columns, or it takes every match for few and sorts them all.
    bind = session if isinstance(session, Connection) else session.get_bind()
    hide = bind.dialect.name == "sqlite"
    now_p = cast(float, p("now", now))
    booked = booked_column(now_p)
    key = sort_key(q, p)
    stmt = cast(Select[Any], select(o.id.label("id"), key.label("k"))).where(
        visible_filter(session, caller, o)
    )
    if q.kind is not None:
        stmt = stmt.where(o.kind == p("kind", q.kind))
    if q.asset is not None:
        stmt = stmt.where(o.asset_id == p("asset", q.asset))
    if q.site is not None:
        at_site = select(AssetSiteRow.asset_id).where(
            AssetSiteRow.tenant_id == caller.tenant_id,
            AssetSiteRow.site_id == p("site", q.site))
        stmt = stmt.where(o.tenant_id == caller.tenant_id, o.asset_id.in_(at_site))
    if q.status is not None:
        stmt = stmt.where(o.status == p("status", q.status))
    for i, cap in enumerate(q.capabilities):
        text = sql_cast(o.capabilities, String)
        if hide:
            stmt = stmt.where(text.like(p(f"cap{i}", _like(cap)), escape="\\"))
        else:  # the same substring test, which PostgreSQL does not estimate as rare
            stmt = stmt.where(func.strpos(text, p(f"cap{i}", _quoted(cap))) > 0)
    if q.min_quantity is not None:
        stmt = stmt.where(o.quantity - booked >= p("min_quantity", q.min_quantity))
    if q.start is not None:
        stmt = stmt.where(o.end > p("start", q.start))
    if q.end is not None:
        stmt = stmt.where(o.start < p("end", q.end))
    if q.near is not None:
        # Sort by distance orders every offer in the circle: the spatial index finds them.
        # SQLite's R*Tree holds live offers; "+ 0" makes the planner start from it and look
        # the candidates up by id (the exact box then hidden from it too).
        places = q.sort == "distance" and hide and q.status == "live"
        if places:
            tree = PLACES_BY_KIND.get(q.kind, PLACES) if q.kind is not None else PLACES
            stmt = stmt.select_from(tree.join(o, o.id == tree.c.id + 0)).where(
                q.near.in_places(tree, p)
            )
        elif q.sort == "distance" and not hide:
            stmt = stmt.where(q.near.in_gist_box(p))
        stmt = stmt.where(
            q.near.box((q.sort == "distance" and not places) or not hide, p),
            q.near.squared_km(p) <= p("near_km2", q.near.km**2),
        )
    if q.dest is not None:
        stmt = stmt.where(q.dest.squared_km(p, "dest") <= p("dest_km2", q.dest.km**2))
    if q.eural is not None:
        stmt = stmt.where(o.eural.like(p("eural", _eural_like(q.eural))))
    if q.max_price is not None:
        plain = q.sort == "price" or not hide
        price = o.price_per_unit_hour if plain else o.price_per_unit_hour + 0
        stmt = stmt.where(price <= p("max_price", q.max_price))
    if after is not None:
        k0, id0 = p("after_k", after[0]), p("after_id", after[1])
        stmt = stmt.where(or_(key > k0, and_(key == k0, o.id > id0)))
    page = stmt.order_by(key, o.id).limit(p("limit", limit)).subquery("page")
    return (
        select(o.__table__, booked_column(now_p).label("booked"), page.c.k)
        .join_from(o, page, o.id == page.c.id)
        .order_by(page.c.k, page.c.id)
    )


#: The offers table's columns as search selects them, then ``booked`` and ``k``.
_COLUMNS = [c.name for c in OfferRow.__table__.columns]
_AT = {name: i for i, name in enumerate([*_COLUMNS, "booked", "k"])}


@dataclass(frozen=True)
class _Prepared:
    """One search shape compiled for one dialect: the SQL text, and how to order the
    parameters (``names`` for a positional paramstyle, else None), those fixed at compile
    time (the visibility scope's tenant ids) merged with each request's."""

    sql: str
    names: tuple[str, ...] | None
    fixed: dict[str, Any]

    def args(self, values: dict[str, Any]) -> Any:
        params = {**self.fixed, **values}
        return params if self.names is None else tuple(params[n] for n in self.names)


#: (catalog URL, shape) -> prepared statement. A shape is what changes the SQL text: which
#: filters are given, the sort, a cursor, and the caller's visibility scope (tenant and peers).
_prepared: dict[tuple[Any, ...], _Prepared] = {}
_prepared_lock = threading.Lock()
_MAX_PREPARED = 4096


def _shape(
    url: str, caller: Caller, scope: tuple[Any, ...], q: OfferQuery, cursor: bool
) -> tuple[Any, ...]:
    return (
        url, caller.tenant_id, caller.is_platform, scope, q.kind is not None, q.asset is not None,
        q.status is not None, q.status == "live", len(q.capabilities), q.min_quantity is not None,
        q.start is not None, q.end is not None, q.near is not None, q.max_price is not None,
        q.sort, cursor, q.dest is not None, q.site is not None, q.eural is not None,
    )


def _values(
    q: OfferQuery, now: float, after: list[Any] | None, limit: int, sqlite: bool
) -> dict[str, Any]:
    """The values of the parameters :func:`build` names, for one request (without building
    the statement, which costs as much as the query). A name missing here is a KeyError in
    :meth:`_Prepared.args`, never a stale value: prepared statements keep none of them."""
    v: dict[str, Any] = {"now": now, "limit": limit}
    if q.kind is not None:
        v["kind"] = q.kind
    if q.asset is not None:
        v["asset"] = q.asset
    if q.site is not None:
        v["site"] = q.site
    if q.status is not None:
        v["status"] = q.status
    for i, cap in enumerate(q.capabilities):
        v[f"cap{i}"] = _like(cap) if sqlite else _quoted(cap)
    if q.min_quantity is not None:
        v["min_quantity"] = q.min_quantity
    if q.start is not None:
        v["start"] = q.start
    if q.end is not None:
        v["end"] = q.end
    if q.near is not None:
        v.update(q.near.values("near"), **q.near.bounds())
    if q.dest is not None:
        v.update(q.dest.values("dest"))
    if q.max_price is not None:
        v["max_price"] = q.max_price
    if q.eural is not None:
        v["eural"] = _eural_like(q.eural)
    if after is not None:
        v["after_k"], v["after_id"] = after[0], after[1]
    return v


def _prepare(conn: Connection, caller: Caller, q: OfferQuery, cursor: bool) -> _Prepared:
    named: set[str] = set()

    def param(name: str, value: Any) -> Any:
        named.add(name)
        return bindparam(name, value)

    stmt = build(conn, caller, q, 0.0, [0.0, 0] if cursor else None, 1, param)
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    fixed = {k: v for k, v in compiled.construct_params().items() if k not in named}
    names = tuple(compiled.positiontup or ()) if compiled.positional else None
    return _Prepared(compiled.string, names, fixed)


def _prepared_for(conn: Connection, caller: Caller, q: OfferQuery, cursor: bool) -> _Prepared:
    # The peers are cached (market.visibility) and drop when the visibility generation moves,
    # so a partner or group change gives a new scope, hence a new statement, at once.
    scope = peers(cast(Session, conn), caller.tenant_id) if caller.is_platform else ()
    key = _shape(str(conn.engine.url), caller, scope, q, cursor)
    hit = _prepared.get(key)
    if hit is None:
        hit = _prepare(conn, caller, q, cursor)
        with _prepared_lock:
            if len(_prepared) >= _MAX_PREPARED:
                _prepared.clear()
            _prepared[key] = hit
    return hit


#: Radii, as shares of the asked one, that a distance search tries first (then the whole).
_NEAREST_FIRST = (0.4,)


def _nearest_first(q: OfferQuery) -> list[OfferQuery]:
    """The query, and before it (sort by distance) the same within smaller circles. A
    smaller circle's page, when full, is the page: every offer it leaves out is farther than
    all it holds, so it would sort after them. The spatial index reads a quarter circle in a
    sixteenth of the time, and a page of 20 usually lies well inside the asked circle."""
    n = q.near
    if q.sort != "distance" or n is None:
        return [q]
    smaller = [replace(q, near=Near(n.lat, n.lon, n.km * share)) for share in _NEAREST_FIRST]
    return [*smaller, q]


def search(
    catalog: Catalog, caller: Caller, q: OfferQuery, now: float, after: list[Any] | None, limit: int
) -> list[tuple[dict[str, Any], float]]:
    """One page of :func:`build`'s rows as (offer JSON, sort key) pairs. The statement is
    compiled once per shape (:func:`_prepared_for`) and run on the DB-API cursor: building,
    caching-by-key and executing it through SQLAlchemy cost four times the query itself."""
    try:
        with catalog.engine.connect() as conn:
            if conn.dialect.name != "sqlite":
                # One statement, no transaction: spares the BEGIN and ROLLBACK round trips.
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            prepared = _prepared_for(conn, caller, q, after is not None)
            cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                sqlite = conn.dialect.name == "sqlite"
                for step in _nearest_first(q):
                    values = _values(step, now, after, limit, sqlite)
                    cur.execute(prepared.sql, prepared.args(values))
                    rows = cur.fetchall()
                    if len(rows) >= limit:
                        break
            finally:
                cur.close()
    except SQLAlchemyError as err:
        raise StoreError(f"catalog error: {err}") from err
    except Exception as err:  # the DB-API's own errors, as SQLAlchemy would have wrapped them
        if isinstance(err, catalog.engine.dialect.loaded_dbapi.Error):
            raise StoreError(f"catalog error: {err}") from err
        raise
    return [(_offer_json(r), r[_K]) for r in rows]


_ID, _TENANT, _ASSET, _KIND = _AT["id"], _AT["tenant_id"], _AT["asset_id"], _AT["kind"]
_QTY, _UNIT, _START, _END = _AT["quantity"], _AT["unit"], _AT["start"], _AT["end"]
_CONF, _METHOD, _LAT, _LON = _AT["confidence"], _AT["method"], _AT["lat"], _AT["lon"]
_PRICE, _CUR, _VIS, _STATUS = (
    _AT["price_per_unit_hour"], _AT["currency"], _AT["visibility"], _AT["status"]
)
_CAPS, _BOOKED, _K, _LEG = _AT["capabilities"], _AT["booked"], _AT["k"], _AT["leg"]
_MATERIAL = _AT["material"]


#: Epoch -> ISO text: offers start and end on few distinct instants (forecast steps), and
#: formatting a datetime was a tenth of a search.
_iso_cache: dict[float, str] = {}


def _iso(epoch: float) -> str:
    text = _iso_cache.get(epoch)
    if text is None:
        if len(_iso_cache) > 100_000:
            _iso_cache.clear()
        text = _iso_cache[epoch] = iso(epoch)
    return text


def _offer_json(r: Any) -> dict[str, Any]:
    """:func:`market.offers.offer_json` of a raw row (same keys, same values)."""
    caps = r[_CAPS]
    if isinstance(caps, str | bytes):  # SQLite keeps JSON as text; psycopg parses it
        caps = orjson.loads(caps)
    quantity = r[_QTY]
    return {
        "id": r[_ID],
        "tenant": r[_TENANT],
        "asset": r[_ASSET],
        "kind": r[_KIND],
        "quantity": quantity,
        "unit": r[_UNIT],
        "start": _iso(r[_START]),
        "end": _iso(r[_END]),
        "confidence": r[_CONF],
        "method": r[_METHOD],
        "location": {"lat": r[_LAT], "lon": r[_LON]},
        "price_per_unit_hour": r[_PRICE],
        "currency": r[_CUR],
        "visibility": r[_VIS],
        "status": r[_STATUS],
        "available": max(quantity - float(r[_BOOKED]), 0.0),
        "capabilities": list(caps or ()),
        "leg": leg_json(r[_LEG]),
        "material": material_json(r[_MATERIAL]),
    }
