"""mail goes out as the vendor, with replies to its support address

Revision ID: 0012_mail_reply_to
Revises: 0011_same_tenant_keys
Create Date: 2026-12-02 14:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_mail_reply_to'
down_revision = '0011_same_tenant_keys'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to', sa.String(length=254), server_default='', nullable=False, comment="The vendor's support address, if set."))
        batch_op.alter_column('from_address', existing_type=sa.String(length=254), existing_nullable=False, comment="The vendor's name with our sending address (the white label).")


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('from_address', existing_type=sa.String(length=254), existing_nullable=False, comment=None)
        batch_op.drop_column('reply_to')
