"""contract versions with effective dates, contract kind, deactivation flags, first passwords

Revision ID: 3c1e8a9d2b47
Revises: 11e11c6ae165
Create Date: 2026-11-30 18:50:00

Every existing contract gets version 1 from its own terms, effective from its start date.
"""
from alembic import op
import sqlalchemy as sa
import fieldsvc.db


revision = '3c1e8a9d2b47'
down_revision = '11e11c6ae165'
branch_labels = None
depends_on = None

_ACTIVE = ("psp", "contractor", "region", "merchant", "contract")


def upgrade():
    op.create_table(
        'contract_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=False),
        sa.Column('preset', sa.String(length=32), nullable=False),
        sa.Column('pm_interval_days', sa.Integer(), nullable=False),
        sa.Column('pm_tolerance_days', sa.Integer(), nullable=False),
        sa.Column('pm_intervals', sa.JSON(), nullable=False),
        sa.Column('em_targets', sa.JSON(), nullable=False),
        sa.Column('install_deadline_hours', sa.Integer(), nullable=False),
        sa.Column('calendar', sa.JSON(), nullable=False),
        sa.Column('penalty_terms', sa.JSON(), nullable=False),
        sa.Column('geofence_m', sa.Integer(), nullable=False),
        sa.Column('require_confirmation_code', sa.Boolean(), nullable=False),
        sa.Column('auto_close_days', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['contract_id'], ['contract.id'],
                                name=op.f('fk_contract_version_contract_id_contract')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_contract_version_created_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_version')),
        sa.UniqueConstraint('contract_id', 'effective_from', name=op.f('uq_contract_version_contract_id_effective_from')),
    )
    with op.batch_alter_table('contract_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_version_contract_id'), ['contract_id'], unique=False)
    for table in _ACTIVE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('active', server_default=None)
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), nullable=False, server_default='uc'))
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.alter_column('kind', server_default=None)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('must_change_password', server_default=None)
    op.execute(
        "INSERT INTO contract_version (contract_id, number, effective_from, preset, pm_interval_days, "
        "pm_tolerance_days, pm_intervals, em_targets, install_deadline_hours, calendar, penalty_terms, "
        "geofence_m, require_confirmation_code, auto_close_days, note, created_at) "
        "SELECT id, 1, valid_from, '', pm_interval_days, pm_tolerance_days, '{}', em_targets, "
        "install_deadline_hours, calendar, penalty_terms, geofence_m, require_confirmation_code, "
        "auto_close_days, '', created_at FROM contract")


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_column('kind')
    for table in reversed(_ACTIVE):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('active')
    with op.batch_alter_table('contract_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_version_contract_id'))
    op.drop_table('contract_version')
