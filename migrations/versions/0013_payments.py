"""payment ledger: payments, allocations, status history, journal; the invoice's scheduled,
processing and settled money kept apart

Revision ID: 0013_payments
Revises: 0012_mail_reply_to
Create Date: 2026-12-02 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import shared.clock
from migrations.rls import disable_tenant_rls, enable_tenant_rls


# revision identifiers, used by Alembic.
revision = '0013_payments'
down_revision = '0012_mail_reply_to'
branch_labels = None
depends_on = None

TABLES = ('payments', 'payment_allocations', 'payment_status_changes', 'journal_entries')


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


STATUSES = ('scheduled', 'processing', 'succeeded', 'failed', 'cancelled', 'returned')


def _tenant_fk(table, column, referred, ondelete='RESTRICT'):
    return sa.ForeignKeyConstraint(
        ['tenant_id', column], [f'{referred}.tenant_id', f'{referred}.id'],
        name=op.f(f'fk_{table}_tenant_id_{referred}'), ondelete=ondelete,
    )


def _tenant_cols():
    return [
        sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    ]


def upgrade():
    # The invoice's money: until now paid_cents counted scheduled money too; no payment has been
    # made through the portal yet, so what it holds stays as settled money.
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_cents', sa.BigInteger(), nullable=False, server_default='0', comment='Allocated by payments not yet executed.'))
        batch_op.add_column(sa.Column('processing_cents', sa.BigInteger(), nullable=False, server_default='0', comment='Allocated by payments submitted and not settled (ACH).'))
        batch_op.alter_column('paid_cents', existing_type=sa.BigInteger(), comment='Settled: allocated by succeeded payments, less refunds.', existing_nullable=False)
        batch_op.drop_constraint('never_overpaid', type_='check')
        batch_op.create_check_constraint('scheduled_not_negative', 'scheduled_cents >= 0')
        batch_op.create_check_constraint('processing_not_negative', 'processing_cents >= 0')
        batch_op.create_check_constraint('never_overpaid', 'scheduled_cents + processing_cents + paid_cents <= total_cents + late_fee_cents')
        batch_op.drop_constraint('invoice_status', type_='check')
        batch_op.create_check_constraint('invoice_status', "status IN ('draft', 'open', 'partially_paid', 'payment_scheduled', 'payment_processing', 'paid', 'void')")
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.alter_column('scheduled_cents', server_default=None)
        batch_op.alter_column('processing_cents', server_default=None)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('method', _enum('payment_method', 'ach', 'card'), nullable=False),
    sa.Column('card_brand', sa.String(length=20), nullable=False),
    sa.Column('card_funding', _enum('card_funding', 'credit', 'debit', 'prepaid', 'unknown'), nullable=True),
    sa.Column('card_last4', sa.String(length=4), nullable=False),
    sa.Column('bank_account_id', sa.Integer(), nullable=True, comment='The bank account paid from (its foreign key comes with the bank accounts table).'),
    sa.Column('saved_card_id', sa.Integer(), nullable=True, comment='The saved card charged (its foreign key comes with the saved cards table).'),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False, comment='Sum of the allocations.'),
    sa.Column('fee_cents', sa.BigInteger(), nullable=False),
    sa.Column('total_cents', sa.BigInteger(), nullable=False, comment='Charged: amount plus fee.'),
    sa.Column('pay_on', sa.Date(), nullable=False),
    sa.Column('status', _enum('payment_status', *STATUSES), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('made_by_kind', _enum('payment_made_by', 'payer', 'guest', 'staff', 'api_key', 'autopay'), nullable=False),
    sa.Column('made_by_id', sa.Integer(), nullable=True),
    sa.Column('made_by_label', sa.String(length=254), nullable=False),
    sa.Column('receipt_email', sa.String(length=254), nullable=False),
    sa.Column('gateway_reference', sa.String(length=255), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    *_tenant_cols(),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_payments_amount_positive')),
    sa.CheckConstraint('fee_cents >= 0', name=op.f('ck_payments_fee_not_negative')),
    sa.CheckConstraint('total_cents = amount_cents + fee_cents', name=op.f('ck_payments_total_is_amount_plus_fee')),
    sa.CheckConstraint("method = 'card' OR fee_cents = 0", name=op.f('ck_payments_fee_only_on_cards')),
    sa.CheckConstraint("card_last4 = '' OR length(card_last4) = 4", name=op.f('ck_payments_card_last4_four_digits')),
    _tenant_fk('payments', 'customer_id', 'customers'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_payments_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name=op.f('uq_payments_tenant_id_idempotency_key')),
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_payments_tenant_id_customer_id', ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_payments_tenant_id_status_pay_on', ['tenant_id', 'status', 'pay_on'], unique=False)

    op.create_table('payment_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('refunded_cents', sa.BigInteger(), nullable=False, comment='Refunded so far (the journal holds each refund).'),
    *_tenant_cols(),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_payment_allocations_amount_positive')),
    sa.CheckConstraint('refunded_cents >= 0', name=op.f('ck_payment_allocations_refunded_not_negative')),
    sa.CheckConstraint('refunded_cents <= amount_cents', name=op.f('ck_payment_allocations_refund_at_most_amount')),
    _tenant_fk('payment_allocations', 'payment_id', 'payments'),
    _tenant_fk('payment_allocations', 'invoice_id', 'invoices'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payment_allocations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocations')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_payment_allocations_tenant_id_id')),
    sa.UniqueConstraint('payment_id', 'invoice_id', name=op.f('uq_payment_allocations_payment_id_invoice_id')),
    )
    with op.batch_alter_table('payment_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_allocations_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_payment_allocations_tenant_id_invoice_id', ['tenant_id', 'invoice_id'], unique=False)

    op.create_table('payment_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('from_status', _enum('payment_status_from', *STATUSES), nullable=True),
    sa.Column('to_status', _enum('payment_status_to', *STATUSES), nullable=False),
    sa.Column('at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('actor_kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('cause', sa.Text(), nullable=False),
    *_tenant_cols(),
    _tenant_fk('payment_status_changes', 'payment_id', 'payments'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payment_status_changes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_status_changes')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_payment_status_changes_tenant_id_id')),
    )
    with op.batch_alter_table('payment_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_status_changes_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_payment_status_changes_tenant_id_payment_id', ['tenant_id', 'payment_id'], unique=False)

    op.create_table('journal_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.String(length=32), nullable=False, comment='Groups the entries of one movement; they sum to zero.'),
    sa.Column('account', _enum('journal_account', 'receivable', 'payer_funds', 'fees'), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False, comment='Signed; never zero.'),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True, comment='The entry this one reverses.'),
    sa.Column('memo', sa.String(length=200), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    *_tenant_cols(),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_journal_entries_amount_not_zero')),
    _tenant_fk('journal_entries', 'payment_id', 'payments'),
    _tenant_fk('journal_entries', 'invoice_id', 'invoices'),
    _tenant_fk('journal_entries', 'reverses_id', 'journal_entries'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_journal_entries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entries')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_journal_entries_tenant_id_id')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_journal_entries_reverses_id')),
    )
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_entries_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_journal_entries_tenant_id_transaction_id', ['tenant_id', 'transaction_id'], unique=False)
        batch_op.create_index('ix_journal_entries_tenant_id_payment_id', ['tenant_id', 'payment_id'], unique=False)

    for table in TABLES:
        enable_tenant_rls(table)


def downgrade():
    for table in reversed(TABLES):
        disable_tenant_rls(table)
        op.drop_table(table)
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint('never_overpaid', type_='check')
        batch_op.drop_constraint('processing_not_negative', type_='check')
        batch_op.drop_constraint('scheduled_not_negative', type_='check')
        batch_op.drop_column('processing_cents')
        batch_op.drop_column('scheduled_cents')
        batch_op.create_check_constraint('never_overpaid', 'paid_cents <= total_cents + late_fee_cents')
        batch_op.drop_constraint('invoice_status', type_='check')
        batch_op.create_check_constraint('invoice_status', "status IN ('draft', 'open', 'partially_paid', 'paid', 'void')")
