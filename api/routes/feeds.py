"""Feeds for platforms, modelled on GBFS: discovery, a snapshot of live offers, and a change
feed with a monotonic cursor so a copy can be kept in sync incrementally."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import CallerDep, CatalogDep
from api.params import CursorParam, Limit, decode_cursor, split_page
from api.schemas.common import utc
from api.schemas.feeds import (
    ChangesFeed,
    EventType,
    FeedDiscovery,
    FeedLink,
    OfferChange,
    OffersFeed,
)
from api.schemas.offers import OfferPublic
from market.feeds import changes, head, live_snapshot

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])

VERSION = "1.0"
SNAPSHOT_TTL_S = 60
CHANGES_TTL_S = 0  # the change feed is read as often as the client likes


@router.get("", response_model=FeedDiscovery)
def discovery(request: Request, caller: CallerDep, catalog: CatalogDep) -> FeedDiscovery:
    """The feeds, with how long a copy of each stays fresh (`ttl`, seconds)."""
    _, at = head(catalog)
    base = str(request.base_url).rstrip("/")
    return FeedDiscovery(
        version=VERSION,
        last_updated=utc(at) if at is not None else None,
        ttl=SNAPSHOT_TTL_S,
        feeds=[
            FeedLink(name="offers", url=f"{base}/v1/feeds/offers", ttl=SNAPSHOT_TTL_S),
            FeedLink(name="offer_changes", url=f"{base}/v1/feeds/offer-changes", ttl=CHANGES_TTL_S),
        ],
    )


@router.get("/offers", response_model=OffersFeed)
def offers_snapshot(
    caller: CallerDep, catalog: CatalogDep, limit: Limit = 1000, cursor: CursorParam = None
) -> OffersFeed:
    """The live offers visible to the caller, by id. `cursor` (in the body) is the change-feed
    position of the first page: follow `/v1/feeds/offer-changes?after=<cursor>` from there."""
    after = decode_cursor(cursor, (int,))
    now = time.time()
    position, items = live_snapshot(catalog, caller, after[0] if after else None, limit + 1, now)
    items, next_cursor = split_page(items, limit, lambda o: [o["id"]])
    return OffersFeed(
        last_updated=utc(now),
        ttl=SNAPSHOT_TTL_S,
        cursor=position,
        items=[OfferPublic.model_validate(o) for o in items],
        next_cursor=next_cursor,
    )


@router.get("/offer-changes", response_model=ChangesFeed)
def offer_changes(
    caller: CallerDep,
    catalog: CatalogDep,
    after: Annotated[int, Query(ge=0, le=2**53, description="cursor of the last change seen")] = 0,
    type: Annotated[list[EventType] | None, Query(description="only these types")] = None,
    limit: Limit = 500,
) -> ChangesFeed:
    """Changes after `after`, oldest first. Apply each in order: an item whose `offer` is
    null or not `live` removes the offer from the copy (tombstone); any other carries the
    offer's whole state after the change: upsert it. Replaying is idempotent."""
    found = changes(catalog, caller, after, limit + 1, tuple(type) if type else None)
    more = len(found) > limit
    found = found[:limit]
    return ChangesFeed(
        last_updated=utc(time.time()),
        ttl=CHANGES_TTL_S,
        items=[OfferChange.model_validate(c.as_json()) for c in found],
        next_after=found[-1].cursor if found else after,
        more=more,
    )
