"""each tenant's time zone: its business day and how times are shown to it

Revision ID: 0008_time_zone
Revises: 0006_tenant_keys
Create Date: 2026-12-02 08:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_time_zone'
down_revision = '0006_tenant_keys'
branch_labels = None
depends_on = None


def upgrade():
    # Kept as a server default: existing vendors (and rows written by older code) are in New York.
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False, server_default='America/New_York', comment='IANA time zone of the business: its today, and how times are shown to it.'))


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
