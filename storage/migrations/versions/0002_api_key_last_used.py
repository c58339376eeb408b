"""api_keys.last_used_at: when a key was last used (nullable, epoch seconds)

Revision ID: 0002_api_key_last_used
Revises: 0001_baseline
Create Date: 2026-11-26 19:14:28.665228
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_api_key_last_used"
down_revision: str | None = "0001_baseline"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
