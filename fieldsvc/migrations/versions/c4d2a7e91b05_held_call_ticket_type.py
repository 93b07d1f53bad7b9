"""held calls keep the ticket type asked for

Revision ID: c4d2a7e91b05
Revises: b7e41d9c3a58
Create Date: 2026-12-01 03:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d2a7e91b05'
down_revision = 'b7e41d9c3a58'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('held_call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_type', sa.String(length=16), nullable=False, server_default='fault'))


def downgrade():
    with op.batch_alter_table('held_call', schema=None) as batch_op:
        batch_op.drop_column('ticket_type')
