"""payments name their saved card with a composite tenant key; a colleague taken off an account
leaves the cards they saved (payments name them); a guest's bank account is single use

Like bank accounts in 0018: `payments (tenant_id, saved_card_id)` → `saved_cards (tenant_id, id)`,
ON DELETE RESTRICT (cards are only ever soft-removed), and the saver's key turns from ON DELETE
CASCADE (which would now be refused for a card a payment names) into SET NULL plus a same-tenant
key. `bank_accounts.single_use` marks the account a guest types in the pay flow for one payment.

Revision ID: 0024_saved_card_fk
Revises: 0023_late_fees_reminders
"""
from alembic import op
import sqlalchemy as sa


revision = '0024_saved_card_fk'
down_revision = '0023_late_fees_reminders'
branch_labels = None
depends_on = None


def upgrade():
    # A reference that names no card of the payment's own tenant cannot stay under the new key.
    op.execute(
        'UPDATE payments SET saved_card_id = NULL WHERE saved_card_id IS NOT NULL AND NOT EXISTS '
        '(SELECT 1 FROM saved_cards WHERE saved_cards.id = payments.saved_card_id '
        'AND saved_cards.tenant_id = payments.tenant_id)'
    )
    with op.batch_alter_table('saved_cards', schema=None) as batch_op:
        batch_op.drop_constraint('fk_saved_cards_tenant_id_portal_users', type_='foreignkey')
        batch_op.alter_column('portal_user_id', existing_type=sa.Integer(), nullable=True, comment='The portal user who saved it; NULL once that person is off the account.', existing_comment='The portal user who saved it.')
        batch_op.create_foreign_key(op.f('fk_saved_cards_portal_user_id_portal_users'), 'portal_users', ['portal_user_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key('fk_saved_cards_portal_user_id_same_tenant', 'portal_users', ['tenant_id', 'portal_user_id'], ['tenant_id', 'id'])

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.alter_column('saved_card_id', existing_type=sa.Integer(), comment='The saved card charged.', existing_comment='The saved card charged (its foreign key comes with the saved cards table).', existing_nullable=True)
        batch_op.create_foreign_key(op.f('fk_payments_tenant_id_saved_cards'), 'saved_cards', ['tenant_id', 'saved_card_id'], ['tenant_id', 'id'], ondelete='RESTRICT')
        batch_op.create_index('ix_payments_tenant_id_saved_card_id', ['tenant_id', 'saved_card_id'], unique=False)

    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('single_use', sa.Boolean(), nullable=False, server_default=sa.false(), comment="A guest's account for one payment: private, nobody's, never offered again."))


def downgrade():
    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.drop_column('single_use')

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_tenant_id_saved_card_id')
        batch_op.drop_constraint(op.f('fk_payments_tenant_id_saved_cards'), type_='foreignkey')
        batch_op.alter_column('saved_card_id', existing_type=sa.Integer(), comment='The saved card charged (its foreign key comes with the saved cards table).', existing_comment='The saved card charged.', existing_nullable=True)

    # Cards whose saver is gone cannot go back to a NOT NULL saver: they go with the downgrade.
    op.execute('UPDATE payments SET saved_card_id = NULL WHERE saved_card_id IN (SELECT id FROM saved_cards WHERE portal_user_id IS NULL)')
    op.execute('DELETE FROM saved_cards WHERE portal_user_id IS NULL')
    with op.batch_alter_table('saved_cards', schema=None) as batch_op:
        batch_op.drop_constraint('fk_saved_cards_portal_user_id_same_tenant', type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_saved_cards_portal_user_id_portal_users'), type_='foreignkey')
        batch_op.alter_column('portal_user_id', existing_type=sa.Integer(), nullable=False, comment='The portal user who saved it.', existing_comment='The portal user who saved it; NULL once that person is off the account.')
        batch_op.create_foreign_key(op.f('fk_saved_cards_tenant_id_portal_users'), 'portal_users', ['tenant_id', 'portal_user_id'], ['tenant_id', 'id'], ondelete='CASCADE')
