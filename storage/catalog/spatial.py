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

from idleshare.assets import KINDS

_COLUMNS = ("id", "lat_min", "lat_max", "lon_min", "lon_max")
#: The R*Tree of every kind's live offers (SQLite), as search's statements name it.
PLACES = table("offer_places", *(column(n) for n in _COLUMNS))
#: One R*Tree per kind besides (a distance search of one kind reads only that kind's
#: candidates: a fifth of them in the bench's mix); a kind without one uses PLACES.
PLACES_BY_KIND = {k.name: table(f"offer_places_{k.name}", *(column(n) for n in _COLUMNS))
                  for k in KINDS}
GIST_INDEX = "ix_offers_place"


def _place(row: str) -> str:
    return f"{row}.id, {row}.lat, {row}.lat, {row}.lon, {row}.lon"


def _tree_ddl(name: str, where: str) -> tuple[str, ...]:
    """An R*Tree of the live offers matching ``where`` (SQL on the row ``r``), its triggers
    and its filling from ``offers``."""
    def cond(r: str) -> str:
        return where.replace("r.", f"{r}.")
    return (
        f"CREATE VIRTUAL TABLE {name} USING rtree({', '.join(_COLUMNS)})",
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON offers WHEN {cond('new')} "
        f"BEGIN INSERT INTO {name} VALUES ({_place('new')}); END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF status, lat, lon, kind ON offers "
        f"BEGIN DELETE FROM {name} WHERE id = old.id; "
        f"INSERT INTO {name} SELECT {_place('new')} WHERE {cond('new')}; END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON offers "
        f"BEGIN DELETE FROM {name} WHERE id = old.id; END",
        f"INSERT INTO {name} SELECT {_place('offers')} FROM offers WHERE {cond('offers')}",
    )


def _tree_drop(name: str) -> tuple[str, ...]:
    return (*(f"DROP TRIGGER {name}_{t}" for t in ("insert", "update", "delete")),
            f"DROP TABLE {name}")


SQLITE_DDL = _tree_ddl("offer_places", "r.status = 'live'")
SQLITE_DROP = _tree_drop("offer_places")
SQLITE_KIND_DDL = tuple(
    s for k in KINDS
    for s in _tree_ddl(f"offer_places_{k.name}", f"r.status = 'live' AND r.kind = '{k.name}'"))
SQLITE_KIND_DROP = tuple(s for k in KINDS for s in _tree_drop(f"offer_places_{k.name}"))
#: PostgreSQL's GiST index, declared with the models (``ddl_if``); migration 0008 makes it.
POSTGRESQL_DDL = (f"CREATE INDEX {GIST_INDEX} ON offers USING gist (point(lon, lat))",)
POSTGRESQL_DROP = (f"DROP INDEX {GIST_INDEX}",)


def create_places(conn: Connection) -> None:
    """SQLite's R*Tree and its triggers, filled from ``offers`` (after that table)."""
    if conn.dialect.name == "sqlite":
        for statement in (*SQLITE_DDL, *SQLITE_KIND_DDL):
            conn.exec_driver_sql(statement)


def drop_places(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for statement in (*SQLITE_KIND_DROP, *SQLITE_DROP):
            conn.exec_driver_sql(statement)


#: The R*Tree and the tables SQLite keeps it in: not the models' (no ORM table declares them).
SQLITE_TABLES = frozenset(
    f"{tree}{part}"
    for tree in ("offer_places", *(f"offer_places_{k.name}" for k in KINDS))
    for part in ("", "_node", "_parent", "_rowid")
)


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: autogenerate and schema comparison leave the R*Tree's
    tables alone (they are made by migration 0008 and with ``offers``, not by the models)."""
    return not (type_ == "table" and name in SQLITE_TABLES)
