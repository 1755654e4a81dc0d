"""ACH re-presentments: a debit returned R01/R09 presented again as a new payment, at most twice

The unique key (tenant, original payment, presentment) is what makes a return file imported twice,
or by two processes, re-present a debit once (shared.ach.represent).

Revision ID: 0025_ach_represent
Revises: 0024_saved_card_fk
"""
from alembic import op
import sqlalchemy as sa

import shared.clock
from migrations.rls import disable_tenant_rls, enable_tenant_rls


revision = '0025_ach_represent'
down_revision = '0024_saved_card_fk'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ach_representments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('original_payment_id', sa.Integer(), nullable=False, comment="The first presentment's payment."),
    sa.Column('presentment', sa.Integer(), nullable=False, comment='2 or 3: which presentment this payment is.'),
    sa.Column('payment_id', sa.Integer(), nullable=False, comment='The new payment, marked RETRY PYMT.'),
    sa.Column('return_code', sa.String(length=3), nullable=False, comment='The R-code of the return that caused it (R01 or R09).'),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.CheckConstraint('presentment >= 2 AND presentment <= 3', name=op.f('ck_ach_representments_presentment_range')),
    sa.CheckConstraint('payment_id <> original_payment_id', name=op.f('ck_ach_representments_not_itself')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ach_representments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'original_payment_id'], ['payments.tenant_id', 'payments.id'], name='fk_ach_representments_original_payment_id_payments', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'payment_id'], ['payments.tenant_id', 'payments.id'], name='fk_ach_representments_payment_id_payments', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ach_representments')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_ach_representments_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'original_payment_id', 'presentment', name=op.f('uq_ach_representments_tenant_id_original_payment_id_presentment')),
    sa.UniqueConstraint('tenant_id', 'payment_id', name=op.f('uq_ach_representments_tenant_id_payment_id')),
    )
    with op.batch_alter_table('ach_representments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ach_representments_tenant_id'), ['tenant_id'], unique=False)

    enable_tenant_rls('ach_representments')


def downgrade():
    disable_tenant_rls('ach_representments')
    op.drop_table('ach_representments')
