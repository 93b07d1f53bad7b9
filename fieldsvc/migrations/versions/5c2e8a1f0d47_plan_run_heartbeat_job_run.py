"""plan run worker heartbeat; job_run (one run per scheduled job and slot)

Revision ID: 5c2e8a1f0d47
Revises: 3c1e8a9d2b47
Create Date: 2026-11-30 19:00:00

"""
from alembic import op
import sqlalchemy as sa
import fieldsvc.db


# revision identifiers, used by Alembic.
revision = '5c2e8a1f0d47'
down_revision = '3c1e8a9d2b47'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=120), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('heartbeat_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('plan_run', schema=None) as batch_op:
        batch_op.alter_column('worker', server_default=None)
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=80), nullable=False),
    sa.Column('slot', sa.String(length=40), nullable=False),
    sa.Column('host', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run')),
    sa.UniqueConstraint('job', 'slot', name=op.f('uq_job_run_job_slot'))
    )


def downgrade():
    op.drop_table('job_run')
    with op.batch_alter_table('plan_run', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('worker')
