"""merchants keep their phone in canonical form, indexed, for incoming-call lookups

Revision ID: e5a90c4b7d13
Revises: d81f3a6c2e94
Create Date: 2026-12-01 04:05:00

"""
from alembic import op
import sqlalchemy as sa

from fieldsvc.text import phone_key


# revision identifiers, used by Alembic.
revision = 'e5a90c4b7d13'
down_revision = 'd81f3a6c2e94'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_key', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_merchant_phone_key'), ['phone_key'], unique=False)
    conn = op.get_bind()
    merchant = sa.table('merchant', sa.column('id', sa.Integer), sa.column('phone', sa.String),
                        sa.column('phone_key', sa.String))
    rows = conn.execute(sa.select(merchant.c.id, merchant.c.phone).where(merchant.c.phone != '')).all()
    keyed = [{'mid': mid, 'key': phone_key(phone)} for mid, phone in rows]
    keyed = [k for k in keyed if k['key']]
    if keyed:
        conn.execute(merchant.update().where(merchant.c.id == sa.bindparam('mid'))
                     .values(phone_key=sa.bindparam('key')), keyed)


def downgrade():
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merchant_phone_key'))
        batch_op.drop_column('phone_key')
