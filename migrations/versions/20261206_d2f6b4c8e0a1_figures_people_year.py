"""statistics: a closed year's visits per young person, offer and age band (figures_people_year)

Revision ID: d2f6b4c8e0a1
Revises: c1e5a3b7d9f4
Create Date: 2026-12-06 22:30:00

See ``youthclub/reports/grain_cache.py`` (``ensure_people``). Kept like ``figures_grain``: valid
while the sum of the figures' generations up to the year is the one it was computed under
(``figures_grain_year``, kind "people"). A deleted profile or offer takes its rows with it.
"""
import sqlalchemy as sa
from alembic import op

revision = 'd2f6b4c8e0a1'
down_revision = 'c1e5a3b7d9f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('figures_people_year',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('youth_id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('age_band', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_figures_people_year_activity_id_activity'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['youth_id'], ['youth_profile.id'], name=op.f('fk_figures_people_year_youth_id_youth_profile'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('year', 'youth_id', 'activity_id', 'age_band', name=op.f('pk_figures_people_year'))
    )
    # the cascades of a deleted profile or offer look their rows up by these
    op.create_index('ix_figures_people_year_youth_id', 'figures_people_year', ['youth_id'], unique=False)
    op.create_index('ix_figures_people_year_activity_id', 'figures_people_year', ['activity_id'], unique=False)


def downgrade():
    op.drop_index('ix_figures_people_year_activity_id', table_name='figures_people_year')
    op.drop_index('ix_figures_people_year_youth_id', table_name='figures_people_year')
    op.drop_table('figures_people_year')
