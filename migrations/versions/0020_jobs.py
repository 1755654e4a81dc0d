"""jobs: one execution row per scheduled card payment, claimed with a lease (owner, expiry from the
database clock, attempt), with a "needs reconciliation" state for a charge whose outcome is unknown;
the same lease on outbox messages, so two deliverers never send one email twice

Revision ID: 0020_jobs
Revises: 0019_refunds_idempotency
"""
from alembic import op
import sqlalchemy as sa

import shared.clock
from migrations.rls import disable_tenant_rls, enable_tenant_rls


revision = '0020_jobs'
down_revision = '0019_refunds_idempotency'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payment_executions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('due', 'charging', 'reconcile', 'succeeded', 'failed', 'skipped', name='payment_execution_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('charged_cents', sa.BigInteger(), nullable=True, comment='What was sent to the gateway (the payment\'s total when it was sent).'),
    sa.Column('outcome', sa.String(length=200), nullable=False, comment="The decline code, the skip's reason, the gateway's note."),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('finished_at', shared.clock.UTCDateTime(), nullable=True),
    sa.Column('lease_owner', sa.String(length=100), nullable=True, comment='The worker holding the row (host:pid:random), while it does.'),
    sa.Column('lease_expires_at', shared.clock.UTCDateTime(), nullable=True, comment='From the database clock; past it, another worker may claim the row.'),
    sa.Column('attempt', sa.Integer(), server_default='0', nullable=False, comment='Claims so far; an outcome names the one it ends.'),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.ForeignKeyConstraint(['tenant_id', 'payment_id'], ['payments.tenant_id', 'payments.id'], name=op.f('fk_payment_executions_tenant_id_payments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payment_executions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_executions')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_payment_executions_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'payment_id', name=op.f('uq_payment_executions_tenant_id_payment_id')),
    )
    with op.batch_alter_table('payment_executions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_executions_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_payment_executions_tenant_id_state_id', ['tenant_id', 'state', 'id'], unique=False)
    enable_tenant_rls('payment_executions')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=100), nullable=True, comment='The worker holding the row (host:pid:random), while it does.'))
        batch_op.add_column(sa.Column('lease_expires_at', shared.clock.UTCDateTime(), nullable=True, comment='From the database clock; past it, another worker may claim the row.'))
        batch_op.add_column(sa.Column('attempt', sa.Integer(), server_default='0', nullable=False, comment='Claims so far; an outcome names the one it ends.'))
        batch_op.create_index('ix_outbox_messages_tenant_id_status_id', ['tenant_id', 'status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_tenant_id_status_id')
        batch_op.drop_column('attempt')
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('lease_owner')
    disable_tenant_rls('payment_executions')
    op.drop_table('payment_executions')
