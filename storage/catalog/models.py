"""The catalog's rows (SQLAlchemy ORM): what the tables hold and what their columns mean.

Rows only: no queries here (those are in :mod:`storage.catalog.repository`,
:mod:`storage.catalog.bookings` and :mod:`storage.catalog.events`), so the Alembic environment and
every reader of the schema import just this.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    event,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from idleshare.assets import Asset
from storage.catalog import spatial

#: Who sees an offer (``OfferRow.visibility``, ``OfferEventRow.visibility`` and the
#: ``visibility`` policy key): its owner only, also the owner's groups, also its partners (and
#: groups), or everyone.
#: Defined here because it is the vocabulary of a column; analytics and market check against it.
VISIBILITIES = ("private", "group", "partners", "public")


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
    # Epoch seconds of the key's last authenticated use, to the minute (Catalog.key_owner
    # writes it at most once a minute); None: never used.
    last_used_at: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    # Epoch seconds after which the key no longer authenticates; None: never (a rotated key
    # gets one: the grace period).
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)


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
    #: A container's declared material (:meth:`idleshare.materials.Material.to_dict`), set by
    #: its owner or named in its agent's birth; None: not declared, so not offered.
    material: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True, default=None
    )

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
        # Distance search of one kind: the latitude band of that kind only, every column its
        # filters read inside the index (an R*Tree with these as auxiliary columns measured
        # 5x slower: docs/api.md).
        Index(
            "ix_offers_status_kind_lat", "status", "kind", "lat", "lon", "visibility", "tenant_id"
        ),
        # Distance search's candidates on PostgreSQL (SQLite's R*Tree: storage.catalog.spatial).
        Index(
            spatial.GIST_INDEX, func.point(text("lon"), text("lat")), postgresql_using="gist"
        ).ddl_if(dialect="postgresql"),
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
    #: A leg offer's leg (None for other offers): origin and destination areas, arrival
    #: estimate, distance, price per tonne (:func:`market.offers.leg_json` answers it). Its
    #: window is the departure window and ``lat``/``lon`` its origin; the destination is in
    #: columns too, for corridor search.
    leg: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True, default=None
    )
    dest_lat: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    dest_lon: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    #: A by-product offer's material and collection estimate (None for other offers):
    #: the asset's declared material and the fill forecast's full time
    #: (:func:`market.offers.material_json` answers it); ``eural`` is its code's six digits,
    #: a column for search by code prefix.
    material: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True, default=None
    )
    eural: Mapped[str | None] = mapped_column(String(6), nullable=True, default=None)


# SQLite's R*Tree of offers is DDL the ORM cannot declare (a virtual table and triggers).
event.listen(OfferRow.__table__, "after_create", lambda _t, c, **_kw: spatial.create_places(c))
event.listen(OfferRow.__table__, "before_drop", lambda _t, c, **_kw: spatial.drop_places(c))


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


class BookingIdempotencyRow(Base):
    """An ``Idempotency-Key`` a tenant sent with a hold, and the hold it made: a retry with the
    key answers that booking instead of holding again. The primary key (tenant, key) is what
    decides between two requests racing with one key: the second insert fails."""

    __tablename__ = "booking_idempotency"
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # who booked
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the request's values
    # None only inside the transaction that makes the hold (the key row is written first).
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # forgotten after this


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
    # The creating key: deliveries stop when it is revoked or expires, and use its role.
    key_id: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None, index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(64))  # HMAC key: needed in clear to sign
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed tries of the next event
    next_attempt_at: Mapped[float] = mapped_column(Float, default=0.0)
    # Delivery lease: the dispatcher that claimed the webhook and until when (epoch s); a
    # lapsed lease (its host died) may be claimed by another dispatcher.
    lease_owner: Mapped[str] = mapped_column(String(64), default="")
    lease_until: Mapped[float] = mapped_column(Float, default=0.0)
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


class AuditRow(Base):
    """Who (key id) did what to a tenant, and when: keys, policies, devices, partners,
    cancelled bookings. Appended only; owners read it (``GET /v1/audit``)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: operator (CLI)
    action: Mapped[str] = mapped_column(String(32))  # e.g. key.created, partner.removed
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[float] = mapped_column(Float, default=time.time, index=True)


class SiteRow(Base):
    """A place of a tenant's where assets stand (a warehouse, a plant, a depot)."""

    __tablename__ = "sites"
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    #: IANA time zone of the site's wall clock.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    lat: Mapped[float] = mapped_column(Float, default=0.0)
    lon: Mapped[float] = mapped_column(Float, default=0.0)


class AssetSiteRow(Base):
    """The site an asset stands at (at most one): a table of its own, so the asset rows that
    agents write from birth messages stay as they are."""

    __tablename__ = "asset_sites"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "asset_id"], ["assets.tenant_id", "assets.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "site_id"], ["sites.tenant_id", "sites.id"]),
        Index("ix_asset_sites_site", "tenant_id", "site_id"),
    )
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))


class AlertRuleRow(Base):
    """An owner's alert rule (``kind``: market/alerts.py RULES) over one asset or, with
    ``asset_id`` empty, every asset of the tenant."""

    __tablename__ = "alert_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    asset_id: Mapped[str] = mapped_column(String(64), default="")
    #: utilisation rules: the share of capacity; offline: unused.
    threshold: Mapped[float] = mapped_column(Float, default=0.0)
    #: offline: minutes without the agent; utilisation rules: the period averaged over;
    #: agent_dropping: the period the dropped count grew in.
    minutes: Mapped[float] = mapped_column(Float, default=0.0)
    #: event rules: the last offer event (booked) or booking change (cancelled) looked at.
    cursor: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


class AlertRow(Base):
    """A rule that fired for an asset. Condition rules (offline, utilisation) keep one
    ``active`` alert while the condition holds and clear it when it ends; event rules fire
    once per event."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"),
                                         index=True)
    asset_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(500))
    at: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    cleared_at: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    #: Sent to the tenant's owner webhooks (one signed attempt each).
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)


class AgentStatusRow(Base):
    """The latest status an agent reported (its birth and refreshes): how many readings wait
    in its outbox and how many it ever dropped to stay within its disk budget. The assets it
    serves are those whose ``AssetRow.agent`` it is. A last will changes ``online`` only: it
    was written when the agent connected, so its counts are stale."""

    __tablename__ = "agent_status"
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    queued: Mapped[int] = mapped_column(BigInteger, default=0)
    dropped: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The reporting message's own time (epoch s, the agent's clock).
    reported_at: Mapped[float] = mapped_column(Float, default=0.0)
    #: When ``dropped`` last grew (epoch s; 0: never seen growing): the ``agent_dropping``
    #: alert rule's condition.
    dropped_grew_at: Mapped[float] = mapped_column(Float, default=0.0)


class JobLeaseRow(Base):
    """A periodic job that one process at a time runs (the alerts pass), whichever API worker
    or host: who holds it and until when (epoch s); a lapsed lease may be taken over."""

    __tablename__ = "job_leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[float] = mapped_column(Float, default=0.0)
