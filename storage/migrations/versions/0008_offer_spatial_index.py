"""offer_places (SQLite: an R*Tree of live offers, kept by triggers) and ix_offers_place
(PostgreSQL: GiST on point(lon, lat)): the spatial index of distance search

Revision ID: 0008_offer_spatial_index
Revises: 0007_alerts
"""

from __future__ import annotations

from alembic import op

from storage.catalog import spatial

revision: str = "0008_offer_spatial_index"
down_revision: str | None = "0007_alerts"
branch_labels: str | None = None
depends_on: str | None = None


def _run(sqlite: tuple[str, ...], postgresql: tuple[str, ...]) -> None:
    conn = op.get_bind()
    for statement in {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name, ()):
        conn.exec_driver_sql(statement)


def upgrade() -> None:
    _run(spatial.SQLITE_DDL, spatial.POSTGRESQL_DDL)


def downgrade() -> None:
    _run(spatial.SQLITE_DROP, spatial.POSTGRESQL_DROP)
