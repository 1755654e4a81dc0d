"""outbox: a message can wait to be rendered by the mail job (render_later, render_ref)

A job that completes thousands of payments queues each receipt as a row naming what to render
(the renderer and the payment's id) instead of rendering three templates per payment inside its
batch; the mail job renders it, then it is delivered like any other message.

Revision ID: 0026_outbox_render_later
Revises: 0025_ach_represent
"""
from alembic import op
import sqlalchemy as sa


revision = '0026_outbox_render_later'
down_revision = '0025_ach_represent'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column(
            'render_later', sa.String(length=60), nullable=True,
            comment='The renderer the mail job must run before the message can be sent.',
        ))
        batch.add_column(sa.Column(
            'render_ref', sa.BigInteger(), nullable=True,
            comment="What the renderer renders (a payment's id)."
        ))
    op.create_index(
        'ix_outbox_messages_tenant_id_render_later', 'outbox_messages',
        ['tenant_id', 'id'], postgresql_where=sa.text('render_later IS NOT NULL'),
        sqlite_where=sa.text('render_later IS NOT NULL'),
    )


def downgrade():
    op.drop_index('ix_outbox_messages_tenant_id_render_later', table_name='outbox_messages')
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_column('render_ref')
        batch.drop_column('render_later')
