"""tenant keys: composite foreign keys (tenant_id, x_id) -> (tenant_id, id) between tenant tables

The database itself then refuses a row that points at another tenant's row. Each referenced table
gets UNIQUE (tenant_id, id) first, which is what a composite foreign key refers to. References that
are SET NULL on delete stay single-column for now: a composite SET NULL would null tenant_id too
(PostgreSQL 15 can name the column, SQLite cannot).

Revision ID: 0006_tenant_keys
Revises: 0005_portal_accounts
Create Date: 2026-12-02 09:47:00.294678

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006_tenant_keys'
down_revision = '0005_portal_accounts'
branch_labels = None
depends_on = None

REFERENCED = ['customers', 'invoices', 'outbox_messages', 'support_requests', 'staff_users']

# (table, column, referred table, ondelete)
REFERENCES = [
    ('invoices', 'customer_id', 'customers', 'RESTRICT'),
    ('invoice_lines', 'invoice_id', 'invoices', 'CASCADE'),
    ('outbox_attachments', 'message_id', 'outbox_messages', 'CASCADE'),
    ('support_replies', 'request_id', 'support_requests', 'CASCADE'),
    ('portal_accounts', 'customer_id', 'customers', 'CASCADE'),
    ('portal_users', 'customer_id', 'customers', 'CASCADE'),
    ('portal_invitations', 'customer_id', 'customers', 'CASCADE'),
    ('staff_invitations', 'invited_by_id', 'staff_users', 'CASCADE'),
]


def upgrade():
    for table in REFERENCED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_unique_constraint(f'uq_{table}_tenant_id_id', ['tenant_id', 'id'])
    for table, column, referred, ondelete in REFERENCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_{column}_{referred}', type_='foreignkey')
            batch_op.create_foreign_key(
                f'fk_{table}_tenant_id_{referred}', referred,
                ['tenant_id', column], ['tenant_id', 'id'], ondelete=ondelete,
            )


def downgrade():
    for table, column, referred, ondelete in REFERENCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_tenant_id_{referred}', type_='foreignkey')
            batch_op.create_foreign_key(
                f'fk_{table}_{column}_{referred}', referred, [column], ['id'], ondelete=ondelete,
            )
    for table in REFERENCED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'uq_{table}_tenant_id_id', type_='unique')
