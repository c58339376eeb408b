"""Drop repeated messages by (tenant, agent) and sequence number, in bounded memory.

Storage is idempotent, so this is about not writing (and counting) a redelivery twice, not
about correctness: forgetting an agent costs at most a rewrite of the same points.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

Key = tuple[str, str]
State = Literal["new", "pending", "stored"]


@dataclass
class _Window:
    """Sequence numbers stored for one agent: every number up to ``floor``, and ``recent``."""

    floor: int = -1
    recent: set[int] = field(default_factory=set)
    heap: list[int] = field(default_factory=list)
    pending: set[int] = field(default_factory=set)


class Dedup:
    """Per agent: a high-water ``floor`` plus the last ``window`` numbers above it, so numbers
    arriving out of order (redeliveries, several assets) are still told apart."""

    def __init__(self, window: int = 1024, max_agents: int = 100_000) -> None:
        self.window = window
        self.max_agents = max_agents
        self._agents: OrderedDict[Key, _Window] = OrderedDict()

    def _get(self, key: Key) -> _Window:
        w = self._agents.get(key)
        if w is None:
            w = self._agents[key] = _Window()
            if len(self._agents) > self.max_agents:
                self._agents.popitem(last=False)  # the agent heard from longest ago
        else:
            self._agents.move_to_end(key)
        return w

    def state(self, key: Key, seq: int) -> State:
        w = self._get(key)
        if seq <= w.floor or seq in w.recent:
            return "stored"
        return "pending" if seq in w.pending else "new"

    def claim(self, key: Key, seq: int) -> State:
        """:meth:`state`, and a new number becomes pending at once (one look-up, hot path)."""
        w = self._get(key)
        if seq <= w.floor or seq in w.recent:
            return "stored"
        if seq in w.pending:
            return "pending"
        w.pending.add(seq)
        return "new"

    def pending(self, key: Key, seq: int) -> None:
        self._get(key).pending.add(seq)

    def stored(self, key: Key, seq: int) -> None:
        w = self._get(key)
        w.pending.discard(seq)
        if seq <= w.floor or seq in w.recent:
            return
        w.recent.add(seq)
        heapq.heappush(w.heap, seq)
        while len(w.recent) > self.window:
            oldest = heapq.heappop(w.heap)
            w.recent.discard(oldest)
            w.floor = max(w.floor, oldest)

    def restart(self, key: Key) -> None:
        """Forget what an agent sent before (it announced itself again and may have restarted
        its numbering); messages still being written stay pending."""
        w = self._get(key)
        w.floor, w.recent, w.heap = -1, set(), []
