"""The catalog's lock order (asset, then offers by id, then bookings) makes analytics' publishing,
booking and withdrawing safe against each other on a real server database: each test stops one
writer in the middle of its transaction, runs the other in a second session, and checks the
other waits instead of slipping in. On SQLite the database's write lock gives the same."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, func, select

from analytics.pipeline import Analysis
from analytics.policy import SharingPolicy
from analytics.publish import publish
from idleshare.assets import Asset
from market import offers
from market.bookings import expire_holds, hold
from market.caller import Caller
from market.errors import Conflict
from storage.catalog import AssetRow, BookingRow, Catalog, OfferEventRow, OfferRow, counts

H = 3600.0
NOW = 1_800_000_000.0
POLICY = SharingPolicy.from_dict({"visibility": "public"})
PLATFORM = Caller(tenant_id="platform", role="platform")
OWNER = Caller(tenant_id="acme", role="owner")
#: How long the second writer gets to finish while the first is stopped mid-transaction.
GRACE_S = 1.5


@pytest.fixture
def catalog(catalog: Catalog) -> Catalog:
    catalog.upsert_asset(Asset("bay-1", "acme", "warehouse_zone", 100, "pallet"))
    catalog.ensure_tenant("platform")
    return catalog


def analyse(catalog: Catalog, quantity: float, pause: Callable[[], None] | None = None,
            table: str = "") -> None:
    """Publish one offer of ``quantity`` at NOW+10h..12h; with ``pause``, call it right after
    the publishing transaction's first statement reading ``table``."""
    offered = np.array([[NOW + 10 * H, NOW + 12 * H, quantity, 0.9]])
    with catalog.session() as s:
        if pause is not None:
            fired = False

            def hook(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
                nonlocal fired
                if not fired and statement.lstrip().startswith("SELECT") \
                        and f"FROM {table}" in statement:
                    fired = True
                    pause()

            event.listen(s.connection(), "after_cursor_execute", hook)
        asset = s.get(AssetRow, ("acme", "bay-1"))
        assert asset is not None
        publish(s, asset, POLICY, Analysis(windows=[], offers=offered), NOW)


def in_between(action: Callable[[], object]) -> tuple[Callable[[], None], dict[str, Any]]:
    """A pause that runs ``action`` in another thread and gives it GRACE_S to finish; the
    outcome says whether it finished while the first writer was stopped."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = action()
        except Exception as err:  # the outcome is what the test checks
            outcome["error"] = err

    def pause() -> None:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(GRACE_S)
        outcome["finished_meanwhile"] = not thread.is_alive()
        outcome["thread"] = thread

    return pause, outcome


def the_offer(catalog: Catalog) -> OfferRow:
    with catalog.session() as s:
        return s.scalars(select(OfferRow)).one()


def booked(catalog: Catalog, offer_id: int) -> float:
    with catalog.session() as s:
        return float(s.scalar(select(func.sum(BookingRow.quantity))
                              .where(BookingRow.offer_id == offer_id, counts(NOW))) or 0.0)


def test_a_hold_during_a_publish_that_shrinks_the_offer_waits_and_cannot_overbook(
    catalog: Catalog,
) -> None:
    analyse(catalog, 40.0)
    offer = the_offer(catalog)
    hold(catalog, PLATFORM, offer.id, 10.0, 600.0, NOW)
    # Usage rose: the analysis now allows 10, which the existing hold already takes.
    pause, outcome = in_between(lambda: hold(catalog, PLATFORM, offer.id, 20.0, 600.0, NOW))

    analyse(catalog, 10.0, pause, table="bookings")
    outcome["thread"].join(30)

    assert outcome["finished_meanwhile"] is False  # it waited for the publish to commit
    assert isinstance(outcome.get("error"), Conflict)  # then saw the shrunk offer
    assert the_offer(catalog).quantity == 10.0
    assert booked(catalog, offer.id) == 10.0


def test_a_withdrawal_during_a_publish_is_not_undone_by_it(catalog: Catalog) -> None:
    analyse(catalog, 40.0)
    offer = the_offer(catalog)
    pause, outcome = in_between(lambda: offers.withdraw(catalog, OWNER, offer.id, NOW))

    analyse(catalog, 30.0, pause, table="offers")  # would update the offer it read as live
    outcome["thread"].join(30)

    assert "error" not in outcome, outcome.get("error")
    with catalog.session() as s:
        mine = s.scalars(select(OfferEventRow).where(OfferEventRow.offer_id == offer.id)
                         .order_by(OfferEventRow.id)).all()
        assert s.get(OfferRow, offer.id).status == "withdrawn"  # type: ignore[union-attr]
    # The feed's last word on the offer is its tombstone, not an update that revives it.
    assert mine[-1].type == "withdrawn"
    assert all(e.snapshot["status"] == "live" for e in mine[:-1])


def test_hosts_expiring_holds_at_once_expire_each_hold_once(catalog_url: str,
                                                              catalog: Catalog) -> None:
    for n in range(30):
        catalog.upsert_asset(Asset(f"z{n}", "acme", "warehouse_zone", 10, "pallet"))
        with catalog.session() as s:
            row = OfferRow(tenant_id="acme", asset_id=f"z{n}", kind="warehouse_zone",
                           quantity=10.0, unit="pallet", start=NOW + H, end=NOW + 2 * H,
                           confidence=0.9, visibility="public", status="live")
            s.add(row)
            s.flush()
            s.add(BookingRow(offer_id=row.id, tenant_id="platform", owner_tenant_id="acme",
                             asset_id=f"z{n}", quantity=2.0, start=row.start, end=row.end,
                             status="held", hold_expires_at=NOW - 1))
    hosts = [Catalog(catalog_url) for _ in range(3)]
    start = threading.Barrier(len(hosts))
    expired: list[int] = []

    def host(cat: Catalog) -> None:
        start.wait()
        expired.append(expire_holds(cat, NOW))

    threads = [threading.Thread(target=host, args=(c,)) for c in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in hosts:
        c.close()

    assert sum(expired) == 30
    with catalog.session() as s:
        updates = s.scalars(select(OfferEventRow.offer_id)
                            .where(OfferEventRow.type == "updated")).all()
        statuses = s.scalars(select(BookingRow.status)).all()
    assert sorted(updates) == sorted(set(updates)) and len(updates) == 30
    assert set(statuses) == {"expired"}
