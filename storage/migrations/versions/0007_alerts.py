"""alert_rules and alerts: owners' alert rules and the alerts they fired"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007_alerts"
down_revision: str | None = "0006_sites"


def _create_tenant_rows_table(
    name: str, *columns: sa.Column[Any], cascade_from: tuple[str, str] | None = None
) -> None:
    """A table of a tenant's rows, as both tables here are: an autoincrement ``id`` key and a
    ``tenant_id`` (referencing its tenant, indexed as ``ix_<table>_tenant_id``) before
    ``columns``; ``cascade_from`` (column, the key it references) makes a row go with its
    parent. DDL lists foreign keys in the order they were made: the tenant's first."""
    foreign_keys = [sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"])]
    if cascade_from is not None:
        column, parent_key = cascade_from
        foreign_keys.append(sa.ForeignKeyConstraint([column], [parent_key], ondelete="CASCADE"))
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        *columns,
        *foreign_keys,
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(f"ix_{name}_tenant_id", name, ["tenant_id"])


def _drop_tenant_rows_table(name: str) -> None:
    op.drop_index(f"ix_{name}_tenant_id", table_name=name)
    op.drop_table(name)


def upgrade() -> None:
    _create_tenant_rows_table(
        "alert_rules",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("cursor", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    _create_tenant_rows_table(
        "alerts",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("cleared_at", sa.Float(), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        cascade_from=("rule_id", "alert_rules.id"),
    )
    op.create_index("ix_alerts_rule_id", "alerts", ["rule_id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_rule_id", table_name="alerts")
    _drop_tenant_rows_table("alerts")
    _drop_tenant_rows_table("alert_rules")
