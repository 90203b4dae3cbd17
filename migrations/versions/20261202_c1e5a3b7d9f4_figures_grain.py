"""statistics: the sums of closed years at the statistics' finest grain (figures_grain, figures_grain_year)

Revision ID: c1e5a3b7d9f4
Revises: b8d4f0e2a6c3
Create Date: 2026-12-02 04:30:00

See ``youthclub/reports/grain_cache.py``. No triggers of their own: a kept year is valid while
the sum of the figures' generations up to it (migration ``f1c2a9e7b3d0``) is the one it was
computed under.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c1e5a3b7d9f4'
down_revision = 'b8d4f0e2a6c3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('figures_grain',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('age_band', sa.String(length=16), nullable=False),
        sa.Column('gender', sa.String(length=16), nullable=False),
        sa.Column('v0', sa.BigInteger(), nullable=False),
        sa.Column('v1', sa.BigInteger(), nullable=False),
        sa.Column('v2', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_figures_grain'))
    )
    op.create_index('ix_figures_grain_kind_year', 'figures_grain', ['kind', 'year'], unique=False)
    op.create_table('figures_grain_year',
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('generations', sa.BigInteger(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'year', name=op.f('pk_figures_grain_year'))
    )


def downgrade():
    op.drop_table('figures_grain_year')
    op.drop_index('ix_figures_grain_kind_year', table_name='figures_grain')
    op.drop_table('figures_grain')
