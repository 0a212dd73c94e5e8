"""alerts: deduplicated, escalating alerts with their snapshot and clip window

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("centre", sa.String(length=40), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=True),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("first_us", sa.BigInteger(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_us", sa.BigInteger(), nullable=True),
        sa.Column("handled_by", sa.String(length=120), nullable=True),
        sa.Column("handled_us", sa.BigInteger(), nullable=True),
        sa.Column("dismiss_reason", sa.Text(), nullable=True),
        sa.Column("incident_id", sa.String(length=40), nullable=True),
        sa.Column("snapshot", sa.String(length=200), nullable=True),
        sa.Column("clip_start_us", sa.BigInteger(), nullable=True),
        sa.Column("clip_end_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_centre_first", ["centre", "first_us"], unique=False)
        batch_op.create_index("ix_alerts_status_first", ["status", "first_us"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_dedup_key"), ["dedup_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_dedup_key"))
        batch_op.drop_index("ix_alerts_status_first")
        batch_op.drop_index("ix_alerts_centre_first")

    op.drop_table("alerts")
