"""Webhook subscriptions and their delivery: each subscribed URL gets the change-feed events
its tenant may see, in order, signed with HMAC-SHA256; a failure is retried with exponential
backoff and every attempt is logged. After ``max_attempts`` failures an event is given up
(logged) so one dead receiver cannot stall its own feed forever; the change feed still has
the event."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from market.bookings import expire_holds
from market.caller import Caller
from market.errors import Invalid, NotFound
from market.feeds import changes, head
from market.outbound import OutboundPolicy, Refused
from market.periodic import PeriodicThread
from market.visibility import forget_peers
from storage.catalog import ApiKey, Catalog, WebhookDeliveryRow, WebhookRow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Idleshare-Signature"
TIMESTAMP_HEADER = "X-Idleshare-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``"<timestamp>." + body``: the timestamp is signed too, so an old
    delivery cannot be replayed later with a fresh one."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance_s: float = 300.0,
) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    try:
        age = abs((time.time() if now is None else now) - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


def subscribe(
    catalog: Catalog,
    caller: Caller,
    url: str,
    events: list[str],
    outbound: OutboundPolicy | None = None,
) -> WebhookRow:
    """A subscription of ``url`` to the caller's future events (from the feed's head on), with
    a new secret; :class:`Invalid` for a URL the outbound policy refuses (checked again at
    each delivery). Tied to the caller's key: revoking the key stops it."""
    try:
        (outbound or OutboundPolicy.from_env()).check(url)
    except Refused as err:
        raise Invalid(str(err), field="url") from None
    position, _ = head(catalog)
    row = WebhookRow(
        tenant_id=caller.tenant_id,
        role=caller.role,
        key_id=caller.key_id,
        url=url,
        secret="whsec_" + secrets.token_urlsafe(24),
        events=sorted(set(events)),
        last_event_id=position,
    )
    with catalog.session() as s:
        s.add(row)
    return row


def subscriptions(catalog: Catalog, tenant: str) -> list[WebhookRow]:
    with catalog.session() as s:
        q = select(WebhookRow).where(WebhookRow.tenant_id == tenant).order_by(WebhookRow.id)
        return list(s.scalars(q).all())


def _own(s: Session, tenant: str, webhook_id: int) -> WebhookRow:
    row = s.get(WebhookRow, webhook_id)
    if row is None or row.tenant_id != tenant:
        raise NotFound(f"no webhook {webhook_id}")
    return row


def unsubscribe(catalog: Catalog, tenant: str, webhook_id: int) -> None:
    """Stop deliveries; the delivery log goes with the subscription."""
    with catalog.session() as s:
        row = _own(s, tenant, webhook_id)
        s.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id))
        s.delete(row)


def deliveries(
    catalog: Catalog, tenant: str, webhook_id: int, limit: int
) -> list[WebhookDeliveryRow]:
    """A subscription's delivery log, newest attempt first."""
    d = WebhookDeliveryRow
    with catalog.session() as s:
        _own(s, tenant, webhook_id)
        q = select(d).where(d.webhook_id == webhook_id).order_by(d.id.desc()).limit(limit)
        return list(s.scalars(q).all())


#: (url, body, headers) -> (HTTP status or 0, error text); tests may inject one.
Post = Callable[[str, bytes, dict[str, str]], tuple[int, str]]


def _dispatcher_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Dispatcher:
    """Delivers due webhooks. Any number of dispatchers (one per API process or host) may run
    on one catalog: each webhook is claimed with a lease (``lease_owner``/``lease_until``)
    before its events go out, so each event reaches each subscription once; a dispatcher
    that dies holding a claim loses it when the lease lapses, and another takes over."""

    catalog: Catalog
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy.from_env)
    max_attempts: int = 5
    backoff_s: float = 2.0  # first retry after this, doubling each time
    batch: int = 100  # events per webhook per run
    claim_batch: int = 50  # webhooks claimed per run
    lease_s: float = 60.0  # renewed after each event
    name: str = field(default_factory=_dispatcher_name)
    post: Post | None = None

    def run_once(self, now: float | None = None) -> int:
        """Expire lapsed holds, then deliver what is due; returns attempts made."""
        now = time.time() if now is None else now
        expire_holds(self.catalog, now)
        # Partner and group changes made by any process apply to this run's deliveries.
        forget_peers()
        tries = 0
        for hook in self.claim(now):
            try:
                tries += self._deliver(hook, now)
            finally:
                self._release(hook.id)
        return tries

    def claim(self, now: float) -> list[WebhookRow]:
        """Lease the due webhooks nobody holds (or whose holder's lease lapsed). One UPDATE:
        on PostgreSQL its subquery locks the rows ``FOR UPDATE SKIP LOCKED``, so concurrent
        claimers take disjoint sets without waiting; on SQLite the statement takes the
        database's write lock first, so claimers run one after another and the second finds
        the rows leased."""
        w = WebhookRow
        due = (
            select(w.id)
            .where(w.next_attempt_at <= now, w.lease_until < now)
            .order_by(w.id)
            .limit(self.claim_batch)
            .with_for_update(skip_locked=True)
        )
        with self.catalog.session() as s:
            s.execute(
                update(w)
                .where(w.id.in_(due.scalar_subquery()), w.lease_until < now)
                .values(lease_owner=self.name, lease_until=now + self.lease_s)
                .execution_options(synchronize_session=False)
            )
        with self.catalog.session() as s:
            q = select(w).where(w.lease_owner == self.name, w.lease_until >= now).order_by(w.id)
            return list(s.scalars(q).all())

    def _release(self, webhook_id: int) -> None:
        w = WebhookRow
        with self.catalog.session() as s:
            s.execute(
                update(w)
                .where(w.id == webhook_id, w.lease_owner == self.name)
                .values(lease_owner="", lease_until=0.0)
            )

    def _caller(self, hook: WebhookRow, now: float) -> Caller | None:
        """Whom the webhook delivers for: its key as it is now; None when the key is revoked
        or expired (the subscription then waits, delivering nothing)."""
        if hook.key_id is None:  # made before webhooks were tied to keys
            return Caller(tenant_id=hook.tenant_id, role=hook.role)
        with self.catalog.session() as s:
            key = s.get(ApiKey, hook.key_id)
        if key is None or key.tenant_id != hook.tenant_id:
            return None
        if key.expires_at is not None and key.expires_at <= now:
            return None
        if key.role not in ("owner", "platform"):
            return None
        return Caller(tenant_id=key.tenant_id, role=key.role, key_id=key.id)

    def _deliver(self, hook: WebhookRow, now: float) -> int:
        caller = self._caller(hook, now)
        if caller is None:
            return 0
        post = self.post or self.outbound.post
        events = changes(self.catalog, caller, hook.last_event_id, self.batch, tuple(hook.events))
        started, tries = time.monotonic(), 0
        for event in events:
            body = json.dumps(
                {"webhook": hook.id, "event": event.as_json()}, separators=(",", ":")
            ).encode()
            ts = f"{time.time():.0f}"
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "idleshare-webhooks",
                TIMESTAMP_HEADER: ts,
                SIGNATURE_HEADER: sign(hook.secret, ts, body),
                "X-Idleshare-Event": event.type,
                "X-Idleshare-Delivery": f"{hook.id}-{event.cursor}",
            }
            code, error = post(hook.url, body, headers)
            tries += 1
            ok = 200 <= code < 300
            with self.catalog.session() as s:
                # A write first (SQLite's write lock before any read), and only while the
                # lease is still ours: a lapsed one may have been taken over.
                w = WebhookRow
                renewed = s.execute(
                    update(w)
                    .where(w.id == hook.id, w.lease_owner == self.name)
                    .values(lease_until=now + (time.monotonic() - started) + self.lease_s)
                )
                row = s.get(w, hook.id, populate_existing=True)
                if row is None or not (isinstance(renewed, CursorResult) and renewed.rowcount):
                    return tries  # deleted meanwhile, or our lease lapsed and was taken
                s.add(
                    WebhookDeliveryRow(
                        webhook_id=hook.id,
                        event_id=event.cursor,
                        attempt=row.attempts + 1,
                        status_code=code,
                        ok=ok,
                        error=error or ("" if ok else f"HTTP {code}"),
                        at=now,
                    )
                )
                if ok or row.attempts + 1 >= self.max_attempts:
                    if not ok:
                        log.warning(
                            "webhook %s: gave up on event %s after %s attempts",
                            hook.id,
                            event.cursor,
                            row.attempts + 1,
                        )
                    row.last_event_id, row.attempts, row.next_attempt_at = event.cursor, 0, 0.0
                    hook.last_event_id = event.cursor
                else:
                    row.attempts += 1
                    row.next_attempt_at = now + self.backoff_s * 2 ** (row.attempts - 1)
                    return tries
        return tries


class DispatcherThread(PeriodicThread):
    """Runs a dispatcher every ``interval_s`` until stopped; errors are logged, never fatal."""

    def __init__(self, dispatcher: Dispatcher, interval_s: float) -> None:
        self.dispatcher = dispatcher
        super().__init__(dispatcher.run_once, interval_s, name="webhooks", log=log,
                         failure="webhook dispatch failed")
