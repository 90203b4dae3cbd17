"""api_token.scope (full or checkin), an expiry for every token that had none, and one_time_token.payload

``one_time_token.payload`` holds a registration draft (screen 1's answers) on the server, so they
are never in the readable session cookie.

Tokens made before this revision never expired; they get the default 90 days from now, so
no script stops working at once but none lives for ever. ``scope`` is ``full`` for them
(what they could do until now).

Revision ID: a7c3e91f4d28
Revises: d7e2b9a41c56
Create Date: 2026-12-01 11:00:00
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = 'a7c3e91f4d28'
down_revision = 'd7e2b9a41c56'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=32), server_default='full', nullable=False))
    expires = datetime.now(UTC) + timedelta(days=90)
    if op.get_bind().dialect.name == "sqlite":
        expires = expires.replace(tzinfo=None)  # UTCDateTime keeps naive UTC on SQLite
    token = sa.table('api_token', sa.column('expires_at', sa.DateTime(timezone=True)))
    op.execute(token.update().where(token.c.expires_at.is_(None)).values(expires_at=expires))
    with op.batch_alter_table('one_time_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('one_time_token', schema=None) as batch_op:
        batch_op.drop_column('payload')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('scope')
