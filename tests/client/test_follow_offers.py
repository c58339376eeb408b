"""follow_offers against a real API: the copy equals the API's snapshot, and one stopped in
the middle of the change feed resumes exactly after the last change it saved."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from idleshare_client import Client, Offer, SqliteOfferStore
from storage.catalog import OfferEventRow
from tests.client.conftest import Api


class Recording(httpx.HTTPTransport):
    """A real transport that keeps the cursors of every change-feed request and answer."""

    def __init__(self) -> None:
        super().__init__()
        self.asked_after: list[int] = []
        self.received: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path == "/v1/feeds/offer-changes":
            response.read()
            self.asked_after.append(int(request.url.params["after"]))
            self.received += [c["cursor"] for c in json.loads(response.content)["items"]]
        return response


class Crashing(SqliteOfferStore):
    """Dies (like a killed process) when asked to save its ``crash_at``-th page of changes."""

    def __init__(self, path: Path, crash_at: int) -> None:
        super().__init__(path)
        self.saves, self.crash_at = 0, crash_at

    def save(self, changed: Mapping[int, Offer | None], cursor: int) -> None:
        self.saves += 1
        if self.saves == self.crash_at:
            raise KeyboardInterrupt("killed")
        super().save(changed, cursor)


def head(api: Api) -> int:
    with api.catalog.session() as s:
        return int(s.scalar(select(func.max(OfferEventRow.id))) or 0)


def events_after(api: Api, cursor: int) -> list[int]:
    with api.catalog.session() as s:
        return list(s.scalars(select(OfferEventRow.id).where(OfferEventRow.id > cursor)
                              .order_by(OfferEventRow.id)))


def api_copy(api: Api, tmp_path: Path) -> dict[int, Offer]:
    """A fresh snapshot of what the platform sees now."""
    fresh = SqliteOfferStore(tmp_path / "fresh.db")
    with Client(api.url, api.platform_key) as c:
        c.follow_offers(fresh)
    return fresh.offers()


def make_changes(api: Api) -> None:
    """Three new offers, a hold (booked: less available), a withdrawal (a tombstone)."""
    for _ in range(3):
        api.add_offer()
    with Client(api.url, api.platform_key) as c:
        c.book(api.offers[0], 4)
    owner = httpx.post(f"{api.url}/v1/offers/{api.offers[1]}/withdraw",
                       headers={"Authorization": f"Bearer {api.owner_key}"})
    assert owner.status_code == 200, owner.text


def test_the_snapshot_then_changes_give_the_apis_copy(api: Api, tmp_path: Path) -> None:
    store = SqliteOfferStore(tmp_path / "copy.db")
    with Client(api.url, api.platform_key) as c:
        assert c.follow_offers(store, page_size=2) == store.cursor() == head(api)
    assert sorted(store.offers()) == api.offers
    assert store.offers()[api.offers[2]].available == 30.0
    make_changes(api)
    with Client(api.url, api.platform_key) as c:
        c.follow_offers(store)
    copy = store.offers()
    assert api.offers[1] not in copy  # withdrawn: a tombstone dropped it
    assert copy[api.offers[0]].available == 6.0
    assert copy == api_copy(api, tmp_path)


def test_a_stopped_copy_resumes_after_its_last_saved_change_no_gap_no_repeat(
    api: Api, tmp_path: Path
) -> None:
    path = tmp_path / "copy.db"
    with Client(api.url, api.platform_key) as c:
        c.follow_offers(SqliteOfferStore(path))
    make_changes(api)
    # Pages of 2 changes; the process dies saving the second page.
    crashing = Crashing(path, crash_at=2)
    with Client(api.url, api.platform_key) as c, pytest.raises(KeyboardInterrupt):
        c.follow_offers(crashing, page_size=2)
    crashing.close()

    restarted = SqliteOfferStore(path)
    saved = restarted.cursor()
    assert saved is not None
    missed = events_after(api, saved)
    assert len(missed) >= 3  # the crash left changes behind
    recording = Recording()
    with Client(api.url, api.platform_key, transport=recording) as c:
        assert c.follow_offers(restarted, page_size=2) == head(api)
    assert recording.asked_after[0] == saved
    assert recording.received == missed  # exactly the changes after the cursor, each once
    assert restarted.offers() == api_copy(api, tmp_path)


def test_following_with_polling_picks_up_new_changes_until_stopped(
    api: Api, tmp_path: Path
) -> None:
    store_path, stop, snapshot_taken = tmp_path / "copy.db", threading.Event(), threading.Event()
    seen: list[int] = []

    class Watching(SqliteOfferStore):
        def replace(self, offers: Iterable[Offer], cursor: int) -> None:
            super().replace(offers, cursor)
            snapshot_taken.set()

        def save(self, changed: Mapping[int, Offer | None], cursor: int) -> None:
            super().save(changed, cursor)
            seen.extend(changed)

    def follow() -> None:
        store = Watching(store_path)
        with Client(api.url, api.platform_key) as c:
            c.follow_offers(store, poll_s=0.1, stop=stop)
        store.close()

    follower = threading.Thread(target=follow)
    follower.start()
    try:
        assert snapshot_taken.wait(30)
        new = api.add_offer()  # after the snapshot: only polling the feed can bring it
        for _ in range(100):
            if new in seen:
                break
            stop.wait(0.1)
        assert new in seen
    finally:
        stop.set()
        follower.join(timeout=30)
    assert not follower.is_alive()
