"""`flask demo load`: demo data so every feature can be seen; running it again changes nothing."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from shared.ach import AchSettingsData, build_ach_files
from shared.ach import get_settings as get_ach_settings
from shared.ach import update_settings as update_ach_settings
from shared.actors import SYSTEM, Actor
from shared.autopay import save_autopay, setting_for
from shared.bank_accounts import BankAccountData, add_bank_account, default_terms
from shared.bank_accounts.models import BankAccount
from shared.banking_days import next_banking_day
from shared.clock import business_today, utcnow
from shared.customers import create_customer
from shared.customers.models import Customer, CustomerKind
from shared.extensions import db
from shared.invoices import LineInput, create_invoice, open_invoice
from shared.invoices.models import Invoice
from shared.payments import create_payment, mark_processing, mark_succeeded
from shared.payments.models import Payment, PaymentMethod
from shared.payments.returns import return_payment
from shared.portal_accounts import (
    accept_invitation,
    complete_claim,
    invite_colleague,
    request_claim,
)
from shared.portal_accounts.models import PortalRole, PortalUser
from shared.tenancy import enter_tenant
from shared.unit_of_work import unit_of_work
from tenants.branding import LogoUpload, logo_bytes, process_logo, store_logo
from tenants.models import StaffRole, StaffUser, Tenant
from tenants.staff import sign_up_vendor

DEMO_SLUG = "acme"
DEMO_NAME = "Acme Supply Co."
DEMO_OWNER = ("owner@acme.test", "demo-password-1")
DEMO_BRAND_COLOR = "#0f766e"
DEMO_SUPPORT = ("accountsreceivable@acme.test", "+1 (305) 555-0100")


@dataclass(frozen=True)
class DemoCustomer:
    client_number: str
    name: str
    email: str
    kind: CustomerKind
    language: str


CUSTOMERS = [
    DemoCustomer(
        "20000101", "Harbor View Dental LLC", "billing@harborview.test", CustomerKind.BUSINESS, "en"
    ),
    DemoCustomer(
        "20000102", "María González", "maria.gonzalez@example.test", CustomerKind.PERSONAL, "es"
    ),
    DemoCustomer(
        "20000103", "Blue Ridge Builders Inc.", "ap@blueridge.test", CustomerKind.BUSINESS, "en"
    ),
]

# Portal sign-ins: (client number, email, password, account type, role, invited by).
PAYERS = [
    ("20000102", "maria.gonzalez@example.test", "demo-payer-maria", "personal", "admin", None),
    ("20000101", "billing@harborview.test", "demo-payer-harbor", "business", "admin", None),
    (
        "20000101",
        "frontdesk@harborview.test",
        "demo-payer-frontdesk",
        "business",
        "payer",
        "billing@harborview.test",
    ),
]

# (invoice number, client number, days ago issued, net days, electronic, lines)
INVOICES = [
    ("400101", "20000101", 75, 30, True, [("Dental supplies, quarterly order", "1", 1847520)]),
    (
        "400102",
        "20000101",
        40,
        30,
        True,
        [("Sterilization pouches (case)", "12", 8995), ("Nitrile gloves (case)", "20", 6450)],
    ),
    ("400103", "20000101", 10, 30, False, [("Chair maintenance visit", "3", 27500)]),
    ("400104", "20000102", 20, 15, True, [("Home office furniture", "1", 129900)]),
    (
        "400105",
        "20000103",
        55,
        45,
        True,
        [("Lumber, framing package", "1", 2659437), ("Delivery", "1", 35000)],
    ),
    ("400106", "20000103", 5, 45, True, [("Fasteners and hardware", "150", 1299)]),
    # Its ACH debit went in the demo's ACH file and came back R01 (insufficient funds): open again.
    ("400107", "20000101", 35, 30, True, [("Panoramic X-ray service", "1", 64000)]),
]


def demo_logo() -> bytes:
    """Acme's mark, drawn at load time: a teal rounded square with a white "A" and the name."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGBA", (480, 128), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 124, 124), radius=24, fill=(15, 118, 110, 255))
    draw.text((64, 66), "A", font=ImageFont.load_default(size=88), fill="white", anchor="mm")
    draw.text(
        (144, 64), "Acme", font=ImageFont.load_default(size=72), fill=(31, 41, 51), anchor="lm"
    )
    out = io.BytesIO()
    image.crop((0, 0, image.getbbox()[2] + 8, 128)).save(out, "PNG")  # no empty space at the end
    return out.getvalue()


def brand(tenant: Tenant) -> None:
    """The demo's branding; a logo only where there is none (or its file is gone)."""
    tenant.brand_color = DEMO_BRAND_COLOR
    tenant.support_email, tenant.support_phone = DEMO_SUPPORT
    if logo_bytes(tenant) is None:
        store_logo(tenant, process_logo(LogoUpload("acme-logo.png", demo_logo())))


@click.group("demo", help="Demo data.")
def demo_cli() -> None:
    pass


@demo_cli.command("load")
@with_appcontext
def load() -> None:
    """Create the Acme demo tenant, its owner, customers and invoices (idempotent)."""
    with unit_of_work():
        load_demo(utcnow())
    click.echo(f"demo tenant {DEMO_SLUG!r} ready: sign in as {DEMO_OWNER[0]} / {DEMO_OWNER[1]}")
    for _client, email, password, kind, role, _by in PAYERS:
        click.echo(f"demo portal sign-in ({kind}, {role}): {email} / {password}")


def load_demo(now: datetime) -> None:
    """The demo's rows, dated from the demo vendor's today."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == DEMO_SLUG))
    if tenant is None:
        tenant, _owner = sign_up_vendor(
            business_name=DEMO_NAME,
            slug=DEMO_SLUG,
            owner_email=DEMO_OWNER[0],
            owner_password=DEMO_OWNER[1],
        )
    else:
        enter_tenant(tenant.id)
    brand(tenant)
    customers = {c.client_number: c for c in db.session.scalars(select(Customer))}
    for demo in CUSTOMERS:
        if demo.client_number not in customers:
            customers[demo.client_number] = create_customer(
                name=demo.name,
                email=demo.email,
                client_number=demo.client_number,
                language=demo.language,
                kind=demo.kind,
            )
    existing = set(db.session.scalars(select(Invoice.number)))
    today = business_today(tenant, now)
    for number, client, age, net, electronic, lines in INVOICES:
        if number in existing:
            continue
        invoice = create_invoice(
            customer_id=customers[client].id,
            number=number,
            issue_date=today - timedelta(days=age),
            due_date=today - timedelta(days=age) + timedelta(days=net),
            electronic=electronic,
            terms=f"net_{net}",
            lines=[LineInput(d, Decimal(q), price) for d, q, price in lines],
        )
        open_invoice(invoice, now=now)
    _load_payers(tenant, customers)
    _load_payments(tenant, customers, today)
    _load_ach(tenant, customers, now)  # before AutoPay: the file holds only the returned debit
    _load_autopay(tenant, customers, now)


def _load_payers(tenant: Tenant, customers: dict[str, Customer]) -> None:
    """Portal users for the demo customers: a personal one, a business admin and a colleague."""
    existing = {u.email: u for u in db.session.scalars(select(PortalUser))}
    for client, email, password, kind, role, invited_by in PAYERS:
        if email in existing:
            continue
        customer = customers[client]
        if invited_by is None:
            # As a customer would: the claim link goes to the billing address, and is followed.
            claim = request_claim(
                tenant, customer, email=email, kind=kind, language=customer.language
            )
            user = complete_claim(
                tenant,
                claim.link.rsplit("/", 1)[1],
                name="",
                password=password,
                language=customer.language,
            )
        else:
            inviter = existing[invited_by]
            invitation = invite_colleague(tenant, inviter, email, PortalRole(role))
            token = invitation.link.rsplit("/", 1)[1]
            user = accept_invitation(
                tenant, token, name="", password=password, language=customer.language
            )
        user.email_verified_at = utcnow()
        db.session.flush()
        existing[email] = user


# Saved bank accounts: (payer email, nickname, holder, routing, account number, private).
BANK_ACCOUNTS = [
    (
        "billing@harborview.test",
        "Operating account",
        "Harbor View Dental LLC",
        "021000021",
        "000123456789",
        False,
    ),
    (
        "frontdesk@harborview.test",
        "Personal checking",
        "Dana Front",
        "011000015",
        "987654321",
        True,
    ),
    (
        "maria.gonzalez@example.test",
        "Cuenta corriente",
        "María González",
        "011000015",
        "44556677",
        False,
    ),
]

# María's AutoPay (issue 9): every open invoice up to $2,000.00, 3 business days before its due
# date, from her checking account (her overdue invoice goes on the next banking day).
AUTOPAY = ("maria.gonzalez@example.test", "20000102", "Cuenta corriente", "2000.00", 3, "before")


def _client_of(email: str) -> str:
    return next(client for client, address, *_rest in PAYERS if address == email)


def _load_autopay(tenant: Tenant, customers: dict[str, Customer], now: datetime) -> None:
    email, client, nickname, maximum, days, direction = AUTOPAY
    customer = customers[client]
    if setting_for(customer.id) is not None:
        return
    user = db.session.scalars(select(PortalUser).where(PortalUser.email == email)).one()
    account = db.session.scalars(select(BankAccount).where(BankAccount.nickname == nickname)).one()
    save_autopay(
        tenant,
        Actor.payer(user),
        user,
        customer,
        enabled=True,
        max_amount=maximum,
        bank_account_id=account.id,
        offset_days=days,
        direction=direction,
        now=now,
    )


DEMO_ACH = AchSettingsData(
    immediate_destination="021000021",
    immediate_destination_name="JPMORGAN CHASE",
    immediate_origin="1234567890",
    immediate_origin_name="ACME SUPPLY CO",
    odfi_routing="021000021",
    company_identification="1234567890",
    company_name="ACME SUPPLY CO",
    entry_description="INVOICES",
    cutoff="14:00",
)


def _load_ach(tenant: Tenant, customers: dict[str, Customer], now: datetime) -> None:
    """The vendor's ACH originator settings, and one ACH file to download: it holds an ACH debit
    of Harbor View's on 400107, which the bank then returned R01 (insufficient funds), so the
    console shows a returned payment and its return rates, and the invoice is open again."""
    if get_ach_settings(tenant) is None:
        owner = db.session.scalars(
            select(StaffUser).where(StaffUser.role == StaffRole.OWNER).order_by(StaffUser.id)
        ).first()
        update_ach_settings(tenant, Actor.staff(owner), DEMO_ACH)
    if db.session.scalar(select(Payment.id).where(Payment.idempotency_key == "demo-returned")):
        return
    invoice = db.session.scalars(select(Invoice).where(Invoice.number == "400107")).one()
    operating = db.session.scalars(
        select(BankAccount).where(BankAccount.nickname == "Operating account")
    ).one()
    billing = db.session.scalars(
        select(PortalUser).where(PortalUser.email == "billing@harborview.test")
    ).one()
    payment = create_payment(
        tenant,
        Actor.payer(billing),
        customers["20000101"],
        allocations={invoice.id: invoice.balance_cents},
        method=PaymentMethod.ACH,
        pay_on=next_banking_day(business_today(tenant, now)),  # by the file's effective date
        idempotency_key="demo-returned",
        bank_account_id=operating.id,
    )
    build_ach_files(tenant, now)
    return_payment(tenant, SYSTEM, payment, "R01")


def _load_payments(tenant: Tenant, customers: dict[str, Customer], today) -> None:
    """Saved bank accounts (one private to its payer), an ACH payment scheduled for the next
    banking day but one, and an invoice paid in full by an ACH debit that settled."""
    users = {u.email: u for u in db.session.scalars(select(PortalUser))}
    accounts = {a.nickname: a for a in db.session.scalars(select(BankAccount))}
    for email, nickname, holder, routing, number, private in BANK_ACCOUNTS:
        if nickname in accounts:
            continue
        user = users[email]
        accounts[nickname] = add_bank_account(
            tenant.id,
            Actor.payer(user),
            user,
            BankAccountData(
                holder_name=holder,
                routing_number=routing,
                account_number=number,
                account_number_again=number,
                kind="checking",
                nickname=nickname,
                private=private,
                accepted_terms=True,
                terms_text=default_terms(customers[_client_of(email)].language, tenant.name),
                ip="127.0.0.1",
                user_agent="flask demo load",
            ),
        )
    made = set(db.session.scalars(select(Payment.idempotency_key)))
    invoices = {i.number: i for i in db.session.scalars(select(Invoice))}
    billing = users["billing@harborview.test"]
    harbor = customers["20000101"]
    operating = accounts["Operating account"]
    if "demo-scheduled" not in made:
        invoice = invoices["400102"]
        create_payment(
            tenant,
            Actor.payer(billing),
            harbor,
            allocations={invoice.id: invoice.balance_cents // 2},
            method=PaymentMethod.ACH,
            pay_on=next_banking_day(
                next_banking_day(today + timedelta(days=1)) + timedelta(days=1)
            ),
            idempotency_key="demo-scheduled",
            bank_account_id=operating.id,
        )
    if "demo-settled" not in made:
        invoice = invoices["400103"]
        payment = create_payment(
            tenant,
            Actor.payer(billing),
            harbor,
            allocations={invoice.id: invoice.balance_cents},
            method=PaymentMethod.ACH,
            pay_on=next_banking_day(today - timedelta(days=4)),
            idempotency_key="demo-settled",
            bank_account_id=operating.id,
        )
        mark_processing(tenant, SYSTEM, payment, cause="demo: sent in the ACH file")
        mark_succeeded(tenant, SYSTEM, payment, cause="demo: settled")
