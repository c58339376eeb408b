"""Leg offers of a vehicle: its readings -> trips -> recurring legs -> the free payload of each
upcoming leg (:mod:`analytics.legs`) -> offers in the catalog, the sharing policy applied.

Definitions (also in docs/freight.md)
    A *leg offer* is one upcoming run of a recurring leg: its window is the leg's departure
    window, its location the origin, ``dest_lat``/``dest_lon`` and ``leg`` the destination,
    arrival estimate, distance and price per tonne. Its quantity is the leg's lower bound
    (``free_t_lower``, P10) less the owner's reserve, rounded down to 3 decimals; runs whose
    window opens before ``now + lead_time_s`` or departing in a blackout hour are not offered,
    nor quantities under ``min_quantity``. Confidence: the forecast's (run share x 0.9).

    Publishing follows :mod:`analytics.publish` for one run of a leg: a stored leg offer of the
    same leg departing within 12 h of a new run is that run. Started offers are left alone; a
    booked one is kept, shrunk to what the new forecast allows but never below its bookings
    and never grown, so what a platform can still book on it is the run's free quantity less
    what is booked; an unbooked one takes the new figures when the change is meaningful
    (:mod:`analytics.churn`); the rest are withdrawn, and new runs created. Parked offers of the
    same vehicle (:mod:`analytics.publish`) are reconciled apart from these.

    Bookings that count (:func:`analytics.publish.counting_bookings`) and are not on the run's
    stored offer are *committed*: a run's quantity is its offered quantity less the most they
    hold at any moment of its window, as for parked offers. A booking on a leg offer the owner
    withdrew thus still takes its share of the run's next offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from analytics.legs import (
    LegForecast,
    LegPayloadForecaster,
    forecast_legs,
    group_legs,
    training_rows,
)
from analytics.offers import floor_quantity
from analytics.policy import SharingPolicy
from analytics.publish import (
    LIVE,
    UPDATED,
    WITHDRAWN,
    PublishCounts,
    counting_bookings,
    create_offer,
    peak_committed,
    worth_updating,
)
from analytics.trips import TRACK_METRICS, align, infer_trips
from storage.catalog import AssetRow, Catalog, OfferRow, record_offer_event
from storage.catalog.locks import lock_asset, lock_offers
from storage.catalog.models import SiteRow
from storage.readings import ReadingStore

METHOD = "leg_p10"
#: History read for the legs: a leg recurs on a weekday seen twice, so at least two weeks.
LEG_LOOKBACK_S = 28 * 86400.0
HORIZON_S = 7 * 86400.0
#: A stored leg offer and a new run of the same leg departing this close are one run.
SAME_RUN_S = 12 * 3600.0


def leg_forecasts(store: ReadingStore, asset: AssetRow, policy: SharingPolicy, now: float,
                  named_places: Sequence[tuple[str, float, float]] = (),
                  lookback_s: float = LEG_LOOKBACK_S, horizon_s: float = HORIZON_S,
                  ) -> list[LegForecast]:
    """The upcoming legs of a vehicle departing in ``[now, now + horizon_s)``, from its
    readings over the lookback; none without recurring legs. Legs are in the policy's time
    zone; areas are named after the nearest of ``named_places`` (the tenant's sites)."""
    series = {m: store.query(asset.tenant_id, asset.id, m, now - lookback_s, now)
              for m in TRACK_METRICS}
    if any(len(v) == 0 for v in series.values()):
        return []
    trips = infer_trips(align(series), asset.capacity, asset.id)
    legs = group_legs(trips, timezone=policy.timezone, named_places=named_places)
    X, y = training_rows(legs)
    if not legs or y.size < 2:
        return []
    # A few hundred rows: OpenMP threads only add overhead, and on a busy machine their
    # spinning made a fit 40x slower (38 s instead of 1 s at a load of 8 on 2 cores).
    with threadpool_limits(1):
        model = LegPayloadForecaster().fit(X, y)
        return forecast_legs(legs, model, now, now + horizon_s)


def offered(forecasts: Sequence[LegForecast], policy: SharingPolicy, now: float
            ) -> list[dict[str, Any]]:
    """The offer fields of each forecast leg the policy lets out (rules above)."""
    zone = ZoneInfo(policy.timezone)
    out = []
    for f in forecasts:
        kept = np.asarray(f.free_t_lower * (1.0 - policy.reserve_fraction))
        quantity = float(floor_quantity(kept))
        departs = datetime.fromtimestamp(f.departure_earliest, zone).hour
        if (quantity < policy.min_quantity or f.departure_earliest < now + policy.lead_time_s
                or departs in policy.blackout_hours):
            continue
        out.append(dict(
            start=f.departure_earliest, end=f.departure_latest, quantity=quantity,
            unit=f.unit, confidence=f.confidence, lat=f.origin.lat, lon=f.origin.lon,
            dest_lat=f.destination.lat, dest_lon=f.destination.lon, leg=leg_fields(f, policy),
        ))
    return out


def leg_fields(f: LegForecast, policy: SharingPolicy) -> dict[str, Any]:
    """The stored ``leg`` of an offer (epoch seconds; :func:`market.offers.leg_json` answers it)."""
    def area(a: Any) -> dict[str, Any]:
        return {"lat": a.lat, "lon": a.lon, "radius_km": a.radius_km, "name": a.name}

    price = policy.price_per_tonne
    return {
        "leg_id": f.leg_id, "origin": area(f.origin), "destination": area(f.destination),
        "arrival_estimate": round(f.arrival_estimate, 3), "distance_km": round(f.distance_km, 1),
        "price_per_tonne": None if price is None else float(price), "run_share": f.run_share,
    }


def publish_legs(session: Session, asset: AssetRow, policy: SharingPolicy,
                 forecasts: Sequence[LegForecast], now: float) -> PublishCounts:
    """Reconcile the vehicle's live leg offers with ``forecasts`` in ``session`` (rules
    above; the caller commits). Each change writes an offer event."""
    lock_asset(session, asset.tenant_id, asset.id)
    live = lock_offers(session, OfferRow.tenant_id == asset.tenant_id,
                       OfferRow.asset_id == asset.id, OfferRow.status == LIVE,
                       OfferRow.dest_lat.is_not(None))
    bookings = counting_bookings(session, asset, now)
    booked: dict[int, float] = {}
    for b in bookings:
        booked[b.offer_id] = booked.get(b.offer_id, 0.0) + b.quantity
    listing = dict(kind=asset.kind, price_per_unit_hour=policy.price_per_unit_hour,
                   currency=policy.currency, visibility=policy.visibility,
                   capabilities=list(policy.capabilities), method=METHOD)
    pending = [o for o in live if o.start > now]
    created = updated = withdrawn = 0
    for fields in offered(forecasts, policy, now):
        fields = dict(listing, **fields)
        row = _same_run(pending, fields)
        others = [(b.start, b.end, b.quantity) for b in bookings
                  if row is None or b.offer_id != row.id]
        free = fields["quantity"] - peak_committed(others, fields["start"], fields["end"])
        fields["quantity"] = float(floor_quantity(np.asarray(free)))
        taken = 0.0 if row is None else booked.get(row.id, 0.0)
        if row is not None and taken > 0:  # kept: never below its bookings, never grown
            fields["quantity"] = max(taken, min(row.quantity, fields["quantity"]))
        elif fields["quantity"] < policy.min_quantity:
            continue  # a stored offer of the run stays pending: withdrawn below
        if row is None:
            create_offer(session, asset, fields, now)
            created += 1
            continue
        pending.remove(row)
        if worth_updating(row, fields):
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = now
            record_offer_event(session, row, UPDATED, now, taken)
            updated += 1
    for row in pending:
        if booked.get(row.id, 0.0) <= 0:
            row.status, row.updated_at = WITHDRAWN, now
            record_offer_event(session, row, WITHDRAWN, now, 0.0)
            withdrawn += 1
    return PublishCounts(windows=0, created=created, withdrawn=withdrawn, updated=updated)


def _same_run(pending: list[OfferRow], fields: dict[str, Any]) -> OfferRow | None:
    """The stored offer of the same leg departing nearest the new run, within SAME_RUN_S."""
    leg_id = fields["leg"]["leg_id"]
    near = [(abs(o.start - fields["start"]), o.id, o) for o in pending
            if (o.leg or {}).get("leg_id") == leg_id
            and abs(o.start - fields["start"]) < SAME_RUN_S]
    return min(near, key=lambda n: (n[0], n[1]))[2] if near else None


def publish_vehicle(catalog: Catalog, store: ReadingStore, asset: AssetRow,
                    policy: SharingPolicy, now: float) -> PublishCounts:
    """One vehicle's leg offers, forecast and published in one transaction; its areas named
    after its tenant's sites."""
    with catalog.session() as session:
        places = [(s.name, s.lat, s.lon) for s in session.scalars(
            select(SiteRow).where(SiteRow.tenant_id == asset.tenant_id)) if s.name]
    forecasts = leg_forecasts(store, asset, policy, now, places)
    with catalog.session() as session:
        return publish_legs(session, asset, policy, forecasts, now)
