"""Receiving webhooks: check that a request is a delivery signed with the subscription's
secret, and recent, before trusting it. The scheme is the API's: ``X-Idleshare-Signature:
sha256=<hex HMAC-SHA256(secret, "<X-Idleshare-Timestamp>." + body)>``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from idleshare_client.errors import WebhookRejected
from idleshare_client.types import OfferChange, WebhookDelivery

SIGNATURE_HEADER = "x-idleshare-signature"
TIMESTAMP_HEADER = "x-idleshare-timestamp"
#: How far a delivery's timestamp may be from now: older ones are refused as replays.
TOLERANCE_S = 300.0


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance_s: float = TOLERANCE_S,
) -> WebhookDelivery:
    """The delivery in ``body`` if its signature is right and its timestamp within
    ``tolerance_s`` of ``now``; else :class:`WebhookRejected`. Pass the body's raw bytes, as
    received (not re-encoded JSON): the signature covers them."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp, signature = lowered.get(TIMESTAMP_HEADER), lowered.get(SIGNATURE_HEADER)
    if timestamp is None or signature is None:
        raise WebhookRejected("no X-Idleshare-Timestamp or X-Idleshare-Signature header")
    try:
        age = abs((time.time() if now is None else now) - float(timestamp))
    except ValueError:
        raise WebhookRejected(f"bad timestamp {timestamp!r}") from None
    if not age <= tolerance_s:
        raise WebhookRejected(f"timestamp {age:.0f} s away from now: a replay?")
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    if not hmac.compare_digest("sha256=" + mac.hexdigest(), signature):
        raise WebhookRejected("signature does not match: wrong secret or altered body")
    delivery = json.loads(body)
    return WebhookDelivery(webhook=int(delivery["webhook"]),
                           event=OfferChange.from_json(delivery["event"]))
