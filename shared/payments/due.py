"""Scheduled card payments run on their pay-on date, in the vendor's time zone, exactly once
(issue 9). Two jobs, each a plain function of the tenant and the instant (`fn(tenant, now)`):

- `run_due_payments`: every scheduled card payment due by the vendor's today gets one execution
  row (a unique constraint: one per payment), claimed with a lease (shared.leases). For each, in
  a short unit of work: the guarded move to `charging`, the amounts fitted to what the invoices
  still owe (voided, paid or reduced since: skipped or shrunk, and the payer told), the payment
  moved to `processing`; then the saved card is charged through the gateway with the payment's
  idempotency key, outside any transaction; then, in another unit guarded by the lease, the
  outcome: `mark_succeeded` and the receipt, or `mark_failed` (the ledger reopens the invoices)
  and an email to the payer and one to the vendor.
- `reconcile_payments`: a charge whose lease ran out mid-call (its worker died or hung) is never
  simply run again: it goes to "needs reconciliation", and so does a charge the gateway did not
  answer. The reconciler asks the gateway again with the same source, amount and idempotency key,
  which answers the first result (or makes the charge, once, if it never arrived), and records it.

ACH payments are not run here: the ACH file builder claims scheduled ACH payments into the
vendor's next file. A card payment made for today in the portal is charged by the portal itself;
one still scheduled after `JOBS_FRESH_SECONDS` (the portal could not tell) is run here, and one
the gateway did not answer goes to reconciliation with the source it was charged with
(`to_reconcile`: a one-time card's token, which no saved card names).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select, tuple_, update

from shared.actors import SYSTEM
from shared.bulk import insert_rows, update_by_id
from shared.cards import (
    ChargeRequest,
    ChargeResult,
    GatewayRefused,
    GatewayUnavailable,
    charge_many,
    gateway,
)
from shared.cards.models import SavedCard
from shared.clock import business_today, utcnow
from shared.errors import InputError
from shared.extensions import db
from shared.leases import claim, database_now, new_owner, record
from shared.payments import (
    fit_to_invoices,
    lock_payments,
    mark_failed,
    mark_processing,
    move_locked,
    still_owed_in_full,
)
from shared.payments.execution import ExecutionState, PaymentExecution
from shared.payments.models import Payment, PaymentMethod, PaymentStatus
from shared.payments.notices import (
    decline_reason,
    send_adjusted_notice,
    send_failed_notice,
    send_failed_notice_to_vendor,
)
from shared.payments.receipts import queue_receipts
from shared.tenancy import scoped_get
from shared.unit_of_work import unit_of_work

log = logging.getLogger("arportal.jobs.payments")
E = ExecutionState
X = PaymentExecution
CHARGE_ATTEMPTS = 2  # a timeout is asked again once at once; after that, the reconciler asks


def _setting(name: str, default: int) -> int:
    """A whole number of seconds (or rows) from the settings (config checks they are digits)."""
    return int(current_app.config.get(name, default))


def _lease_seconds() -> int:
    return _setting("JOBS_LEASE_SECONDS", 300)


def _batch() -> int:
    return _setting("JOBS_BATCH_SIZE", 100)


class LeaseLost(Exception):
    """Another worker holds the row now: this one stops and writes nothing."""


# --- enqueueing ----------------------------------------------------------------------------


def enqueue_due(tenant, now: datetime) -> int:
    """One execution row for each scheduled card payment due by the vendor's today (those whose
    date passed while no job ran included: each once, and the log says so). Returns how many."""
    today = business_today(tenant, now)
    fresh = now - timedelta(seconds=_setting("JOBS_FRESH_SECONDS", 900))
    with unit_of_work():
        due = db.session.execute(
            select(Payment.id, Payment.pay_on)
            .where(
                Payment.status == PaymentStatus.SCHEDULED,
                Payment.method == PaymentMethod.CARD,
                Payment.saved_card_id.is_not(None),
                Payment.pay_on <= today,
                Payment.created_at < fresh,
                ~exists().where(X.payment_id == Payment.id, X.tenant_id == Payment.tenant_id),
            )
            .order_by(Payment.id)
        ).all()
        if due:
            insert_rows(
                X,
                [{"payment_id": payment_id, "state": E.DUE} for payment_id, _day in due],
                skip_conflicts_on=("tenant_id", "payment_id"),
            )
    overdue = [day for _id, day in due if day < today]
    if overdue:
        log.warning(
            "tenant %s: %d scheduled card payment(s) were due before today (%s), the earliest on "
            "%s: no job ran on their date; each runs once now",
            tenant.slug,
            len(overdue),
            today.isoformat(),
            min(overdue).isoformat(),
        )
    return len(due)


# --- running --------------------------------------------------------------------------------


def _card_source(card: SavedCard | None, *, removed_too: bool = False) -> str:
    """The saved card's reference at the gateway ('' when it is gone)."""
    if card is None or (card.removed_at is not None and not removed_too):
        return ""
    if card.gateway != gateway().name:
        return ""
    return card.gateway_reference


def _source(payment: Payment, *, removed_too: bool = False) -> str:
    if payment.saved_card_id is None:
        return ""
    return _card_source(scoped_get(SavedCard, payment.saved_card_id), removed_too=removed_too)


def _charge_all(requests: list[ChargeRequest]) -> list[ChargeResult | None]:
    """The gateway's answer to each request; None where it gave none (the outcome is unknown).
    A request it did not answer is asked again at once, up to CHARGE_ATTEMPTS in all."""
    answers: list[ChargeResult | None] = [None] * len(requests)
    pending = list(range(len(requests)))
    for _attempt in range(CHARGE_ATTEMPTS):
        if not pending:
            break
        unanswered = []
        for index, answer in zip(pending, charge_many([requests[i] for i in pending]), strict=True):
            if isinstance(answer, GatewayUnavailable):
                unanswered.append(index)
            elif isinstance(answer, GatewayRefused):  # refused before any money moved
                answers[index] = ChargeResult(False, "", answer.code)
            elif isinstance(answer, Exception):
                raise answer
            else:
                answers[index] = answer
        pending = unanswered
    return answers


def _charge(source: str, amount_cents: int, key: str, description: str) -> ChargeResult | None:
    return _charge_all([ChargeRequest(source, amount_cents, key, description)])[0]


def run_due_payments(tenant, now: datetime) -> int:
    """Charge every scheduled card payment due by the vendor's today, once; returns how many were
    executed (charged, declined or skipped) by this call."""
    enqueue_due(tenant, now)
    owner = new_owner()
    done = 0
    while True:
        with unit_of_work():
            claimed = claim(
                X, X.state == E.DUE, owner=owner, seconds=_lease_seconds(), limit=_batch()
            )
        if not claimed:
            return done
        try:
            done += _run_claimed(tenant, claimed, owner)
        except Exception:
            # Past the charges' start: what was not recorded keeps its lease, and a charge left
            # in `charging` goes to the reconciler once the lease runs out, never charged again.
            db.session.rollback()
            log.exception("tenant %s: a batch of %d failed", tenant.slug, len(claimed))


def execute(tenant, execution_id: int, owner: str, attempt: int) -> bool:
    """Run one claimed execution; True when it ended here (charged, declined or skipped), False
    when it waits for the reconciler. LeaseLost when another worker holds it now."""
    done, lost = _execute(tenant, [(execution_id, attempt)], owner)
    if lost:
        raise LeaseLost
    return bool(done)


def _run_claimed(tenant, claimed: list[tuple[int, int]], owner: str) -> int:
    """Execute a claimed batch; if preparing it fails (nothing was written, nothing charged), one
    row at a time, so that one payment's error does not hold up the others."""
    try:
        done, lost = _execute(tenant, claimed, owner)
    except _PrepareFailed as failed:
        db.session.rollback()
        if len(claimed) == 1:
            log.error(
                "tenant %s: execution %s failed",
                tenant.slug,
                claimed[0][0],
                exc_info=failed.__cause__,
            )
            return 0
        return sum(_run_claimed(tenant, [row], owner) for row in claimed)
    for execution_id in lost:
        log.warning("tenant %s: execution %s: lease lost, stopped", tenant.slug, execution_id)
    return done


class _PrepareFailed(Exception):
    """Preparing a batch raised; its unit of work was rolled back (the error is the cause)."""


def _execute(tenant, claimed: list[tuple[int, int]], owner: str) -> tuple[int, list[int]]:
    """Run claimed executions in three steps, each a few statements however many rows: in one
    unit, the guarded move to `charging`, the checks under the invoices' and payments' locks and
    the payments moved to `processing`; then the charges, outside any transaction; then, in one
    unit guarded by the leases, the outcomes. Returns (how many ended here, execution ids whose
    lease was lost)."""
    try:
        done, lost, batch = _prepare(tenant, claimed, owner)
    except InputError:
        if len(claimed) != 1:
            raise _PrepareFailed from None
        # The payment moved under its lock meanwhile (cancelled at the last moment): nothing ran.
        db.session.rollback()
        [(execution_id, attempt)] = claimed
        with unit_of_work():
            if not record(X, execution_id, owner=owner, attempt=attempt, state=E.SKIPPED):
                return 0, [execution_id]
        return 1, []
    except Exception as error:
        raise _PrepareFailed from error
    if not batch:
        return done, lost
    answers = _charge_all([request for _row, request in batch])
    unknown = [row for (row, _request), answer in zip(batch, answers, strict=True) if not answer]
    if unknown:
        with unit_of_work():
            for execution_id, attempt, payment_id in unknown:
                if not record(
                    X,
                    execution_id,
                    owner=owner,
                    attempt=attempt,
                    state=E.RECONCILE,
                    outcome="the gateway did not answer",
                ):
                    lost.append(execution_id)
                    continue
                log.warning(
                    "tenant %s: payment %s: no answer from the gateway: to reconcile",
                    tenant.slug,
                    payment_id,
                )
    known = [
        (*row, answer) for (row, _request), answer in zip(batch, answers, strict=True) if answer
    ]
    recorded = _finish_all(tenant, owner, known)
    lost.extend(row[0] for row in known if row[0] not in recorded)
    return done + len(recorded), lost


def _prepare(tenant, claimed, owner) -> tuple[int, list[int], list]:
    """The first step of `_execute`, in one unit of work: (ended here, lease lost, and each
    ((execution id, attempt, payment id), ChargeRequest) to charge)."""
    attempts = dict(claimed)
    done = 0
    with unit_of_work():
        taken = db.session.execute(
            update(X)
            .where(
                tuple_(X.id, X.attempt).in_(claimed),
                X.lease_owner == owner,
                X.state == E.DUE,
                X.lease_expires_at > database_now(),
            )
            .values(state=E.CHARGING)
            .returning(X.id, X.payment_id)
            .execution_options(synchronize_session=False)
        ).all()
        payment_of = dict(taken)
        lost = [
            execution_id for execution_id, _attempt in claimed if execution_id not in payment_of
        ]
        locked = lock_payments(payment_of.values(), plain=True)
        card_ids = {p.saved_card_id for p in locked.payments.values() if p.saved_card_id}
        cards = {
            card.id: card
            for card in db.session.scalars(select(SavedCard).where(SavedCard.id.in_(card_ids)))
        }
        if not all(
            payment.status is PaymentStatus.SCHEDULED
            and still_owed_in_full(locked, payment)
            and _card_source(cards.get(payment.saved_card_id))
            for payment in locked.payments.values()
        ):
            # One to skip, shrink or fail: those are changed through the models, so the whole
            # batch is, under the same locks (plain rows and models must not both be written).
            locked = lock_payments(payment_of.values())
        in_full: list[Payment] = []
        fitted: list[Payment] = []
        batch = []
        for execution_id, payment_id in sorted(taken):
            payment = locked.payments[payment_id]
            if payment.status is not PaymentStatus.SCHEDULED:
                _end(execution_id, E.SKIPPED, f"payment {payment.status.value}")
                done += 1
                continue
            whole = still_owed_in_full(locked, payment)
            if not whole:
                before, after = fit_to_invoices(tenant, SYSTEM, payment)
                if after != before:
                    send_adjusted_notice(tenant, payment, before)
                if after == 0:
                    _end(execution_id, E.SKIPPED, "nothing left to pay")
                    done += 1
                    continue
            source = _card_source(cards.get(payment.saved_card_id))
            if not source:
                mark_failed(tenant, SYSTEM, payment, "card_removed")
                _tell_failed(tenant, payment, "card_removed")
                _end(execution_id, E.FAILED, "card_removed")
                done += 1
                continue
            (in_full if whole else fitted).append(payment)
            batch.append(
                (
                    (execution_id, attempts[execution_id], payment.id),
                    ChargeRequest(
                        source,
                        payment.total_cents,
                        payment.idempotency_key,
                        f"{tenant.name} payment {payment.id}",
                    ),
                )
            )
        cause = "charging the saved card"
        move_locked(
            tenant,
            SYSTEM,
            locked,
            in_full,
            (PaymentStatus.SCHEDULED,),
            PaymentStatus.PROCESSING,
            cause,
        )
        for payment in fitted:  # its allocations changed: moved on its own
            mark_processing(tenant, SYSTEM, payment, cause)
        update_by_id(
            X.__table__,
            [{"id": row[0], "charged_cents": request.amount_cents} for row, request in batch],
        )
    return done, lost, batch


def _end(execution_id: int, state: ExecutionState, outcome: str) -> None:
    """Close an execution this unit holds the lease of (its guarded move ran in the same unit)."""
    db.session.execute(
        X.__table__.update()
        .where(X.__table__.c.id == execution_id)
        .values(
            state=state,
            outcome=outcome[:200],
            finished_at=utcnow(),
            lease_owner=None,
            lease_expires_at=None,
        )
    )


def _tell_failed(tenant, payment: Payment, code: str) -> None:
    send_failed_notice(tenant, payment, decline_reason(payment, code))
    send_failed_notice_to_vendor(tenant, payment, code)


def finish(tenant, execution_id: int, owner: str, attempt: int, result: ChargeResult) -> bool:
    """Record the gateway's answer, only while still holding the lease (else: LeaseLost)."""
    payment_id = db.session.scalar(select(X.payment_id).where(X.id == execution_id))
    db.session.rollback()
    if not _finish_all(tenant, owner, [(execution_id, attempt, payment_id, result)]):
        raise LeaseLost
    return True


def _outcome(result: ChargeResult) -> str:
    """What an execution records of the gateway's answer: the charge's reference, or why not."""
    return (result.reference if result.succeeded else result.decline_code)[:200]


def _finish_all(tenant, owner: str, outcomes: list[tuple[int, int, int, ChargeResult]]) -> set[int]:
    """Record the gateway's answers in one unit: each only where this worker still holds the
    lease (owner and attempt), in one guarded statement; then the ledger, receipts and notices
    of those recorded. Returns the execution ids recorded."""
    if not outcomes:
        return set()
    now = utcnow()
    table = X.__table__
    with unit_of_work():
        recorded = {
            row.id
            for row in update_by_id(
                table,
                [
                    {
                        "id": execution_id,
                        "attempt": attempt,
                        "state": (E.SUCCEEDED if result.succeeded else E.FAILED).value,
                        "outcome": _outcome(result),
                        "finished_at": now,
                        "lease_owner": None,
                        "lease_expires_at": None,
                    }
                    for execution_id, attempt, _payment_id, result in outcomes
                ],
                match=("id", "attempt"),
                where=(
                    table.c.lease_owner == owner,
                    table.c.state.in_((E.CHARGING.value, E.RECONCILE.value)),
                ),
                returning=(table.c.id,),
            )
        }
        mine = [row for row in outcomes if row[0] in recorded]
        charged = [row for row in mine if row[3].succeeded]
        locked = lock_payments((row[2] for row in charged), plain=True)
        payments = []
        for _execution_id, _attempt, payment_id, result in charged:
            payment = locked.payments[payment_id]
            payment.gateway_reference = result.reference or payment.gateway_reference
            payments.append(payment)
        move_locked(
            tenant,
            SYSTEM,
            locked,
            payments,
            (PaymentStatus.SCHEDULED, PaymentStatus.PROCESSING),
            PaymentStatus.SUCCEEDED,
            "charged on its pay-on date",
        )
        queue_receipts(tenant, payments)  # rendered by the mail job, not in this batch
        for _execution_id, _attempt, payment_id, result in mine:
            if result.succeeded:
                continue
            payment = scoped_get(Payment, payment_id)
            code = result.decline_code or "card_declined"
            mark_failed(tenant, SYSTEM, payment, code)
            _tell_failed(tenant, payment, code)
    return recorded


# --- reconciling ----------------------------------------------------------------------------


def to_reconcile(tenant, actor, payment: Payment, source: str) -> None:
    """A card charged outside these jobs (the portal charges a card due today at once) whose
    gateway gave no answer: the payment moves to processing, as a due one does before its charge,
    and an execution in `reconcile` keeps the source that was charged (a one-time card's token:
    the payment has no saved card to find it by), so the reconciler asks the gateway again with
    the same source, amount and idempotency key, never charges it afresh, and records the answer.
    In the caller's unit of work; InputError when the payment is no longer scheduled."""
    mark_processing(tenant, actor, payment, "the gateway did not answer")
    db.session.add(
        X(
            tenant_id=tenant.id,
            payment_id=payment.id,
            state=E.RECONCILE,
            charged_cents=payment.total_cents,
            source=source,
            outcome="the gateway did not answer",
        )
    )
    db.session.flush()
    log.warning(
        "tenant %s: payment %s: no answer from the gateway: to reconcile", tenant.slug, payment.id
    )


def rescue_expired(tenant) -> int:
    """Charges whose lease ran out mid-call: to reconciliation (never simply charged again)."""
    with unit_of_work():
        result = db.session.execute(
            X.__table__.update()
            .where(
                X.__table__.c.tenant_id == tenant.id,
                X.__table__.c.state == E.CHARGING.value,
                X.__table__.c.lease_expires_at < database_now(),
            )
            .values(
                state=E.RECONCILE.value,
                outcome="lease expired during the gateway call",
                lease_owner=None,
                lease_expires_at=None,
            )
        )
    if result.rowcount:
        log.warning(
            "tenant %s: %d card charge(s) lost their worker mid-call: to reconcile",
            tenant.slug,
            result.rowcount,
        )
    return result.rowcount


def reconcile_payments(tenant, now: datetime) -> int:
    """Ask the gateway what happened to each charge that needs reconciliation (same source,
    amount and idempotency key) and record it; returns how many were settled this way."""
    rescue_expired(tenant)
    owner = new_owner()
    done = 0
    while True:
        with unit_of_work():
            claimed = claim(
                X, X.state == E.RECONCILE, owner=owner, seconds=_lease_seconds(), limit=_batch()
            )
        if not claimed:
            return done
        for execution_id, attempt in claimed:
            with unit_of_work():
                execution = db.session.scalars(select(X).where(X.id == execution_id)).one()
                payment = scoped_get(Payment, execution.payment_id)
                # The token a one-time card was charged with (the portal's), else the saved card.
                source = execution.source or _source(payment, removed_too=True)
                amount, key = (
                    execution.charged_cents or payment.total_cents,
                    payment.idempotency_key,
                )
                description = f"{tenant.name} payment {payment.id}"
            result = _charge(source, amount, key, description)
            try:
                if result is None:
                    with unit_of_work():
                        # Kept leased: asked again once the lease runs out, not at once.
                        record(
                            X,
                            execution_id,
                            owner=owner,
                            attempt=attempt,
                            release=False,
                            outcome=f"asked {attempt} time(s): no answer",
                        )
                    log.warning(
                        "tenant %s: payment %s: still no answer from the gateway",
                        tenant.slug,
                        payment.id,
                    )
                    continue
                done += finish(tenant, execution_id, owner, attempt, result)
            except LeaseLost:
                log.warning(
                    "tenant %s: execution %s: lease lost, stopped", tenant.slug, execution_id
                )
