"""statistics: a permanent random record key on each young person and each head count (the cell key method)

Revision ID: 5d2c8e0b7a41
Revises: e4b7c2d9a1f6
Create Date: 2026-12-01 10:30:00

Existing rows get a random key from 0 to 255 in the database itself (every row its own draw);
new rows get theirs from the model (``new_record_key``). A key is never changed afterwards.
"""
import sqlalchemy as sa
from alembic import op

revision = '5d2c8e0b7a41'
down_revision = 'e4b7c2d9a1f6'
branch_labels = None
depends_on = None

TABLES = ('youth_profile', 'head_count')


def _random_key() -> str:
    if op.get_bind().dialect.name == 'postgresql':
        return 'floor(random() * 256)::integer'
    return 'abs(random()) % 256'


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('record_key', sa.Integer(), nullable=True))
        op.execute(f'UPDATE {table} SET record_key = {_random_key()}')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('record_key', existing_type=sa.Integer(), nullable=False)


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('record_key')
