"""offers.leg, dest_lat, dest_lon: a leg offer's leg (JSON) and its destination, for corridor
search (plain ADD COLUMN: a batch copy of offers would drop its R*Tree triggers)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011_offer_legs"
down_revision: str | None = "0010_agent_status_and_job_leases"


def upgrade() -> None:
    op.add_column("offers", sa.Column("leg", sa.JSON(), nullable=True))
    op.add_column("offers", sa.Column("dest_lat", sa.Float(), nullable=True))
    op.add_column("offers", sa.Column("dest_lon", sa.Float(), nullable=True))


def downgrade() -> None:
    for column in ("dest_lon", "dest_lat", "leg"):
        op.drop_column("offers", column)
