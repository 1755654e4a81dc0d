"""The command line: tenants and demo data."""

import io

from PIL import Image
from sqlalchemy import func, select

from shared.ach.models import AchFile
from shared.autopay.models import AutoPaySetting
from shared.bank_accounts.models import BankAccount
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceStatus
from shared.payments.models import Payment, PaymentStatus
from shared.portal_accounts.models import PortalUser
from shared.storage import storage
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

        models = (Tenant, Customer, Invoice, PortalUser, BankAccount, Payment)
        return tuple(db.session.scalar(query(m)) for m in models)

    def branding():
        tenant = db.session.scalars(select(Tenant)).one()
        db.session.refresh(tenant)
        files = sorted(p.name for p in storage().root.rglob("*") if p.is_file())
        return (
            tenant.logo_name,
            tenant.brand_color,
            tenant.support_email,
            tenant.support_phone,
            files,
        )

    before = counts()
    # María's account and her AutoPay payment; 400107 and its returned ACH debit.
    assert before == (1, 3, 7, 3, 3, 4)
    branded = branding()
    assert branded[1:4] == ("#0f766e", "accountsreceivable@acme.test", "+1 (305) 555-0100")
    # Stored: one logo file, the tenant's, and the demo's one ACH file.
    assert [f for f in branded[4] if f.endswith(".png")] == [branded[0]]
    assert len([f for f in branded[4] if f.endswith(".ach")]) == 1
    assert len(branded[4]) == 2
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert counts() == before
    assert branding() == branded  # the same logo: not drawn and stored again
    statuses = dict(
        db.session.execute(
            select(Invoice.number, Invoice.status).execution_options(all_tenants=True)
        ).all()
    )
    # One invoice paid by a settled ACH debit, half of another scheduled from a saved account.
    assert statuses.pop("400103") is InvoiceStatus.PAID
    assert statuses.pop("400102") is InvoiceStatus.PAYMENT_SCHEDULED
    assert statuses.pop("400104") is InvoiceStatus.PAYMENT_SCHEDULED  # by María's AutoPay
    assert set(statuses.values()) == {InvoiceStatus.OPEN}  # 400107 open again after its return
    # One ACH file to download, holding 400107's debit, which the bank returned R01.
    (ach_file,) = db.session.scalars(select(AchFile).execution_options(all_tenants=True)).all()
    assert (ach_file.entry_count, ach_file.total_debit_cents) == (1, 64000)
    returned = db.session.scalars(
        select(Payment)
        .where(Payment.idempotency_key == "demo-returned")
        .execution_options(all_tenants=True)
    ).one()
    assert returned.status is PaymentStatus.RETURNED
    accounts = db.session.scalars(
        select(BankAccount).order_by(BankAccount.id).execution_options(all_tenants=True)
    ).all()
    assert [(a.nickname, a.private, a.last4) for a in accounts] == [
        ("Operating account", False, "6789"),
        ("Personal checking", True, "4321"),
        ("Cuenta corriente", False, "6677"),
    ]
    # María's AutoPay: on, from her account, and her open invoice scheduled by it.
    setting = db.session.scalars(select(AutoPaySetting).execution_options(all_tenants=True)).one()
    assert setting.enabled
    assert setting.bank_account_id == accounts[2].id
    assert setting.max_amount_cents == 200000
    paper = db.session.scalars(
        select(Invoice.number)
        .where(Invoice.electronic.is_(False))
        .execution_options(all_tenants=True)
    ).all()
    assert paper == ["400103"]
    portal = host_client(app, "acme.localhost:8000")
    body = portal.get("/").get_data(as_text=True)
    assert "Acme Supply Co." in body
    assert f'src="/logo/{branded[0]}" alt="Acme Supply Co."' in body
    logo = Image.open(io.BytesIO(portal.get(f"/logo/{branded[0]}").data))
    assert logo.format == "PNG"
    assert logo.getpixel((64, 20)) == (15, 118, 110, 255)  # the teal mark
    css = portal.get("/brand.css").get_data(as_text=True)
    assert "--brand: #0f766e; --brand-text: #ffffff;" in css


def test_demo_owner_signs_in(app):
    app.test_cli_runner().invoke(args=["demo", "load"])
    console = host_client(app, "localhost:8000")
    response = submit(
        console, "/sign-in", {"email": "owner@acme.test", "password": "demo-password-1"}
    )
    assert response.status_code == 302
