"""staff_invitation: an institution's invitation to an e-mail address, accepted by its owner

Adding a colleague by e-mail no longer gives a role at once (which showed the institution
admin the name of whoever had that address): the role waits here until the person accepts.

Revision ID: c4e8a2f6b9d1
Revises: a7c3e91f4d28
Create Date: 2026-12-01 13:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4e8a2f6b9d1'
down_revision = 'a7c3e91f4d28'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institution.id'],
                                name=op.f('fk_staff_invitation_institution_id_institution'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_staff_invitation_invited_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_invitation')),
        sa.UniqueConstraint('institution_id', 'email', name=op.f('uq_staff_invitation_institution_id_email')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_staff_invitation_token_hash')),
    )
    with op.batch_alter_table('staff_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_invitation_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_invitation_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_invitation_expires_at'))
        batch_op.drop_index(batch_op.f('ix_staff_invitation_institution_id'))
    op.drop_table('staff_invitation')
