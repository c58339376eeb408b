"""ix_offers_status_kind_lat: the covering index of distance search within one kind"""

from __future__ import annotations

from alembic import op

revision: str = "0005_offer_kind_lat_index"
down_revision: str | None = "0004_analytics_leases"


def upgrade() -> None:
    op.create_index(
        "ix_offers_status_kind_lat",
        "offers",
        ["status", "kind", "lat", "lon", "visibility", "tenant_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_offers_status_kind_lat", table_name="offers")
