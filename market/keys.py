"""A tenant's API keys as its owners manage them: created (optionally expiring), rotated with a
grace period, revoked; each change audited. The keys themselves are the catalog's
(:meth:`storage.catalog.Catalog.mint_key`): only their hashes are stored."""

from __future__ import annotations

import math

from sqlalchemy import update

from market import audit
from market.caller import Caller
from market.errors import NotFound
from storage.catalog import ApiKey, Catalog, WebhookRow

#: How long a rotated key keeps working by default (IDLESHARE_KEY_ROTATION_GRACE_S).
ROTATION_GRACE_S = 86400.0


def create(
    catalog: Catalog, caller: Caller, role: str, name: str, expires_at: float | None, now: float
) -> tuple[ApiKey, str]:
    with catalog.session() as s:
        row, key = catalog.mint_key(caller.tenant_id, role, name, expires_at, session=s)
        audit.record(s, caller.tenant_id, caller.key_id, "key.created", str(row.id),
                     {"role": role, "name": name, "expires_at": expires_at}, now)
    return row, key


def revoke(catalog: Catalog, caller: Caller, key_id: int, now: float) -> None:
    """The key stops authenticating at once, in every process (nothing caches keys), and its
    webhooks stop with it (the dispatcher delivers as the key, as it is now)."""
    if not catalog.delete_key(caller.tenant_id, key_id):
        raise NotFound(f"no key {key_id}")
    with catalog.session() as s:
        audit.record(s, caller.tenant_id, caller.key_id, "key.revoked", str(key_id), at=now)


def rotate(
    catalog: Catalog, caller: Caller, key_id: int, grace_s: float, now: float
) -> tuple[ApiKey, str]:
    """A new key with the old one's role and name; the old one keeps working for ``grace_s``
    (or until its own expiry, if sooner), then stops. The old key's webhooks move to the new
    key, so they outlive the grace period."""
    with catalog.session() as s:
        old = s.get(ApiKey, key_id)
        if old is None or old.tenant_id != caller.tenant_id:
            raise NotFound(f"no key {key_id}")
        until = min(now + grace_s, old.expires_at if old.expires_at is not None else math.inf)
        row, key = catalog.mint_key(caller.tenant_id, old.role, old.name, session=s)
        catalog.set_key_expiry(caller.tenant_id, key_id, until, session=s)
        s.execute(update(WebhookRow).where(WebhookRow.key_id == key_id).values(key_id=row.id))
        audit.record(s, caller.tenant_id, caller.key_id, "key.rotated", str(key_id),
                     {"new_key_id": row.id, "old_key_expires_at": until}, now)
    return row, key
