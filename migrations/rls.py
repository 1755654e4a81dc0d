"""Row-level security for migrations: the database's own wall between tenants (PostgreSQL only).

The application scopes every statement to the tenant in scope (`shared.tenancy`); this is the second
wall behind it. Each tenant-owned table gets a policy that shows and accepts only the rows of the
tenant the transaction names (`app.tenant_id`, set by `shared.tenancy` per transaction), or every
row when the statement said `all_tenants=True` (`app.all_tenants = 'on'`). With neither set a
query returns nothing and a write is refused.

RLS is enabled, not forced: the owner of the tables (who runs the migrations) is not bound by it,
so migrations can move data across tenants. The application must therefore connect as another
role, which the migrations grant row access to (`grant_app_role`). A migration that adds a
tenant-owned table calls `enable_tenant_rls("new_table")` in its upgrade and
`disable_tenant_rls("new_table")` in its downgrade; tests/test_row_level_security.py fails for a
tenant table without a policy.

Everything here is a no-op on SQLite.
"""

from __future__ import annotations

from alembic import op
from flask import current_app

POLICY = "tenant_isolation"

# NULLIF: a setting set earlier on the connection and reverted at the end of its transaction reads
# '' rather than NULL, and ''::int would fail instead of matching nothing.
TENANT_CONDITION = (
    "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::int"
    " OR current_setting('app.all_tenants', true) = 'on'"
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _quote(name: str) -> str:
    return op.get_bind().dialect.identifier_preparer.quote(name)


def enable_tenant_rls(table: str) -> None:
    """Rows of `table` (which has a tenant_id column) are visible and writable only for the tenant
    the transaction names."""
    if not _postgresql():
        return
    table = _quote(table)
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY {POLICY} ON {table} USING ({TENANT_CONDITION}) "
        f"WITH CHECK ({TENANT_CONDITION})"
    )


def disable_tenant_rls(table: str) -> None:
    if not _postgresql():
        return
    table = _quote(table)
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def app_role() -> str | None:
    """The application's role (setting DATABASE_APP_ROLE; see config), or None when the
    application connects as the owner itself and nothing is granted."""
    return current_app.config.get("DATABASE_APP_ROLE") or None


_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
_SEQUENCE_PRIVILEGES = "USAGE, SELECT"


def grant_app_role() -> None:
    """Row access (not DDL, not ownership) for the application's role on every table and sequence
    of the schema, now and for those later migrations create (default privileges of the role that
    runs the migrations). The role itself is made by whoever runs the database."""
    role = app_role()
    if not _postgresql() or role is None:
        return
    role = _quote(role)
    op.execute(f"GRANT {_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {role}")
    op.execute(f"GRANT {_SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA public TO {role}")
    # Alembic's bookkeeping is the migrations' business: the application may read it, no more.
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {_TABLE_PRIVILEGES} ON TABLES TO {role}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT {_SEQUENCE_PRIVILEGES} ON SEQUENCES TO {role}"
    )


def revoke_app_role() -> None:
    role = app_role()
    if not _postgresql() or role is None:
        return
    role = _quote(role)
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE {_SEQUENCE_PRIVILEGES} ON SEQUENCES FROM {role}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE {_TABLE_PRIVILEGES} ON TABLES FROM {role}"
    )
    op.execute(f"REVOKE {_SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA public FROM {role}")
    op.execute(f"REVOKE {_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public FROM {role}")
