"""held requests keep the photo sent with them

Revision ID: f2b8d6e1a4c7
Revises: e5a90c4b7d13
Create Date: 2026-12-01 04:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b8d6e1a4c7'
down_revision = 'e5a90c4b7d13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('held_call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_path', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('held_call', schema=None) as batch_op:
        batch_op.drop_column('photo_path')
