"""Which offers a caller may see: the one rule shared by search, feeds, bookings and webhooks.

An offer's ``visibility`` is ``private`` (its tenant only), ``group`` (plus the tenants in a
group with its tenant), ``partners`` (plus the tenants it named as partners) or ``public``.
Owner and viewer keys see their own tenant's offers only; platform keys see every offer
visible to their tenant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, and_, false, or_, select
from sqlalchemy.orm import Session

from market.caller import Caller
from storage.catalog import GroupMemberRow, OfferEventRow, OfferRow, PartnerRow


@dataclass
class _Peers:
    expires: float
    group: frozenset[str]  # tenants in a group with the caller's tenant
    sharers: frozenset[str]  # tenants that made the caller's tenant a partner
    filters: dict[type, ColumnElement[bool]] = field(default_factory=dict)


#: Each tenant's peers, and the visibility conditions built from them: two queries and the
#: condition's construction fewer on every platform search. A partner or group change applies
#: at once in every API process: it writes an audit entry, the newest entry's id comes back
#: with every key lookup (``Catalog.authenticate``), and ``observe_generation`` drops the
#: catalog's peers when it moved. PEERS_TTL_S bounds changes made behind the catalog's back
#: (raw SQL); the webhook dispatcher forgets peers at each run.
PEERS_TTL_S = 5.0
_known_peers: dict[tuple[str, str], _Peers] = {}
_generations: dict[str, int] = {}


def forget_peers() -> None:
    _known_peers.clear()


def observe_generation(catalog_url: str, generation: int) -> None:
    """The catalog at ``catalog_url`` is at visibility ``generation``: peers cached from an
    older one are dropped."""
    if _generations.get(catalog_url) != generation:
        _generations[catalog_url] = generation
        for key in [k for k in _known_peers if k[0] == catalog_url]:
            del _known_peers[key]


def _cached_peers(session: Session | Connection, tenant: str) -> _Peers:
    # Keyed by the database URL, not id(): a test's new catalog may reuse a freed engine's id.
    engine = (session if isinstance(session, Connection) else session.get_bind()).engine
    cache_key = (str(engine.url), tenant)
    now = time.monotonic()
    hit = _known_peers.get(cache_key)
    if hit is not None and hit.expires > now:
        return hit
    g = GroupMemberRow
    mine = select(g.group_id).where(g.tenant_id == tenant)
    group = set(session.scalars(select(g.tenant_id).where(g.group_id.in_(mine))).all())
    sharers = session.scalars(select(PartnerRow.tenant_id).where(PartnerRow.partner_id == tenant))
    group.discard(tenant)
    entry = _Peers(now + PEERS_TTL_S, frozenset(group), frozenset(sharers))
    if len(_known_peers) > 10_000:
        _known_peers.clear()
    _known_peers[cache_key] = entry
    return entry


def peers(session: Session, tenant: str) -> tuple[frozenset[str], frozenset[str]]:
    """(tenants in a group with ``tenant``, tenants that made ``tenant`` a partner)."""
    entry = _cached_peers(session, tenant)
    return entry.group, entry.sharers


#: The tables whose rows carry an offer's ``tenant_id`` and ``visibility``.
Visible = type[OfferRow] | type[OfferEventRow]


def visible_filter(
    session: Session | Connection, caller: Caller, table: Visible
) -> ColumnElement[bool]:
    """SQL condition on ``table`` (any row with ``tenant_id`` and ``visibility``) that holds
    for the rows the caller may see."""
    own = table.tenant_id == caller.tenant_id
    if not caller.is_platform:
        return own
    entry = _cached_peers(session, caller.tenant_id)
    cond = entry.filters.get(table)
    if cond is None:
        group, sharers = sorted(entry.group), sorted(entry.sharers)
        cond = entry.filters[table] = or_(
            own,
            table.visibility == "public",
            and_(table.visibility.in_(("group", "partners")), table.tenant_id.in_(group))
            if group
            else false(),
            and_(table.visibility == "partners", table.tenant_id.in_(sharers))
            if sharers
            else false(),
        )
    return cond


def can_see(session: Session, caller: Caller, tenant: str, visibility: str) -> bool:
    """The same rule as :func:`visible_filter`, for one row already loaded."""
    if tenant == caller.tenant_id:
        return True
    if not caller.is_platform:
        return False
    if visibility == "public":
        return True
    group, sharers = peers(session, caller.tenant_id)
    return (visibility in ("group", "partners") and tenant in group) or (
        visibility == "partners" and tenant in sharers
    )
