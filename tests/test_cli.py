"""The command line: tenants and demo data."""

from sqlalchemy import func, select

from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceStatus
from shared.portal_accounts.models import PortalUser
from tenants.models import Tenant
from tests.conftest import host_client, submit


def test_tenants_create_and_list(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "tenants",
            "create",
            "--slug",
            "initech",
            "--name",
            "Initech",
            "--owner-email",
            "bill@initech.test",
            "--owner-password",
            "tps-reports-2026",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "created tenant initech" in result.output
    listing = runner.invoke(args=["tenants", "list"])
    assert "initech\tInitech\tactive\tstaff=1" in listing.output
    console = host_client(app, "localhost:8000")
    response = submit(
        console, "/sign-in", {"email": "bill@initech.test", "password": "tps-reports-2026"}
    )
    assert response.status_code == 302


def test_tenants_create_refuses_bad_input(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "tenants",
            "create",
            "--slug",
            "www",
            "--name",
            "X",
            "--owner-email",
            "x@x.test",
            "--owner-password",
            "long-enough-pass",
        ]
    )
    assert result.exit_code == 2
    assert "reserved" in result.output
    assert db.session.scalar(select(func.count()).select_from(Tenant)) == 0


def test_demo_load_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "owner@acme.test / demo-password-1" in first.output
    assert "maria.gonzalez@example.test / demo-payer-maria" in first.output
    assert "billing@harborview.test / demo-payer-harbor" in first.output
    assert "frontdesk@harborview.test / demo-payer-frontdesk" in first.output

    def counts():
        def query(model):
            return select(func.count()).select_from(model).execution_options(all_tenants=True)

        return tuple(db.session.scalar(query(m)) for m in (Tenant, Customer, Invoice, PortalUser))

    before = counts()
    assert before == (1, 3, 6, 3)
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert counts() == before
    statuses = db.session.scalars(select(Invoice.status).execution_options(all_tenants=True)).all()
    assert set(statuses) == {InvoiceStatus.OPEN}
    paper = db.session.scalars(
        select(Invoice.number)
        .where(Invoice.electronic.is_(False))
        .execution_options(all_tenants=True)
    ).all()
    assert paper == ["400103"]
    portal = host_client(app, "acme.localhost:8000").get("/")
    assert "Acme Supply Co." in portal.get_data(as_text=True)


def test_demo_owner_signs_in(app):
    app.test_cli_runner().invoke(args=["demo", "load"])
    console = host_client(app, "localhost:8000")
    response = submit(
        console, "/sign-in", {"email": "owner@acme.test", "password": "demo-password-1"}
    )
    assert response.status_code == 302


def test_demo_payers_sign_in_and_share_an_account(app):
    app.test_cli_runner().invoke(args=["demo", "load"])
    seen = {}
    for email, password in (
        ("maria.gonzalez@example.test", "demo-payer-maria"),
        ("billing@harborview.test", "demo-payer-harbor"),
        ("frontdesk@harborview.test", "demo-payer-frontdesk"),
    ):
        portal = host_client(app, "acme.localhost:8000")
        response = submit(portal, "/sign-in", {"email": email, "password": password})
        assert response.status_code == 302, email
        seen[email] = portal.get("/invoices").get_data(as_text=True)
    assert "400104" in seen["maria.gonzalez@example.test"]
    assert "400101" not in seen["maria.gonzalez@example.test"]
    for email in ("billing@harborview.test", "frontdesk@harborview.test"):
        assert "400101" in seen[email]
        assert "400104" not in seen[email]
