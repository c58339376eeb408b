"""sites and asset_sites: the places of a tenant's and which asset stands where"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006_sites"
down_revision: str | None = "0005_offer_kind_lat_index"


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(400), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_table(
        "asset_sites",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "asset_id"], ["assets.tenant_id", "assets.id"],
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "site_id"], ["sites.tenant_id", "sites.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "asset_id"),
    )
    op.create_index("ix_asset_sites_site", "asset_sites", ["tenant_id", "site_id"])


def downgrade() -> None:
    op.drop_index("ix_asset_sites_site", table_name="asset_sites")
    op.drop_table("asset_sites")
    op.drop_table("sites")
