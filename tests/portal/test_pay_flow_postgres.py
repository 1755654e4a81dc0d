"""On PostgreSQL (skipped without TEST_DATABASE_URL: SQLite has no row locks): the pay flow's
confirm posted ten times at once with one idempotency key makes one payment and one charge; two
partial payments of 60% of one invoice at once cannot both pass; the journal balances after both."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select

from shared.banking_days import next_banking_day
from shared.extensions import db
from shared.payments.models import JournalEntry, PaymentStatus
from shared.tenancy import tenant_scope
from tests.conftest import TODAY, host_client
from tests.portal.factories import open_as_guest, outbox
from tests.portal.fake_cards import install
from tests.portal.payflow import balances, make_seed, payments, post_pay, review_fields, text

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="SQLite has no row locks: run with TEST_DATABASE_URL",
    ),
]


def _clone(app, seed, browser):
    """Another client holding the same session cookie (a second tab, a double click)."""
    twin = host_client(app, seed.host)
    cookie = browser.get_cookie("session", domain=seed.host.split(":")[0])
    twin.set_cookie("session", cookie.value, domain=seed.host.split(":")[0])
    return twin


def _all_at_once(calls):
    results = []
    start = threading.Barrier(len(calls))

    def run(client, data):
        start.wait()
        results.append(client.post("/pay/confirm", data=data).status_code)

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _journal_sum(tenant_id) -> int:
    with tenant_scope(tenant_id):
        return db.session.scalar(select(func.coalesce(func.sum(JournalEntry.amount_cents), 0)))


def test_ten_confirms_with_one_key_make_one_payment_and_one_charge(app, make_tenant):
    cards = install(app)
    seed = make_seed(make_tenant)
    browser = open_as_guest(app, seed)
    post_pay(
        browser,
        seed.older[:1],
        [300000],
        method="card",
        card_token="tok_credit",
        receipt_email="a@b.test",
    )
    fields = review_fields(text(browser.get("/pay/review")))
    statuses = _all_at_once([(_clone(app, seed, browser), fields) for _ in range(10)])
    assert all(code == 303 for code in statuses), statuses
    [payment] = payments()
    assert payment.status is PaymentStatus.SUCCEEDED
    assert len(cards.charges) == 1
    assert balances(seed.tenant, seed.older[:1]) == [950000]
    assert _journal_sum(seed.tenant.id) == 0
    assert len(outbox("a@b.test", "payment_receipt")) == 1  # one confirmation, not ten


def test_ten_ach_confirms_with_one_key_queue_one_confirmation_email(app, make_tenant):
    """A guest's ACH payment (no charge to wait for): only the request that made the payment
    queues its email; the nine that found the key's payment queue none."""
    install(app)
    seed = make_seed(make_tenant)
    browser = open_as_guest(app, seed)
    response = post_pay(
        browser,
        seed.older[:1],
        [300000],
        method="ach",
        pay_on=next_banking_day(TODAY).isoformat(),
        bank_account="new",
        holder_name="Robin Guest",
        routing_number="021000021",
        account_number="987654321",
        account_number_again="987654321",
        kind="checking",
        accept_terms="y",
        receipt_email="robin@guest.test",
    )
    assert response.status_code == 302, text(response)
    fields = review_fields(text(browser.get("/pay/review")))
    statuses = _all_at_once([(_clone(app, seed, browser), fields) for _ in range(10)])
    assert all(code == 303 for code in statuses), statuses
    [payment] = payments()
    assert payment.status is PaymentStatus.SCHEDULED
    assert len(outbox("robin@guest.test", "payment_receipt")) == 1
    assert _journal_sum(seed.tenant.id) == 0


def test_two_sixty_percent_payments_at_once_cannot_both_pass(app, make_tenant):
    install(app)
    seed = make_seed(make_tenant)
    invoice = seed.older[0]
    sixty = 1250000 * 60 // 100
    calls = []
    for _ in range(2):
        browser = open_as_guest(app, seed)
        post_pay(
            browser,
            [invoice],
            [sixty],
            method="card",
            card_token="tok_credit",
            receipt_email="a@b.test",
        )
        calls.append((browser, review_fields(text(browser.get("/pay/review")))))
    assert calls[0][1]["idempotency_key"] != calls[1][1]["idempotency_key"]
    statuses = _all_at_once(calls)
    assert sorted(statuses) == [303, 422], statuses
    [payment] = payments()
    assert payment.amount_cents == sixty
    assert balances(seed.tenant, [invoice]) == [1250000 - sixty]
    assert _journal_sum(seed.tenant.id) == 0
