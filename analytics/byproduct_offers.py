"""By-product offers of a container: its fill readings -> the fill forecast
(:mod:`analytics.fill`) -> "N m³ of material X available for collection between t1 and t2 at
L", the owner's declared material on it and the sharing policy applied.

Definitions (also in docs/analytics.md)
    A container whose owner has declared no material (``PUT /v1/assets/{id}/material``) is not
    offered: a collector cannot take an unknown material.

    *Worth collecting* is the policy's ``min_free_fraction`` of capacity (a container's free
    quantity is its fill, so the policy's idle threshold is the fill from which it may be
    taken); *full* is :data:`FULL_SHARE` of capacity. The window opens when the forecast
    (central rate) reaches worth collecting, at ``now + lead_time_s`` at the soonest, and
    ends when it reaches full, at least ``min_window_s`` later; a container at or past full
    is offered from now for ``min_window_s``. A window opening beyond :data:`HORIZON_S`, or a
    container not filling and below worth collecting, is not offered.

    The quantity is the fill's *lower* estimate at the window's opening (or now, once open),
    less the owner's reserve, rounded down to 3 decimals; under ``min_quantity`` it is not
    offered, nor a container whose last reading is older than ``MAX_GAP_S`` (unknown now).
    Confidence: the lower estimate's nominal level (:data:`analytics.fill.CONFIDENCE`).

    Publishing: a container has at most one live by-product offer per fill cycle (a cycle is
    named by its emptying, ``material["emptied_at"]``). The stored offer of the same cycle is
    kept: a started one keeps its start; an edge the forecast moves by less than a churn
    step (:data:`analytics.churn.EDGE_STEP_S`) stays as stored; a booked one never offers
    less than its bookings, so what a collector can still book is the forecast less what is
    booked; it takes the new figures when the change is meaningful (:mod:`analytics.churn`).
    Offers of an earlier cycle (the container was emptied: the material is gone) or of a
    withdrawn declaration are withdrawn; bookings made on them stand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from analytics.churn import EDGE_STEP_S
from analytics.fill import CONFIDENCE, FillForecast, forecast_fill
from analytics.offers import floor_quantity
from analytics.policy import SharingPolicy
from analytics.publish import (
    LIVE,
    UPDATED,
    WITHDRAWN,
    PublishCounts,
    booked_by_offer,
    create_offer,
    worth_updating,
)
from analytics.series import MAX_GAP_S
from idleshare.assets import kind as asset_kind
from idleshare.materials import Material
from storage.catalog import AssetRow, Catalog, OfferRow, record_offer_event
from storage.catalog.locks import lock_asset, lock_offers
from storage.readings import ReadingStore

METHOD = "fill_theil_sen"
#: History read for the fill forecast: the current cycle and a few before it.
FILL_LOOKBACK_S = 30 * 86400.0
#: Windows opening later than this after now are not offered yet.
HORIZON_S = 7 * 86400.0
#: The share of capacity at which a container is full and must be collected.
FULL_SHARE = 0.9


def byproduct_window(forecast: FillForecast, policy: SharingPolicy, now: float
                     ) -> tuple[float, float, float] | None:
    """(start, end, quantity) of the offer the forecast allows (rules above), or None."""
    worth = policy.min_free_fraction * forecast.capacity
    full = FULL_SHARE * forecast.capacity
    soonest = now + policy.lead_time_s
    opens = forecast.reaches(worth)
    if opens is None or opens > now + HORIZON_S:
        return None
    start = max(opens, soonest)
    full_at = forecast.reaches(full)
    end = max(full_at if full_at is not None else start, start + policy.min_window_s)
    kept = forecast.lower_level_at(max(start, now)) * (1.0 - policy.reserve_fraction)
    quantity = float(floor_quantity(np.asarray(kept)))
    if quantity < policy.min_quantity:
        return None
    return start, end, quantity


def offered(asset: AssetRow, policy: SharingPolicy, forecast: FillForecast | None,
            now: float) -> dict[str, Any] | None:
    """The offer fields of the container's by-product offer, or None (rules above)."""
    if asset.material is None or forecast is None or now - forecast.at > MAX_GAP_S:
        return None  # undeclared, too few readings, or none lately: nothing to promise
    window = byproduct_window(forecast, policy, now)
    if window is None:
        return None
    start, end, quantity = window
    material = Material.from_dict(asset.material)
    return dict(
        kind=asset.kind, unit=asset.unit, lat=asset.lat, lon=asset.lon, start=start, end=end,
        quantity=quantity, confidence=CONFIDENCE, method=METHOD,
        price_per_unit_hour=policy.price_per_unit_hour, currency=policy.currency,
        visibility=policy.visibility, capabilities=list(policy.capabilities),
        material={**material.to_dict(), "emptied_at": forecast.emptied_at},
        eural=material.code,
    )


def publish_byproduct(session: Session, asset: AssetRow, fields: dict[str, Any] | None,
                      now: float) -> PublishCounts:
    """Reconcile the container's live by-product offers with ``fields`` (one offer or none)
    in ``session`` (rules above; the caller commits). Each change writes an offer event."""
    lock_asset(session, asset.tenant_id, asset.id)
    live = lock_offers(session, OfferRow.tenant_id == asset.tenant_id,
                       OfferRow.asset_id == asset.id, OfferRow.status == LIVE,
                       OfferRow.material.is_not(None))
    booked = booked_by_offer(session, asset, now)
    cycle = None if fields is None else fields["material"]["emptied_at"]
    same = sorted((o for o in live if fields is not None
                   and (o.material or {}).get("emptied_at") == cycle), key=lambda o: -o.id)
    row = same[0] if same else None
    withdrawn = 0
    for old in live:
        if old is not row:
            old.status, old.updated_at = WITHDRAWN, now
            record_offer_event(session, old, WITHDRAWN, now, booked.get(old.id, 0.0))
            withdrawn += 1
    if fields is None:
        return PublishCounts(windows=0, created=0, withdrawn=withdrawn)
    if row is None:
        create_offer(session, asset, fields, now)
        return PublishCounts(windows=0, created=1, withdrawn=withdrawn)
    fields = dict(fields)
    if row.start <= now:  # open already: collectors may be on their way
        fields["start"] = row.start
    # Both edges are forecasts (when the fill reaches worth collecting, when it is full) that
    # move by a minute or two from pass to pass as readings come in: a stored edge stands
    # until the forecast moves it by a churn step, either way, or collectors following the
    # feed get an event per pass (the demo: 7-10 updated per offer per day).
    for edge in ("start", "end"):
        if abs(fields[edge] - getattr(row, edge)) < EDGE_STEP_S:
            fields[edge] = getattr(row, edge)
    taken = booked.get(row.id, 0.0)
    fields["quantity"] = max(fields["quantity"], taken)
    if not worth_updating(row, fields):
        return PublishCounts(windows=0, created=0, withdrawn=withdrawn)
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at = now
    record_offer_event(session, row, UPDATED, now, taken)
    return PublishCounts(windows=0, created=0, withdrawn=withdrawn, updated=1)


def publish_container(catalog: Catalog, store: ReadingStore, asset: AssetRow,
                      policy: SharingPolicy, now: float) -> PublishCounts:
    """One container's by-product offer, forecast from its fill readings over
    :data:`FILL_LOOKBACK_S` and published in one transaction."""
    metric = asset_kind(asset.kind).primary_metric
    forecast = None
    if asset.material is not None:
        pairs = np.asarray(store.query(asset.tenant_id, asset.id, metric,
                                       now - FILL_LOOKBACK_S, now), dtype=float).reshape(-1, 2)
        forecast = forecast_fill(pairs[:, 0], pairs[:, 1], asset.capacity)
    with catalog.session() as session:
        return publish_byproduct(session, asset, offered(asset, policy, forecast, now), now)
