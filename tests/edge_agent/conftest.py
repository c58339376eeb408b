"""Fixtures of the edge agent's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.edge_agent.fakes import FakeClient
from tests.edge_agent.test_agent_mqtt import Subscriber


@pytest.fixture
def fake_clients() -> tuple[list[FakeClient], Callable[[str], FakeClient]]:
    made: list[FakeClient] = []

    def factory(client_id: str) -> FakeClient:
        made.append(FakeClient(client_id))
        return made[-1]

    return made, factory


@pytest.fixture
def subscribe() -> Iterator[Callable[[int, str, str], Subscriber]]:
    """Make paho subscribers (persistent sessions, QoS 1) that keep every message."""
    made: list[Subscriber] = []

    def make(port: int, topic: str, client_id: str) -> Subscriber:
        made.append(Subscriber(port, topic, client_id))
        return made[-1]

    yield make
    for sub in made:
        sub.close()
