"""AutoPay: a customer's enrolment (maximum per invoice in cents, bank account, banking days
before or after the due date, who set it and when), and one item per invoice and due date that
makes the sweep act exactly once (unique (tenant_id, invoice_id, due_date), insert-if-absent)

Revision ID: 0022_autopay
Revises: 0019_refunds_idempotency
Create Date: 2026-12-03 15:04:22.377595

"""
from alembic import op
import sqlalchemy as sa

import shared.clock
from migrations.rls import disable_tenant_rls, enable_tenant_rls


# revision identifiers, used by Alembic.
revision = '0022_autopay'
down_revision = '0021_ach'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('autopay_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('max_amount_cents', sa.BigInteger(), nullable=False, comment='Withdrawn at most per invoice; an invoice above it is paid by hand.'),
    sa.Column('bank_account_id', sa.Integer(), nullable=True, comment='The bank account paid from.'),
    sa.Column('offset_days', sa.Integer(), nullable=False, comment='Banking days before or after the due date.'),
    sa.Column('direction', sa.Enum('before', 'after', name='autopay_direction', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True, comment='The portal user who last saved it; NULL once that person is off the account.'),
    sa.Column('set_by_label', sa.String(length=254), nullable=False),
    sa.Column('set_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('stopped_reason', sa.String(length=60), nullable=False, comment="Why AutoPay stopped by itself (bank account gone), or ''."),
    sa.Column('stopped_at', shared.clock.UTCDateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.CheckConstraint('NOT enabled OR bank_account_id IS NOT NULL', name=op.f('ck_autopay_settings_enabled_has_account')),
    sa.CheckConstraint('max_amount_cents > 0 AND max_amount_cents <= 1000000000000', name=op.f('ck_autopay_settings_max_amount_range')),
    sa.CheckConstraint('offset_days >= 0 AND offset_days <= 30', name=op.f('ck_autopay_settings_offset_days_range')),
    sa.ForeignKeyConstraint(['set_by_id'], ['portal_users.id'], name=op.f('fk_autopay_settings_set_by_id_portal_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'bank_account_id'], ['bank_accounts.tenant_id', 'bank_accounts.id'], name=op.f('fk_autopay_settings_tenant_id_bank_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'customer_id'], ['customers.tenant_id', 'customers.id'], name=op.f('fk_autopay_settings_tenant_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'set_by_id'], ['portal_users.tenant_id', 'portal_users.id'], name='fk_autopay_settings_set_by_id_same_tenant'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_autopay_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_autopay_settings')),
    sa.UniqueConstraint('tenant_id', 'customer_id', name=op.f('uq_autopay_settings_tenant_id_customer_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_autopay_settings_tenant_id_id'))
    )
    with op.batch_alter_table('autopay_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_autopay_settings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('autopay_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False, comment="The invoice's due date it was made for."),
    sa.Column('status', sa.Enum('pending', 'scheduled', 'over_maximum', 'skipped', 'cancelled', 'stopped', name='autopay_item_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True, comment='The latest AutoPay payment made.'),
    sa.Column('attempts', sa.Integer(), nullable=False, comment='Payments made for it so far (each with its own idempotency key).'),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False, comment='Scheduled, or the balance found above the maximum.'),
    sa.Column('pay_on', sa.Date(), nullable=True),
    sa.Column('notice_sent_at', shared.clock.UTCDateTime(), nullable=True, comment='When the payer was told of the coming withdrawal (once a payment).'),
    sa.Column('told_over_maximum_at', shared.clock.UTCDateTime(), nullable=True),
    sa.Column('skipped_by_label', sa.String(length=254), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('updated_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_autopay_items_amount_not_negative')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_autopay_items_attempts_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'customer_id'], ['customers.tenant_id', 'customers.id'], name=op.f('fk_autopay_items_tenant_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'invoice_id'], ['invoices.tenant_id', 'invoices.id'], name=op.f('fk_autopay_items_tenant_id_invoices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'payment_id'], ['payments.tenant_id', 'payments.id'], name=op.f('fk_autopay_items_tenant_id_payments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_autopay_items_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_autopay_items')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_autopay_items_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'invoice_id', 'due_date', name=op.f('uq_autopay_items_tenant_id_invoice_id_due_date')),
    sa.UniqueConstraint('tenant_id', 'payment_id', name=op.f('uq_autopay_items_tenant_id_payment_id'))
    )
    with op.batch_alter_table('autopay_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_autopay_items_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_autopay_items_tenant_id_customer_id', ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_autopay_items_tenant_id_status', ['tenant_id', 'status'], unique=False)

    enable_tenant_rls('autopay_settings')
    enable_tenant_rls('autopay_items')


def downgrade():
    disable_tenant_rls('autopay_items')
    disable_tenant_rls('autopay_settings')
    with op.batch_alter_table('autopay_items', schema=None) as batch_op:
        batch_op.drop_index('ix_autopay_items_tenant_id_status')
        batch_op.drop_index('ix_autopay_items_tenant_id_customer_id')
        batch_op.drop_index(batch_op.f('ix_autopay_items_tenant_id'))

    op.drop_table('autopay_items')
    with op.batch_alter_table('autopay_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_autopay_settings_tenant_id'))

    op.drop_table('autopay_settings')
