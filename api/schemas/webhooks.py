"""Webhook subscriptions and their delivery log."""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, Field

from api.schemas.common import RowPublic, UtcTime, examples
from api.schemas.feeds import EventType


class WebhookCreate(BaseModel):
    model_config = examples(
        {"url": "https://platform.example/hooks/idleshare", "events": ["created", "withdrawn"]},
        forbid=True,
    )

    url: AnyHttpUrl
    events: Annotated[list[EventType], Field(min_length=1, max_length=4)] = [
        "created",
        "updated",
        "withdrawn",
        "booked",
    ]


WEBHOOK_EXAMPLE: dict[str, object] = {
    "id": 2,
    "url": "https://platform.example/hooks/idleshare",
    "events": ["created"],
    "last_event_id": 1234,
    "created_at": "2024-05-02T10:00:00Z",
}


class WebhookPublic(RowPublic):
    model_config = examples(WEBHOOK_EXAMPLE, forbid=True)

    id: int
    url: str
    events: list[str]
    last_event_id: int = Field(description="events up to this one are delivered or given up")
    created_at: UtcTime


class WebhookCreated(WebhookPublic):
    model_config = examples({**WEBHOOK_EXAMPLE, "secret": "whsec_3kL..."}, forbid=True)

    secret: str = Field(description="HMAC-SHA256 key for the X-Idleshare-Signature header")


class DeliveryPublic(RowPublic):
    model_config = examples(
        {
            "id": 9,
            "event_id": 1235,
            "attempt": 2,
            "status_code": 200,
            "ok": True,
            "error": "",
            "at": "2024-05-02T10:01:03Z",
        },
        forbid=True,
    )

    id: int
    event_id: int
    attempt: int
    status_code: int = Field(description="0 when no HTTP answer came")
    ok: bool
    error: str
    at: UtcTime
