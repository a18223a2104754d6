"""applications.next_change_at: when time alone may next change an application

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL until the next recompute (the daemon recomputes everything as it starts).
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_change_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_applications_next_change_at"), ["next_change_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_next_change_at"))
        batch_op.drop_column("next_change_at")
