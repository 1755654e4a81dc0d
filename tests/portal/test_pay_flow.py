"""The pay flow (issue 8, point 5): the seed's worked example end to end, guests, the screens
counted, receipts, cancelling, and bad input refused clearly with nothing changed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.banking_days import is_banking_day, next_banking_day
from shared.payments.models import PaymentStatus
from tests.conftest import TODAY, host_client
from tests.portal.factories import open_as_guest, outbox
from tests.portal.fake_cards import install
from tests.portal.payflow import (
    ROUNDED,
    SEED_OLDER,
    balances,
    confirm,
    make_seed,
    payments,
    post_pay,
    review_fields,
    text,
)


@pytest.fixture
def cards(app):
    return install(app)


@pytest.fixture
def seed(app, make_tenant, cards):
    return make_seed(make_tenant)


def guest(app, seed):
    return open_as_guest(app, seed)


def test_pay_outstanding_bills_starts_with_every_open_invoice(app, seed):
    browser = guest(app, seed)
    page = text(browser.get("/pay?all=1"))
    assert page.count('name="invoice"') == 6
    assert page.count("checked>") >= 6
    assert "$82,350.57" in page
    assert "$2,470.51" in page  # 3% of the open balance, rounded down, beside the card option


def test_the_selection_unticks_the_two_most_recent(app, seed):
    browser = guest(app, seed)
    from tests.conftest import submit

    response = submit(browser, "/invoices", {"invoice": [str(i) for i in seed.older]})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/pay")
    page = text(browser.get("/pay"))
    assert "$45,441.76" in page
    assert "$1,363.25" in page
    assert "$46,805.01" in page


def test_the_seed_example_by_credit_card_as_a_guest(app, seed, cards):
    browser = guest(app, seed)
    response = post_pay(
        browser,
        seed.older,
        SEED_OLDER,
        method="card",
        card_token="tok_credit",
        receipt_email="pat@harbor.test",
    )
    assert response.status_code == 302, text(response)
    review = text(browser.get("/pay/review"))
    assert "$45,441.76" in review
    assert "$1,363.25" in review
    assert "$46,805.01" in review
    # "Change": round each amount down to the nearest thousand.
    post_pay(
        browser,
        seed.older,
        ROUNDED,
        method="card",
        card_token="tok_credit",
        receipt_email="pat@harbor.test",
    )
    review = text(browser.get("/pay/review"))
    assert "$44,000.00" in review
    assert "$1,320.00" in review
    assert "$45,320.00" in review
    response = confirm(browser)
    assert response.status_code == 303, text(response)
    [payment] = payments()
    assert (payment.amount_cents, payment.fee_cents, payment.total_cents) == (
        4400000,
        132000,
        4532000,
    )
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.card_last4 == "4242"
    assert balances(seed.tenant, seed.all) == [50000, 87540, 6636, 0, 2000000, 1690881]
    receipt = text(browser.get(response.headers["Location"]))
    assert "Payment completed" in receipt
    assert "$1,320.00" in receipt
    assert "••••4242" in receipt
    [mail] = outbox("pat@harbor.test", "payment_receipt")
    assert "Payment completed" in mail.subject
    assert "$45,320.00" in mail.text_body
    assert "$1,320.00" in mail.text_body
    assert "4242" in mail.text_body
    pdf = browser.get(response.headers["Location"] + "/receipt.pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")
    assert len(cards.charges) == 1


@pytest.mark.parametrize("token", ["tok_debit", "tok_prepaid"])
def test_a_debit_or_prepaid_card_pays_no_fee(app, seed, token):
    browser = guest(app, seed)
    post_pay(
        browser, seed.older, ROUNDED, method="card", card_token=token, receipt_email="a@b.test"
    )
    review = text(browser.get("/pay/review"))
    assert "$44,000.00" in review
    assert "No fee" in review
    assert "$1,320.00" not in review
    confirm(browser)
    [payment] = payments()
    assert payment.fee_cents == 0
    assert payment.total_cents == 4400000


def test_the_seed_example_in_spanish(app, seed):
    browser = guest(app, seed)
    browser.get("/?lang=es")
    page = text(browser.get("/pay?all=1"))
    assert "Hacer pagos" in page
    assert "Cargos por transacción" in page
    assert "$82,350.57" in page  # es_US: Spanish words, US amounts (shared.i18n.locale_for)
    post_pay(
        browser,
        seed.older,
        ROUNDED,
        method="card",
        card_token="tok_credit",
        receipt_email="a@b.test",
    )
    review = text(browser.get("/pay/review"))
    assert "$44,000.00" in review
    assert "$1,320.00" in review
    assert "$45,320.00" in review
    assert "Revise su pago" in review
    assert "Cargos por transacción" in review
    response = confirm(browser)
    receipt = text(browser.get(response.headers["Location"]))
    assert "Pago completado" in receipt
    [mail] = outbox("a@b.test", "payment_receipt")
    assert mail.language == "es"
    assert "$45,320.00" in mail.text_body
    assert "Pago completado" in mail.subject


def test_four_screens_from_the_invoice_email_to_a_confirmed_card_payment(app, seed):
    """The screens a guest sees: 1 the portal home (the email's link lands there), 2 the pay page
    (invoices ticked, "Make Payments" amounts, "Pay Now" method with "Transaction Fees", "Pay On",
    payment details), 3 the review, 4 the receipt. The accounting firm's portal needs 8."""
    browser = host_client(app, seed.host)
    from tests.portal.factories import pay_link_path

    screens = []

    def land(response):
        while response.status_code in (302, 303):
            response = browser.get(response.headers["Location"])
        assert response.status_code == 200
        screens.append(response.request.path)
        return response

    home = land(browser.get(pay_link_path(app, seed.tenant, seed.customer_id)))
    assert "/pay?all=1" in text(home)  # "Pay Outstanding Bills"
    land(browser.get("/pay?all=1"))
    land(
        post_pay(
            browser,
            seed.older,
            SEED_OLDER,
            method="card",
            card_token="tok_credit",
            receipt_email="a@b.test",
        )
    )
    land(confirm(browser))
    assert screens[0] == "/"
    assert screens[1] == "/pay"
    assert screens[2] == "/pay/review"
    assert screens[3].startswith("/payments/")
    assert len(screens) == 4


def test_ach_stays_scheduled_and_is_never_paid(app, seed):
    from tests.portal.payflow import add_payer, signed_in

    add_payer(seed.tenant, seed.customer_id, "pat@harbor.test")
    browser = signed_in(app, seed, "pat@harbor.test")
    day = next_banking_day(TODAY + timedelta(days=1))
    response = post_pay(
        browser,
        seed.older[:1],
        [100000],
        method="ach",
        pay_on=day.isoformat(),
        bank_account="new",
        holder_name="Pat Harbor",
        routing_number="021000021",
        account_number="123456789",
        account_number_again="123456789",
        kind="checking",
        accept_terms="y",
    )
    assert response.status_code == 302, text(response)
    review = text(browser.get("/pay/review"))
    assert "••••6789" in review
    assert "123456789" not in review
    response = confirm(browser)
    [payment] = payments()
    assert payment.status is PaymentStatus.SCHEDULED
    assert payment.pay_on == day
    assert payment.fee_cents == 0
    assert payment.bank_account_id
    receipt = text(browser.get(response.headers["Location"]))
    assert "Payment scheduled" in receipt
    assert "never as paid" in receipt
    [mail] = outbox("pat@harbor.test", "payment_receipt")
    assert "Payment scheduled" in mail.subject
    assert "123456789" not in mail.text_body
    # Cancelled from home / the receipt before it runs.
    assert "Scheduled payments" in text(browser.get("/"))
    from tests.conftest import submit

    submit(browser, f"/payments/{payment.id}/cancel", {}, form_path=f"/payments/{payment.id}")
    [payment] = payments()
    assert payment.status is PaymentStatus.CANCELLED
    assert balances(seed.tenant, seed.older[:1]) == [1250000]


def test_a_declined_card_fails_and_the_payer_tries_another(app, seed):
    browser = guest(app, seed)
    post_pay(
        browser,
        seed.older[:1],
        [1000],
        method="card",
        card_token="tok_insufficient",
        receipt_email="a@b.test",
    )
    response = confirm(browser)
    assert response.status_code == 303
    assert "change=1" in response.headers["Location"]
    page = text(browser.get(response.headers["Location"]))
    assert "insufficient funds" in page
    assert "Try another card" in page
    [failed] = payments()
    assert failed.status is PaymentStatus.FAILED
    assert balances(seed.tenant, seed.older[:1]) == [1250000]
    post_pay(
        browser,
        seed.older[:1],
        [1000],
        method="card",
        card_token="tok_credit",
        receipt_email="a@b.test",
    )
    confirm(browser)
    failed, paid = payments()
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.idempotency_key != failed.idempotency_key


def test_a_timeout_after_success_is_asked_again_and_charges_once(app, seed, cards):
    browser = guest(app, seed)
    post_pay(
        browser,
        seed.older[:1],
        [1000],
        method="card",
        card_token="tok_timeout",
        receipt_email="a@b.test",
    )
    confirm(browser)
    [payment] = payments()
    assert payment.status is PaymentStatus.SUCCEEDED
    assert len(cards.calls) == 2
    assert len(cards.charges) == 1
    assert {call[2] for call in cards.calls} == {payment.idempotency_key}


def test_the_same_form_posted_twice_is_one_payment(app, seed, cards):
    browser = guest(app, seed)
    post_pay(
        browser,
        seed.older[:1],
        [1000],
        method="card",
        card_token="tok_credit",
        receipt_email="a@b.test",
    )
    fields = review_fields(text(browser.get("/pay/review")))
    second_tab = review_fields(text(browser.get("/pay/review")))
    assert second_tab["idempotency_key"] == fields["idempotency_key"]
    first = confirm(browser, fields)
    again = confirm(browser, fields)
    assert first.headers["Location"] == again.headers["Location"]
    assert len(payments()) == 1
    assert len(cards.charges) == 1
    assert len(outbox("a@b.test", "payment_receipt")) == 1


def test_the_same_key_with_another_amount_is_refused_clearly(app, seed):
    browser = guest(app, seed)
    post_pay(
        browser,
        seed.older[:1],
        [1000],
        method="card",
        card_token="tok_credit",
        receipt_email="a@b.test",
    )
    fields = review_fields(text(browser.get("/pay/review")))
    confirm(browser, fields)
    response = confirm(browser, fields, **{f"amount-{seed.older[0]}": "20.00"})
    assert response.status_code == 422
    assert "already made with other details" in text(response)
    assert len(payments()) == 1


def test_extra_fields_are_ignored(app, seed):
    browser = guest(app, seed)
    post_pay(
        browser,
        seed.older[:1],
        [100000],
        method="card",
        card_token="tok_credit",
        receipt_email="a@b.test",
        fee="0",
        status="succeeded",
        customer_id="999",
        amount_paid="1250000",
    )
    fields = review_fields(text(browser.get("/pay/review")))
    confirm(browser, fields, fee="0", status="cancelled", customer_id="1", amount_paid="1")
    [payment] = payments()
    assert payment.fee_cents == 3000
    assert payment.customer_id == seed.customer_id
    assert payment.status is PaymentStatus.SUCCEEDED
    assert balances(seed.tenant, seed.older[:1]) == [1150000]


def _refused(app, seed, browser, field_text, **overrides):
    fields = {
        "method": "card",
        "card_token": "tok_credit",
        "receipt_email": "a@b.test",
    }
    fields.update(overrides)
    ids = fields.pop("ids", seed.older[:1])
    amounts = fields.pop("amounts", None)
    if amounts is None:
        response = post_pay(browser, ids, [1000] * len(ids), **fields)
    else:
        from tests.conftest import submit

        response = submit(
            browser,
            "/pay",
            {"invoice": [str(i) for i in ids], **amounts, "pay_on": TODAY.isoformat(), **fields},
        )
    assert response.status_code == 422, response.status_code
    page = text(response)
    assert field_text in page, page[:3000]
    assert "Error:" in page  # the title says so (GOV.UK)
    assert payments() == []
    return page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Pay more than 0"),
        ("-5", "in dollars and cents"),
        ("0.001", "in dollars and cents"),
        ("1e3", "in dollars and cents"),
        ("NaN", "in dollars and cents"),
        ("Infinity", "in dollars and cents"),
        ("1e308", "in dollars and cents"),
        ("12500.01", "at most the balance"),
        ("99999999999999999999", "in dollars and cents"),
        ("", "Enter the amount"),
        ("1,5", "commas only between thousands"),
    ],
)
def test_bad_amounts_are_refused(app, seed, typed, message):
    browser = guest(app, seed)
    invoice = seed.older[0]
    _refused(app, seed, browser, message, amounts={f"amount-{invoice}": typed})


def test_a_card_payment_under_fifty_cents_is_refused(app, seed):
    browser = guest(app, seed)
    _refused(app, seed, browser, "at least $0.50", amounts={f"amount-{seed.older[0]}": "0.49"})


def _saturday(after: date) -> date:
    day = after + timedelta(days=1)
    while day.weekday() != 5:
        day += timedelta(days=1)
    return day


def _fed_holiday(after: date) -> date:
    import holidays

    days = holidays.financial_holidays("FED", years=[after.year, after.year + 1])
    return min(d for d in days if d > after and d.weekday() < 5 and not is_banking_day(d))


@pytest.fixture
def payer_browser(app, seed):
    from tests.portal.payflow import add_payer, signed_in

    add_payer(seed.tenant, seed.customer_id, "pat@harbor.test")
    return signed_in(app, seed, "pat@harbor.test")


@pytest.mark.parametrize(
    ("day", "method", "message"),
    [
        (lambda: TODAY - timedelta(days=1), "card", "cannot be in the past"),
        (lambda: TODAY + timedelta(days=367), "ach", "at most a year ahead"),
        (lambda: _saturday(TODAY), "ach", "banking days only"),
        (lambda: _fed_holiday(TODAY), "ach", "banking days only"),
        (lambda: "27/3/2027", "ach", "year-month-day"),
    ],
)
def test_bad_pay_on_dates_are_refused(app, seed, payer_browser, day, method, message):
    value = day()
    page = _refused(
        app,
        seed,
        payer_browser,
        message,
        method=method,
        pay_on=value if isinstance(value, str) else value.isoformat(),
        bank_account="new",
        holder_name="Pat Harbor",
        routing_number="021000021",
        account_number="123456789",
        account_number_again="123456789",
        kind="checking",
        accept_terms="y",
    )
    if message == "banking days only":
        assert "The next banking day is" in page


def test_a_guests_card_payment_on_a_later_date_is_refused(app, seed):
    browser = guest(app, seed)
    later = (TODAY + timedelta(days=3)).isoformat()
    _refused(app, seed, browser, "needs a saved card", pay_on=later)


def test_a_payers_card_payment_on_a_later_date_saves_the_card_and_waits(
    app, seed, payer_browser, cards
):
    from shared.cards.models import SavedCard
    from shared.tenancy import tenant_scope

    later = TODAY + timedelta(days=3)
    response = post_pay(
        payer_browser,
        seed.older[:1],
        [100000],
        method="card",
        card_token="tok_credit",
        pay_on=later.isoformat(),
    )
    assert response.status_code == 302, text(response)
    review = text(payer_browser.get("/pay/review"))
    assert "$30.00" in review  # the credit card's fee, known from the saved card
    confirm(payer_browser)
    [payment] = payments()
    assert payment.status is PaymentStatus.SCHEDULED
    assert payment.pay_on == later
    assert payment.fee_cents == 3000
    assert cards.charges == {}  # charged on its date, by the jobs
    with tenant_scope(seed.tenant.id):
        saved = db_get(SavedCard, payment.saved_card_id)
        assert saved.last4 == "4242"


def db_get(model, id_):
    from shared.extensions import db

    return db.session.get(model, id_)


def test_an_expired_card_is_refused(app, seed):
    browser = guest(app, seed)
    _refused(app, seed, browser, "This card has expired", card_token="tok_expired")


def test_an_unknown_card_token_is_refused(app, seed):
    browser = guest(app, seed)
    _refused(app, seed, browser, "Enter your card details", card_token="tok_forged")


def test_a_guest_gives_an_email_for_the_receipt(app, seed):
    browser = guest(app, seed)
    _refused(app, seed, browser, "email address for your receipt", receipt_email="")


def test_a_guest_cannot_pay_from_the_customers_saved_bank_account(app, seed, payer_browser):
    """Guests pay with new details only: a saved account's id is 404 to them, as if unknown."""
    post_pay(
        payer_browser,
        seed.older[:1],
        [1000],
        method="ach",
        pay_on=next_banking_day(TODAY).isoformat(),
        bank_account="new",
        holder_name="Pat Harbor",
        routing_number="021000021",
        account_number="123456789",
        account_number_again="123456789",
        kind="checking",
        accept_terms="y",
    )
    confirm(payer_browser)
    [payment] = payments()
    browser = guest(app, seed)
    response = post_pay(
        browser,
        seed.older[1:2],
        [1000],
        method="ach",
        pay_on=next_banking_day(TODAY).isoformat(),
        bank_account=str(payment.bank_account_id),
        receipt_email="a@b.test",
    )
    assert response.status_code == 404
    assert len(payments()) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"routing_number": "021000022"}, "check digit"),
        ({"routing_number": "000000000"}, "not a valid routing number"),
        ({"routing_number": "12345678"}, "9 digits"),
        ({"routing_number": "0210000210"}, "9 digits"),
        ({"routing_number": "02100002A"}, "only digits"),
        ({"account_number_again": "123456780"}, "differ"),
        ({"account_number": "1" * 18, "account_number_again": "1" * 18}, "4 to 17"),
        ({"accept_terms": ""}, "Terms of Service"),
    ],
)
def test_a_new_bank_account_with_bad_details_saves_nothing(
    app, seed, payer_browser, changes, message
):
    from sqlalchemy import func, select

    from shared.bank_accounts.models import BankAccount
    from shared.extensions import db

    fields = {
        "method": "ach",
        "pay_on": next_banking_day(TODAY).isoformat(),
        "bank_account": "new",
        "holder_name": "Pat Harbor",
        "routing_number": "021000021",
        "account_number": "123456789",
        "account_number_again": "123456789",
        "kind": "checking",
        "accept_terms": "y",
        **changes,
    }
    _refused(app, seed, payer_browser, message, **fields)
    count = db.session.scalar(
        select(func.count()).select_from(BankAccount).execution_options(all_tenants=True)
    )
    assert count == 0


def test_a_post_without_csrf_changes_nothing(app, seed):
    browser = guest(app, seed)
    invoice = seed.older[0]
    data = {
        "invoice": str(invoice),
        f"amount-{invoice}": "10.00",
        "method": "card",
        "card_token": "tok_credit",
        "pay_on": TODAY.isoformat(),
        "receipt_email": "a@b.test",
    }
    response = browser.post("/pay", data=data)
    assert response.status_code == 400
    assert "did not come from this site" in text(response)
    response = browser.post("/pay/confirm", data={**data, "idempotency_key": "k" * 32})
    assert response.status_code == 400
    assert "did not come from this site" in text(response)
    assert payments() == []


def test_another_customers_invoice_is_404(app, seed, make_tenant):
    from tests.portal.factories import add_customer, add_invoice

    other_customer = add_customer(seed.tenant, name="Other LLC", email="o@other.test")
    foreign = add_invoice(seed.tenant, other_customer, 5000)
    browser = guest(app, seed)
    response = post_pay(
        browser, [foreign], [1000], method="card", card_token="tok_credit", receipt_email="a@b.test"
    )
    assert response.status_code == 404
    fields = {
        "invoice": [str(foreign)],
        f"amount-{foreign}": "10.00",
        "method": "card",
        "card_token": "tok_credit",
        "pay_on": TODAY.isoformat(),
        "receipt_email": "a@b.test",
        "idempotency_key": "x" * 32,
    }
    post_pay(
        browser,
        seed.older[:1],
        [1000],
        method="card",
        card_token="tok_credit",
        receipt_email="a@b.test",
    )
    real = review_fields(text(browser.get("/pay/review")))
    response = confirm(browser, {**fields, "csrf_token": real["csrf_token"]})
    assert response.status_code == 404
    assert payments() == []


def test_another_tenants_invoice_and_payment_are_404(app, seed, make_tenant):
    other = make_seed(make_tenant, slug="bolt")
    browser = guest(app, other)
    post_pay(
        browser,
        other.older[:1],
        [1000],
        method="card",
        card_token="tok_credit",
        receipt_email="a@b.test",
    )
    confirm(browser)
    [payment] = payments()
    mine = guest(app, seed)
    response = post_pay(
        mine,
        other.older[:1],
        [1000],
        method="card",
        card_token="tok_credit",
        receipt_email="a@b.test",
    )
    assert response.status_code == 404
    assert mine.get(f"/payments/{payment.id}").status_code == 404
    assert mine.get(f"/payments/{payment.id}/receipt.pdf").status_code == 404


def test_a_guest_sees_only_the_payments_made_in_their_browser(app, seed):
    browser = guest(app, seed)
    post_pay(
        browser,
        seed.older[:1],
        [1000],
        method="card",
        card_token="tok_credit",
        receipt_email="a@b.test",
    )
    location = confirm(browser).headers["Location"]
    assert browser.get(location).status_code == 200
    other_guest = guest(app, seed)
    assert other_guest.get(location).status_code == 404


def test_a_colleagues_private_bank_account(app, seed):
    """Its id is 404 to a colleague; the colleague's scheduled payment shows 'a private account'."""
    from tests.portal.payflow import add_payer, signed_in

    add_payer(seed.tenant, seed.customer_id, "pat@harbor.test")
    add_payer(seed.tenant, seed.customer_id, "casey@harbor.test")
    pat = signed_in(app, seed, "pat@harbor.test")
    day = next_banking_day(TODAY + timedelta(days=2))
    post_pay(
        pat,
        seed.older[:1],
        [1000],
        method="ach",
        pay_on=day.isoformat(),
        bank_account="new",
        holder_name="Pat Harbor",
        routing_number="021000021",
        account_number="123456789",
        account_number_again="123456789",
        kind="checking",
        private="y",
        accept_terms="y",
    )
    location = confirm(pat).headers["Location"]
    [payment] = payments()
    casey = signed_in(app, seed, "casey@harbor.test")
    page = text(casey.get(location))
    assert "a private account" in page
    assert "6789" not in page
    assert "Cancel this payment" not in page  # not theirs to cancel
    response = post_pay(
        casey,
        seed.older[1:2],
        [1000],
        method="ach",
        pay_on=day.isoformat(),
        bank_account=str(payment.bank_account_id),
    )
    assert response.status_code == 404
    assert len(payments()) == 1


def test_five_hundred_open_invoices_in_a_constant_number_of_queries(app, seed, count_queries):
    from shared.extensions import db
    from shared.invoices.models import Invoice
    from shared.tenancy import tenant_scope

    browser = guest(app, seed)
    browser.get("/pay?all=1")
    with count_queries() as few:
        page = browser.get("/pay?all=1")
    assert page.status_code == 200
    with tenant_scope(seed.tenant.id):
        template = db.session.get(Invoice, seed.older[0])
        for n in range(494):
            db.session.add(
                Invoice(
                    **{
                        c.key: getattr(template, c.key)
                        for c in Invoice.__table__.columns
                        if c.key not in ("id", "number")
                    },
                    number=f"9{n:05d}",
                )
            )
        db.session.commit()
    with count_queries() as many:
        page = browser.get("/pay?all=1")
    assert text(page).count('name="invoice"') == 500
    assert many.count == few.count
