"""bank account settings: payments name their bank account (a composite key), a removed colleague
leaves the accounts they added; the vendor's state (surcharge law) and ACH Terms of Service

Revision ID: 0018_bank_settings
Revises: 0016_payment_terms
Create Date: 2026-12-03 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_bank_settings'
down_revision = '0017_cards'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_state', sa.String(length=2), nullable=False, server_default='', comment='Two-letter US state the business is based in (surcharge law), or empty.'))
        batch_op.add_column(sa.Column('ach_terms_en', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('ach_terms_es', sa.Text(), nullable=False, server_default=''))

    # A colleague taken off a business account used to take the bank accounts they added with
    # them (ON DELETE CASCADE); payments now name those accounts, so they stay, with no adder.
    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_bank_accounts_tenant_id_portal_users', type_='foreignkey')
        batch_op.alter_column('portal_user_id', existing_type=sa.Integer(), nullable=True, comment="The portal user who added it; NULL once that person is off the account.", existing_comment='The portal user who added it.')
        batch_op.create_foreign_key(op.f('fk_bank_accounts_portal_user_id_portal_users'), 'portal_users', ['portal_user_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key('fk_bank_accounts_portal_user_id_same_tenant', 'portal_users', ['tenant_id', 'portal_user_id'], ['tenant_id', 'id'])

    # Bank accounts are removed softly (removed_at), never deleted while a payment names them.
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.alter_column('bank_account_id', existing_type=sa.Integer(), comment='The bank account paid from.', existing_comment='The bank account paid from (its foreign key comes with the bank accounts table).', existing_nullable=True)
        batch_op.create_foreign_key(op.f('fk_payments_tenant_id_bank_accounts'), 'bank_accounts', ['tenant_id', 'bank_account_id'], ['tenant_id', 'id'], ondelete='RESTRICT')
        batch_op.create_index('ix_payments_tenant_id_bank_account_id', ['tenant_id', 'bank_account_id'], unique=False)


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_tenant_id_bank_account_id')
        batch_op.drop_constraint(op.f('fk_payments_tenant_id_bank_accounts'), type_='foreignkey')
        batch_op.alter_column('bank_account_id', existing_type=sa.Integer(), comment='The bank account paid from (its foreign key comes with the bank accounts table).', existing_comment='The bank account paid from.', existing_nullable=True)

    # Accounts whose adder is gone cannot go back to a NOT NULL adder: they go with the downgrade.
    op.execute('DELETE FROM bank_accounts WHERE portal_user_id IS NULL')
    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_bank_accounts_portal_user_id_same_tenant', type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_bank_accounts_portal_user_id_portal_users'), type_='foreignkey')
        batch_op.alter_column('portal_user_id', existing_type=sa.Integer(), nullable=False, comment='The portal user who added it.', existing_comment="The portal user who added it; NULL once that person is off the account.")
        batch_op.create_foreign_key(op.f('fk_bank_accounts_tenant_id_portal_users'), 'portal_users', ['tenant_id', 'portal_user_id'], ['tenant_id', 'id'], ondelete='CASCADE')

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('ach_terms_es')
        batch_op.drop_column('ach_terms_en')
        batch_op.drop_column('business_state')
