"""booking_idempotency: the Idempotency-Key of each hold, per tenant, and the booking it made"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009_booking_idempotency"
down_revision: str | None = "0008_offer_spatial_index"


def upgrade() -> None:
    op.create_table(
        "booking_idempotency",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "key"),
    )
    op.create_index(
        "ix_booking_idempotency_expires_at", "booking_idempotency", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_booking_idempotency_expires_at", table_name="booking_idempotency")
    op.drop_table("booking_idempotency")
