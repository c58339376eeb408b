"""api_keys.last_used_at: when a key was last used (nullable, epoch seconds)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_api_key_last_used"
down_revision: str | None = "0001_baseline"


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
