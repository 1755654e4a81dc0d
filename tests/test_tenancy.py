"""Tenant scoping fails closed: a forgotten filter cannot leak another tenant's rows."""

from datetime import date

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import ObjectDeletedError

from shared.customers import create_customer
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices import LineInput, create_invoice
from shared.invoices.models import Invoice, InvoiceLine
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


# --- statements that went around the scope (issue 7): each of these leaked before -------------


def _names(tenant_id: int) -> list[str]:
    with tenant_scope(tenant_id):
        return list(db.session.scalars(select(Customer.name).order_by(Customer.id)))


def _all_names() -> list[str]:
    query = select(Customer.name).order_by(Customer.name).execution_options(all_tenants=True)
    return list(db.session.scalars(query))


def test_a_bulk_update_by_primary_key_cannot_reach_another_tenant(two_tenants):
    acme, globex, ids = two_tenants
    with tenant_scope(acme):
        with pytest.raises(TenantScopeError):
            db.session.execute(update(Customer), [{"id": ids["globex"][0], "name": "hijacked"}])
        db.session.rollback()
        # Its own rows it may update by primary key.
        db.session.execute(update(Customer), [{"id": ids["acme"][0], "name": "renamed"}])
        db.session.commit()
    assert _names(globex) == ["globex customer"]
    assert _names(acme) == ["renamed"]


def test_core_update_and_delete_on_the_table_are_scoped(two_tenants):
    acme, globex, ids = two_tenants
    with tenant_scope(acme):
        db.session.execute(update(Customer.__table__).values(phone="555"))
        db.session.execute(delete(InvoiceLine.__table__))
        db.session.commit()
    with tenant_scope(globex):
        assert db.session.scalars(select(Customer.phone)).all() == [""]
        assert db.session.scalar(select(func.count()).select_from(InvoiceLine)) == 1
    with tenant_scope(acme):
        assert db.session.scalars(select(Customer.phone)).all() == ["555"]
        assert db.session.scalar(select(func.count()).select_from(InvoiceLine)) == 0
    with pytest.raises(TenantScopeError):
        db.session.execute(update(Customer.__table__).values(phone="1"))
    with pytest.raises(TenantScopeError):
        db.session.execute(delete(Customer.__table__))


def test_a_core_select_on_the_table_needs_the_opt_out(two_tenants):
    acme, _globex, _ids = two_tenants
    with tenant_scope(acme), pytest.raises(TenantScopeError):
        db.session.execute(select(Customer.__table__.c.name)).all()
    assert (
        len(
            db.session.execute(
                select(Customer.__table__.c.name).execution_options(all_tenants=True)
            ).all()
        )
        == 2
    )


def test_an_update_cannot_move_a_row_to_another_tenant(two_tenants):
    acme, globex, _ids = two_tenants
    with tenant_scope(acme), pytest.raises(TenantScopeError):
        db.session.execute(update(Customer).values(tenant_id=globex))
    db.session.rollback()
    with tenant_scope(acme), pytest.raises(TenantScopeError):
        db.session.execute(update(Customer.__table__).values(tenant_id=globex))


def _customer_row(number: str, **extra) -> dict:
    return {"client_number": number, "name": f"row {number}", "email": "r@x.test", **extra}


@pytest.mark.parametrize("target", ["orm", "table"])
def test_an_insert_for_another_tenant_is_refused(two_tenants, target):
    acme, globex, _ids = two_tenants
    table = Customer if target == "orm" else Customer.__table__
    with tenant_scope(acme):
        with pytest.raises(TenantScopeError):
            db.session.execute(insert(table).values(**_customer_row("23000001", tenant_id=globex)))
        db.session.rollback()
        with pytest.raises(TenantScopeError):
            db.session.execute(insert(table), [_customer_row("23000002", tenant_id=globex)])
        db.session.rollback()
    with pytest.raises(TenantScopeError):
        db.session.execute(insert(table).values(**_customer_row("23000003")))
    db.session.rollback()
    assert _names(globex) == ["globex customer"]


@pytest.mark.parametrize("target", ["orm", "table"])
def test_an_insert_without_a_tenant_takes_the_tenant_in_scope(two_tenants, target):
    acme, globex, _ids = two_tenants
    table = Customer if target == "orm" else Customer.__table__
    with tenant_scope(acme):
        db.session.execute(insert(table).values(**_customer_row("23000004")))
        db.session.execute(insert(table), [_customer_row("23000005"), _customer_row("23000006")])
        db.session.execute(insert(table), [_customer_row("23000007", tenant_id=acme)])
        db.session.commit()
    assert _names(acme) == [
        "acme customer",
        "row 23000004",
        "row 23000005",
        "row 23000006",
        "row 23000007",
    ]
    assert _names(globex) == ["globex customer"]


def test_legacy_bulk_operations_are_refused_on_tenant_models(two_tenants):
    acme, globex, ids = two_tenants
    enter_tenant(acme)
    with pytest.raises(TenantScopeError):
        db.session.bulk_save_objects([Customer(tenant_id=globex, **_customer_row("23000008"))])
    with pytest.raises(TenantScopeError):
        db.session.bulk_insert_mappings(Customer, [_customer_row("23000009", tenant_id=globex)])
    with pytest.raises(TenantScopeError):
        db.session.bulk_update_mappings(Customer, [{"id": ids["globex"][0], "name": "hijacked"}])
    db.session.rollback()
    leave_tenant()
    assert _all_names() == ["acme customer", "globex customer"]


@pytest.mark.parametrize("in_scope", [False, True])
def test_raw_text_on_tenant_tables_needs_the_opt_out(two_tenants, in_scope):
    acme, _globex, _ids = two_tenants
    if in_scope:
        enter_tenant(acme)
    with pytest.raises(TenantScopeError):
        db.session.execute(text("SELECT name FROM customers")).all()
    with pytest.raises(TenantScopeError):
        db.session.scalars(select(Customer).from_statement(text("SELECT * FROM customers"))).all()
    with pytest.raises(TenantScopeError):
        db.session.execute(select(Customer.id).where(text("customers.tenant_id > 0"))).all()
    # Text that names no tenant-owned table is harmless (the readiness probe runs SELECT 1).
    assert db.session.execute(text("SELECT 1")).scalar() == 1
    rows = db.session.execute(
        text("SELECT name FROM customers ORDER BY name").execution_options(all_tenants=True)
    ).all()
    assert [row.name for row in rows] == ["acme customer", "globex customer"]


def test_session_get_does_not_answer_from_the_identity_map(two_tenants):
    acme, globex, ids = two_tenants
    with tenant_scope(globex):
        theirs = scoped_get(Customer, ids["globex"][0])
        assert theirs is not None
    session = db.session()  # the hook forbids the spelled-out call in the application
    with tenant_scope(acme):
        assert session.get(Customer, ids["globex"][0]) is None
        assert session.get(Customer, ids["acme"][0]).name == "acme customer"
    with pytest.raises(TenantScopeError):
        session.get(Customer, ids["globex"][0])


def test_an_expired_object_of_another_tenant_does_not_reload(two_tenants):
    acme, globex, ids = two_tenants
    with tenant_scope(globex):
        theirs = scoped_get(Customer, ids["globex"][0])
        invoice = scoped_get(Invoice, ids["globex"][1])
    db.session.expire(theirs)  # all of it, as a commit does
    db.session.expire(invoice, ["number"])  # a part: its tenant is still known
    with tenant_scope(acme):
        with pytest.raises((TenantScopeError, ObjectDeletedError)):
            _ = theirs.name
        with pytest.raises(TenantScopeError):
            _ = invoice.number


def test_tenant_scope_refuses_to_switch_tenants(two_tenants):
    acme, globex, _ids = two_tenants
    enter_tenant(acme)
    with pytest.raises(TenantScopeError), tenant_scope(globex):
        pass
    with tenant_scope(acme):  # the tenant already held: nothing changes
        pass
    assert _names(acme) == ["acme customer"]
    assert db.session.info.get("tenant_id") == acme


def test_the_database_refuses_a_reference_to_another_tenants_row(two_tenants):
    acme, _globex, ids = two_tenants
    # all_tenants=True passes the application's checks: only the composite foreign key stands.
    statement = insert(Invoice).values(
        tenant_id=acme,
        number="499999",
        customer_id=ids["globex"][0],
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        total_cents=0,
    )
    with pytest.raises(IntegrityError):
        db.session.execute(statement.execution_options(all_tenants=True))
    db.session.rollback()
    line = insert(InvoiceLine).values(
        tenant_id=acme,
        invoice_id=ids["globex"][1],
        position=1,
        description="x",
        quantity_milli=1000,
        unit_price_cents=1,
        amount_cents=1,
    )
    with pytest.raises(IntegrityError):
        db.session.execute(line.execution_options(all_tenants=True))
    db.session.rollback()


def test_a_nullable_reference_must_name_a_row_of_the_same_tenant(two_tenants):
    """References set to NULL when their row goes (an API key's maker, an invitation's inviter, a
    support request's customer) refuse another tenant's row, and still let the row go."""
    from sqlalchemy import func, select

    from shared.support.models import SupportRequest
    from tenants.models import StaffRole, StaffUser

    acme, _globex, ids = two_tenants
    request = insert(SupportRequest).values(
        tenant_id=acme,
        name="Pat",
        email="pat@x.test",
        message="hello",
        language="en",
        customer_id=ids["globex"][0],
    )
    with pytest.raises(IntegrityError):
        db.session.execute(request.execution_options(all_tenants=True))
    db.session.rollback()
    # The same tenant's rows are accepted; deleting the staff member who closed it empties the
    # reference (the single-column key's SET NULL runs before this key is checked).
    with tenant_scope(acme):
        db.session.execute(request.values(customer_id=ids["acme"][0]))
        staff = StaffUser(email="gone@acme.test", password_hash="x", role=StaffRole.STAFF)
        db.session.add(staff)
        db.session.flush()
        db.session.execute(SupportRequest.__table__.update().values(closed_by_id=staff.id))
        db.session.delete(staff)
        db.session.flush()
        row = db.session.scalars(select(SupportRequest)).one()
        db.session.refresh(row)
        assert row.closed_by_id is None
        assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 1
        db.session.rollback()


# --- shared.bulk: many rows in one statement, scoped like the others ------------------------------


def test_bulk_rows_go_to_the_tenant_in_scope_only(two_tenants):
    from shared.bulk import insert_rows, update_by_id

    acme, globex, ids = two_tenants
    with tenant_scope(acme):
        insert_rows(Customer, [_customer_row("23000010"), _customer_row("23000011")])
        with pytest.raises(TenantScopeError):
            insert_rows(Customer, [_customer_row("23000012", tenant_id=globex)])
        db.session.rollback()
        insert_rows(Customer, [_customer_row("23000013"), _customer_row("23000014")])
        # An update by id names another tenant's row: it is not touched (scoped, not an error).
        update_by_id(
            Customer.__table__,
            [{"id": ids["acme"][0], "name": "renamed"}, {"id": ids["globex"][0], "name": "no"}],
        )
        db.session.commit()
    assert _names(acme) == ["renamed", "row 23000013", "row 23000014"]
    assert _names(globex) == ["globex customer"]
    with pytest.raises(TenantScopeError):
        insert_rows(Customer, [_customer_row("23000015")])  # no tenant in scope
    db.session.rollback()


def test_an_insert_select_needs_rows_of_the_tenant_in_scope(two_tenants):
    acme, globex, _ids = two_tenants
    table = Customer.__table__
    copy = insert(table).from_select(
        ["tenant_id", "client_number", "name", "email"],
        select(Customer.tenant_id, Customer.client_number + "9", Customer.name, Customer.email),
    )
    with tenant_scope(acme):
        with pytest.raises(TenantScopeError):  # copied from a table: never
            db.session.execute(copy.execution_options(rows_of_tenant=acme))
        db.session.rollback()
        with pytest.raises(TenantScopeError):  # said to be another tenant's rows
            db.session.execute(
                insert(table)
                .from_select(
                    ["tenant_id", "client_number", "name", "email"],
                    select(
                        func.cast(globex, table.c.tenant_id.type),
                        func.cast("1", table.c.name.type),
                        func.cast("x", table.c.name.type),
                        func.cast("x@x.test", table.c.name.type),
                    ),
                )
                .execution_options(rows_of_tenant=globex)
            )
        db.session.rollback()
    assert _names(globex) == ["globex customer"]
