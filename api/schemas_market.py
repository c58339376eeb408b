"""Request and response models for bookings, feeds and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from api.schemas import OfferPublic

EventType = Literal["created", "updated", "withdrawn", "booked"]


def _examples(*examples: dict[str, object]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class BookingCreate(BaseModel):
    model_config = _examples({"offer_id": 17, "quantity": 40, "hold_s": 900})

    offer_id: int = Field(ge=1, le=2**53)
    quantity: float = Field(gt=0, le=1e12, description="in the offer's unit")
    hold_s: float = Field(900.0, ge=10, le=86400, description="the hold expires after this")


class BookingPublic(BaseModel):
    model_config = _examples(
        {
            "id": 5,
            "offer_id": 17,
            "tenant": "marketplace",
            "owner": "acme",
            "asset": "zone-a",
            "quantity": 40.0,
            "start": "2024-05-02T18:00:00Z",
            "end": "2024-05-03T06:00:00Z",
            "status": "held",
            "hold_expires_at": "2024-05-02T10:15:00Z",
            "created_at": "2024-05-02T10:00:00Z",
            "updated_at": "2024-05-02T10:00:00Z",
        }
    )

    id: int
    offer_id: int
    tenant: str = Field(description="who booked")
    owner: str = Field(description="whose asset it is")
    asset: str
    quantity: float
    start: datetime
    end: datetime
    status: Literal["held", "confirmed", "cancelled", "expired"]
    hold_expires_at: datetime | None = Field(description="null once confirmed or ended")
    created_at: datetime
    updated_at: datetime


class FeedLink(BaseModel):
    name: str
    url: str
    ttl: int = Field(description="seconds a copy stays fresh")


class FeedDiscovery(BaseModel):
    """Modelled on GBFS's gbfs.json: where the feeds are and how fresh they are."""

    model_config = _examples(
        {
            "version": "1.0",
            "last_updated": "2024-05-02T10:00:00Z",
            "ttl": 60,
            "feeds": [
                {"name": "offers", "url": "/v1/feeds/offers", "ttl": 60},
                {"name": "offer_changes", "url": "/v1/feeds/offer-changes", "ttl": 0},
            ],
        }
    )

    version: str
    last_updated: datetime | None = Field(description="time of the newest visible change")
    ttl: int
    feeds: list[FeedLink]


class OffersFeed(BaseModel):
    """A page of the snapshot of live offers. Keep the ``cursor`` of the FIRST page and follow
    the change feed from it: replaying changes over the snapshot is idempotent."""

    model_config = _examples(
        {
            "last_updated": "2024-05-02T10:00:00Z",
            "ttl": 60,
            "cursor": 1234,
            "items": [OfferPublic.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
            "next_cursor": None,
        }
    )

    last_updated: datetime
    ttl: int
    cursor: int = Field(description="change-feed position this snapshot includes")
    items: list[OfferPublic]
    next_cursor: str | None = Field(description="null on the last page")


class OfferChange(BaseModel):
    model_config = _examples(
        {
            "cursor": 1235,
            "type": "booked",
            "at": "2024-05-02T10:01:00Z",
            "offer_id": 17,
            "offer": OfferPublic.model_config["json_schema_extra"]["examples"][0],
        }  # type: ignore[index]
    )

    cursor: int = Field(description="monotonic position; pass it as `after`")
    type: EventType
    at: datetime
    offer_id: int
    offer: OfferPublic | None = Field(
        description="the offer's state after the change; null in a tombstone for an offer that "
        "is no longer visible to the caller"
    )


class ChangesFeed(BaseModel):
    model_config = _examples(
        {
            "last_updated": "2024-05-02T10:01:00Z",
            "ttl": 0,
            "items": [OfferChange.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
            "next_after": 1235,
            "more": False,
        }
    )

    last_updated: datetime
    ttl: int
    items: list[OfferChange]
    next_after: int = Field(description="pass as `after` next time (unchanged if no items)")
    more: bool = Field(description="true when more changes wait: ask again at once")


class WebhookCreate(BaseModel):
    model_config = _examples(
        {"url": "https://platform.example/hooks/idleshare", "events": ["created", "withdrawn"]}
    )

    url: AnyHttpUrl
    events: Annotated[list[EventType], Field(min_length=1, max_length=4)] = [
        "created",
        "updated",
        "withdrawn",
        "booked",
    ]


class WebhookPublic(BaseModel):
    model_config = _examples(
        {
            "id": 2,
            "url": "https://platform.example/hooks/idleshare",
            "events": ["created"],
            "last_event_id": 1234,
            "created_at": "2024-05-02T10:00:00Z",
        }
    )

    id: int
    url: str
    events: list[str]
    last_event_id: int = Field(description="events up to this one are delivered or given up")
    created_at: datetime


class WebhookCreated(WebhookPublic):
    model_config = _examples(
        {
            "id": 2,
            "url": "https://platform.example/hooks/idleshare",
            "events": ["created"],
            "last_event_id": 1234,
            "created_at": "2024-05-02T10:00:00Z",
            "secret": "whsec_3kL...",
        }
    )

    secret: str = Field(description="HMAC-SHA256 key for the X-Idleshare-Signature header")


class DeliveryPublic(BaseModel):
    model_config = _examples(
        {
            "id": 9,
            "event_id": 1235,
            "attempt": 2,
            "status_code": 200,
            "ok": True,
            "error": "",
            "at": "2024-05-02T10:01:03Z",
        }
    )

    id: int
    event_id: int
    attempt: int
    status_code: int = Field(description="0 when no HTTP answer came")
    ok: bool
    error: str
    at: datetime
