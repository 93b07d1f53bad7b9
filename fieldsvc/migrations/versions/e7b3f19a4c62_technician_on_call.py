"""technician.on_call: takes EM calls of 7x24 contracts outside the shift

Revision ID: e7b3f19a4c62
Revises: 5c2e8a1f0d47
Create Date: 2026-11-30 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b3f19a4c62'
down_revision = '5c2e8a1f0d47'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('technician', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_call', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('technician', schema=None) as batch_op:
        batch_op.drop_column('on_call')
