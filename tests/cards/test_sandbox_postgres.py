"""On PostgreSQL (these tests skip without TEST_DATABASE_URL): ten charges at once with one key are
one charge, and refunds at once never exceed their charge."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select

from shared.cards import GatewayRefused, GatewayUnavailable, gateway
from shared.cards.models import SandboxCharge, SandboxRefund
from shared.clock import utcnow
from shared.extensions import db

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="SQLite serialises every write: run with TEST_DATABASE_URL",
    ),
]


def _race(app, calls):
    """Run each callable at once in its own app context; collect answers and errors."""
    answers, errors = [], []
    start = threading.Barrier(len(calls))

    def run(call):
        with app.app_context():
            try:
                start.wait()
                answers.append(call())
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers, errors


def _token(number):
    return gateway().tokenise(number, "12", str(utcnow().year + 2), "123", "10001")[0]


def test_ten_charges_at_once_with_one_key_are_one_charge(app):
    token = _token("4242424242424242")
    sandbox = gateway()
    answers, errors = _race(
        app, [lambda: sandbox.charge(token, 5_000, idempotency_key="same", description="")] * 10
    )
    assert errors == []
    assert len({answer.reference for answer in answers}) == 1
    assert db.session.scalar(select(func.count()).select_from(SandboxCharge)) == 1


def test_the_timeout_card_retried_at_once_is_charged_once(app):
    token = _token("4000000000007767")
    sandbox = gateway()
    answers, errors = _race(
        app, [lambda: sandbox.charge(token, 5_000, idempotency_key="t", description="")] * 6
    )
    assert all(isinstance(error, GatewayUnavailable) for error in errors)
    assert all(answer.succeeded for answer in answers)
    assert db.session.scalar(select(func.sum(SandboxCharge.amount_cents))) == 5_000


def test_refunds_at_once_never_exceed_the_charge(app):
    sandbox = gateway()
    charge = sandbox.charge(_token("4242424242424242"), 10_000, idempotency_key="c", description="")
    calls = [
        (lambda n=n: sandbox.refund(charge.reference, 6_000, idempotency_key=f"r{n}"))
        for n in range(6)
    ]
    answers, errors = _race(app, calls)
    assert len(answers) == 1
    assert all(isinstance(error, GatewayRefused) for error in errors)
    assert db.session.scalar(select(func.sum(SandboxRefund.amount_cents))) == 6_000
    assert db.session.scalar(select(SandboxCharge.refunded_cents)) == 6_000
