"""Agent status messages: a birth registers the assets it lists, a last will marks them offline."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from idleshare import wire
from idleshare.assets import Asset
from idleshare.errors import ConfigError, WireError
from ingest.schema import AgentStatus


@dataclass(frozen=True)
class Status:
    tenant: str
    agent: str
    online: bool
    time: float
    assets: tuple[Asset, ...]
    #: The agent keeps each message until its storage receipt.
    receipts: bool = False


def parse_status(topic: wire.Topic, payload: bytes | bytearray) -> Status:
    """Raises WireError ``bad_status`` for anything but a well-formed message of the topic's
    agent; a birth is accepted or rejected whole."""
    try:
        msg = AgentStatus.model_validate_json(payload)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise WireError("bad_status", f"{where}: {first['msg']}" if where else first["msg"]
                        ) from err
    if msg.agent != topic.agent:
        raise WireError("bad_status", f"agent {msg.agent!r} on the topic of {topic.agent!r}")
    try:
        # Assets on a tenant's status topic belong to that tenant, whatever they claim.
        assets = tuple(Asset(tenant=topic.tenant, **a.model_dump()) for a in msg.assets)
    except ConfigError as err:
        raise WireError("bad_status", str(err)) from err
    return Status(tenant=topic.tenant, agent=msg.agent, online=msg.state == wire.ONLINE,
                  time=msg.time, assets=assets, receipts=msg.receipts)
