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
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from market.bookings import expire_holds
from market.caller import Caller
from market.errors import NotFound
from market.feeds import changes, head
from storage.catalog import Catalog, WebhookDeliveryRow, WebhookRow

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


def subscribe(catalog: Catalog, caller: Caller, url: str, events: list[str]) -> WebhookRow:
    """A subscription of ``url`` to the caller's future events (from the feed's head on), with
    a new secret."""
    position, _ = head(catalog)
    row = WebhookRow(
        tenant_id=caller.tenant_id,
        role=caller.role,
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


#: (url, body, headers, timeout) -> (HTTP status or 0, error text)
Post = Callable[[str, bytes, dict[str, str], float], tuple[int, str]]


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, ""
    except urllib.error.HTTPError as err:
        return err.code, f"HTTP {err.code}"
    except (OSError, ValueError) as err:
        return 0, str(err)[:500]


@dataclass
class Dispatcher:
    catalog: Catalog
    max_attempts: int = 5
    backoff_s: float = 2.0  # first retry after this, doubling each time
    timeout_s: float = 5.0
    batch: int = 100
    post: Post = http_post

    def run_once(self, now: float | None = None) -> int:
        """Expire lapsed holds, then deliver what is due; returns attempts made."""
        now = time.time() if now is None else now
        expire_holds(self.catalog, now)
        with self.catalog.session() as s:
            due = list(s.scalars(select(WebhookRow).where(WebhookRow.next_attempt_at <= now)).all())
        return sum(self._deliver(hook, now) for hook in due)

    def _deliver(self, hook: WebhookRow, now: float) -> int:
        caller = Caller(tenant_id=hook.tenant_id, role=hook.role)
        events = changes(self.catalog, caller, hook.last_event_id, self.batch, tuple(hook.events))
        tries = 0
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
            code, error = self.post(hook.url, body, headers, self.timeout_s)
            tries += 1
            ok = 200 <= code < 300
            with self.catalog.session() as s:
                row = s.get(WebhookRow, hook.id)
                if row is None:  # deleted meanwhile
                    return tries
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


class DispatcherThread:
    """Runs a dispatcher every ``interval_s`` until stopped; errors are logged, never fatal."""

    def __init__(self, dispatcher: Dispatcher, interval_s: float) -> None:
        self.dispatcher, self.interval_s = dispatcher, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.dispatcher.run_once()
            except Exception:
                log.exception("webhook dispatch failed")
