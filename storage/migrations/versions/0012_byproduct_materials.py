"""assets.material, offers.material and offers.eural: a container's declared material (JSON)
and a by-product offer's material with its EWC code's digits, for search by code prefix
(plain ADD COLUMN: a batch copy of offers would drop its R*Tree triggers)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012_byproduct_materials"
down_revision: str | None = "0011_offer_legs"


def upgrade() -> None:
    op.add_column("assets", sa.Column("material", sa.JSON(), nullable=True))
    op.add_column("offers", sa.Column("material", sa.JSON(), nullable=True))
    op.add_column("offers", sa.Column("eural", sa.String(6), nullable=True))


def downgrade() -> None:
    op.drop_column("offers", "eural")
    op.drop_column("offers", "material")
    op.drop_column("assets", "material")
