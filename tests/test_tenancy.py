"""Tenant scoping fails closed: a forgotten filter cannot leak another tenant's rows."""

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from shared.customers import create_customer
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices import LineInput, create_invoice
from shared.invoices.models import Invoice
from shared.tenancy import (
    TenantScopeError,
    enter_tenant,
    leave_tenant,
    scoped_get,
    tenant_scope,
)


@pytest.fixture
def two_tenants(make_tenant):
    acme, _ = make_tenant("acme")
    globex, _ = make_tenant("globex")
    ids = {}
    for tenant in (acme, globex):
        with tenant_scope(tenant.id):
            customer = create_customer(
                name=f"{tenant.slug} customer", email=f"c@{tenant.slug}.test"
            )
            from datetime import date
            from decimal import Decimal

            invoice = create_invoice(
                customer_id=customer.id,
                issue_date=date(2026, 1, 1),
                due_date=date(2026, 1, 31),
                lines=[LineInput("Work", Decimal("1"), 1000)],
            )
            db.session.commit()
            ids[tenant.slug] = (customer.id, invoice.id)
    acme_id, globex_id = acme.id, globex.id
    db.session.expunge_all()  # nothing answers from the identity map
    return acme_id, globex_id, ids


def test_query_without_a_tenant_in_scope_raises(two_tenants):
    with pytest.raises(TenantScopeError):
        db.session.scalars(select(Customer)).all()
    with pytest.raises(TenantScopeError):
        db.session.scalar(select(func.count()).select_from(Customer))
    with pytest.raises(TenantScopeError):
        db.session.execute(update(Customer).values(name="x"))


def test_a_forgotten_filter_returns_only_the_tenant_in_scope(two_tenants):
    acme, globex, ids = two_tenants
    enter_tenant(acme)
    # No tenant filter anywhere in these queries: the scope adds it.
    assert [c.name for c in db.session.scalars(select(Customer))] == ["acme customer"]
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 1
    assert db.session.scalars(select(Customer).where(Customer.id == ids["globex"][0])).all() == []
    assert scoped_get(Customer, ids["globex"][0]) is None
    assert scoped_get(Customer, ids["acme"][0]) is not None
    # Joins and aliases are filtered too.
    joined = db.session.execute(
        select(Invoice.number, Customer.name).join(Customer, Customer.id == Invoice.customer_id)
    ).all()
    assert [row.name for row in joined] == ["acme customer"]
    other = aliased(Customer)
    assert db.session.scalars(select(other).where(other.id == ids["globex"][0])).all() == []


def test_bulk_update_and_delete_touch_only_the_tenant_in_scope(two_tenants):
    acme, globex, ids = two_tenants
    with tenant_scope(acme):
        db.session.execute(update(Customer).values(phone="555"))
        db.session.execute(delete(Invoice).where(Invoice.id == ids["globex"][1]))
        db.session.commit()
    with tenant_scope(globex):
        customer = db.session.scalars(select(Customer)).one()
        assert customer.phone == ""
        assert scoped_get(Invoice, ids["globex"][1]) is not None


def test_writing_another_tenants_row_raises(two_tenants):
    acme, globex, ids = two_tenants
    with tenant_scope(globex):
        theirs = scoped_get(Customer, ids["globex"][0])
    leave_tenant()
    enter_tenant(acme)
    theirs.name = "hijacked"
    with pytest.raises(TenantScopeError):
        db.session.flush()
    db.session.rollback()
    db.session.add(Customer(tenant_id=globex, client_number="29999999", name="x", email="x@x.test"))
    with pytest.raises(TenantScopeError):
        db.session.flush()
    db.session.rollback()


def test_new_rows_take_the_tenant_in_scope(two_tenants):
    acme, _globex, _ids = two_tenants
    with tenant_scope(acme):
        customer = create_customer(name="New", email="new@acme.test")
        assert customer.tenant_id == acme


def test_a_session_serves_one_tenant(two_tenants):
    acme, globex, _ids = two_tenants
    enter_tenant(acme)
    with pytest.raises(TenantScopeError):
        enter_tenant(globex)


def test_the_opt_out_is_explicit(two_tenants):
    names = db.session.scalars(
        select(Customer.name).order_by(Customer.name).execution_options(all_tenants=True)
    ).all()
    assert names == ["acme customer", "globex customer"]


def test_lazy_loads_need_a_tenant(two_tenants):
    acme, _globex, ids = two_tenants
    with tenant_scope(acme):
        invoice = scoped_get(Invoice, ids["acme"][1])
    db.session.expire(invoice)
    with pytest.raises(TenantScopeError):
        _ = invoice.number
