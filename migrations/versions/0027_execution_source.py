"""payment_executions: the gateway source a charge was sent with (source)

The portal charges a one-time card (a token, not a saved card) at once. When the gateway gives no
answer, the charge goes to reconciliation, and the reconciler must ask again with the very source
that was charged: the payment has no saved card to find it by.

Revision ID: 0027_execution_source
Revises: 0026_outbox_render_later
"""
from alembic import op
import sqlalchemy as sa


revision = '0027_execution_source'
down_revision = '0026_outbox_render_later'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment_executions') as batch:
        batch.add_column(sa.Column(
            'source', sa.Text(), nullable=False, server_default='',
            comment="The gateway source charged when it is not the payment's saved card "
            "(a one-time card's token); '' for a saved card.",
        ))


def downgrade():
    with op.batch_alter_table('payment_executions') as batch:
        batch.drop_column('source')
