"""The feeds: discovery, the snapshot of live offers and the change feed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import examples
from api.schemas.offers import OFFER_EXAMPLE, OfferPublic

EventType = Literal["created", "updated", "withdrawn", "booked"]


class FeedLink(BaseModel):
    name: str
    url: str
    ttl: int = Field(description="seconds a copy stays fresh")


class FeedDiscovery(BaseModel):
    """Modelled on GBFS's gbfs.json: where the feeds are and how fresh they are."""

    model_config = examples(
        {
            "version": "1.0",
            "last_updated": "2024-05-02T10:00:00Z",
            "ttl": 60,
            "feeds": [
                {"name": "offers", "url": "/v1/feeds/offers", "ttl": 60},
                {"name": "offer_changes", "url": "/v1/feeds/offer-changes", "ttl": 0},
            ],
        },
        forbid=True,
    )

    version: str
    last_updated: datetime | None = Field(description="time of the newest visible change")
    ttl: int
    feeds: list[FeedLink]


class OffersFeed(BaseModel):
    """A page of the snapshot of live offers. Keep the ``cursor`` of the FIRST page and follow
    the change feed from it: replaying changes over the snapshot is idempotent."""

    model_config = examples(
        {
            "last_updated": "2024-05-02T10:00:00Z",
            "ttl": 60,
            "cursor": 1234,
            "items": [OFFER_EXAMPLE],
            "next_cursor": None,
        },
        forbid=True,
    )

    last_updated: datetime
    ttl: int
    cursor: int = Field(description="change-feed position this snapshot includes")
    items: list[OfferPublic]
    next_cursor: str | None = Field(description="null on the last page")


CHANGE_EXAMPLE: dict[str, object] = {
    "cursor": 1235,
    "type": "booked",
    "at": "2024-05-02T10:01:00Z",
    "offer_id": 17,
    "offer": OFFER_EXAMPLE,
}


class OfferChange(BaseModel):
    """One change; the data comes ready from :meth:`market.feeds.Change.as_json`, which is
    also the ``event`` of a webhook delivery."""

    model_config = examples(CHANGE_EXAMPLE, forbid=True)

    cursor: int = Field(description="monotonic position; pass it as `after`")
    type: EventType
    at: datetime
    offer_id: int
    offer: OfferPublic | None = Field(
        description="the offer's state after the change; null in a tombstone for an offer that "
        "is no longer visible to the caller"
    )


class ChangesFeed(BaseModel):
    model_config = examples(
        {
            "last_updated": "2024-05-02T10:01:00Z",
            "ttl": 0,
            "items": [CHANGE_EXAMPLE],
            "next_after": 1235,
            "more": False,
        },
        forbid=True,
    )

    last_updated: datetime
    ttl: int
    items: list[OfferChange]
    next_after: int = Field(description="pass as `after` next time (unchanged if no items)")
    more: bool = Field(description="true when more changes wait: ask again at once")
