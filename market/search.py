"""The offer search query: filters, visibility, sort keys and keyset cursors, all in SQL so
pages stay cheap however many offers there are."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
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
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import Label, SQLColumnExpression

from idleshare.errors import StoreError
from market.caller import Caller
from market.near import Bind, Near, as_value
from market.search_rows import SORT_KEY, offer_json_of_row
from market.visibility import peers, visible_filter
from storage.catalog import BookingRow, Catalog, OfferRow, counts
from storage.catalog.models import AssetSiteRow
from storage.catalog.spatial import PLACES, PLACES_BY_KIND


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
def sort_key(q: OfferQuery, p: Bind = as_value) -> SQLColumnExpression[Any]:
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


def in_spatial_index(q: OfferQuery, dialect: str) -> bool:
    """Whether a search starts from SQLite's R*Trees of live offers: a live search by
    distance (it orders every offer in its circle)."""
    return q.sort == "distance" and q.near is not None and dialect == "sqlite" and (
        q.status == "live")


def build(
    session: Session | Connection,
    caller: Caller,
    q: OfferQuery,
    now: float,
    after: list[Any] | None,
    limit: int,
    p: Bind = as_value,
    one_step: bool = False,
) -> Select[Any]:
    """``SELECT <offers columns>, booked, k`` (k: the sort key) for one page of ``limit``
    rows. ``p``: how values enter the statement (see :data:`Bind`).

    Two steps: the page's ids and keys first, from the columns the indexes carry (no table
    row is read for an offer the filters drop, nor its bookings summed, unless
    ``min_quantity`` needs them), then the page's rows and booked quantities. A distance
    search orders every offer in its circle: summing each one's bookings was most of it.
    ``one_step`` (a search from the spatial index, in a circle expected to hold little more
    than a page: :func:`_nearest_first`): the rows its candidates were read for are the
    page's, with the booked sums of those in the circle."""
    o = OfferRow
    # "+ 0" steers SQLite's planner (walk the sort order, stop after a page); PostgreSQL's
    # estimates need the plain columns, or it takes every match for few and sorts them all.
    bind = session if isinstance(session, Connection) else session.get_bind()
    hide = bind.dialect.name == "sqlite"
    places = in_spatial_index(q, bind.dialect.name)
    one_step = one_step and places
    now_p = cast(float, p("now", now))
    booked = booked_column(now_p)
    key: Label[Any] = sort_key(q, p).label("k")
    stmt = cast(Select[Any], select(o.id.label("id"), key)).where(
        visible_filter(session, caller, o)
    )
    tree = PLACES
    if places and q.kind is not None:
        tree = PLACES_BY_KIND.get(q.kind, PLACES)
    if q.kind is not None and tree is PLACES:  # a kind's tree holds that kind alone
        stmt = stmt.where(o.kind == p("kind", q.kind))
    if q.asset is not None:
        stmt = stmt.where(o.asset_id == p("asset", q.asset))
    if q.site is not None:
        at_site = select(AssetSiteRow.asset_id).where(
            AssetSiteRow.tenant_id == caller.tenant_id,
            AssetSiteRow.site_id == p("site", q.site))
        stmt = stmt.where(o.tenant_id == caller.tenant_id, o.asset_id.in_(at_site))
    if q.status is not None and not places:  # the R*Trees hold live offers alone
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
        # the candidates up by id. The circle alone decides (the R*Tree keeps 32-bit floats,
        # its box is a first sieve); the exact box steers the other plans.
        if places:
            stmt = stmt.select_from(tree.join(o, o.id == tree.c.id + 0)).where(
                q.near.in_places(tree, p)
            )
        else:
            if q.sort == "distance" and not hide:
                stmt = stmt.where(q.near.in_gist_box(p))
            stmt = stmt.where(q.near.box(q.sort == "distance" or not hide, p))
        stmt = stmt.where(q.near.squared_km(p) <= p("near_km2", q.near.km**2))
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
        stmt = stmt.where(or_(key.element > k0, and_(key.element == k0, o.id > id0)))
    # ORDER BY the label: the key is computed once per row, not again for the sort.
    stmt = stmt.order_by(key, o.id).limit(p("limit", limit))
    if one_step:
        return stmt.with_only_columns(*o.__table__.columns, booked.label("booked"), key)
    page = stmt.subquery("page")
    return (
        select(o.__table__, booked_column(now_p).label("booked"), page.c.k)
        .join_from(o, page, o.id == page.c.id)
        .order_by(page.c.k, page.c.id)
    )


@dataclass(frozen=True)
class _Prepared:
    """One search shape compiled for one dialect: the SQL text with named parameters (SQLite
    and psycopg both bind by name), and those fixed at compile time (the visibility scope's
    tenant ids) merged with each request's."""

    sql: str
    fixed: dict[str, Any]

    def args(self, values: dict[str, Any]) -> dict[str, Any]:
        return {**self.fixed, **values}


#: (catalog URL, shape) -> prepared statement. A shape is what changes the SQL text: which
#: filters are given, the sort, a cursor, and the caller's visibility scope (tenant and peers).
_prepared: dict[tuple[Any, ...], _Prepared] = {}
_prepared_lock = threading.Lock()
_MAX_PREPARED = 4096


def _shape(
    url: str, caller: Caller, scope: tuple[Any, ...], q: OfferQuery, cursor: bool,
    one_step: bool,
) -> tuple[Any, ...]:
    return (
        url, caller.tenant_id, caller.is_platform, scope, one_step, q.kind,
        q.asset is not None,
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


_SQLITE_BY_NAME = sqlite.dialect(paramstyle="named")


def _prepare(
    conn: Connection, caller: Caller, q: OfferQuery, cursor: bool, one_step: bool
) -> _Prepared:
    named: set[str] = set()

    def param(name: str, value: Any) -> Any:
        named.add(name)
        return bindparam(name, value)

    stmt = build(conn, caller, q, 0.0, [0.0, 0] if cursor else None, 1, param, one_step)
    # SQLite by name (its dialect's default is positional): a value named three times (a
    # distance in WHERE, ORDER BY and the key) is bound once, the values pass as a dict.
    dialect = _SQLITE_BY_NAME if conn.dialect.name == "sqlite" else conn.dialect
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    fixed = {k: v for k, v in compiled.construct_params().items() if k not in named}
    return _Prepared(compiled.string, fixed)


def _prepared_for(
    conn: Connection, caller: Caller, q: OfferQuery, cursor: bool, one_step: bool = False
) -> _Prepared:
    # The peers are cached (market.visibility) and drop when the visibility generation moves,
    # so a partner or group change gives a new scope, hence a new statement, at once.
    scope = peers(cast(Session, conn), caller.tenant_id) if caller.is_platform else ()
    key = _shape(str(conn.engine.url), caller, scope, q, cursor, one_step)
    hit = _prepared.get(key)
    if hit is None:
        hit = _prepare(conn, caller, q, cursor, one_step)
        with _prepared_lock:
            if len(_prepared) >= _MAX_PREPARED:
                _prepared.clear()
            _prepared[key] = hit
    return hit


#: The radius, as a share of the asked one, that a distance search tries first.
_NEAREST_FIRST = 0.4


def _nearest_first(q: OfferQuery, dialect: str) -> list[tuple[bool, dict[str, float]]]:
    """The steps of a search: (one step?, the values that differ from the query's own). By
    distance, first the same within a smaller circle: its page, when full, is the page (every
    offer it leaves out is farther than all it holds, so it would sort after them). The
    spatial index reads a circle of 0.4 times the radius in a sixth of the time, a page of 20
    usually lies well inside the asked one, and so few candidates are read in one step
    (:func:`build`); the whole circle, if needed, in two."""
    if q.sort != "distance" or q.near is None:
        return [(False, {})]
    return [(in_spatial_index(q, dialect), q.near.within(_NEAREST_FIRST)), (False, {})]


def search(
    catalog: Catalog, caller: Caller, q: OfferQuery, now: float, after: list[Any] | None, limit: int
) -> list[tuple[dict[str, Any], float]]:
    """One page of :func:`build`'s rows as (offer JSON, sort key) pairs. The statement is
    compiled once per shape (:func:`_prepared_for`) and run on the DB-API cursor: building,
    caching-by-key and executing it through SQLAlchemy cost four times the query itself."""
    try:
        with catalog.engine.connect() as conn:
            dialect = conn.dialect.name
            if dialect != "sqlite":
                # One statement, no transaction: spares the BEGIN and ROLLBACK round trips.
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            values = _values(q, now, after, limit, dialect == "sqlite")
            cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                for one_step, step in _nearest_first(q, dialect):
                    prepared = _prepared_for(conn, caller, q, after is not None, one_step)
                    cur.execute(prepared.sql, prepared.args({**values, **step}))
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
    return [(offer_json_of_row(r), r[SORT_KEY]) for r in rows]
