"""offer_places_<kind> (SQLite): one R*Tree of live offers per asset kind beside offer_places,
so a distance search of one kind reads only that kind's candidates (PostgreSQL: nothing; its
GiST index stays as it is)"""

from __future__ import annotations

from alembic import op

from storage.catalog import spatial

revision: str = "0013_offer_places_by_kind"
down_revision: str | None = "0012_byproduct_materials"


def _run(statements: tuple[str, ...]) -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for statement in statements:
            conn.exec_driver_sql(statement)


def upgrade() -> None:
    _run(spatial.SQLITE_KIND_DDL)


def downgrade() -> None:
    _run(spatial.SQLITE_KIND_DROP)
