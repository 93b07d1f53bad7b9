"""check-out flags and reason; the caller's name and phone on a service call (issue 17)

Revision ID: a17c0de5f1a9
Revises: 5d1c0e7a9b21
Create Date: 2026-11-30 18:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a17c0de5f1a9'
down_revision = '5d1c0e7a9b21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visit') as batch:
        batch.add_column(sa.Column('checkout_flags', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column('checkout_reason', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('service_call') as batch:
        batch.add_column(sa.Column('caller_name', sa.String(length=120), nullable=False, server_default=''))
        batch.add_column(sa.Column('caller_phone', sa.String(length=32), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('service_call') as batch:
        batch.drop_column('caller_phone')
        batch.drop_column('caller_name')
    with op.batch_alter_table('visit') as batch:
        batch.drop_column('checkout_reason')
        batch.drop_column('checkout_flags')
