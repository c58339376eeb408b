"""The change feed as a caller sees it: events in cursor order, visibility applied.

An event the caller may see carries the offer's full state after the change, so replaying
events is idempotent. For a platform, a later event of an offer it may no longer see (the
owner narrowed the visibility) comes as a tombstone (``withdrawn``, no offer) so its copy
drops the offer; ``created`` events it may not see are left out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from api.schemas import Location, OfferPublic, utc
from api.schemas_market import OfferChange
from market.caller import Caller
from market.visibility import visible_filter
from storage.catalog import OfferEventRow


def offer_from_snapshot(snap: dict[str, Any]) -> OfferPublic:
    return OfferPublic(
        id=snap["id"],
        tenant=snap["tenant"],
        asset=snap["asset"],
        kind=snap["kind"],
        quantity=snap["quantity"],
        unit=snap["unit"],
        start=utc(snap["start"]),
        end=utc(snap["end"]),
        confidence=snap["confidence"],
        method=snap["method"],
        location=Location(lat=snap["lat"], lon=snap["lon"]),
        price_per_unit_hour=snap["price_per_unit_hour"],
        currency=snap["currency"],
        visibility=snap["visibility"],
        status=snap["status"],
        available=snap.get("available", snap["quantity"]),
        capabilities=list(snap.get("capabilities", ())),
    )


def changes(
    s: Session, caller: Caller, after: int, limit: int, types: tuple[str, ...] | None = None
) -> list[OfferChange]:
    """Up to ``limit`` changes after cursor ``after`` the caller may see, oldest first."""
    e = OfferEventRow
    visible = visible_filter(s, caller, e)
    wanted = visible
    if caller.is_platform:
        wanted = or_(visible, and_(e.type != "created", e.visibility != "public"))
    q = select(e, visible.label("visible")).where(e.id > after, wanted)
    if types is not None:
        q = q.where(e.type.in_(types))
    out = []
    for row, is_visible in s.execute(q.order_by(e.id).limit(limit)):
        if is_visible:
            out.append(
                OfferChange(
                    cursor=row.id,
                    type=row.type,
                    at=utc(row.at),
                    offer_id=row.offer_id,
                    offer=offer_from_snapshot(row.snapshot),
                )
            )
        else:
            out.append(
                OfferChange(
                    cursor=row.id,
                    type="withdrawn",
                    at=utc(row.at),
                    offer_id=row.offer_id,
                    offer=None,
                )
            )
    return out


def head(s: Session) -> tuple[int, float | None]:
    """(largest cursor, time of that change) over all events."""
    row = s.execute(
        select(OfferEventRow.id, OfferEventRow.at).order_by(OfferEventRow.id.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, None)
