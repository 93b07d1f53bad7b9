"""visits record the counted parts used (taken from the technician's van at check-out)

Revision ID: d81f3a6c2e94
Revises: c4d2a7e91b05
Create Date: 2026-12-01 03:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd81f3a6c2e94'
down_revision = 'c4d2a7e91b05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consumables_used', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('consumables_used')
