"""Payment reminders: before the due date, on it, and while overdue, once per invoice, kind and
occurrence; none for invoices covered by payments or AutoPay, nor void, paid or draft ones; emailed
to the customer's contacts in their language, branded, with the pay link."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from shared.actors import Actor, ActorKind
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices import reminders
from shared.invoices.models import Invoice, InvoiceStatus
from shared.invoices.reminders import (
    InvoiceReminder,
    ReminderKind,
    Schedule,
    reminder_due,
    send_reminders,
)
from shared.mail.models import OutboxMessage
from shared.payments import create_payment
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant
from tests.conftest import host_client
from tests.portal.factories import add_bank_account_row
from tests.test_late_fees import DUE, at, new_invoice

K = ReminderKind


def run(tenant_id, day: date) -> int:
    with tenant_scope(tenant_id):
        count = send_reminders(db.session.get(Tenant, tenant_id), at(day))
        db.session.commit()
    leave_tenant()
    return count


def sent(tenant_id) -> list[tuple[int, str, int]]:
    with tenant_scope(tenant_id):
        rows = db.session.scalars(select(InvoiceReminder).order_by(InvoiceReminder.id)).all()
        found = [(r.invoice_id, r.kind.value, r.occurrence) for r in rows]
    leave_tenant()
    return found


def mails(template="invoice_reminder") -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
            .execution_options(all_tenants=True)
        )
    )


@pytest.fixture
def acme(make_tenant):
    tenant, _owner = make_tenant("acme", "Acme Supply Co.")
    return tenant.id


# --- which reminder, when ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "wanted"),
    [
        (date(2026, 3, 6), None),  # 4 days before: too early
        (date(2026, 3, 7), (K.BEFORE_DUE, 0)),
        (date(2026, 3, 9), (K.BEFORE_DUE, 0)),
        (date(2026, 3, 10), (K.DUE, 0)),
        (date(2026, 3, 11), None),
        (date(2026, 3, 16), None),
        (date(2026, 3, 17), (K.OVERDUE, 1)),
        (date(2026, 3, 23), (K.OVERDUE, 1)),
        (date(2026, 3, 24), (K.OVERDUE, 2)),
        (date(2026, 3, 31), (K.OVERDUE, 3)),
        (date(2026, 4, 7), None),  # a fourth would pass the default of 3
    ],
)
def test_the_default_schedule(today, wanted):
    assert reminder_due(Schedule(), DUE, today) == wanted


def test_switched_off_reminders_are_not_due():
    off = Schedule(before_enabled=False, due_enabled=False, overdue_enabled=False)
    for day in (date(2026, 3, 8), date(2026, 3, 10), date(2026, 3, 17)):
        assert reminder_due(off, DUE, day) is None
    weekly = Schedule(before_days=10, overdue_every_days=1, overdue_max=2)
    assert reminder_due(weekly, DUE, date(2026, 2, 28)) == (K.BEFORE_DUE, 0)
    assert reminder_due(weekly, DUE, date(2026, 3, 12)) == (K.OVERDUE, 2)
    assert reminder_due(weekly, DUE, date(2026, 3, 13)) is None


# --- the job ----------------------------------------------------------------------------------


def test_each_reminder_is_sent_once(app, acme):
    invoice_id, _ = new_invoice(acme, 100_000)
    assert run(acme, date(2026, 3, 7)) == 1
    assert run(acme, date(2026, 3, 7)) == 0  # run twice → once
    assert run(acme, date(2026, 3, 8)) == 0  # the before-due reminder is one, not one a day
    assert run(acme, date(2026, 3, 10)) == 1
    assert run(acme, date(2026, 3, 17)) == 1
    assert run(acme, date(2026, 3, 20)) == 0
    assert run(acme, date(2026, 3, 24)) == 1
    assert sent(acme) == [
        (invoice_id, "before_due", 0),
        (invoice_id, "due", 0),
        (invoice_id, "overdue", 1),
        (invoice_id, "overdue", 2),
    ]


def test_a_job_that_was_down_sends_only_todays_reminder(app, acme):
    new_invoice(acme)
    assert run(acme, date(2026, 3, 25)) == 1  # nothing went out from Mar 7 to Mar 24
    assert [kind for _, kind, _ in sent(acme)] == ["overdue"]
    assert [occurrence for _, _, occurrence in sent(acme)] == [2]


def test_the_email_goes_to_every_contact_in_their_language_with_the_pay_link(app, acme):
    invoice_id, customer_id = new_invoice(acme, 123_456)
    with tenant_scope(acme):
        customer = db.session.get(Customer, customer_id)
        customer.cc_emails = "pat@harbor.test"
        customer.language = "es"
        db.session.commit()
    leave_tenant()
    assert run(acme, date(2026, 3, 17)) == 1
    messages = mails()
    assert [m.to_address for m in messages] == ["ap@harbor.test", "pat@harbor.test"]
    message = messages[0]
    assert message.language == "es"
    assert "vencida" in message.subject
    assert "Acme Supply Co." in message.subject
    assert "7 días" in message.text_body
    assert "$1,234.56" in message.text_body
    assert "Pagar factura electrónicamente" in message.html_body
    assert "Acme Supply Co." in message.from_address
    link = re.search(r"http://acme\.localhost:8000(/pay/\S+)", message.text_body)
    assert link, message.text_body
    assert link.group(1) in message.html_body
    # The link opens the portal for this customer with no password.
    browser = host_client(app, "acme.localhost:8000")
    with time_machine.travel(at(date(2026, 3, 17)), tick=False):  # the day it was sent
        assert browser.get(link.group(1)).status_code == 302
        assert "400001" in browser.get("/invoices").get_data(as_text=True)


@pytest.mark.parametrize(
    ("day", "subject", "sentence"),
    [
        (date(2026, 3, 8), "is due on March 10, 2026", "This is a reminder that invoice"),
        (date(2026, 3, 10), "is due today", "is due today, March 10, 2026"),
        (date(2026, 3, 17), "is overdue", "and is 7 days overdue"),
    ],
)
def test_each_kind_says_what_it_is_in_english(app, acme, day, subject, sentence):
    new_invoice(acme)
    run(acme, day)
    [message] = mails()
    assert subject in message.subject
    assert sentence in message.text_body
    assert sentence in message.html_body
    assert "Pay Invoice Electronically" in message.html_body


def test_the_vendors_name_is_escaped_in_the_html(app, acme):
    with tenant_scope(acme):
        db.session.get(Tenant, acme).name = "<b>Acme</b> & Co"
        db.session.commit()
    leave_tenant()
    new_invoice(acme)
    run(acme, date(2026, 3, 10))
    [message] = mails()
    assert "<b>Acme</b>" not in message.html_body
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; Co" in message.html_body


def test_late_fees_and_money_on_its_way_are_mentioned(app, acme):
    invoice_id, customer_id = new_invoice(acme, 100_000)
    with tenant_scope(acme):
        found = db.session.get(Invoice, invoice_id)
        found.late_fee_cents = 2500
        create_payment(
            db.session.get(Tenant, acme),
            Actor.guest("g@x.test"),
            db.session.get(Customer, customer_id),
            allocations={invoice_id: 40_000},
            method="ach",
            pay_on=date(2026, 3, 20),
            idempotency_key="part",
            bank_account_id=add_bank_account_row(
                db.session.get(Tenant, acme), customer_id, single_use=True
            ),
        )
        db.session.commit()
    leave_tenant()
    run(acme, date(2026, 3, 17))
    [message] = mails()
    assert "Amount due: $625.00" in message.text_body
    assert "late fees of $25.00" in message.text_body
    assert "A payment of $400.00 is already on its way" in message.text_body


def test_no_reminder_for_covered_void_paid_or_draft_invoices(app, acme):
    from shared.clock import utcnow
    from shared.invoices import void_invoice

    open_id, customer_id = new_invoice(acme, 10_000)
    draft_id, _ = new_invoice(acme, 10_000, status=InvoiceStatus.DRAFT, customer_id=customer_id)
    void_id, _ = new_invoice(acme, 10_000, customer_id=customer_id)
    paid_id, _ = new_invoice(acme, 10_000, customer_id=customer_id)
    covered_id, _ = new_invoice(acme, 10_000, customer_id=customer_id)
    with tenant_scope(acme):
        void_invoice(db.session.get(Invoice, void_id), "Sent twice", now=utcnow())
        paid = db.session.get(Invoice, paid_id)
        paid.paid_cents, paid.status = 10_000, InvoiceStatus.PAID
        create_payment(
            db.session.get(Tenant, acme),
            Actor.guest("g@x.test"),
            db.session.get(Customer, customer_id),
            allocations={covered_id: 10_000},
            method="ach",
            pay_on=date(2026, 3, 10),
            idempotency_key="covers-it",
            bank_account_id=add_bank_account_row(
                db.session.get(Tenant, acme), customer_id, single_use=True
            ),
        )
        db.session.commit()
    leave_tenant()
    assert run(acme, date(2026, 3, 10)) == 1
    assert sent(acme) == [(open_id, "due", 0)]


def test_no_reminder_for_an_invoice_autopay_will_pay(app, acme, monkeypatch):
    first, customer_id = new_invoice(acme)
    second, _ = new_invoice(acme, customer_id=customer_id)
    asked = []

    def covered(tenant, invoice):
        asked.append((tenant.id, invoice.id))
        return invoice.id == first

    monkeypatch.setattr(reminders, "covered_by_autopay", covered)
    assert run(acme, date(2026, 3, 10)) == 1
    assert sent(acme) == [(second, "due", 0)]
    assert asked == [(acme, first), (acme, second)]


def test_without_autopay_nothing_is_covered_and_the_app_wires_autopay_in(app, acme):
    # The module's own default covers nothing; create_app connects AutoPay's answer
    # (wsgi.register_domain_hooks; what AutoPay answers is tested in tests/autopay/test_wiring.py).
    from shared import autopay

    assert reminders._not_covered(None, None) is False
    assert reminders.covered_by_autopay is autopay.covers


def test_switched_off_reminders_send_nothing(app, acme):
    from shared.invoices.reminders import ReminderInput, update_reminders

    new_invoice(acme)
    with tenant_scope(acme):
        tenant = db.session.get(Tenant, acme)
        update_reminders(
            tenant,
            Actor(ActorKind.STAFF, None, "owner@acme.test", is_owner=True),
            ReminderInput(False, "", False, False, "", ""),
        )
        db.session.commit()
    leave_tenant()
    for day in (date(2026, 3, 8), date(2026, 3, 10), date(2026, 3, 17)):
        assert run(acme, day) == 0
    assert mails() == []


def test_tenants_are_reminded_only_of_their_own_invoices(app, acme, make_tenant):
    globex, _ = make_tenant("globex")
    acme_invoice, _ = new_invoice(acme)
    new_invoice(globex.id)
    assert run(acme, date(2026, 3, 10)) == 1
    assert sent(acme) == [(acme_invoice, "due", 0)]
    assert sent(globex.id) == []
    [message] = mails()
    assert "acme.localhost" in message.text_body


def test_no_before_due_reminder_when_the_invoice_was_emailed_in_those_days(app, acme):
    from datetime import timedelta

    late_sent, customer_id = new_invoice(acme)
    early_sent, _ = new_invoice(acme, customer_id=customer_id)
    with tenant_scope(acme):
        db.session.get(Invoice, late_sent).sent_at = at(date(2026, 3, 8))  # 2 days before due
        db.session.get(Invoice, early_sent).sent_at = at(date(2026, 3, 8)) - timedelta(days=2)
        db.session.commit()
    leave_tenant()
    assert run(acme, date(2026, 3, 9)) == 1
    assert sent(acme) == [(early_sent, "before_due", 0)]
    assert run(acme, date(2026, 3, 10)) == 2  # both are reminded on the due date
