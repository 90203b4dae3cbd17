"""young people: contact kept normalised and indexed, so a second registration is noticed

Revision ID: d7e2b9a41c56
Revises: a7c3e9f1b2d4
Create Date: 2026-12-01 10:30:00

Phone numbers become digits without the Danish country code, e-mails lower case (the
rule of ``accounts.models.normalise_contact``, copied here as it was when this ran).
"""
import sqlalchemy as sa
from alembic import op

revision = 'd7e2b9a41c56'
down_revision = 'a7c3e9f1b2d4'
branch_labels = None
depends_on = None


def _normalise(value):
    value = (value or "").strip()
    if not value:
        return None
    if "@" in value:
        return value.lower()[:254]
    digits = "".join(ch for ch in value if ch.isdigit())
    if not digits:
        return value.casefold()[:254]
    if digits.startswith("00"):
        digits = digits[2:]
    if len(digits) == 10 and digits.startswith("45"):
        digits = digits[2:]
    return digits


def upgrade():
    bind = op.get_bind()
    youth = sa.table('youth_profile', sa.column('id', sa.Integer), sa.column('contact', sa.String))
    for row_id, contact in bind.execute(sa.select(youth.c.id, youth.c.contact).where(youth.c.contact.is_not(None))).all():
        normalised = _normalise(contact)
        if normalised != contact:
            bind.execute(youth.update().where(youth.c.id == row_id).values(contact=normalised))
    op.create_index(op.f('ix_youth_profile_contact'), 'youth_profile', ['contact'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_youth_profile_contact'), table_name='youth_profile')
