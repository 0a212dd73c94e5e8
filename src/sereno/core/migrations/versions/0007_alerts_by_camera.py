"""alerts by camera: a camera's page lists its own alerts, newest first, without scanning every alert

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_alerts_camera_first", "alerts", ["camera_id", "first_us"])


def downgrade() -> None:
    op.drop_index("ix_alerts_camera_first", table_name="alerts")
