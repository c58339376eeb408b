"""The offers' spatial index, which distance search reads (:mod:`market.search`).

SQLite: ``offer_places``, an R*Tree of the live offers over (lat, lon), kept in step with
``offers`` by triggers, so every writer (repository, analytics, the command line, plain SQL)
keeps it right. Only live offers: withdrawn and expired ones pile up over the years and no
distance search of live offers should walk them. Two dimensions only: a third for the kind
(a number per kind) made the tree, built offer by offer, 10x slower to search (docs/api.md).
PostgreSQL: a GiST index on ``point(lon, lat)``, which the query's ``<@ box`` uses.

Both give candidates only: the R*Tree keeps 32-bit floats (its boxes rounded outwards), so
search still tests the exact columns. Created by migration
``0008_offer_spatial_index`` and, for a new catalog, after ``offers`` (``create_all``).
"""

from __future__ import annotations

from sqlalchemy import Connection, column, table

#: The R*Tree (SQLite), as search's statements name it.
PLACES = table("offer_places", *(column(n) for n in ("id", "lat_min", "lat_max", "lon_min",
                                                      "lon_max")))
GIST_INDEX = "ix_offers_place"


def _place(row: str) -> str:
    return f"{row}.id, {row}.lat, {row}.lat, {row}.lon, {row}.lon"


SQLITE_DDL = (
    "CREATE VIRTUAL TABLE offer_places USING rtree(id, lat_min, lat_max, lon_min, lon_max)",
    "CREATE TRIGGER offer_places_insert AFTER INSERT ON offers WHEN new.status = 'live' "
    f"BEGIN INSERT INTO offer_places VALUES ({_place('new')}); END",
    "CREATE TRIGGER offer_places_update AFTER UPDATE OF status, lat, lon ON offers "
    "BEGIN DELETE FROM offer_places WHERE id = old.id; "
    f"INSERT INTO offer_places SELECT {_place('new')} WHERE new.status = 'live'; END",
    "CREATE TRIGGER offer_places_delete AFTER DELETE ON offers "
    "BEGIN DELETE FROM offer_places WHERE id = old.id; END",
    f"INSERT INTO offer_places SELECT {_place('offers')} FROM offers WHERE status = 'live'",
)
SQLITE_DROP = (
    "DROP TRIGGER offer_places_insert",
    "DROP TRIGGER offer_places_update",
    "DROP TRIGGER offer_places_delete",
    "DROP TABLE offer_places",
)
#: PostgreSQL's GiST index, declared with the models (``ddl_if``); migration 0008 makes it.
POSTGRESQL_DDL = (f"CREATE INDEX {GIST_INDEX} ON offers USING gist (point(lon, lat))",)
POSTGRESQL_DROP = (f"DROP INDEX {GIST_INDEX}",)


def create_places(conn: Connection) -> None:
    """SQLite's R*Tree and its triggers, filled from ``offers`` (after that table)."""
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_DDL:
            conn.exec_driver_sql(statement)


def drop_places(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            conn.exec_driver_sql(statement)


#: The R*Tree and the tables SQLite keeps it in: not the models' (no ORM table declares them).
SQLITE_TABLES = frozenset(
    {"offer_places", "offer_places_node", "offer_places_parent", "offer_places_rowid"}
)


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: autogenerate and schema comparison leave the R*Tree's
    tables alone (they are made by migration 0008 and with ``offers``, not by the models)."""
    return not (type_ == "table" and name in SQLITE_TABLES)
