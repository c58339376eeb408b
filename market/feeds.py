"""The feeds as a caller sees them: the snapshot of live offers and the change feed, in
cursor order, visibility applied.

An event the caller may see carries the offer's full state after the change, so replaying
events is idempotent. For a platform, a later event of an offer it may no longer see (the
owner narrowed the visibility) comes as a tombstone (``withdrawn``, no offer) so its copy
drops the offer, but only when an earlier event of that offer was visible to it: events of
offers it was never shown are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from market.caller import Caller
from market.offers import iso, offer_json, snapshot_json
from market.search import booked_column
from market.visibility import visible_filter
from storage.catalog import Catalog, OfferEventRow, OfferRow

#: An offer's earlier events, for the tombstone rule (one alias: visible_filter caches per table).
_earlier = aliased(OfferEventRow, name="earlier")


@dataclass(frozen=True)
class Change:
    """One change-feed event; ``offer`` is the JSON-ready offer, None in a tombstone."""

    cursor: int
    type: str
    at: float
    offer_id: int
    offer: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        """What the change feed answers and webhooks send for this event."""
        return {
            "cursor": self.cursor,
            "type": self.type,
            "at": iso(self.at),
            "offer_id": self.offer_id,
            "offer": self.offer,
        }


def _changes(
    s: Session, caller: Caller, after: int, limit: int, types: tuple[str, ...] | None
) -> list[Change]:
    e = OfferEventRow
    visible = visible_filter(s, caller, e)
    wanted = visible
    if caller.is_platform:
        # A tombstone only for an offer this caller was shown before: an earlier event of
        # it was visible. Others' non-public offers it never saw stay out entirely (their
        # ids and timing are their owners' business).
        shown = exists().where(
            _earlier.offer_id == e.offer_id,
            _earlier.id < e.id,
            visible_filter(s, caller, _earlier),
        )
        wanted = or_(visible, and_(e.type != "created", e.visibility != "public", shown))
    # The leg as the offer row holds it now (the snapshot does not hold it).
    q = (
        select(e, visible.label("visible"), OfferRow.leg)
        .join(OfferRow, OfferRow.id == e.offer_id)
        .where(e.id > after, wanted)
    )
    if types is not None:
        q = q.where(e.type.in_(types))
    return [
        Change(row.id, row.type, row.at, row.offer_id, snapshot_json(row.snapshot, leg))
        if is_visible
        else Change(row.id, "withdrawn", row.at, row.offer_id, None)
        for row, is_visible, leg in s.execute(q.order_by(e.id).limit(limit))
    ]


def changes(
    catalog: Catalog,
    caller: Caller,
    after: int,
    limit: int,
    types: tuple[str, ...] | None = None,
) -> list[Change]:
    """Up to ``limit`` changes after cursor ``after`` the caller may see, oldest first."""
    with catalog.session() as s:
        return _changes(s, caller, after, limit, types)


def _head(s: Session) -> tuple[int, float | None]:
    row = s.execute(
        select(OfferEventRow.id, OfferEventRow.at).order_by(OfferEventRow.id.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, None)


def head(catalog: Catalog) -> tuple[int, float | None]:
    """(largest cursor, time of that change) over all events."""
    with catalog.session() as s:
        return _head(s)


def live_snapshot(
    catalog: Catalog, caller: Caller, after: int | None, limit: int, now: float
) -> tuple[int, list[dict[str, Any]]]:
    """(change-feed position, up to ``limit`` live offers visible to the caller with id above
    ``after``, by id). The position is read first: a change in between is in both, which a
    consumer replaying the change feed over the snapshot absorbs."""
    o = OfferRow
    with catalog.session() as s:
        position, _ = _head(s)
        q = select(o, booked_column(now).label("booked")).where(
            visible_filter(s, caller, o), o.status == "live"
        )
        if after is not None:
            q = q.where(o.id > after)
        rows = s.execute(q.order_by(o.id).limit(limit)).all()
        return position, [offer_json(r[0], float(r.booked)) for r in rows]
