"""One unit of work per request: a failed request leaves nothing, a successful one commits once."""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from shared.customers import create_customer
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.invoices import LineInput, create_invoice
from shared.invoices.models import Invoice, InvoiceLine
from shared.sequences import TenantSequence
from shared.tenancy import leave_tenant, tenant_scope
from shared.unit_of_work import unit_of_work
from tests.api.conftest import invoice_body, make_customer, make_invoice, make_key
from tests.conftest import PASSWORD, TODAY, csrf_token, host_client, submit
from tests.test_console_invoices import form as invoice_form


@contextmanager
def counting_commits():
    """The COMMITs the database is sent in the block, on every connection of the engine."""
    commits: list[int] = []

    def on_commit(_connection) -> None:
        commits.append(1)

    event.listen(db.engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(db.engine, "commit", on_commit)


def rows(tenant_id: int, model) -> int:
    with tenant_scope(tenant_id):
        count = db.session.scalar(select(func.count()).select_from(model))
    leave_tenant()
    return count


@pytest.fixture
def failing_views(make_app):
    """An app with two console views that write a customer and flush, then fail."""
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: an exception is a 500 page

    def write() -> None:
        create_customer(name="Half Written LLC", email="ap@half.test")
        db.session.flush()  # the row is in the transaction, as far as the database is concerned

    def raises():
        write()
        raise RuntimeError("a bug after the write")

    def refuses():
        write()
        return "refused", 422  # no discard(): the status alone must roll the write back

    app.add_url_rule("/_test/raises", "raises", raises, methods=["POST"])
    app.add_url_rule("/_test/refuses", "refuses", refuses, methods=["POST"])
    return app


@pytest.mark.parametrize(("path", "status"), [("/_test/raises", 500), ("/_test/refuses", 422)])
def test_a_failed_request_leaves_nothing(failing_views, make_tenant, path, status):
    app = failing_views
    with app.app_context():
        tenant, owner = make_tenant("acme")
        console = host_client(app, "localhost:8000")
        assert (
            submit(console, "/sign-in", {"email": owner.email, "password": PASSWORD}).status_code
            == 302
        )
        token = csrf_token(console, "/invoices/new")
        with counting_commits() as commits:
            response = console.post(path, data={"csrf_token": token})
        assert response.status_code == status
        assert commits == []
        assert rows(tenant.id, Customer) == 0


def test_a_view_that_succeeds_keeps_its_write(failing_views, make_tenant):
    # The other side of the test above: the same write, answered 200, is kept (one COMMIT).
    app = failing_views

    def keeps():
        create_customer(name="Whole LLC", email="ap@whole.test")
        return "ok"

    app.add_url_rule("/_test/keeps", "keeps", keeps, methods=["POST"])
    with app.app_context():
        tenant, owner = make_tenant("acme")
        console = host_client(app, "localhost:8000")
        submit(console, "/sign-in", {"email": owner.email, "password": PASSWORD})
        token = csrf_token(console, "/invoices/new")
        with counting_commits() as commits:
            assert console.post("/_test/keeps", data={"csrf_token": token}).status_code == 200
        assert len(commits) == 1
        assert rows(tenant.id, Customer) == 1


@pytest.fixture
def acme_with_customer(signed_in_console):
    from tenants.models import Tenant

    acme = db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()
    with tenant_scope(acme.id):
        customer_id = create_customer(name="Harbor View Dental", email="ap@harbor.test").id
        db.session.commit()
    leave_tenant()
    return acme, customer_id


@pytest.mark.parametrize("send", [False, True])
def test_creating_an_invoice_in_the_console_commits_once(
    signed_in_console, acme_with_customer, send
):
    acme, customer_id = acme_with_customer
    data = {
        **invoice_form(customer_id),
        "csrf_token": csrf_token(signed_in_console, "/invoices/new"),
    }
    if send:
        data["send"] = "1"
    with counting_commits() as commits:
        response = signed_in_console.post("/invoices/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert len(commits) == 1
    assert rows(acme.id, Invoice) == 1
    assert rows(acme.id, InvoiceLine) == 2


def test_creating_an_invoice_through_the_api_commits_once(app, make_tenant):
    from tests.api.conftest import Api

    tenant, _owner = make_tenant("acme")
    api = Api(app, make_key(tenant.id))
    customer = make_customer(api)  # the key's first use is noted (its own unit) here, not below
    with counting_commits() as commits:
        response = api.post("/api/v1/invoices", invoice_body(customer["id"]))
    assert response.status_code == 201, response.get_json()
    assert len(commits) == 1
    assert rows(tenant.id, Invoice) == 1


def test_an_invoice_with_one_bad_line_adds_nothing_through_the_api(app, make_tenant):
    from tests.api.conftest import Api

    tenant, _owner = make_tenant("acme")
    api = Api(app, make_key(tenant.id))
    customer = make_customer(api)
    body = invoice_body(customer["id"])
    body["lines"].append({"description": "Refund", "quantity": "1", "unit_price": "-5.00"})
    with counting_commits() as commits:
        response = api.post("/api/v1/invoices", body)
    assert response.status_code == 422, response.get_json()
    assert commits == []
    assert (rows(tenant.id, Invoice), rows(tenant.id, InvoiceLine)) == (0, 0)
    assert make_invoice(api, customer["id"])["number"] == "400001"  # no number was used up


def test_an_invoice_with_one_bad_line_adds_nothing(app, make_tenant):
    # Checked before written: not one INSERT or UPDATE reaches the database, so the operation is
    # safe even for a caller that would go on and commit (not only thanks to the rollback).
    tenant, _owner = make_tenant("acme")
    writes: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes.append(statement)

    with tenant_scope(tenant.id):
        customer_id = create_customer(name="Harbor View Dental", email="ap@harbor.test").id
        db.session.commit()
        good = LineInput("Dental supplies", Decimal("2"), 125050)
        bad = LineInput("Delivery", Decimal("1"), 4500, tax_rate_bp=10001)
        event.listen(db.engine, "before_cursor_execute", on_execute)
        try:
            with pytest.raises(InputError) as refused:
                create_invoice(
                    customer_id=customer_id, issue_date=TODAY, due_date=TODAY, lines=[good, bad]
                )
            assert not db.session.new
            db.session.flush()
        finally:
            event.remove(db.engine, "before_cursor_execute", on_execute)
        assert refused.value.field == "lines.1.tax_rate"
        assert writes == []
        db.session.commit()  # what a careless caller might do: still nothing to keep
        sequences = db.session.scalars(select(TenantSequence.name)).all()
    leave_tenant()
    assert (rows(tenant.id, Invoice), rows(tenant.id, InvoiceLine)) == (0, 0)
    assert "invoice_number" not in sequences  # no invoice number was handed out
    with tenant_scope(tenant.id), unit_of_work():
        invoice = create_invoice(
            customer_id=customer_id, issue_date=TODAY, due_date=TODAY, lines=[good]
        )
        assert invoice.number == "400001"
