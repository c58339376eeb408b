"""The catalog facade: owns the engine, hands out sessions, and the operations on tenants, API
keys, groups and assets that several components need (ingest, the API, the command line).

SQLite by default (``sqlite:///idleshare.db``); any SQLAlchemy URL works.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import CursorResult, create_engine, delete, event, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from idleshare.assets import Asset
from idleshare.errors import StoreError
from storage.catalog.models import ApiKey, AssetRow, GroupMemberRow, Tenant
from storage.catalog.schema import prepare_schema
from storage.sqlite import enable_wal

log = logging.getLogger(__name__)

#: A key's time of use is recorded to this resolution: at most one write per key and minute,
#: so authenticating stays a read (no write lock taken per request).
KEY_USE_RESOLUTION_S = 60.0


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Catalog:
    """Owns the engine; hands out sessions; a few operations every component needs."""

    def __init__(self, url: str = "sqlite:///idleshare.db") -> None:
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if url in ("sqlite://", "sqlite:///:memory:"):
                # One shared connection, or every thread would see its own empty database.
                kwargs["poolclass"] = StaticPool
        try:
            self.engine = create_engine(url, **kwargs)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_pragmas)
            prepare_schema(self.engine)
        except SQLAlchemyError as err:
            raise StoreError(f"cannot open catalog {url!r}: {err}") from err
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except SQLAlchemyError as err:
                s.rollback()
                raise StoreError(f"catalog error: {err}") from err
            except BaseException:
                s.rollback()
                raise

    def ensure_tenant(self, tenant_id: str, name: str = "") -> None:
        def add(s: Session) -> None:
            if s.get(Tenant, tenant_id) is None:
                s.add(Tenant(id=tenant_id, name=name or tenant_id))

        self._insert_racing(add)

    def _insert_racing(self, change: Callable[[Session], None]) -> None:
        """Run a get-or-insert; when another writer (a second ingest worker) inserted the same
        row first, run it again: it then finds the row instead of inserting."""
        for attempt in (1, 2):
            try:
                with self.session() as s:
                    change(s)
                return
            except StoreError as err:
                if attempt == 2 or not isinstance(err.__cause__, IntegrityError):
                    raise

    def add_to_group(self, group_id: str, tenant_ids: Iterable[str]) -> None:
        """Make tenants members of a group (created by its first member), idempotently."""
        tenant_ids = list(tenant_ids)
        for t in tenant_ids:
            self.ensure_tenant(t)

        def add(s: Session) -> None:
            for t in tenant_ids:
                if s.get(GroupMemberRow, (group_id, t)) is None:
                    s.add(GroupMemberRow(group_id=group_id, tenant_id=t))

        self._insert_racing(add)

    # -- API keys -------------------------------------------------------------------------

    def mint_key(self, tenant_id: str, role: str = "owner", name: str = "") -> tuple[ApiKey, str]:
        """Create an API key; returns its row and the key itself. Only the hash is stored, so
        this is the one chance to see the key."""
        self.ensure_tenant(tenant_id)
        key = "idl_" + secrets.token_urlsafe(24)
        row = ApiKey(tenant_id=tenant_id, role=role, name=name, prefix=key[:8],
                     key_hash=hash_key(key))
        with self.session() as s:
            s.add(row)
            s.flush()  # the id and created_at, for the caller's answer
        return row, key

    def create_key(self, tenant_id: str, role: str = "owner", name: str = "") -> str:
        """:meth:`mint_key`, for callers that only show the key."""
        return self.mint_key(tenant_id, role, name)[1]

    def key_owner(self, key: str, at: float | None = None) -> ApiKey | None:
        """The row of an API key, None for an unknown one; records the key's use (``at``, now
        by default) in ``last_used_at`` when the recorded use is a minute old or more."""
        now = time.time() if at is None else at
        with self.session() as s:
            row = s.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
        if row is not None and (row.last_used_at is None
                                or now - row.last_used_at >= KEY_USE_RESOLUTION_S):
            self._record_use(row, now)
        return row

    def _record_use(self, row: ApiKey, now: float) -> None:
        """Write ``now`` as the key's last use. Conditional on the stored value, so processes
        authenticating the same key together write it once; best effort, because a busy
        database must not refuse a valid key."""
        k = ApiKey
        stale = or_(k.last_used_at.is_(None), k.last_used_at <= now - KEY_USE_RESOLUTION_S)
        try:
            with self.session() as s:
                result = s.execute(update(k).where(k.id == row.id, stale).values(last_used_at=now))
        except StoreError as err:
            log.warning("cannot record the use of API key %s...: %s", row.prefix, err)
            return
        if isinstance(result, CursorResult) and result.rowcount:
            row.last_used_at = now

    def keys(self, tenant_id: str) -> list[ApiKey]:
        """A tenant's API keys (rows: hashes, never the keys), oldest first."""
        with self.session() as s:
            q = select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.id)
            return list(s.scalars(q).all())

    def delete_key(self, tenant_id: str, key_id: int) -> bool:
        """Revoke a tenant's key; False when the tenant has no key ``key_id``."""
        with self.session() as s:
            result = s.execute(
                delete(ApiKey).where(ApiKey.id == key_id, ApiKey.tenant_id == tenant_id)
            )
            return isinstance(result, CursorResult) and result.rowcount > 0

    # -- assets ---------------------------------------------------------------------------

    def upsert_asset(
        self, asset: Asset, agent: str = "", online: bool | None = None, at: float | None = None
    ) -> None:
        """Register an asset (from an agent's birth message or a fleet file), keeping its
        owner-set sharing policy."""
        self.ensure_tenant(asset.tenant)

        def upsert(s: Session) -> None:
            row = s.get(AssetRow, (asset.tenant, asset.id))
            if row is None:
                row = AssetRow(tenant_id=asset.tenant, id=asset.id, policy={})
                s.add(row)
            row.kind, row.name, row.capacity, row.unit = (
                asset.kind,
                asset.name,
                asset.capacity,
                asset.unit,
            )
            row.lat, row.lon, row.metrics = asset.lat, asset.lon, list(asset.metrics)
            if agent:
                row.agent = agent
            if online is not None:
                row.online = online
                row.status_at = at if at is not None else time.time()

        self._insert_racing(upsert)

    def set_agent_online(self, tenant_id: str, agent: str, online: bool, at: float) -> int:
        """Mark every asset of an agent online or offline; returns how many."""
        with self.session() as s:
            rows = s.scalars(
                select(AssetRow).where(AssetRow.tenant_id == tenant_id, AssetRow.agent == agent)
            ).all()
            for row in rows:
                row.online, row.status_at = online, at
            return len(rows)

    def assets(self, tenant_id: str | None = None) -> list[AssetRow]:
        with self.session() as s:
            q = select(AssetRow).order_by(AssetRow.tenant_id, AssetRow.id)
            if tenant_id is not None:
                q = q.where(AssetRow.tenant_id == tenant_id)
            return list(s.scalars(q).all())

    def asset(self, tenant_id: str, asset_id: str) -> AssetRow | None:
        with self.session() as s:
            return s.get(AssetRow, (tenant_id, asset_id))

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    enable_wal(cur)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
