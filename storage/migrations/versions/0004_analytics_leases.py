"""analytics_workers and analytics_buckets: leases that split analytics passes among workers"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004_analytics_leases"
down_revision: str | None = "0003_security"


def upgrade() -> None:
    op.create_table(
        "analytics_workers",
        sa.Column("worker_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id"),
    )
    op.create_table(
        "analytics_buckets",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pass_no", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("bucket"),
    )


def downgrade() -> None:
    op.drop_table("analytics_buckets")
    op.drop_table("analytics_workers")
