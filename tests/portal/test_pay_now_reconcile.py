"""The portal's immediate card charge, exactly once when the gateway gives no answer: a one-time
card (a token, not saved) paid today that times out after the charge succeeded is not left
"scheduled" (nothing would ask the gateway with that token again); it waits, processing, for the
reconciler, which asks the gateway with the same token and idempotency key and records the one
charge. With the built-in sandbox and its documented "timeout after success" test number."""

from __future__ import annotations

import pytest

import customer_portal.payments as portal_payments
from shared.cards import gateway
from shared.clock import utcnow
from shared.jobs.runner import run_job
from shared.payments.execution import ExecutionState
from shared.payments.models import PaymentStatus
from tests.jobs.factories import (
    PROCESSING_ERROR,
    TIMEOUT_AFTER_SUCCESS,
    charges,
    execution,
    payment,
)
from tests.portal.factories import open_as_guest
from tests.portal.payflow import SEED_OLDER, balances, confirm, make_seed, payments, post_pay


def one_time_card_token(app, number: str) -> str:
    """What the processor's card form gives back for `number` (the sandbox's tokeniser)."""
    with app.test_request_context():
        token, _card = gateway().tokenise(number, "12", str(utcnow().year + 3), "123", "10001")
    return token


def pay_now_without_an_answer(app, seed, monkeypatch, number=TIMEOUT_AFTER_SUCCESS):
    """A guest pays $125.00 of the oldest invoice with a one-time card today; the gateway's
    answer is lost, at once and on the portal's retry too. Returns (payment id, token)."""
    monkeypatch.setattr(portal_payments, "CHARGE_ATTEMPTS", 1)  # the retry got no answer either
    token = one_time_card_token(app, number)
    browser = open_as_guest(app, seed)
    response = post_pay(
        browser,
        seed.older[:1],
        [12500],
        method="card",
        card_token=token,
        receipt_email="a@b.test",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = confirm(browser)
    assert response.status_code == 303
    [made] = payments()
    return made.id, token


@pytest.fixture
def seed(app, make_tenant):
    return make_seed(make_tenant)


def test_a_timeout_in_the_portal_is_reconciled_and_charged_once(app, seed, monkeypatch):
    payment_id, token = pay_now_without_an_answer(app, seed, monkeypatch)
    made = payment(seed.tenant, payment_id)
    assert made.status is PaymentStatus.PROCESSING  # not "scheduled": it may be charged
    assert balances(seed.tenant, seed.older[:1]) == [SEED_OLDER[0] - 12500]
    row = execution(seed.tenant, payment_id)
    assert row.state is ExecutionState.RECONCILE  # needs reconciliation
    assert row.source == token  # the one-time card that was charged
    assert row.charged_cents == made.total_cents
    assert len(charges()) == 1  # the sandbox charged, then timed out
    assert run_job("due_payments") == {"acme": 0}  # never simply charged again
    assert run_job("reconcile_payments") == {"acme": 1}
    done = payment(seed.tenant, payment_id)
    assert done.status is PaymentStatus.SUCCEEDED
    [charge] = charges()  # still one charge, under the payment's key
    assert charge.idempotency_key == done.idempotency_key
    assert charge.amount_cents == done.total_cents
    assert done.gateway_reference == charge.reference
    assert execution(seed.tenant, payment_id).state is ExecutionState.SUCCEEDED
    assert balances(seed.tenant, seed.older[:1]) == [SEED_OLDER[0] - 12500]
    assert run_job("reconcile_payments") == {"acme": 0}
    assert len(charges()) == 1


def test_a_gateway_still_down_leaves_it_to_reconcile_and_charges_nothing(app, seed, monkeypatch):
    """The "processing error" number: nothing was charged, the gateway never answers; the
    reconciler asks with the token, gets no answer, and asks again later (no failure guessed)."""
    payment_id, token = pay_now_without_an_answer(app, seed, monkeypatch, number=PROCESSING_ERROR)
    assert payment(seed.tenant, payment_id).status is PaymentStatus.PROCESSING
    assert execution(seed.tenant, payment_id).source == token
    assert run_job("reconcile_payments") == {"acme": 0}
    row = execution(seed.tenant, payment_id)
    assert row.state is ExecutionState.RECONCILE
    assert row.outcome.endswith("no answer")
    assert payment(seed.tenant, payment_id).status is PaymentStatus.PROCESSING
    assert charges() == []
