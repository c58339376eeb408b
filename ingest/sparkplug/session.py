"""What a host application must remember of each edge node: its session (bdSeq), the metrics
its births declared (names, aliases, datatypes), and where its ``seq`` has got to.

Sparkplug 3.0 rules kept here (chapter 6, "Payloads"; chapter 5, "Operational Behavior"):

- Every message of an edge node after its NBIRTH (DBIRTH, NDATA, DDATA, DDEATH) carries a
  ``seq`` one greater than the one before, 255 wrapping to 0. A message that skips ahead
  leaves a gap; the missing ones may still arrive out of order within the reorder timeout,
  after which the host sends a rebirth request (the service does that, ``missing``).
- An NBIRTH starts a new session: its metrics and those of the DBIRTHs that follow replace
  everything known about the node. Its ``bdSeq`` metric is the one the node's will (NDEATH)
  carries, so an NDEATH whose bdSeq is not the current session's is a late will of an older
  connection and must not mark the node offline.
- Aliases are declared in births; DATA messages may then name a metric by alias alone.

Positions: ``seq`` wraps every 256 messages, so each message also gets a position that keeps
increasing, across sessions too (``epoch`` in the high bits): the dedup key of a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from idleshare.errors import WireError
from ingest.sparkplug.payload import SEQ_MODULO, Metric

Node = tuple[str, str]  # (group, edge node)
_EPOCH_BITS = 32


@dataclass(frozen=True, slots=True)
class Declared:
    """A metric as a birth declared it."""

    name: str
    datatype: int


class Births:
    """The metrics one NBIRTH or DBIRTH declared, by name and by alias."""

    def __init__(self, metrics: Iterable[Metric]) -> None:
        self.by_name: dict[str, Declared] = {}
        self.by_alias: dict[int, Declared] = {}
        for metric in metrics:
            if not metric.name:
                raise WireError("bad_birth", "a birth metric without a name")
            declared = Declared(metric.name, metric.datatype)
            self.by_name[metric.name] = declared
            if metric.HasField("alias"):
                self.by_alias[metric.alias] = declared

    def resolve(self, metric: Metric) -> Declared:
        """The declaration of a DATA or DEATH metric, by name if it has one, else by alias."""
        if metric.name:
            found = self.by_name.get(metric.name)
            if found is None:
                raise WireError("not_in_birth", f"metric {metric.name!r} was not in the birth")
            return found
        if not metric.HasField("alias"):
            raise WireError("bad_metric", "a metric with neither name nor alias")
        found = self.by_alias.get(metric.alias)
        if found is None:
            raise WireError("unknown_alias", f"alias {metric.alias} was not in the birth")
        return found


@dataclass(frozen=True, slots=True)
class Observed:
    position: int
    #: Positions this message skipped: they are now awaited (reordering) or lost.
    skipped: tuple[int, ...] = ()


@dataclass(eq=False)
class NodeSession:
    """One edge node between its NBIRTH and its NDEATH."""

    bd_seq: int | None
    births: Births
    position: int  # of the newest message seen
    devices: dict[str, Births] = field(default_factory=dict)
    missing: set[int] = field(default_factory=set)

    def observe(self, seq: int) -> Observed:
        """Place a message's ``seq`` (0..255) after the newest one: ahead by up to half the
        circle is new (a gap when ahead by more than one), behind is late or a repeat."""
        ahead = (seq - self.position) % SEQ_MODULO
        if 0 < ahead <= SEQ_MODULO // 2:
            skipped = tuple(range(self.position + 1, self.position + ahead))
            self.missing.update(skipped)
            self.position += ahead
            return Observed(self.position, skipped)
        position = self.position - ((self.position - seq) % SEQ_MODULO)
        self.missing.discard(position)  # a late one fills its gap
        return Observed(position)

    def still_missing(self, positions: Iterable[int]) -> bool:
        """Any of them still not arrived; they stop being awaited either way (one rebirth
        request per gap)."""
        gone = self.missing.intersection(positions)
        self.missing.difference_update(gone)
        return bool(gone)

    def births_of(self, device: str) -> Births | None:
        return self.births if not device else self.devices.get(device)


class Sessions:
    """The live session of every edge node heard from; not thread-safe (callers lock)."""

    def __init__(self) -> None:
        self._live: dict[Node, NodeSession] = {}
        self._epochs: dict[Node, int] = {}

    def get(self, node: Node) -> NodeSession | None:
        return self._live.get(node)

    def birth(self, node: Node, bd_seq: int | None, seq: int,
              metrics: Iterable[Metric]) -> NodeSession:
        """An NBIRTH: a new session, replacing the node's and its devices' metrics."""
        births = Births(metrics)  # raises before anything is replaced
        epoch = self._epochs[node] = self._epochs.get(node, 0) + 1
        session = NodeSession(bd_seq, births, (epoch << _EPOCH_BITS) + seq)
        self._live[node] = session
        return session

    def death(self, node: Node, bd_seq: int | None) -> bool:
        """An NDEATH: True (and the session ends) unless it is the will of an older session,
        told by its bdSeq. A death of a node without a known session applies."""
        session = self._live.get(node)
        if session is not None and None not in (bd_seq, session.bd_seq) \
                and bd_seq != session.bd_seq:
            return False
        self._live.pop(node, None)
        return True
