"""session generation per user; login locks per username and address (issue 16)

Revision ID: 5d1c0e7a9b21
Revises: 852f7945aa61
Create Date: 2026-11-30 18:30:00

"""
from alembic import op
import sqlalchemy as sa
import fieldsvc.db


revision = '5d1c0e7a9b21'
down_revision = '852f7945aa61'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
    op.create_table('login_lock',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', fieldsvc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username', 'address', name=op.f('pk_login_lock'))
    )


def downgrade():
    op.drop_table('login_lock')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
