"""The console's AutoPay enrolments (reached from Payments): each customer's maximum, bank account
(last four only), days before/after the due date, since when, and why it stopped; only the
signed-in vendor's; the same queries for one row or fifty."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from shared import encryption
from shared.autopay.models import AutoPaySetting, Direction
from shared.bank_accounts.models import BankAccount, BankAccountKind
from shared.clock import utcnow
from shared.extensions import db
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant
from tests.conftest import submit
from tests.portal.factories import add_customer

SINCE = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)


def _tenant(slug: str = "acme") -> Tenant:
    return db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()


def _enrol(tenant, name: str, *, number="123456789", enabled=True, stopped="", **kw) -> int:
    customer_id = add_customer(tenant, name=name, email=f"{abs(hash(name))}@payer.test")
    with tenant_scope(tenant.id):
        account = BankAccount(
            tenant_id=tenant.id,
            customer_id=customer_id,
            portal_user_id=None,
            holder_name=name,
            routing_number="011000015",
            account_number_encrypted=encryption.encrypt(number),
            last4=number[-4:],
            kind=BankAccountKind.CHECKING,
            terms_version="v1",
            terms_accepted_at=utcnow(),
            terms_ip="127.0.0.1",
            terms_user_agent="pytest",
        )
        db.session.add(account)
        db.session.flush()
        setting = AutoPaySetting(
            tenant_id=tenant.id,
            customer_id=customer_id,
            enabled=enabled,
            max_amount_cents=kw.get("max_cents", 50000),
            bank_account_id=account.id,
            offset_days=kw.get("days", 2),
            direction=kw.get("direction", Direction.BEFORE),
            set_by_label="Pat",
            set_at=SINCE,
            stopped_reason=stopped,
            stopped_at=SINCE if stopped else None,
        )
        db.session.add(setting)
        db.session.commit()
        setting_id = setting.id
    leave_tenant()
    return setting_id


def test_the_list_shows_each_enrolment_masked_with_its_state(signed_in_console):
    acme = _tenant()
    _enrol(acme, "Harbor View Dental", number="000123456789", max_cents=125000)
    _enrol(acme, "Bayside Bakery", number="987654321", days=3, direction=Direction.AFTER)
    _enrol(acme, "Closed Corner Shop", number="55554444", enabled=False, stopped="R02")
    _enrol(acme, "Quiet Quilts", number="11112222", enabled=False, days=0)
    payments = signed_in_console.get("/payments").get_data(as_text=True)
    assert 'href="/autopay"' in payments  # reached from the Payments section
    response = signed_in_console.get("/autopay")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "4 enrolments" in page
    assert "Harbor View Dental" in page
    assert "$1,250.00" in page
    assert "••••6789" in page
    assert "000123456789" not in page
    assert "123456789" not in page  # never more than the last four digits
    assert "2 business days before the due date" in page
    assert "3 business days after the due date" in page
    assert "on the due date" in page
    assert page.count("On since May 4, 2026") == 2
    assert "Stopped on May 4, 2026" in page
    assert "was returned by the bank (R02)" in page
    assert "Turned off on May 4, 2026" in page
    # Sorted by customer name.
    assert page.index("Bayside Bakery") < page.index("Harbor View Dental") < page.index("Quiet")


def test_another_vendors_enrolment_never_shows(signed_in_console, make_tenant):
    globex, _owner = make_tenant("globex")
    _enrol(globex, "Globex Secret Customer", number="99998888")
    _enrol(_tenant(), "Harbor View Dental")
    page = signed_in_console.get("/autopay").get_data(as_text=True)
    assert "Harbor View Dental" in page
    assert "Globex Secret Customer" not in page
    assert "8888" not in page
    assert "1 enrolment" in page


def test_an_empty_list_says_so_and_in_spanish(signed_in_console):
    page = signed_in_console.get("/autopay").get_data(as_text=True)
    assert "No customer has set up AutoPay yet." in page
    _enrol(_tenant(), "Harbor View Dental", enabled=False, stopped="bank_account_removed")
    submit(signed_in_console, "/language", {"lang": "es", "next": "/"}, form_path="/")
    page = signed_in_console.get("/autopay").get_data(as_text=True)
    assert "Inscripciones en pago automático" in page
    assert "1 inscripción" in page
    assert "Detenido el" in page
    assert "Monto máximo de pago" in page


def test_the_list_runs_the_same_queries_for_one_row_or_fifty(signed_in_console, count_queries):
    acme = _tenant()
    _enrol(acme, "Customer 00")
    signed_in_console.get("/autopay")
    with count_queries() as one:
        assert signed_in_console.get("/autopay").status_code == 200
    for n in range(1, 50):
        _enrol(acme, f"Customer {n:02d}", number=f"1000{n:05d}")
    with count_queries() as fifty:
        page = signed_in_console.get("/autopay").get_data(as_text=True)
    assert page.count('href="/customers/') == 50
    assert fifty.count == one.count
    _enrol(acme, "Customer 50")
    second = signed_in_console.get("/autopay?page=2").get_data(as_text=True)
    assert "Customer 50" in second
    assert "Page 2 of 2" in second
