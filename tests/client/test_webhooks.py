"""verify_webhook on real deliveries: the API's dispatcher posts to a local receiver; the
client accepts the delivery as sent and refuses it altered, late, or under another secret."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from idleshare_client import Client, WebhookRejected, verify_webhook
from tests.client.conftest import Api
from tests.market.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def first_delivery(receiver: Receiver) -> tuple[dict[str, str], bytes]:
    deadline = time.monotonic() + 30
    while not receiver.requests:
        assert time.monotonic() < deadline, "no delivery arrived"
        time.sleep(0.05)
    return receiver.requests[0]


def test_a_real_delivery_verifies_and_a_tampered_or_old_one_is_refused(
    api: Api, receiver: Receiver
) -> None:
    with Client(api.url, api.platform_key) as c:
        hook = c.subscribe(receiver.url, ["booked"])
        assert hook.secret and hook.events == ("booked",)
        booking = c.book(api.offers[2], 5)
    headers, body = first_delivery(receiver)

    delivery = verify_webhook(hook.secret, headers, body)
    assert delivery.webhook == hook.id
    assert (delivery.event.type, delivery.event.offer_id) == ("booked", booking.offer_id)
    assert delivery.event.offer is not None and delivery.event.offer.available == 25.0
    # Header names in any case, as frameworks hand them over.
    assert verify_webhook(hook.secret, {k.lower(): v for k, v in headers.items()}, body)

    sent_at = float(headers["X-Idleshare-Timestamp"])
    refusals = {
        "tampered body": (hook.secret, headers, body.replace(b'"booked"', b'"created"'), None),
        "other secret": ("whsec_not-the-one", headers, body, None),
        "replayed late": (hook.secret, headers, body, sent_at + 301),
        "no signature": (hook.secret, {"X-Idleshare-Timestamp": str(sent_at)}, body, None),
        "re-stamped": (hook.secret, headers | {"X-Idleshare-Timestamp": str(sent_at + 60)},
                       body, None),
    }
    for why, (secret, hdrs, raw, now) in refusals.items():
        with pytest.raises(WebhookRejected):
            verify_webhook(secret, hdrs, raw, now=now)
            pytest.fail(f"accepted: {why}")
    assert verify_webhook(hook.secret, headers, body, now=sent_at + 299).webhook == hook.id
