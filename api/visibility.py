"""Which offers a caller may see: the one rule shared by search, feeds, bookings and webhooks.

An offer's ``visibility`` is ``private`` (its tenant only), ``group`` (plus the tenants in a
group with its tenant), ``partners`` (plus the tenants it named as partners) or ``public``.
Owner and viewer keys see their own tenant's offers only; platform keys see every offer
visible to their tenant.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from api.deps import Caller
from storage.catalog import GroupMemberRow, PartnerRow

VISIBILITIES = ("private", "group", "partners", "public")


def peers(session: Session, tenant: str) -> tuple[set[str], set[str]]:
    """(tenants in a group with ``tenant``, tenants that made ``tenant`` a partner)."""
    g = GroupMemberRow
    mine = select(g.group_id).where(g.tenant_id == tenant)
    group = set(session.scalars(select(g.tenant_id).where(g.group_id.in_(mine))).all())
    sharers = set(
        session.scalars(select(PartnerRow.tenant_id).where(PartnerRow.partner_id == tenant))
    )
    group.discard(tenant)
    return group, sharers


def visible_filter(session: Session, caller: Caller, table: type) -> ColumnElement[bool]:
    """SQL condition on ``table`` (any row with ``tenant_id`` and ``visibility``) that holds
    for the rows the caller may see."""
    own = table.tenant_id == caller.tenant_id
    if not caller.is_platform:
        return own
    group, sharers = peers(session, caller.tenant_id)
    return or_(
        own,
        table.visibility == "public",
        and_(table.visibility.in_(("group", "partners")), table.tenant_id.in_(group))
        if group
        else false(),
        and_(table.visibility == "partners", table.tenant_id.in_(sharers)) if sharers else false(),
    )


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
