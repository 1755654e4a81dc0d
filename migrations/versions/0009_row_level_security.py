"""row-level security on the tenant-owned tables, and row access for the application's role

PostgreSQL only (a no-op on SQLite): each table with a tenant_id column shows and accepts only the
rows of the tenant the transaction names (see migrations/rls.py). The application's role
(DATABASE_APP_ROLE, or the user of DATABASE_URL when the migrations run on MIGRATION_DATABASE_URL)
gets SELECT/INSERT/UPDATE/DELETE on the tables and USAGE/SELECT on the sequences, now and for
tables made later.

Revision ID: 0009_row_level_security
Revises: 0008_time_zone
Create Date: 2026-12-02 13:30:00.000000

"""
from migrations.rls import disable_tenant_rls, enable_tenant_rls, grant_app_role, revoke_app_role


# revision identifiers, used by Alembic.
revision = '0009_row_level_security'
down_revision = '0008_time_zone'
branch_labels = None
depends_on = None

# Every table with a tenant_id column at this revision; later tenant tables enable it themselves.
TENANT_TABLES = [
    'api_keys', 'customers', 'faq_entries', 'invoice_lines', 'invoices', 'outbox_attachments',
    'outbox_messages', 'portal_accounts', 'portal_invitations', 'portal_users',
    'staff_invitations', 'staff_users', 'support_replies', 'support_requests', 'tenant_domains',
    'tenant_sequences', 'tenant_slug_redirects',
]


def upgrade():
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    grant_app_role()


def downgrade():
    revoke_app_role()
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
