"""refunds (a row per refund, lines per allocation, journal entries that carry the refund) and
stored answers for the API's Idempotency-Key

An entry used to be reversible once (UNIQUE reverses_id), which made a second partial refund of
one allocation impossible. Now a full reversal (cancel, failure, return) is still unique per entry
(a partial unique index where refund_id IS NULL), while refund entries reverse in parts; that the
parts never exceed the original is checked under the payment's row lock and by the allocation's
refunded_cents <= amount_cents.

Revision ID: 0019_refunds_idempotency
Revises: 0016_payment_terms
"""
from alembic import op
import sqlalchemy as sa

import shared.clock
from migrations.rls import disable_tenant_rls, enable_tenant_rls


revision = '0019_refunds_idempotency'
down_revision = '0018_bank_settings'
branch_labels = None
depends_on = None

TABLES = ('refunds', 'refund_lines', 'idempotency_records')


def _tenant_fk(table, column, referred, ondelete='RESTRICT'):
    return sa.ForeignKeyConstraint(
        ['tenant_id', column], [f'{referred}.tenant_id', f'{referred}.id'],
        name=op.f(f'fk_{table}_tenant_id_{referred}'), ondelete=ondelete,
    )


def _tenant(table):
    return [
        sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'), ondelete='CASCADE'),
    ]


def upgrade():
    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False, comment='Sum of the lines.'),
    sa.Column('fee_cents', sa.BigInteger(), nullable=False, comment='Card fee given back.'),
    sa.Column('total_cents', sa.BigInteger(), nullable=False, comment='Given back to the card.'),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('gateway_reference', sa.String(length=255), nullable=False),
    sa.Column('actor_kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    *_tenant('refunds'),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_refunds_amount_positive')),
    sa.CheckConstraint('fee_cents >= 0', name=op.f('ck_refunds_fee_not_negative')),
    sa.CheckConstraint('total_cents = amount_cents + fee_cents', name=op.f('ck_refunds_total_is_amount_plus_fee')),
    _tenant_fk('refunds', 'payment_id', 'payments'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_refunds_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name=op.f('uq_refunds_tenant_id_idempotency_key')),
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_refunds_tenant_id_payment_id', ['tenant_id', 'payment_id'], unique=False)

    op.create_table('refund_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=False),
    sa.Column('allocation_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    *_tenant('refund_lines'),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_refund_lines_amount_positive')),
    _tenant_fk('refund_lines', 'refund_id', 'refunds'),
    _tenant_fk('refund_lines', 'allocation_id', 'payment_allocations'),
    _tenant_fk('refund_lines', 'invoice_id', 'invoices'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_lines')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_refund_lines_tenant_id_id')),
    sa.UniqueConstraint('refund_id', 'allocation_id', name=op.f('uq_refund_lines_refund_id_allocation_id')),
    )
    with op.batch_alter_table('refund_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_lines_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_refund_lines_tenant_id_invoice_id', ['tenant_id', 'invoice_id'], unique=False)

    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_id', sa.Integer(), nullable=True, comment='The refund this entry belongs to (a partial reversal).'))
        batch_op.drop_constraint('uq_journal_entries_reverses_id', type_='unique')
        batch_op.create_foreign_key(
            op.f('fk_journal_entries_tenant_id_refunds'), 'refunds',
            ['tenant_id', 'refund_id'], ['tenant_id', 'id'], ondelete='RESTRICT',
        )
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.create_index(
            'uq_journal_entries_reverses_id_in_full', ['reverses_id'], unique=True,
            sqlite_where=sa.text('refund_id IS NULL'), postgresql_where=sa.text('refund_id IS NULL'),
        )

    op.create_table('idempotency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=False, comment='The API key that sent the key (its scope).'),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False, comment='SHA-256 of the method, path and body.'),
    sa.Column('status_code', sa.Integer(), nullable=True, comment='NULL while running.'),
    sa.Column('response_body', sa.Text(), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    *_tenant('idempotency_records'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_idempotency_records_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'api_key_id', 'key', name=op.f('uq_idempotency_records_tenant_id_api_key_id_key')),
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_idempotency_records_created_at', ['created_at'], unique=False)

    for table in TABLES:
        enable_tenant_rls(table)


def downgrade():
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    op.drop_table('idempotency_records')
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_journal_entries_reverses_id_in_full')
        batch_op.drop_constraint('fk_journal_entries_tenant_id_refunds', type_='foreignkey')
        batch_op.drop_column('refund_id')
        batch_op.create_unique_constraint('uq_journal_entries_reverses_id', ['reverses_id'])
    op.drop_table('refund_lines')
    op.drop_table('refunds')
