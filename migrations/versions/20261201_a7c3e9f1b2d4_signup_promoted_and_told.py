"""signup.promoted_at and signup.told_at: who moved up from the waitlist, and whether staff told them

A young person without e-mail is told nothing when they move up; staff get a to-do on the
offer's page (promoted, not yet told) until they mark it "told".

Revision ID: a7c3e9f1b2d4
Revises: 7d2e4f1a9c30
Create Date: 2026-12-01 11:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e9f1b2d4'
down_revision = '7d2e4f1a9c30'
branch_labels = None
depends_on = None


def upgrade():
    # adding columns rebuilds nothing on SQLite
    op.add_column('signup', sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('signup', sa.Column('told_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('signup') as batch_op:
        batch_op.drop_column('told_at')
        batch_op.drop_column('promoted_at')
