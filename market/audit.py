"""The audit log: who (key id; None for the operator's command line) did what to a tenant, and
when. Entries are written in the same transaction as the change they describe, so none is
lost or invented; each tenant's owners read their own (``GET /v1/audit``).

The newest entry's id is also the catalog's visibility generation
(:meth:`storage.catalog.Catalog.authenticate`): every change of who may see what (partners,
groups, keys) writes an entry, and API processes drop their cached peers when it moves.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.catalog import Catalog
from storage.catalog.models import AuditRow

#: What the log records (``AuditRow.action``).
ACTIONS = (
    "key.created", "key.revoked", "key.rotated", "policy.changed", "device.added",
    "partner.added", "partner.removed", "booking.cancelled", "group.joined",
    "material.declared",
)


def record(
    s: Session, tenant: str, key_id: int | None, action: str, target: str = "",
    detail: dict[str, Any] | None = None, at: float | None = None,
) -> None:
    """Append an entry in ``s``, the session of the change it describes."""
    assert action in ACTIONS, action
    s.add(AuditRow(tenant_id=tenant, key_id=key_id, action=action, target=target[:200],
                   detail=detail or {}, at=time.time() if at is None else at))


def entries(
    catalog: Catalog, tenant: str, before_id: int | None, limit: int
) -> list[AuditRow]:
    """A tenant's entries, newest first, older than ``before_id`` when given."""
    a = AuditRow
    q = select(a).where(a.tenant_id == tenant)
    if before_id is not None:
        q = q.where(a.id < before_id)
    with catalog.session() as s:
        return list(s.scalars(q.order_by(a.id.desc()).limit(limit)).all())
