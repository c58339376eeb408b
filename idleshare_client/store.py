"""Where :meth:`idleshare_client.Client.follow_offers` keeps its copy of the offers: any
:class:`OfferStore`; :class:`SqliteOfferStore` is one in a file. A store writes offers and the
change-feed cursor they reach in one transaction, so a copy stopped at any point resumes
exactly after the last change it kept."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from idleshare_client.types import Offer


class OfferStore(Protocol):
    def cursor(self) -> int | None:
        """The change-feed position the copy is at; None before the first snapshot."""

    def replace(self, offers: Iterable[Offer], cursor: int) -> None:
        """Make the copy exactly ``offers`` at ``cursor`` (a snapshot), atomically."""

    def save(self, changed: Mapping[int, Offer | None], cursor: int) -> None:
        """Upsert the offers of ``changed``, drop those mapped to None, and move to
        ``cursor``, atomically."""

    def offers(self) -> dict[int, Offer]:
        """The copy, by offer id."""


class SqliteOfferStore:
    """An :class:`OfferStore` in a SQLite file (each offer as the API's JSON)."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path))
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS offers (id INTEGER PRIMARY KEY, "
                             "offer TEXT NOT NULL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS position (one INTEGER PRIMARY KEY "
                             "CHECK (one = 1), cursor INTEGER NOT NULL)")

    def cursor(self) -> int | None:
        row = self._db.execute("SELECT cursor FROM position").fetchone()
        return None if row is None else int(row[0])

    def replace(self, offers: Iterable[Offer], cursor: int) -> None:
        with self._db:  # one transaction: committed whole, or rolled back
            self._db.execute("DELETE FROM offers")
            self._upsert(offers)
            self._move(cursor)

    def save(self, changed: Mapping[int, Offer | None], cursor: int) -> None:
        with self._db:
            self._upsert(o for o in changed.values() if o is not None)
            self._db.executemany("DELETE FROM offers WHERE id = ?",
                                 [(i,) for i, o in changed.items() if o is None])
            self._move(cursor)

    def offers(self) -> dict[int, Offer]:
        rows = self._db.execute("SELECT offer FROM offers ORDER BY id")
        return {o.id: o for o in (Offer.from_json(json.loads(r[0])) for r in rows)}

    def close(self) -> None:
        self._db.close()

    def _upsert(self, offers: Iterable[Offer]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO offers (id, offer) VALUES (?, ?)",
                             [(o.id, json.dumps(o.to_json())) for o in offers])

    def _move(self, cursor: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO position (one, cursor) VALUES (1, ?)", (cursor,))
