"""session.capacity (the places that applied at each session) and every confirmed sign-up's confirmed_at

- ``session.capacity``: filled from the activity's capacity of today for every session that
  exists (the past's capacity was not recorded; from now on a change of capacity reaches only
  sessions that have not started).
- ``signup.confirmed_at``: a confirmed sign-up without a date gets its ``created_at`` (sign-ups
  are confirmed when made unless they waited; the statistics pair a sign-up only with the
  sessions held while it was confirmed, from ``confirmed_at`` until ``cancelled_at``).

Adding a column does not rebuild the table on SQLite, so the visit-count triggers on
``session`` stay (and updating ``capacity`` does not fire them).

Revision ID: e4b7c2d9a1f6
Revises: c3d1a7e5f9b2
Create Date: 2026-12-01 10:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e4b7c2d9a1f6'
down_revision = 'c3d1a7e5f9b2'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('session', sa.Column('capacity', sa.Integer(), nullable=True))
    op.execute("UPDATE session SET capacity = (SELECT activity.capacity FROM activity WHERE activity.id = session.activity_id)")
    op.execute("UPDATE signup SET confirmed_at = created_at WHERE status = 'confirmed' AND confirmed_at IS NULL")


def downgrade():
    op.drop_column('session', 'capacity')
