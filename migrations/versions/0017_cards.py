"""cards: saved cards (tenant-owned, private like bank accounts); the sandbox gateway's books
(charges and refunds it made, once per idempotency key); Stripe webhook events handled once

Revision ID: 0017_cards
Revises: 0016_payment_terms
Create Date: 2026-12-03 07:38:44.531008

"""
from alembic import op
import sqlalchemy as sa

import shared.clock
from migrations.rls import disable_tenant_rls, enable_tenant_rls


# revision identifiers, used by Alembic.
revision = '0017_cards'
down_revision = '0016_payment_terms'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('portal_user_id', sa.Integer(), nullable=False, comment='The portal user who saved it.'),
    sa.Column('brand', sa.String(length=20), nullable=False),
    sa.Column('funding', sa.Enum('credit', 'debit', 'prepaid', 'unknown', name='saved_card_funding', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('exp_month', sa.Integer(), nullable=False),
    sa.Column('exp_year', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False, comment='Which gateway holds the reference.'),
    sa.Column('gateway_reference', sa.String(length=500), nullable=False, comment="The gateway's reusable reference (card_…, pm_…); not a number."),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('removed_at', shared.clock.UTCDateTime(), nullable=True, comment='Removed cards stay, so past payments still name them.'),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.CheckConstraint('exp_month BETWEEN 1 AND 12', name=op.f('ck_saved_cards_exp_month_a_month')),
    sa.CheckConstraint('length(last4) = 4', name=op.f('ck_saved_cards_last4_four_digits')),
    sa.ForeignKeyConstraint(['tenant_id', 'customer_id'], ['customers.tenant_id', 'customers.id'], name=op.f('fk_saved_cards_tenant_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'portal_user_id'], ['portal_users.tenant_id', 'portal_users.id'], name=op.f('fk_saved_cards_tenant_id_portal_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_saved_cards_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_cards')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_saved_cards_tenant_id_id'))
    )
    with op.batch_alter_table('saved_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_cards_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_saved_cards_tenant_id_customer_id', ['tenant_id', 'customer_id'], unique=False)
    enable_tenant_rls('saved_cards')
    op.create_table('stripe_webhook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False, comment="Stripe's evt_…"),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('received_at', shared.clock.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_webhook_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_stripe_webhook_events_event_id'))
    )
    op.create_table('sandbox_charges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False, comment='sha256 of source and amount: the same key with others is refused.'),
    sa.Column('reference', sa.String(length=40), nullable=False, comment='ch_sandbox_…'),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('decline_code', sa.String(length=40), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('refunded_cents', sa.BigInteger(), nullable=False),
    sa.Column('brand', sa.String(length=20), nullable=False),
    sa.Column('funding', sa.String(length=20), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_sandbox_charges_amount_positive')),
    sa.CheckConstraint('refunded_cents <= amount_cents', name=op.f('ck_sandbox_charges_refund_at_most_amount')),
    sa.CheckConstraint('refunded_cents >= 0', name=op.f('ck_sandbox_charges_refunded_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_charges')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_sandbox_charges_idempotency_key')),
    sa.UniqueConstraint('reference', name=op.f('uq_sandbox_charges_reference'))
    )
    op.create_table('sandbox_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False, comment='re_sandbox_…'),
    sa.Column('charge_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_sandbox_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['charge_id'], ['sandbox_charges.id'], name=op.f('fk_sandbox_refunds_charge_id_sandbox_charges'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_refunds')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_sandbox_refunds_idempotency_key')),
    sa.UniqueConstraint('reference', name=op.f('uq_sandbox_refunds_reference'))
    )
    with op.batch_alter_table('sandbox_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_refunds_charge_id'), ['charge_id'], unique=False)



def downgrade():
    with op.batch_alter_table('saved_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_saved_cards_tenant_id_customer_id')
        batch_op.drop_index(batch_op.f('ix_saved_cards_tenant_id'))
    disable_tenant_rls('saved_cards')
    op.drop_table('saved_cards')
    op.drop_table('stripe_webhook_events')
    with op.batch_alter_table('sandbox_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_refunds_charge_id'))

    op.drop_table('sandbox_refunds')
    op.drop_table('sandbox_charges')
