"""Fixtures of the edge agent's tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.edge_agent.fakes import FakeClient


@pytest.fixture
def fake_clients() -> tuple[list[FakeClient], Callable[[str], FakeClient]]:
    made: list[FakeClient] = []

    def factory(client_id: str) -> FakeClient:
        made.append(FakeClient(client_id))
        return made[-1]

    return made, factory
