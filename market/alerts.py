"""Owners' alert rules, their evaluation and the delivery of what fired through the tenant's
own signed webhooks (market/webhooks.py ``sign``: the same headers and HMAC as offer events).

Condition rules (``offline``, ``utilisation_above``, ``utilisation_below``,
``agent_dropping``) keep one active alert per asset while the condition holds and clear it
when it ends, so a long outage is one alert, not one per pass. Event rules (``offer_booked``,
``offer_cancelled``) fire once per event after the rule was made. Each alert is sent once to
each of the tenant's webhooks made with an owner key (no retries: the alert stays listed in
``GET /v1/alerts``).

One pass at a time, whichever API process or host: a pass runs only in the holder of the
catalog's ``alerts`` job lease (:meth:`Catalog.hold_lease`, renewed each pass, taken over when
its holder stops or dies). Delivery claims the undelivered alerts with one conditional UPDATE
before posting, so even two passes that overlap (a pass outliving its lease) send each alert
once.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from analytics.series import MAX_GAP_S
from idleshare.assets import kind as asset_kind
from idleshare.errors import StoreError
from market.assets import own
from market.errors import Invalid, NotFound
from market.periodic import PeriodicThread
from market.rows import newest_first
from market.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, Post, sign
from storage.catalog import AssetRow, BookingRow, Catalog, OfferEventRow, WebhookRow
from storage.catalog.models import AgentStatusRow, AlertRow, AlertRuleRow
from storage.readings import ReadingStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    description: str
    condition: bool  # held over time (cleared when it ends) rather than an event
    threshold: bool = False  # needs a threshold in [0, 1]
    minutes: bool = False  # needs minutes > 0


RULES: dict[str, Rule] = {
    "offline": Rule("the asset's agent is offline for more than `minutes`", True, minutes=True),
    "utilisation_above": Rule("mean utilisation over the last `minutes` above `threshold`",
                              True, threshold=True, minutes=True),
    "utilisation_below": Rule("mean utilisation over the last `minutes` below `threshold`",
                              True, threshold=True, minutes=True),
    "agent_dropping": Rule("the asset's agent dropped readings (its disk budget was full) "
                           "in the last `minutes`", True, minutes=True),
    "offer_booked": Rule("an offer of the asset is held or booked", False),
    "offer_cancelled": Rule("a booking of the asset is cancelled", False),
}


def create_rule(catalog: Catalog, tenant: str, kind: str, asset: str, threshold: float,
                minutes: float, now: float | None = None) -> AlertRuleRow:
    now = time.time() if now is None else now
    rule = RULES.get(kind)
    if rule is None:
        raise Invalid(f"kind must be one of {sorted(RULES)}: got {kind!r}", field="kind")
    if rule.threshold and not 0 <= threshold <= 1:
        raise Invalid("threshold must be a share of capacity in [0, 1]", field="threshold")
    if rule.minutes and not minutes > 0:
        raise Invalid(f"{kind} needs minutes above 0", field="minutes")
    if asset:
        own(catalog, tenant, asset)
    with catalog.session() as s:
        # Event rules start from now: nothing that happened before the rule fires it.
        if kind == "offer_booked":
            last = s.scalar(select(OfferEventRow.id).order_by(OfferEventRow.id.desc()).limit(1))
            cursor = float(last or 0)
        else:
            cursor = now
        row = AlertRuleRow(tenant_id=tenant, kind=kind, asset_id=asset, threshold=threshold,
                           minutes=minutes, cursor=cursor, created_at=now)
        s.add(row)
        s.flush()
        rule_id = row.id
    return one_rule(catalog, tenant, rule_id)


def one_rule(catalog: Catalog, tenant: str, rule_id: int) -> AlertRuleRow:
    with catalog.session() as s:
        row = s.get(AlertRuleRow, rule_id)
    if row is None or row.tenant_id != tenant:
        raise NotFound(f"no alert rule {rule_id}")
    return row


def rules(catalog: Catalog, tenant: str) -> list[AlertRuleRow]:
    q = select(AlertRuleRow).where(AlertRuleRow.tenant_id == tenant).order_by(AlertRuleRow.id)
    with catalog.session() as s:
        return list(s.scalars(q).all())


def delete_rule(catalog: Catalog, tenant: str, rule_id: int) -> None:
    one_rule(catalog, tenant, rule_id)
    with catalog.session() as s:
        for a in s.scalars(select(AlertRow).where(AlertRow.rule_id == rule_id)).all():
            s.delete(a)
        row = s.get(AlertRuleRow, rule_id)
        if row is not None:
            s.delete(row)


def alerts_of(catalog: Catalog, tenant: str, asset: str | None, before: int | None,
              limit: int) -> list[AlertRow]:
    """The tenant's alerts, newest first, older than alert ``before`` when given."""
    q = select(AlertRow).where(AlertRow.tenant_id == tenant)
    if asset is not None:
        q = q.where(AlertRow.asset_id == asset)
    return newest_first(catalog, q, AlertRow.id, before, limit)


def _utilisation(store: ReadingStore, row: AssetRow, start: float, end: float) -> float:
    from analytics.utilisation import utilisation_series  # numpy-heavy: only when needed

    metric = asset_kind(row.kind).primary_metric
    pairs = store.query(row.tenant_id, row.id, metric, start - MAX_GAP_S, end + MAX_GAP_S)
    data = np.asarray(pairs, dtype=float).reshape(-1, 2)
    # Buckets are aligned on multiples of their length: shift the period to start at 0 so
    # that one bucket is exactly [start, end).
    _, util, _ = utilisation_series(data[:, 0] - start, data[:, 1], row.capacity, row.kind,
                                    0.0, end - start, end - start, MAX_GAP_S)
    return float(util[0]) if len(util) else math.nan


def _condition(s: Session, rule: AlertRuleRow, row: AssetRow, store: ReadingStore,
               now: float) -> tuple[bool | None, str]:
    """Whether the rule's condition holds for the asset (None: unknown, leave it), and why."""
    if rule.kind == "agent_dropping":
        agent = s.get(AgentStatusRow, (row.tenant_id, row.agent)) if row.agent else None
        grew = agent is not None and agent.dropped_grew_at > now - rule.minutes * 60
        return grew, (f"{row.id}: agent {row.agent} dropped readings in the last "
                      f"{rule.minutes:g} min ({agent.dropped if agent else 0} in all)")
    if rule.kind == "offline":
        down_min = (now - row.status_at) / 60
        return (not row.online and down_min > rule.minutes,
                f"{row.id} offline for {down_min:.0f} min (rule: over {rule.minutes:g})")
    u = _utilisation(store, row, now - rule.minutes * 60, now)
    if math.isnan(u):
        return None, ""
    above = rule.kind == "utilisation_above"
    holds = u > rule.threshold if above else u < rule.threshold
    return holds, (f"{row.id} utilisation {u:.0%} over the last {rule.minutes:g} min, "
                   f"{'above' if above else 'below'} {rule.threshold:.0%}")


def _events(s: Any, rule: AlertRuleRow) -> list[tuple[str, str, float]]:
    """(asset, message, cursor) of the events after the rule's cursor, oldest first."""
    if rule.kind == "offer_booked":
        q = (select(OfferEventRow).where(OfferEventRow.tenant_id == rule.tenant_id,
                                         OfferEventRow.type == "booked",
                                         OfferEventRow.id > rule.cursor)
             .order_by(OfferEventRow.id))
        return [(str(e.snapshot.get("asset", "")), f"offer {e.offer_id} booked", float(e.id))
                for e in s.scalars(q).all()]
    q2 = (select(BookingRow).where(BookingRow.owner_tenant_id == rule.tenant_id,
                                   BookingRow.status == "cancelled",
                                   BookingRow.updated_at > rule.cursor)
          .order_by(BookingRow.updated_at))
    return [(b.asset_id, f"booking {b.id} of offer {b.offer_id} cancelled", b.updated_at)
            for b in s.scalars(q2).all()]


def evaluate(catalog: Catalog, store: ReadingStore, now: float | None = None) -> int:
    """Check every rule; returns how many alerts fired."""
    now = time.time() if now is None else now
    fired = 0
    with catalog.session() as s:
        for rule in s.scalars(select(AlertRuleRow).order_by(AlertRuleRow.id)).all():
            if not RULES[rule.kind].condition:
                for asset, message, cursor in _events(s, rule):
                    if not rule.asset_id or asset == rule.asset_id:
                        s.add(AlertRow(tenant_id=rule.tenant_id, rule_id=rule.id,
                                       asset_id=asset, kind=rule.kind, message=message, at=now))
                        fired += 1
                    rule.cursor = max(rule.cursor, cursor)
                continue
            q = select(AssetRow).where(AssetRow.tenant_id == rule.tenant_id)
            if rule.asset_id:
                q = q.where(AssetRow.id == rule.asset_id)
            active = {a.asset_id: a for a in s.scalars(select(AlertRow).where(
                AlertRow.rule_id == rule.id, AlertRow.active.is_(True))).all()}
            for row in s.scalars(q).all():
                holds, message = _condition(s, rule, row, store, now)
                if holds and row.id not in active:
                    s.add(AlertRow(tenant_id=rule.tenant_id, rule_id=rule.id, asset_id=row.id,
                                   kind=rule.kind, message=message[:500], at=now, active=True))
                    fired += 1
                elif holds is False and row.id in active:
                    active[row.id].active, active[row.id].cleared_at = False, now
    return fired


def alert_json(a: AlertRow) -> dict[str, Any]:
    return {"id": a.id, "rule": a.rule_id, "kind": a.kind, "asset": a.asset_id,
            "message": a.message, "at": a.at, "active": a.active, "cleared_at": a.cleared_at}


def deliver(catalog: Catalog, post: Post) -> int:
    """Send each undelivered alert to its tenant's owner webhooks; returns posts made.

    The alerts are claimed first (marked delivered by one conditional UPDATE, which of two
    racing deliveries only one wins for each alert), then posted outside the transaction: an
    alert is sent at most once, even by overlapping passes."""
    with catalog.session() as s:
        claimed = s.scalars(update(AlertRow).where(AlertRow.delivered.is_(False))
                            .values(delivered=True).returning(AlertRow.id)).all()
    if not claimed:
        return 0
    with catalog.session() as s:
        pending = s.scalars(select(AlertRow).where(AlertRow.id.in_(claimed))
                            .order_by(AlertRow.id)).all()
        hooks = {t: s.scalars(select(WebhookRow).where(WebhookRow.tenant_id == t,
                                                       WebhookRow.role == "owner")).all()
                 for t in {a.tenant_id for a in pending}}
    posts = 0
    for a in pending:
        for hook in hooks[a.tenant_id]:
            body = json.dumps({"webhook": hook.id, "alert": alert_json(a)},
                              separators=(",", ":")).encode()
            ts = f"{time.time():.0f}"
            code, error = post(hook.url, body, {
                "Content-Type": "application/json", "User-Agent": "idleshare-webhooks",
                TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sign(hook.secret, ts, body),
                "X-Idleshare-Event": "alert." + a.kind,
                "X-Idleshare-Delivery": f"{hook.id}-alert-{a.id}",
            })
            posts += 1
            if not 200 <= code < 300:
                log.warning("alert %s to webhook %s: %s", a.id, hook.id, error or code)
    return posts


#: The catalog's job lease (``job_leases``) whose holder runs the alerts passes.
LEASE = "alerts"
#: The lease outlives a few passes, so a holder that stops renewing it (stopped, died) is
#: replaced after this long at most, and a slow pass does not lose it midway.
MIN_LEASE_S = 30.0


class AlertsThread(PeriodicThread):
    """Evaluates rules and delivers alerts every ``interval_s`` until stopped, while it holds
    the ``alerts`` lease: of every API process and host on one catalog, one at a time."""

    def __init__(self, catalog: Catalog, store: ReadingStore, post: Post,
                 interval_s: float, clock: Callable[[], float] = time.time,
                 lease_s: float | None = None) -> None:
        self.catalog, self.store, self.post, self.clock = catalog, store, post, clock
        self.lease_s = max(3 * interval_s, MIN_LEASE_S) if lease_s is None else lease_s
        # Unique per thread (host, process, then random), within the column's 64 characters.
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"
        super().__init__(self._pass, interval_s, name="alerts", log=log,
                         failure="alerts pass failed")

    def _pass(self) -> bool:
        """One pass if this thread holds the lease; returns whether it did."""
        if not self.catalog.hold_lease(LEASE, self.owner, time.time(), self.lease_s):
            return False
        evaluate(self.catalog, self.store, self.clock())
        deliver(self.catalog, self.post)
        return True

    def stop(self) -> None:
        super().stop()
        try:
            self.catalog.release_lease(LEASE, self.owner)  # the next holder starts at once
        except StoreError:
            log.warning("could not release the alerts lease: it lapses in %.0f s",
                        self.lease_s)
