"""outbox_message claims, backoff and giving up; scheduled_run (one run per job and slot)

A worker claims an outbox row (``claimed_at``, ``claimed_by``) before it sends it; a failed
attempt waits until ``next_attempt_at``; after MAIL_MAX_ATTEMPTS ``failed_at`` is set.
``scheduled_run`` holds one row per scheduled job and time slot, unique, so several
schedulers and workers run each slot once.

Revision ID: b5d8e2f7c3a1
Revises: c4e8a2f6b9d1
Create Date: 2026-12-01 13:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'b5d8e2f7c3a1'
down_revision = 'c4e8a2f6b9d1'
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'scheduled_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job', sa.String(length=60), nullable=False),
        sa.Column('slot', sa.String(length=40), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_run')),
        sa.UniqueConstraint('job', 'slot', name=op.f('uq_scheduled_run_job_slot')),
    )

def downgrade():
    op.drop_table('scheduled_run')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('failed_at')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('claimed_at')
