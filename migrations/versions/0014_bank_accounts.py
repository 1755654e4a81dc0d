"""bank accounts a payer adds for ACH; account numbers encrypted at rest

Revision ID: 0014_bank_accounts
Revises: 0012_mail_reply_to
Create Date: 2026-12-02 21:05:00.000000

"""
from alembic import op
import sqlalchemy as sa

import shared.clock
from migrations.rls import disable_tenant_rls, enable_tenant_rls


# revision identifiers, used by Alembic.
revision = '0014_bank_accounts'
down_revision = "0013_payments"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bank_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('portal_user_id', sa.Integer(), nullable=False, comment='The portal user who added it.'),
    sa.Column('holder_name', sa.String(length=120), nullable=False),
    sa.Column('routing_number', sa.String(length=9), nullable=False),
    sa.Column('account_number_encrypted', sa.Text(), nullable=False, comment='Fernet token (shared.encryption); never the number in clear.'),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('kind', sa.Enum('checking', 'savings', name='bank_account_kind', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('nickname', sa.String(length=60), nullable=False),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('terms_version', sa.String(length=64), nullable=False, comment='Which ToS text was accepted.'),
    sa.Column('terms_accepted_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('terms_ip', sa.String(length=45), nullable=False),
    sa.Column('terms_user_agent', sa.String(length=300), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('removed_at', shared.clock.UTCDateTime(), nullable=True, comment='Removed accounts stay, so past payments still name them.'),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.ForeignKeyConstraint(['tenant_id', 'customer_id'], ['customers.tenant_id', 'customers.id'], name=op.f('fk_bank_accounts_tenant_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'portal_user_id'], ['portal_users.tenant_id', 'portal_users.id'], name=op.f('fk_bank_accounts_tenant_id_portal_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_bank_accounts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_accounts')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_bank_accounts_tenant_id_id'))
    )
    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_bank_accounts_tenant_id_customer_id', ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_accounts_tenant_id'), ['tenant_id'], unique=False)
    enable_tenant_rls('bank_accounts')


def downgrade():
    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_accounts_tenant_id'))
        batch_op.drop_index('ix_bank_accounts_tenant_id_customer_id')
    disable_tenant_rls('bank_accounts')
    op.drop_table('bank_accounts')
