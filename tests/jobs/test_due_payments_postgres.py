"""On PostgreSQL (skipped on SQLite: it has no row locks, and "runs once" proves nothing there):
due card payments run exactly once with several job processes — real OS processes running
`flask jobs run-once` against the test database side by side, one of them killed with SIGKILL
mid-batch — and a charge whose outcome was unknown is reconciled with the gateway, never simply
repeated; an outcome is refused to a worker whose lease was lost."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from sqlalchemy import func, select

import shared.payments.due as due
from bench.jobs import flask, job_env, seed_due_payments
from shared.clock import business_today, utcnow
from shared.extensions import db
from shared.jobs.runner import run_job
from shared.leases import claim, new_owner
from shared.payments.execution import ExecutionState, PaymentExecution
from shared.payments.models import JournalEntry, Payment, PaymentStatus
from shared.tenancy import tenant_scope
from shared.unit_of_work import unit_of_work
from tests.jobs.factories import (
    TIMEOUT_AFTER_SUCCESS,
    charge_counts,
    charges,
    execution,
    expire_leases,
    make_payer,
    payment,
    schedule,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="SQLite has no row locks (FOR UPDATE SKIP LOCKED): run with TEST_DATABASE_URL",
    ),
]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def shop(app, make_tenant):
    tenant, _owner = make_tenant("acme", "Acme Supply Co.")
    return tenant


def _seed(app, tenant, count: int) -> list[int]:
    payer = make_payer(app, tenant)
    with tenant_scope(tenant.id):
        ids = seed_due_payments(
            tenant.id,
            payer.customer_id,
            payer.user_id,
            payer.card_id,
            count,
            business_today(tenant, utcnow()),
        )
        db.session.commit()
    return ids


def _process(app, job: str, **settings: str) -> subprocess.Popen:
    env = job_env(app)
    env.update(settings)
    return subprocess.Popen(  # noqa: S603 - our own command
        flask("jobs", "run-once", job),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _done(output: str) -> int:
    [line] = [line for line in output.splitlines() if " done for " in line]
    return int(line.split(":")[1].split()[0])


def _finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return out


def _assert_each_ran_once(tenant, ids: list[int]) -> None:
    with tenant_scope(tenant.id):
        statuses = dict(
            db.session.execute(select(Payment.status, func.count()).group_by(Payment.status)).all()
        )
        executions = db.session.execute(
            select(PaymentExecution.state, func.count()).group_by(PaymentExecution.state)
        ).all()
        keys = db.session.scalars(select(Payment.idempotency_key)).all()
        journal = db.session.scalar(select(func.sum(JournalEntry.amount_cents)))
    assert statuses == {PaymentStatus.SUCCEEDED: len(ids)}
    assert dict(executions) == {ExecutionState.SUCCEEDED: len(ids)}
    counts = charge_counts()
    assert set(counts) == set(keys)
    assert set(counts.values()) == {1}  # one charge per payment's key, none twice
    assert journal == 0


def test_two_job_processes_side_by_side_run_each_of_1000_payments_once(app, shop):
    ids = _seed(app, shop, 1000)
    workers = [_process(app, "due_payments", JOBS_BATCH_SIZE="25") for _ in range(2)]
    outputs = [_finish(worker) for worker in workers]
    assert sum(_done(out) for out in outputs) == 1000  # each says what it did; nothing twice
    _assert_each_ran_once(shop, ids)


def test_a_job_process_killed_mid_batch_and_restarted_leaves_each_run_once(app, shop):
    ids = _seed(app, shop, 1000)
    worker = _process(app, "due_payments", JOBS_BATCH_SIZE="50")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with tenant_scope(shop.id):
            finished = db.session.scalar(
                select(func.count())
                .select_from(PaymentExecution)
                .where(PaymentExecution.state == ExecutionState.SUCCEEDED)
            )
            db.session.rollback()
        if finished >= 100 or worker.poll() is not None:
            break
        time.sleep(0.05)
    assert worker.poll() is None, "the worker ended before it could be killed mid-batch"
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=60)  # reaped, its pipes closed
    with tenant_scope(shop.id):
        left = db.session.scalar(
            select(func.count())
            .select_from(PaymentExecution)
            .where(PaymentExecution.state != ExecutionState.SUCCEEDED)
        )
        db.session.rollback()
    assert left > 0  # killed with work claimed and not finished
    expire_leases(shop)  # the dead worker's leases run out (as they would after JOBS_LEASE_SECONDS)
    for job in ("due_payments", "reconcile_payments"):
        _finish(_process(app, job))
    _assert_each_ran_once(shop, ids)


def test_the_timeout_after_success_card_is_charged_once_after_reconciliation(
    app, shop, monkeypatch
):
    payer = make_payer(app, shop, number=TIMEOUT_AFTER_SUCCESS)
    payment_id = schedule(app, payer, [12500], business_today(shop, utcnow()))
    monkeypatch.setattr(due, "CHARGE_ATTEMPTS", 1)  # no immediate retry: the reconciler's turn
    assert run_job("due_payments") == {"acme": 0}
    assert payment(shop, payment_id).status is PaymentStatus.PROCESSING
    assert execution(shop, payment_id).state is ExecutionState.RECONCILE  # needs reconciliation
    assert len(charges()) == 1  # the gateway charged, then timed out
    assert run_job("due_payments") == {"acme": 0}  # never simply run again
    assert run_job("reconcile_payments") == {"acme": 1}
    done = payment(shop, payment_id)
    assert done.status is PaymentStatus.SUCCEEDED
    [charge] = charges(done.idempotency_key)
    assert done.gateway_reference == charge.reference
    assert execution(shop, payment_id).state is ExecutionState.SUCCEEDED
    assert run_job("reconcile_payments") == {"acme": 0}
    assert len(charges()) == 1


def test_a_charge_whose_lease_ran_out_mid_call_is_reconciled_not_repeated(app, shop):
    payer = make_payer(app, shop)
    payment_id = schedule(app, payer, [5000], business_today(shop, utcnow()))
    real_charge = due._charge_all
    seen = []

    def charge_then_hang(*args, **kwargs):
        [result] = real_charge(*args, **kwargs)  # the card is charged…
        expire_leases(shop)  # …and the worker hangs past its lease
        seen.append(result)
        raise due.LeaseLost  # (stands for the worker dying here)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(due, "_charge_all", charge_then_hang)
        run_job("due_payments")
    assert execution(shop, payment_id).state is ExecutionState.CHARGING
    assert run_job("due_payments") == {"acme": 0}  # a due sweep does not charge it again
    assert run_job("reconcile_payments") == {"acme": 1}
    assert payment(shop, payment_id).status is PaymentStatus.SUCCEEDED
    assert len(charges()) == 1
    assert seen
    assert seen[0].succeeded


def test_an_outcome_is_refused_to_a_worker_whose_lease_was_lost(app, shop):
    from shared.cards import ChargeResult

    payer = make_payer(app, shop)
    payment_id = schedule(app, payer, [5000], business_today(shop, utcnow()))
    with tenant_scope(shop.id):
        due.enqueue_due(shop, utcnow())
        first, second = new_owner(), new_owner()
        with unit_of_work():
            [(execution_id, attempt)] = claim(PaymentExecution, owner=first, seconds=300, limit=10)
        # The first worker is slow; its lease runs out and a second worker claims the row.
        expire_leases(shop)
        with unit_of_work():
            assert claim(PaymentExecution, owner=second, seconds=300, limit=10) == [
                (execution_id, attempt + 1)
            ]
        with pytest.raises(due.LeaseLost):
            due.execute(shop, execution_id, first, attempt)
        with pytest.raises(due.LeaseLost):
            due.finish(shop, execution_id, first, attempt, ChargeResult(False, "", "x"))
        db.session.rollback()
        row = db.session.scalars(
            select(PaymentExecution).where(PaymentExecution.id == execution_id)
        ).one()
        assert (row.lease_owner, row.attempt, row.state) == (
            second,
            attempt + 1,
            ExecutionState.DUE,
        )  # untouched by the first worker
        assert due.execute(shop, execution_id, second, attempt + 1)
    assert payment(shop, payment_id).status is PaymentStatus.SUCCEEDED
    assert len(charges()) == 1


def test_claims_from_two_sessions_at_once_never_overlap(app, shop):
    """Two claims in two transactions held open at once: SKIP LOCKED gives each its own rows."""
    from sqlalchemy.orm import Session

    from shared.tenancy import enter_tenant

    _seed(app, shop, 40)
    with tenant_scope(shop.id):
        due.enqueue_due(shop, utcnow())
    one, two = Session(db.engine), Session(db.engine)
    try:
        got = []
        for session in (one, two):
            enter_tenant(shop.id, session)
            rows = claim(PaymentExecution, owner=new_owner(), seconds=60, limit=25, session=session)
            got.append({row_id for row_id, _attempt in rows})  # the transaction stays open
        assert (len(got[0]), len(got[1])) == (25, 15)
        assert not got[0] & got[1]
    finally:
        for session in (one, two):
            session.rollback()
            session.close()


def test_the_portals_unanswered_one_time_card_is_reconciled_once_by_two_processes(
    app, make_tenant, monkeypatch
):
    """The portal charged a one-time card (a token, no saved card) that timed out after the
    charge succeeded; two reconciling processes side by side ask the gateway with the token the
    execution kept: one records the charge, nothing is charged twice."""
    from tests.portal.payflow import make_seed
    from tests.portal.test_pay_now_reconcile import pay_now_without_an_answer

    seed = make_seed(make_tenant)
    payment_id, _token = pay_now_without_an_answer(app, seed, monkeypatch)
    assert execution(seed.tenant, payment_id).state is ExecutionState.RECONCILE
    workers = [_process(app, "reconcile_payments") for _ in range(2)]
    assert sum(_done(_finish(worker)) for worker in workers) == 1
    done = payment(seed.tenant, payment_id)
    assert done.status is PaymentStatus.SUCCEEDED
    [charge] = charges()
    assert charge.idempotency_key == done.idempotency_key
    assert done.gateway_reference == charge.reference
    assert execution(seed.tenant, payment_id).state is ExecutionState.SUCCEEDED
    with tenant_scope(seed.tenant.id):
        assert db.session.scalar(select(func.sum(JournalEntry.amount_cents))) == 0
