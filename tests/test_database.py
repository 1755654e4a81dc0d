"""The database itself: constraints hold on every backend."""

import pytest
from sqlalchemy.exc import IntegrityError

from shared.customers.models import Customer
from shared.extensions import db
from shared.tenancy import tenant_scope


def test_foreign_keys_are_enforced(app, make_tenant):
    tenant, _ = make_tenant("acme")
    with tenant_scope(tenant.id):
        from datetime import date

        from shared.invoices.models import Invoice

        db.session.add(
            Invoice(
                number="400001",
                customer_id=999,
                issue_date=date(2026, 1, 1),
                due_date=date(2026, 1, 2),
                total_cents=1,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_client_numbers_are_unique_per_tenant_only(app, make_tenant):
    acme, _ = make_tenant("acme")
    globex, _ = make_tenant("globex")
    for tenant in (acme, globex):
        with tenant_scope(tenant.id):
            db.session.add(Customer(client_number="20000001", name="A", email="a@a.test"))
            db.session.commit()
    with tenant_scope(acme.id):
        db.session.add(Customer(client_number="20000001", name="B", email="b@a.test"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
