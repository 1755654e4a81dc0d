"""The second wall: on PostgreSQL the database itself keeps tenants apart (row-level security).

The app connects as a role that owns no table and is no superuser (tests/conftest.py makes it), so
the policies of migrations/rls.py apply to it; `shared.tenancy` names the session's tenant per
transaction. What goes around the application's scoping (a bare connection, raw SQL) meets them.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

import shared.tenancy as tenancy
from shared.customers import create_customer
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices import LineInput, create_invoice
from shared.tenancy import enter_tenant, leave_tenant, tenant_scope
from tests.conftest import PASSWORD, submit

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="row-level security is PostgreSQL's: run with TEST_DATABASE_URL (SQLite has none)",
)

NAMES = "SELECT name FROM customers ORDER BY name"


@pytest.fixture
def two_tenants(make_tenant):
    """acme and globex, each with a customer and an invoice: (acme id, globex id, ids)."""
    ids = {}
    for slug in ("acme", "globex"):
        tenant, _ = make_tenant(slug)
        with tenant_scope(tenant.id):
            customer = create_customer(name=f"{slug} customer", email=f"c@{slug}.test")
            create_invoice(
                customer_id=customer.id,
                issue_date=date(2026, 1, 1),
                due_date=date(2026, 1, 31),
                lines=[LineInput("Work", Decimal("1"), 1000)],
            )
            db.session.commit()
            ids[slug] = (tenant.id, customer.id)
    db.session.expunge_all()
    return ids["acme"][0], ids["globex"][0], {slug: (c,) for slug, (_t, c) in ids.items()}


def _name_tenant(connection, tenant_id: int) -> None:
    connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})


def _customer_row(tenant_id: int, number: str) -> dict[str, object]:
    return {
        "tenant_id": tenant_id,
        "client_number": number,
        "name": f"raw {number}",
        "email": "raw@example.test",
        "kind": "personal",
    }


def test_the_app_connects_as_a_role_that_rls_applies_to(app):
    role = db.session.execute(
        text(
            "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user"
        )
    ).one()
    assert not role.rolsuper
    assert not role.rolbypassrls
    owned = db.session.execute(
        text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = :me"),
        {"me": role.name},
    ).scalar()
    assert owned == 0, "the app's role owns tables: row-level security would not apply to it"
    assert role.name == app.config["DATABASE_APP_ROLE"]
    # It reads and writes rows, and changes no schema.
    with pytest.raises(ProgrammingError, match="permission denied|must be owner"):
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE customers DISABLE ROW LEVEL SECURITY")


def test_tables_made_by_later_migrations_are_granted_to_the_app(app):
    """Default privileges (copied with the template, like the grants and policies)."""
    owner = create_engine(app.config["MIGRATION_DATABASE_URI"], poolclass=NullPool)
    with owner.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE later_table (id serial PRIMARY KEY, note text)")
    owner.dispose()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO later_table (note) VALUES ('x')")
        assert connection.exec_driver_sql("SELECT count(*) FROM later_table").scalar() == 1


def test_every_tenant_table_has_row_level_security(app):
    """A tenant table added later without `enable_tenant_rls` fails here."""
    tenant_tables = sorted(t.name for t in db.metadata.tables.values() if "tenant_id" in t.c)
    assert "customers" in tenant_tables
    rows = db.session.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
    ).all()
    by_name = {row.relname: row for row in rows}
    assert [t for t in tenant_tables if not by_name[t].relrowsecurity] == []
    assert [t for t in tenant_tables if by_name[t].policies == 0] == []
    # Not forced: the owner (who migrates) is not bound; the app's role is not the owner.
    assert [t for t in tenant_tables if by_name[t].relforcerowsecurity] == []
    assert not by_name["tenants"].relrowsecurity  # the tenants themselves are no tenant's rows


def test_raw_sql_with_no_tenant_set_returns_nothing(two_tenants):
    # The rows exist: the app's deliberate opt-out sees both tenants.
    every = db.session.execute(text(NAMES).execution_options(all_tenants=True)).scalars().all()
    assert every == ["acme customer", "globex customer"]
    with db.engine.connect() as connection:  # below the session: no application scoping at all
        assert connection.exec_driver_sql(NAMES).all() == []
        assert connection.exec_driver_sql("SELECT count(*) FROM invoice_lines").scalar() == 0
    # Through the session with no tenant in scope, on its own connection: nothing either.
    assert db.session.connection().exec_driver_sql(NAMES).all() == []


def test_with_a_tenant_set_raw_sql_returns_only_its_rows(two_tenants):
    acme, globex, _ids = two_tenants
    with db.engine.connect() as connection:
        _name_tenant(connection, acme)
        assert connection.exec_driver_sql(NAMES).scalars().all() == ["acme customer"]
        connection.rollback()  # the setting was the transaction's: gone with it
        assert connection.exec_driver_sql(NAMES).all() == []
    # The session names its tenant itself, even for SQL the application does not see into.
    with tenant_scope(globex):
        assert db.session.connection().exec_driver_sql(NAMES).scalars().all() == ["globex customer"]


def test_writes_for_another_tenant_are_refused_by_the_database(two_tenants):
    acme, globex, ids = two_tenants
    customers = Customer.__table__
    with db.engine.connect() as connection:
        _name_tenant(connection, acme)
        connection.execute(insert(customers).values(**_customer_row(acme, "20000101")))
        with pytest.raises(ProgrammingError, match="row-level security"):
            connection.execute(insert(customers).values(**_customer_row(globex, "20000102")))
        connection.rollback()
        _name_tenant(connection, acme)
        with pytest.raises(ProgrammingError, match="row-level security"):
            connection.execute(
                customers.update().where(customers.c.id == ids["acme"][0]).values(tenant_id=globex)
            )
        connection.rollback()
        _name_tenant(connection, acme)
        # Another tenant's row is not there to change or delete.
        changed = connection.execute(
            customers.update().where(customers.c.id == ids["globex"][0]).values(name="hijacked")
        )
        assert changed.rowcount == 0
        gone = connection.execute(customers.delete().where(customers.c.id == ids["globex"][0]))
        assert gone.rowcount == 0
        connection.rollback()
    every = db.session.execute(text(NAMES).execution_options(all_tenants=True)).scalars().all()
    assert every == ["acme customer", "globex customer"]


def _settings() -> tuple[str | None, str | None]:
    row = db.session.execute(
        text(
            "SELECT current_setting('app.tenant_id', true) AS tenant, "
            "current_setting('app.all_tenants', true) AS all_tenants"
        )
    ).one()
    return row.tenant, row.all_tenants


def test_the_setting_follows_the_tenant_in_scope_and_the_opt_out(two_tenants):
    acme, globex, _ids = two_tenants
    assert _settings()[0] in (None, "")
    enter_tenant(acme)
    assert _settings() == (str(acme), "off")
    opted_out = db.session.execute(
        text("SELECT current_setting('app.all_tenants', true)").execution_options(all_tenants=True)
    ).scalar()
    assert opted_out == "on"
    assert _settings() == (str(acme), "off")  # for that statement only
    leave_tenant()
    assert _settings() == ("", "off")
    with tenant_scope(globex):  # in the same transaction
        assert _settings() == (str(globex), "off")
        assert [c.name for c in db.session.scalars(select(Customer))] == ["globex customer"]
    db.session.commit()
    with tenant_scope(acme):  # a new transaction names it again
        assert _settings() == (str(acme), "off")


def test_a_rolled_back_savepoint_does_not_lose_the_tenant(two_tenants):
    acme, _globex, _ids = two_tenants
    savepoint = db.session.begin_nested()
    db.session.connection()  # SAVEPOINT is sent
    enter_tenant(acme)  # and the tenant named after it
    assert db.session.connection().exec_driver_sql(NAMES).scalars().all() == ["acme customer"]
    savepoint.rollback()  # undoes the set_config made inside it
    assert db.session.connection().exec_driver_sql(NAMES).scalars().all() == ["acme customer"]


def test_a_pooled_connection_names_no_tenant(two_tenants):
    acme, _globex, _ids = two_tenants
    with tenant_scope(acme):
        assert db.session.scalars(select(Customer.name)).all() == ["acme customer"]
        db.session.commit()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql(NAMES).all() == []


@pytest.fixture
def set_configs(monkeypatch):
    """How many times the hook told the database the tenant (each is one round trip)."""
    calls: list[tuple[object, bool]] = []
    real = tenancy._set_config

    def counting(cursor, tenant_id, all_tenants):
        calls.append((tenant_id, all_tenants))
        real(cursor, tenant_id, all_tenants)

    monkeypatch.setattr(tenancy, "_set_config", counting)
    return calls


def _changes_only(settings: list[tuple[object, bool]]) -> bool:
    return all(a != b for a, b in zip(settings, settings[1:], strict=False))


def test_a_request_costs_one_round_trip_per_change_of_tenant(
    app, make_tenant, console, portal_client, set_configs, count_queries
):
    tenant, owner = make_tenant("acme")
    tenant_id, email = tenant.id, owner.email
    portal = portal_client("acme")
    for path in ("/", "/faq"):
        portal.get(path)  # warm caches (a first request may load more)
    set_configs.clear()
    with count_queries() as counter:
        assert portal.get("/").status_code == 200
    # The portal's home reads only the tenant (not a tenant-owned row): nothing to name.
    assert set_configs == []
    with count_queries() as counter:
        assert portal.get("/faq").status_code == 200
    # The host names the tenant before any view: named once, before its first tenant row.
    assert set_configs == [(tenant_id, False)], counter.count

    response = submit(console, "/sign-in", {"email": email, "password": PASSWORD})
    assert response.status_code == 302
    for path in ("/customers", "/invoices"):
        set_configs.clear()
        with count_queries() as counter:
            assert console.get(path).status_code == 200
        # The signed-in user is found across tenants (the console host names none), then its
        # tenant is entered: two round trips, however many statements the page runs.
        assert set_configs == [(None, True), (tenant_id, False)], path
        assert counter.count > len(set_configs), path
    set_configs.clear()
    assert console.get("/").status_code == 200
    assert _changes_only(set_configs), set_configs  # never twice the same in a row
