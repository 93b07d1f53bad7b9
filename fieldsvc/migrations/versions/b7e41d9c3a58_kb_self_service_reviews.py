"""knowledge base, merchant self-service (comments, per-factor feedback), daily reviews, reopen days

Revision ID: b7e41d9c3a58
Revises: 9e4b7d21a6c3
Create Date: 2026-11-30 21:30:00

"""
from alembic import op
import sqlalchemy as sa
import fieldsvc.db


# revision identifiers, used by Alembic.
revision = 'b7e41d9c3a58'
down_revision = '9e4b7d21a6c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reopen_days', sa.Integer(), nullable=False, server_default='7'))
    with op.batch_alter_table('contract_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reopen_days', sa.Integer(), nullable=False, server_default='7'))
    op.create_table('kb_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('psp_id', sa.Integer(), nullable=True),
    sa.Column('title_fa', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('steps_fa', sa.Text(), nullable=False),
    sa.Column('steps_en', sa.Text(), nullable=False),
    sa.Column('symptom_codes', sa.JSON(), nullable=False),
    sa.Column('terminal_models', sa.JSON(), nullable=False),
    sa.Column('search_title', sa.Text(), nullable=False),
    sa.Column('search_body', sa.Text(), nullable=False),
    sa.Column('source_call_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_kb_article_created_by_id_user')),
    sa.ForeignKeyConstraint(['psp_id'], ['psp.id'], name=op.f('fk_kb_article_psp_id_psp')),
    sa.ForeignKeyConstraint(['source_call_id'], ['service_call.id'], name=op.f('fk_kb_article_source_call_id_service_call')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_kb_article_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article')),
    sa.UniqueConstraint('source_call_id', name=op.f('uq_kb_article_source_call_id'))
    )
    with op.batch_alter_table('kb_article', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_article_psp_id'), ['psp_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # the full-text search of fieldsvc.visits.desk.kb: same expression, so the planner can use it
        op.execute("CREATE INDEX ix_kb_article_fts ON kb_article USING gin "
                   "((setweight(to_tsvector('simple', search_title), 'A') || "
                   "setweight(to_tsvector('simple', search_body), 'D')))")

    op.create_table('kb_article_use',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('emailed_to', sa.String(length=200), nullable=False),
    sa.Column('emailed_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sms_to', sa.String(length=32), nullable=False),
    sa.Column('sms_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=True),
    sa.Column('outcome_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_article.id'], name=op.f('fk_kb_article_use_article_id_kb_article')),
    sa.ForeignKeyConstraint(['call_id'], ['service_call.id'], name=op.f('fk_kb_article_use_call_id_service_call')),
    sa.ForeignKeyConstraint(['outcome_by_id'], ['user.id'], name=op.f('fk_kb_article_use_outcome_by_id_user')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user.id'], name=op.f('fk_kb_article_use_sent_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article_use')),
    sa.UniqueConstraint('article_id', 'call_id', name=op.f('uq_kb_article_use_article_id_call_id'))
    )
    with op.batch_alter_table('kb_article_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_article_use_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_article_use_call_id'), ['call_id'], unique=False)

    op.create_table('merchant_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photo_path', sa.String(length=300), nullable=True),
    sa.Column('created_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['service_call.id'], name=op.f('fk_merchant_comment_call_id_service_call'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_comment'))
    )
    with op.batch_alter_table('merchant_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_comment_call_id'), ['call_id'], unique=False)

    op.create_table('service_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('contractor_id', sa.Integer(), nullable=False),
    sa.Column('overall_score', sa.Integer(), nullable=False),
    sa.Column('speed_score', sa.Integer(), nullable=False),
    sa.Column('technician_score', sa.Integer(), nullable=False),
    sa.Column('quality_score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(call_id IS NULL) <> (visit_id IS NULL)', name=op.f('ck_service_feedback_one_service')),
    sa.ForeignKeyConstraint(['call_id'], ['service_call.id'], name=op.f('fk_service_feedback_call_id_service_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor.id'], name=op.f('fk_service_feedback_contractor_id_contractor')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_service_feedback_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_feedback')),
    sa.UniqueConstraint('call_id', name=op.f('uq_service_feedback_call_id')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_service_feedback_visit_id'))
    )
    with op.batch_alter_table('service_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_feedback_contractor_id'), ['contractor_id'], unique=False)

    op.create_table('service_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('contractor_id', sa.Integer(), nullable=False),
    sa.Column('psp_id', sa.Integer(), nullable=False),
    sa.Column('service_day', sa.Date(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', fieldsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(call_id IS NULL) <> (visit_id IS NULL)', name=op.f('ck_service_review_one_service')),
    sa.ForeignKeyConstraint(['call_id'], ['service_call.id'], name=op.f('fk_service_review_call_id_service_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor.id'], name=op.f('fk_service_review_contractor_id_contractor')),
    sa.ForeignKeyConstraint(['psp_id'], ['psp.id'], name=op.f('fk_service_review_psp_id_psp')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user.id'], name=op.f('fk_service_review_reviewer_id_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_service_review_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_review')),
    sa.UniqueConstraint('call_id', name=op.f('uq_service_review_call_id')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_service_review_visit_id'))
    )
    with op.batch_alter_table('service_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_review_contractor_id'), ['contractor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_review_psp_id'), ['psp_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_review_service_day'), ['service_day'], unique=False)


def downgrade():
    op.drop_table('service_review')
    op.drop_table('service_feedback')
    op.drop_table('merchant_comment')
    op.drop_table('kb_article_use')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_kb_article_fts")
    op.drop_table('kb_article')
    with op.batch_alter_table('contract_version', schema=None) as batch_op:
        batch_op.drop_column('reopen_days')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_column('reopen_days')
