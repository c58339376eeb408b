"""agent_status and job_leases: agents' latest queue depth and dropped count, and the lease
that lets one API process at a time run the alerts pass"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010_agent_status_and_job_leases"
down_revision: str | None = "0009_booking_idempotency"


def upgrade() -> None:
    op.create_table(
        "agent_status",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("queued", sa.BigInteger(), nullable=False),
        sa.Column("dropped", sa.BigInteger(), nullable=False),
        sa.Column("reported_at", sa.Float(), nullable=False),
        sa.Column("dropped_grew_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "agent"),
    )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
    op.drop_table("agent_status")
