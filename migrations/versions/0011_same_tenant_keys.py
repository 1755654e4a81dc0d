"""composite keys for the references that are set to NULL: the same tenant, or nothing

Revision ID: 0011_same_tenant_keys
Revises: 0010_sign_in_sessions
Create Date: 2026-12-02 13:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011_same_tenant_keys'
down_revision = '0010_sign_in_sessions'
branch_labels = None
depends_on = None

# (table, column, referred table): the single-column ON DELETE SET NULL key stays and does the
# nulling; this NO ACTION key, checked at the end of the statement, refuses another tenant's row.
REFERENCES = [
    ('support_requests', 'customer_id', 'customers'),
    ('support_requests', 'portal_user_id', 'portal_users'),
    ('support_requests', 'closed_by_id', 'staff_users'),
    ('support_replies', 'staff_user_id', 'staff_users'),
    ('portal_invitations', 'invited_by_id', 'portal_users'),
    ('portal_invitations', 'accepted_user_id', 'portal_users'),
    ('staff_invitations', 'accepted_user_id', 'staff_users'),
    ('api_keys', 'created_by_id', 'staff_users'),
]


def upgrade():
    for table, column, referred in REFERENCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                f'fk_{table}_{column}_same_tenant', referred,
                ['tenant_id', column], ['tenant_id', 'id'],
            )


def downgrade():
    for table, column, _referred in reversed(REFERENCES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_{column}_same_tenant', type_='foreignkey')
