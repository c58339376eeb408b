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


def upgrade() -> None:
    conn = op.get_bind()
    spatial.create_places(conn)
    if conn.dialect.name == "postgresql":
        for statement in spatial.POSTGRESQL_DDL:
            conn.exec_driver_sql(statement)


def downgrade() -> None:
    conn = op.get_bind()
    spatial.drop_places(conn)
    if conn.dialect.name == "postgresql":
        for statement in spatial.POSTGRESQL_DROP:
            conn.exec_driver_sql(statement)
