"""The relational catalog (SQLAlchemy): tenants, API keys, assets, idle windows and offers.

SQLite by default (``sqlite:///idleshare.db``); any SQLAlchemy URL works.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Engine,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    and_,
    create_engine,
    event,
    func,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from idleshare.assets import Asset
from idleshare.errors import StoreError
from storage.migrations import BASELINE, HEAD, SCRIPT_LOCATION, alembic_config
from storage.sqlite import enable_wal

log = logging.getLogger(__name__)

#: Sharing policy applied when an owner has set none.
DEFAULT_POLICY: dict[str, Any] = {
    "min_free_fraction": 0.5,  # idle when at least this share of capacity is free
    "min_duration_s": 3600.0,  # ... for at least this long
    "reserve_fraction": 0.1,  # share of free capacity the owner keeps back
    "min_quantity": 1.0,  # smallest offer worth publishing, in the asset's unit
    "price_per_unit_hour": 1.0,
    "currency": "EUR",
    "visibility": "public",  # own group, partners or public
    # Added for forecast-based offers (analytics.policy.SharingPolicy checks them all).
    "hysteresis": 0.0,  # idle runs may dip this far below min_free_fraction
    "min_window_s": 3600.0,  # shortest offer window
    "lead_time_s": 0.0,  # offers start no sooner than this after the analysis
    "blackout_hours": [],  # hours of day (0-23) never offered, in "timezone"
    "timezone": "UTC",  # IANA zone of the site, for blackout_hours
    "capabilities": [],  # what the asset offers beyond capacity, e.g. "cold", "forklift"
}


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="owner")
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings, not secret
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    # Epoch seconds of the key's last authenticated request; None: never used (or not yet
    # recorded: requests do not write it yet).
    last_used_at: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)


class AssetRow(Base):
    __tablename__ = "assets"
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    capacity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    lat: Mapped[float] = mapped_column(Float, default=0.0)
    lon: Mapped[float] = mapped_column(Float, default=0.0)
    metrics: Mapped[list[str]] = mapped_column(JSON, default=list)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    agent: Mapped[str] = mapped_column(String(64), default="")
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    status_at: Mapped[float] = mapped_column(Float, default=0.0)

    def to_asset(self) -> Asset:
        return Asset(
            id=self.id,
            tenant=self.tenant_id,
            kind=self.kind,
            capacity=self.capacity,
            unit=self.unit,
            lat=self.lat,
            lon=self.lon,
            name=self.name,
            metrics=tuple(self.metrics or ()),
        )

    def sharing_policy(self) -> dict[str, Any]:
        return {**DEFAULT_POLICY, **(self.policy or {})}


class IdleWindowRow(Base):
    __tablename__ = "idle_windows"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "asset_id"], ["assets.tenant_id", "assets.id"]),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    asset_id: Mapped[str] = mapped_column(String(64), index=True)
    start: Mapped[float] = mapped_column(Float, index=True)
    end: Mapped[float] = mapped_column(Float)
    min_free: Mapped[float] = mapped_column(Float)  # least free quantity during the window
    mean_free: Mapped[float] = mapped_column(Float)
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False)


class OfferRow(Base):
    __tablename__ = "offers"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "asset_id"], ["assets.tenant_id", "assets.id"]),
        # Offer search walks live offers in sort order and stops after a page. The start and
        # lat indexes also carry the columns search filters on (covering), so rows that fail
        # a filter are skipped inside the index, without reading the table: 3-5x faster.
        Index(
            "ix_offers_status_start",
            *("status", "start", "id", "end", "kind", "visibility", "tenant_id"),
            *("lat", "lon", "price_per_unit_hour"),
        ),
        Index("ix_offers_status_price", "status", "price_per_unit_hour", "id"),
        Index("ix_offers_status_lat", "status", "lat", "lon", "kind", "visibility", "tenant_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    asset_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    start: Mapped[float] = mapped_column(Float, index=True)
    end: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(32), default="seasonal_naive")
    lat: Mapped[float] = mapped_column(Float, default=0.0)
    lon: Mapped[float] = mapped_column(Float, default=0.0)
    price_per_unit_hour: Mapped[float] = mapped_column(Float, default=0.0)
    currency: Mapped[str] = mapped_column(String(8), default="EUR")
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="live", index=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)


class OfferEventRow(Base):
    """The change log of offers, for feeds: the id is the monotonic cursor, and a withdrawn
    offer leaves a tombstone here rather than disappearing."""

    __tablename__ = "offer_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)  # the offer's owner
    type: Mapped[str] = mapped_column(String(16))  # created, updated, withdrawn, booked
    at: Mapped[float] = mapped_column(Float, default=time.time)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BookingRow(Base):
    """Capacity of an offer held or booked by another tenant (held -> confirmed -> cancelled,
    or expired when a hold is not confirmed in time)."""

    __tablename__ = "bookings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)  # who books
    owner_tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    asset_id: Mapped[str] = mapped_column(String(64), index=True)
    quantity: Mapped[float] = mapped_column(Float)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="held", index=True)
    hold_expires_at: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)


class GroupMemberRow(Base):
    """A tenant's membership of a group (a conglomerate's units); a group exists while it has
    members. Members see each other's ``group`` and ``partners`` offers."""

    __tablename__ = "group_members"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True, index=True)


class PartnerRow(Base):
    """``tenant_id`` shares its ``partners`` offers with ``partner_id`` (one direction)."""

    __tablename__ = "partners"
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


class WebhookRow(Base):
    """A URL subscribed to the offer events its tenant may see; ``last_event_id`` is the
    delivery cursor (events up to it are delivered or given up on)."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="platform")  # of the creating key
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(64))  # HMAC key: needed in clear to sign
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed tries of the next event
    next_attempt_at: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


class WebhookDeliveryRow(Base):
    """One attempt to deliver one event to one webhook: the delivery log."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    event_id: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int] = mapped_column(Integer, default=0)  # 0: no HTTP answer
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[float] = mapped_column(Float, default=time.time)


#: Booking states that take capacity: a hold until it expires, a confirmed booking always.
HELD, CONFIRMED = "held", "confirmed"


def booked_quantity(session: Session, offer_id: int, now: float) -> float:
    """Quantity of an offer taken by live holds and confirmed bookings."""
    b = BookingRow
    taken = session.scalar(
        select(func.coalesce(func.sum(b.quantity), 0.0)).where(
            b.offer_id == offer_id,
            or_(b.status == CONFIRMED, and_(b.status == HELD, b.hold_expires_at > now)),
        )
    )
    return float(taken or 0.0)


def offer_snapshot(offer: OfferRow) -> dict[str, Any]:
    """The fields of an offer a feed consumer needs, as stored in its events."""
    return {
        "id": offer.id, "tenant": offer.tenant_id, "asset": offer.asset_id, "kind": offer.kind,
        "quantity": offer.quantity, "unit": offer.unit, "start": offer.start, "end": offer.end,
        "confidence": offer.confidence, "method": offer.method, "lat": offer.lat,
        "lon": offer.lon, "price_per_unit_hour": offer.price_per_unit_hour,
        "currency": offer.currency, "visibility": offer.visibility, "status": offer.status,
        "capabilities": list(offer.capabilities or ()),
    }


def record_offer_event(session: Session, offer: OfferRow, type_: str, at: float) -> None:
    """Append an event for ``offer`` (flushed, so a new offer has its id) in the caller's
    transaction: the change and its event commit together or not at all."""
    session.flush()
    # "available" makes each event a full state, so feed consumers can replay idempotently.
    snapshot = offer_snapshot(offer)
    snapshot["available"] = max(offer.quantity - booked_quantity(session, offer.id, at), 0.0)
    session.add(OfferEventRow(offer_id=offer.id, tenant_id=offer.tenant_id, type=type_, at=at,
                              visibility=offer.visibility, snapshot=snapshot))


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
            _prepare_schema(self.engine)
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

    def create_key(self, tenant_id: str, role: str = "owner", name: str = "") -> str:
        """Create an API key and return it; only its hash is stored, so this is the one chance
        to see it."""
        self.ensure_tenant(tenant_id)
        key = "idl_" + secrets.token_urlsafe(24)
        with self.session() as s:
            s.add(
                ApiKey(
                    tenant_id=tenant_id,
                    role=role,
                    name=name,
                    prefix=key[:8],
                    key_hash=hash_key(key),
                )
            )
        return key

    def key_owner(self, key: str) -> ApiKey | None:
        with self.session() as s:
            return s.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))

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


#: Alembic's ``context`` and ``op`` are process-wide proxies: two catalogs of one process must
#: not migrate at the same moment, even on different files.
_MIGRATION_LOCK = threading.Lock()


def _prepare_schema(engine: Engine, attempts: int = 10) -> None:
    """Bring the database to the schema of this idleshare (the migrations' head) at start.

    - empty: ``create_all``, stamped head (one step instead of replaying every migration);
    - idleshare tables but no ``alembic_version`` (made before migrations): stamped
      ``0001_baseline``, then upgraded;
    - behind head: upgraded. Automatically, rather than by an explicit command, because the
      default deployment is one node with an embedded SQLite file whose services must just
      work after an upgrade of the package; back the file up before upgrading (deploy/README);
    - ahead of head (written by a newer idleshare): refused, naming both revisions.

    Retried like the former bare ``create_all`` when a concurrent start creates the same
    tables first, which only happens on dialects without a migration lock (see
    :func:`_lock_for_migration`).
    """
    with engine.connect() as conn:
        if _revision(conn) == HEAD:  # the usual start: no write lock, no Alembic
            return
    for attempt in range(attempts):
        try:
            with _MIGRATION_LOCK, engine.connect() as conn:
                _lock_for_migration(conn)
                _migrate_locked(conn)
                conn.commit()
            return
        except OperationalError as err:
            if "already exists" not in str(err) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _migrate_locked(conn: Connection) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    # Read again under the lock: a process that started at the same moment may have created
    # or migrated the database while this one waited.
    revision = _revision(conn)
    config = alembic_config(connection=conn)
    if revision == HEAD:
        return
    try:
        if revision is None:
            if not set(inspect(conn).get_table_names()) & set(Base.metadata.tables):
                Base.metadata.create_all(conn)
                command.stamp(config, "head")
                return
            command.stamp(config, BASELINE)
            log.warning("catalog made before migrations: stamped %s", BASELINE)
        elif revision not in {r.revision for r in ScriptDirectory(SCRIPT_LOCATION)
                              .walk_revisions()}:
            raise StoreError(
                f"the catalog database is at schema revision {revision!r}, newer than this "
                f"idleshare knows (its newest is {HEAD!r}): it was written by a newer "
                "idleshare; upgrade idleshare, or restore a backup made before that version ran"
            )
        command.upgrade(config, "head")
    except CommandError as err:
        raise StoreError(f"cannot migrate the catalog from {revision!r}: {err}") from err
    log.warning("catalog schema upgraded from %s to %s", revision or BASELINE, HEAD)


def _revision(conn: Connection) -> str | None:
    """The database's Alembic revision; None when it has no ``alembic_version`` (or none in
    it). Plain SQL rather than Alembic's MigrationContext, to keep Alembic out of the usual
    start."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _lock_for_migration(conn: Connection) -> None:
    """Open the migration's transaction holding the database's write lock, so that processes
    starting at once migrate one after the other; the lock lasts until commit or rollback."""
    if conn.dialect.name == "sqlite":
        # IMMEDIATE takes the write lock now (waiting up to the busy timeout), before the
        # version is read; a plain BEGIN would fail on the first write of two racers.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        # Untested. Any constant works as long as every idleshare uses the same one.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7271993)")
    # Other dialects: no lock; concurrent first starts rely on the retry in _prepare_schema.


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    enable_wal(cur)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()

