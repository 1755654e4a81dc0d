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
one still scheduled after `JOBS_FRESH_SECONDS` (the portal could not tell) is run here.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select

from shared.actors import SYSTEM
from shared.cards import ChargeResult, GatewayRefused, GatewayUnavailable, gateway
from shared.cards.models import SavedCard
from shared.clock import business_today, utcnow
from shared.errors import InputError
from shared.extensions import db
from shared.leases import claim, database_now, new_owner, record
from shared.payments import fit_to_invoices, mark_failed, mark_processing, mark_succeeded
from shared.payments.execution import ExecutionState, PaymentExecution
from shared.payments.models import Payment, PaymentMethod, PaymentStatus
from shared.payments.notices import (
    decline_reason,
    payer_language,
    send_adjusted_notice,
    send_failed_notice,
    send_failed_notice_to_vendor,
)
from shared.payments.receipts import send_receipt
from shared.tenancy import scoped_get
from shared.unit_of_work import discard, unit_of_work

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


def _insert_ignoring_duplicates(rows: list[dict]) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(X).on_conflict_do_nothing(index_elements=["tenant_id", "payment_id"])
    db.session.execute(statement, rows)


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
            _insert_ignoring_duplicates(
                [
                    {"tenant_id": tenant.id, "payment_id": payment_id, "state": E.DUE}
                    for payment_id, _day in due
                ]
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


def _source(payment: Payment, *, removed_too: bool = False) -> str:
    """The saved card's reference at the gateway ('' when it is gone)."""
    if payment.saved_card_id is None:
        return ""
    card = scoped_get(SavedCard, payment.saved_card_id)
    if card is None or (card.removed_at is not None and not removed_too):
        return ""
    if card.gateway != gateway().name:
        return ""
    return card.gateway_reference


def _charge(source: str, amount_cents: int, key: str, description: str) -> ChargeResult | None:
    """The gateway's answer; None when it did not give one (the outcome is unknown)."""
    for _attempt in range(CHARGE_ATTEMPTS):
        try:
            return gateway().charge(
                source, amount_cents, idempotency_key=key, description=description
            )
        except GatewayUnavailable:
            continue
        except GatewayRefused as refused:  # refused before any money moved
            return ChargeResult(False, "", refused.code)
    return None


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
        for execution_id, attempt in claimed:
            try:
                done += execute(tenant, execution_id, owner, attempt)
            except LeaseLost:
                log.warning(
                    "tenant %s: execution %s: lease lost, stopped", tenant.slug, execution_id
                )
            except Exception:
                # One payment's error must not stop the others: its row keeps its lease and is
                # tried again once the lease runs out (what it did was rolled back, or is in
                # `charging`, which the reconciler takes up).
                db.session.rollback()
                log.exception("tenant %s: execution %s failed", tenant.slug, execution_id)


def execute(tenant, execution_id: int, owner: str, attempt: int) -> bool:
    """Run one claimed execution; True when it ended here (charged, declined or skipped)."""
    try:
        with unit_of_work():
            taken = record(
                X,
                execution_id,
                owner=owner,
                attempt=attempt,
                conditions=(X.state == E.DUE, X.lease_expires_at > database_now()),
                release=False,
                state=E.CHARGING,
            )
            if not taken:
                raise LeaseLost
            execution = db.session.scalars(select(X).where(X.id == execution_id)).one()
            payment = scoped_get(Payment, execution.payment_id)
            if payment.status is not PaymentStatus.SCHEDULED:
                _end(execution_id, E.SKIPPED, f"payment {payment.status.value}")
                return True
            before, after = fit_to_invoices(tenant, SYSTEM, payment)
            if after != before:
                send_adjusted_notice(tenant, payment, before)
            if after == 0:
                _end(execution_id, E.SKIPPED, "nothing left to pay")
                return True
            source = _source(payment)
            if not source:
                mark_failed(tenant, SYSTEM, payment, "card_removed")
                _tell_failed(tenant, payment, "card_removed")
                _end(execution_id, E.FAILED, "card_removed")
                return True
            db.session.execute(
                X.__table__.update()
                .where(X.__table__.c.id == execution_id)
                .values(charged_cents=payment.total_cents)
            )
            mark_processing(tenant, SYSTEM, payment, "charging the saved card")
            key, total, payment_id = payment.idempotency_key, payment.total_cents, payment.id
    except InputError:
        # The payment moved under its lock meanwhile (cancelled at the last moment): nothing ran.
        with unit_of_work():
            if not record(X, execution_id, owner=owner, attempt=attempt, state=E.SKIPPED):
                raise LeaseLost from None
        return True
    result = _charge(source, total, key, f"{tenant.name} payment {payment_id}")
    if result is None:
        with unit_of_work():
            if not record(
                X,
                execution_id,
                owner=owner,
                attempt=attempt,
                state=E.RECONCILE,
                outcome="the gateway did not answer",
            ):
                raise LeaseLost
        log.warning(
            "tenant %s: payment %s: no answer from the gateway: to reconcile",
            tenant.slug,
            payment_id,
        )
        return False
    return finish(tenant, execution_id, owner, attempt, result)


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
    state = E.SUCCEEDED if result.succeeded else E.FAILED
    with unit_of_work():
        if not record(
            X,
            execution_id,
            owner=owner,
            attempt=attempt,
            conditions=(X.state.in_((E.CHARGING, E.RECONCILE)),),
            state=state,
            outcome=(result.reference if result.succeeded else result.decline_code)[:200],
            finished_at=utcnow(),
        ):
            discard()
            raise LeaseLost
        execution = db.session.scalars(select(X).where(X.id == execution_id)).one()
        payment = scoped_get(Payment, execution.payment_id)
        if result.succeeded:
            mark_succeeded(tenant, SYSTEM, payment, result.reference, "charged on its pay-on date")
            send_receipt(tenant, payment, language=payer_language(payment))
        else:
            code = result.decline_code or "card_declined"
            mark_failed(tenant, SYSTEM, payment, code)
            _tell_failed(tenant, payment, code)
    return True


# --- reconciling ----------------------------------------------------------------------------


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
                source = _source(payment, removed_too=True)
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
