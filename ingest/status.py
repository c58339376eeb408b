"""Agent status messages: a birth registers the assets it lists (at the sites it names, with
the materials its containers declare) and records the agent's queue depth and dropped count; a
last will marks its assets offline.

A birth's material is a container's declaration until its owner speaks: once the owner has
declared or withdrawn the material (``PUT``/``DELETE /v1/assets/{id}/material``, an audit entry
with no ``agent``), that stands and births leave it alone, so an agent's retained status cannot
undo the owner's word every minute. Until then a birth naming another material replaces the
one an earlier birth declared (the agent's config changed), in the audit log as by the agent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import ValidationError

from idleshare import wire
from idleshare.assets import Asset
from idleshare.errors import ConfigError, WireError
from idleshare.materials import MATERIAL_KINDS, Material, MaterialError
from ingest.metrics import IngestMetrics
from ingest.schema import AgentStatus
from market import assets
from storage.catalog import Catalog

log = logging.getLogger(__name__)

#: Why a birth was applied only in part (``births_partial_total{reason}``).
UNKNOWN_SITE = "unknown_site"
#: ... or with a material refused (not a container's, or not a valid declaration).
INVALID_MATERIAL = "invalid_material"
#: Unknown sites and refused materials already logged, at most this many remembered (then
#: forgotten and logged again).
MAX_WARNED = 10_000


@dataclass(frozen=True)
class Status:
    tenant: str
    agent: str
    online: bool
    time: float
    assets: tuple[Asset, ...]
    #: The agent keeps each message until its storage receipt.
    receipts: bool = False
    #: Readings in the agent's outbox, and ever dropped by it (a birth's; a will's are stale).
    queued: int = 0
    dropped: int = 0
    #: (asset id, site id) of the assets whose site the birth names.
    sites: tuple[tuple[str, str], ...] = ()
    #: (asset id, material) of the containers whose material the birth names, and (asset id,
    #: why) of the materials refused.
    materials: tuple[tuple[str, Material], ...] = ()
    refused_materials: tuple[tuple[str, str], ...] = ()


def parse_status(topic: wire.Topic, payload: bytes | bytearray) -> Status:
    """Raises WireError ``bad_status`` for anything but a well-formed message of the topic's
    agent; a birth is accepted or rejected whole, but for a refused material (set aside in
    ``refused_materials``)."""
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
        assets = tuple(Asset(tenant=topic.tenant, **a.model_dump(exclude={"site", "material"}))
                       for a in msg.assets)
    except ConfigError as err:
        raise WireError("bad_status", str(err)) from err
    materials, refused = [], []
    for a in msg.assets:
        if a.material is None:
            continue
        try:
            if a.kind not in MATERIAL_KINDS:
                raise MaterialError("material", f"only a {' or '.join(sorted(MATERIAL_KINDS))} "
                                    f"holds a material: {a.id!r} is a {a.kind}")
            materials.append((a.id, wire.material_of(a.material)))
        except MaterialError as err:
            refused.append((a.id, str(err)))
    return Status(tenant=topic.tenant, agent=msg.agent, online=msg.state == wire.ONLINE,
                  time=msg.time, assets=assets, receipts=msg.receipts, queued=msg.queued,
                  dropped=msg.dropped,
                  sites=tuple((a.id, a.site) for a in msg.assets if a.site is not None),
                  materials=tuple(materials), refused_materials=tuple(refused))


class StatusRecorder:
    """Writes statuses into the catalog and the agent gauges (raises StoreError to retry)."""

    def __init__(self, catalog: Catalog, metrics: IngestMetrics) -> None:
        self.catalog, self.metrics = catalog, metrics
        self._warned: set[tuple[str, ...]] = set()  # unknown sites, refused materials logged

    def apply(self, status: Status) -> None:
        if not status.online:
            self.catalog.set_agent_online(status.tenant, status.agent, False, status.time)
            self.catalog.record_agent_status(status.tenant, status.agent, False, status.time)
            return
        for asset in status.assets:
            self.catalog.upsert_asset(asset, agent=status.agent, online=True, at=status.time)
        self.catalog.record_agent_status(status.tenant, status.agent, True, status.time,
                                         (status.queued, status.dropped))
        self.metrics.agent_counts(status.tenant, status.agent, status.queued, status.dropped)
        # An unknown site leaves the asset registered and where it was: the owner may create
        # the site later (the agent's next birth or refresh then places it).
        unknown = {site for asset_id, site in status.sites
                   if not self.catalog.place_at_site(status.tenant, asset_id, site)}
        if unknown:
            self.metrics.birth_partial(UNKNOWN_SITE)
            for site in sorted(unknown):
                if self._first_time(status.tenant, site):
                    log.warning("agent %s/%s names site %r, which its tenant does not have: "
                                "its assets are registered without a site", status.tenant,
                                status.agent, site, extra={"event": UNKNOWN_SITE})
        for asset_id, material in status.materials:
            assets.declare_material_from_agent(self.catalog, status.tenant, status.agent,
                                               asset_id, material)
        # A refused material leaves the asset registered and its declaration as it was.
        if status.refused_materials:
            self.metrics.birth_partial(INVALID_MATERIAL)
            for asset_id, why in status.refused_materials:
                if self._first_time(status.tenant, asset_id, why):
                    log.warning("agent %s/%s names a material for %r that is refused: %s",
                                status.tenant, status.agent, asset_id, why,
                                extra={"event": INVALID_MATERIAL})

    def _first_time(self, *what: str) -> bool:
        """Whether ``what`` is new to the log (a bounded memory: forgotten past MAX_WARNED)."""
        if what in self._warned:
            return False
        if len(self._warned) >= MAX_WARNED:
            self._warned.clear()
        self._warned.add(what)
        return True
