"""incident interchange: incidents taken over from another centre keep the sender's id

Revision ID: 0005
Revises: 0006
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_ref", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_incidents_external_ref"), ["external_ref"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_external_ref"))
        batch_op.drop_column("external_ref")
