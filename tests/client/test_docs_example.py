"""The example in docs/api.md's "Platform client" section runs as printed against a real API
(its URL, key and webhook address swapped for the test's), and its handler accepts a real
delivery."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from idleshare_client import Client
from storage.catalog import BookingRow
from tests.client.conftest import Api
from tests.client.test_webhooks import first_delivery, receiver  # noqa: F401 - a fixture
from tests.market.receiver import Receiver

DOC = Path(__file__).parents[2] / "docs" / "api.md"


def example() -> str:
    found = re.search(r"## Platform client\n.*?```python\n(.*?)```", DOC.read_text(), re.S)
    assert found, "docs/api.md has no Platform client example"
    return found.group(1)


def test_the_documented_example_runs_against_a_real_api(
    api: Api, receiver: Receiver, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    code = example()
    assert len(code.splitlines()) <= 25
    code = (code.replace("https://idleshare.example", api.url)
            .replace('"idl_..."', repr(api.platform_key))
            .replace("https://platform.example/hooks/idleshare", receiver.url)
            .replace('"offers.db"', repr(str(tmp_path / "offers.db"))))
    scope: dict[str, object] = {}
    exec(compile(code, str(DOC), "exec"), scope)
    with api.catalog.session() as s:
        assert [(b.offer_id, b.quantity, b.status) for b in s.scalars(select(BookingRow))] == [
            (api.offers[0], 10.0, "confirmed")
        ]
    # The example subscribed after its booking: a booking now is delivered to its handler.
    with Client(api.url, api.platform_key) as c:
        c.book(api.offers[1], 1)
    headers, body = first_delivery(receiver)
    handler = scope["on_webhook"]
    assert callable(handler)
    assert handler(headers, body) == 204
    assert handler(headers, body.replace(b"booked", b"created")) == 400
