"""Late fees by the vendor's policy (tenants.models: kind, amount or rate, grace days), one per
invoice and period, so the job that assesses them can run any number of times, in any number of
processes, and charge each once.

The rules, decided here once:

- **Period.** The policy is "per month overdue". An invoice's first late day is the day after its
  due date plus the grace days (calendar days in the vendor's time zone: due Mar 10 with 5 grace
  days is late from Mar 16). Period 1 starts on the first late day, period *n* one calendar month
  after period *n − 1* (a start on the 31st falls on the last day of a shorter month). A run
  assesses the period the vendor's today is in; a period that ended before any run reached it
  (a policy switched on late, a job process down for over a month) is not charged afterwards, so
  turning a policy on never back-charges months that nobody was told about.
- **Amount.** A flat fee is the vendor's amount. A percentage is of the invoice's open balance
  (what is neither paid nor on its way in a scheduled or processing payment) without the late
  fees already assessed — no fee on a fee — in integer cents, **rounded down** to the cent: like
  the card surcharge, the fee then never exceeds the rate the vendor stated (state laws cap late
  fees as a rate). A fee that rounds to 0 is not recorded.
- **Never** on a draft, void or paid invoice, nor on one whose balance scheduled and processing
  payments already cover in full: only a payable invoice (shared.invoices.is_payable) is charged.

Exactly once: candidate invoices are locked `FOR UPDATE` in id order (as the ledger does, so the
job and a payment never deadlock), re-read under the lock, and the fee row is inserted if absent
(`ON CONFLICT DO NOTHING` on `(tenant_id, invoice_id, period)`); only a row this run inserted adds
to the invoice's `late_fee_cents`, and the stored status follows (`status_from_money`). A second
process waits for the lock and then finds the row. Each batch of invoices is committed on its own
(the job's `one_unit=False`, shared.jobs.registry): a crash keeps the batches already done.

No journal entry: the journal (shared.payments.models) records money that moves through
payments — every entry names its payment — while what an invoice asks for (its lines, and its
late fees) is the invoice's own; the `late_fees` rows are that record, append-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import BigInteger, CheckConstraint, Date, Enum, Index, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from shared.actors import SYSTEM, Actor, record
from shared.clock import UTCDateTime, business_today, utcnow
from shared.extensions import db
from shared.invoices import OPEN_STATUSES, is_payable
from shared.invoices.amounts import status_from_money
from shared.invoices.models import Invoice
from shared.tenancy import TenantOwned, tenant_foreign_key
from shared.unit_of_work import unit_of_work
from tenants.models import LateFeeKind, Tenant

# Invoices locked and committed per unit of work: short locks, bounded memory, and a run that
# fails (or a process killed) halfway keeps the batches it finished; the next run does the rest.
BATCH = 100


class LateFee(TenantOwned, db.Model):
    """One late fee assessed on one invoice for one period; append-only."""

    __tablename__ = "late_fees"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "invoice_id", "period"),
        tenant_foreign_key("invoice_id", "invoices", ondelete="RESTRICT"),
        Index("ix_late_fees_tenant_id_created_at", "tenant_id", "created_at"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("period >= 1", name="period_positive"),
        CheckConstraint("rate_bp >= 0", name="rate_not_negative"),
        CheckConstraint("base_cents >= 0", name="base_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column()
    period: Mapped[int] = mapped_column(comment="1 for the first month overdue, 2 for the next…")
    period_start: Mapped[date] = mapped_column(Date, comment="First day of the period (vendor's).")
    kind: Mapped[LateFeeKind] = mapped_column(
        Enum(
            LateFeeKind,
            name="late_fee_row_kind",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        comment="The policy it was assessed under (flat or percent).",
    )
    rate_bp: Mapped[int] = mapped_column(default=0, comment="The rate, for a percentage fee.")
    base_cents: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="The balance a percentage fee was taken of."
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class Policy:
    kind: LateFeeKind
    flat_cents: int
    percent_bp: int
    grace_days: int

    @classmethod
    def of(cls, tenant: Tenant) -> Policy:
        return cls(
            tenant.late_fee_kind,
            tenant.late_fee_flat_cents,
            tenant.late_fee_percent_bp,
            tenant.late_fee_grace_days,
        )

    @property
    def active(self) -> bool:
        if self.kind is LateFeeKind.FLAT:
            return self.flat_cents > 0
        if self.kind is LateFeeKind.PERCENT:
            return self.percent_bp > 0
        return False


def first_late_day(due_date: date, grace_days: int) -> date:
    """The first day a late fee can apply: the day after the due date and the grace days."""
    return due_date + timedelta(days=grace_days + 1)


def period_start(due_date: date, grace_days: int, period: int) -> date:
    """The first day of `period` (1, 2, …): whole calendar months after the first late day."""
    return first_late_day(due_date, grace_days) + relativedelta(months=period - 1)


def period_on(due_date: date, grace_days: int, today: date) -> int | None:
    """The period `today` falls in, or None while the invoice is not yet late."""
    start = first_late_day(due_date, grace_days)
    if today < start:
        return None
    months = (today.year - start.year) * 12 + (today.month - start.month)
    # The month count may overshoot by one when today's day of the month is before the start's.
    while months > 0 and start + relativedelta(months=months) > today:
        months -= 1
    return months + 1


def fee_base_cents(invoice: Invoice) -> int:
    """What a percentage is taken of: the open balance, less the late fees already in it."""
    return max(0, invoice.balance_cents - invoice.late_fee_cents)


def fee_cents(policy: Policy, base_cents: int) -> int:
    """The fee for one period, in cents: flat, or the rate of `base_cents` rounded down."""
    if policy.kind is LateFeeKind.FLAT:
        return policy.flat_cents
    if policy.kind is LateFeeKind.PERCENT:
        return base_cents * policy.percent_bp // 10_000  # integers only: rounded down, exactly
    return 0


def _insert_if_absent(values: dict[str, object]) -> int | None:
    """The new row's id, or None when the invoice already has a fee for that period."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(LateFee)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "invoice_id", "period"])
        .returning(LateFee.id)
    )
    return db.session.scalar(statement)


def _candidate_ids(today: date, grace_days: int, after_id: int) -> list[int]:
    # Due on or before the last day of grace: first_late_day(due) <= today.
    latest_due = today - timedelta(days=grace_days + 1)
    return list(
        db.session.scalars(
            select(Invoice.id)
            .where(
                Invoice.status.in_(OPEN_STATUSES),
                Invoice.due_date <= latest_due,
                Invoice.owed_cents > 0,
                Invoice.id > after_id,
            )
            .order_by(Invoice.id)
            .limit(BATCH)
        )
    )


def _lock(ids: list[int]) -> list[Invoice]:
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.id.in_(ids))
            .order_by(Invoice.id)
            .with_for_update()
            .execution_options(populate_existing=True)  # the amounts as of the lock, not before
        )
    )


def assess_late_fees(tenant: Tenant, now: datetime, *, actor: Actor = SYSTEM) -> int:
    """Charge the late fee of the current period on each of the tenant's late invoices that has
    none for it yet; returns how many fees were recorded. The tenant must be in scope. Each batch
    of BATCH invoices is its own unit of work, committed before the next is locked (a vendor
    with 50,000 overdue invoices holds no huge transaction); a run that fails keeps the batches
    it committed, and the (invoice, period) key makes the next run charge only the rest."""
    policy = Policy.of(tenant)
    if not policy.active:
        return 0
    today = business_today(tenant, now)
    tenant_id = tenant.id
    assessed = 0
    after_id = 0
    while True:
        with unit_of_work():
            ids = _candidate_ids(today, policy.grace_days, after_id)
            if not ids:
                break
            after_id = ids[-1]
            assessed += _assess_batch(tenant_id, policy, ids, today, now, actor)
    return assessed


def _assess_batch(
    tenant_id: int, policy: Policy, ids: list[int], today: date, now: datetime, actor: Actor
) -> int:
    """One batch: its invoices locked in id order, each charged once; the fees it recorded."""
    assessed = 0
    for invoice in _lock(ids):
        if not is_payable(invoice):
            continue  # paid, voided or fully covered since it was picked
        period = period_on(invoice.due_date, policy.grace_days, today)
        if period is None:
            continue
        base = fee_base_cents(invoice)
        amount = fee_cents(policy, base)
        if amount <= 0:
            continue
        fee_id = _insert_if_absent(
            {
                "tenant_id": tenant_id,
                "invoice_id": invoice.id,
                "period": period,
                "period_start": period_start(invoice.due_date, policy.grace_days, period),
                "kind": policy.kind,
                "rate_bp": policy.percent_bp if policy.kind is LateFeeKind.PERCENT else 0,
                "base_cents": base if policy.kind is LateFeeKind.PERCENT else 0,
                "amount_cents": amount,
                "created_at": now,
            }
        )
        if fee_id is None:
            continue  # assessed already, by an earlier run or another process
        invoice.late_fee_cents += amount
        invoice.status = status_from_money(invoice)
        invoice.updated_at = now
        assessed += 1
        record(
            tenant_id,
            actor,
            "invoice.late_fee_assessed",
            invoice=invoice.id,
            period=period,
            cents=amount,
        )
    db.session.flush()
    return assessed


def late_fees_of(invoice: Invoice) -> list[LateFee]:
    """The fees assessed on an invoice, oldest first (the invoice page, the PDF, the API)."""
    return list(
        db.session.scalars(
            select(LateFee).where(LateFee.invoice_id == invoice.id).order_by(LateFee.period)
        )
    )


def late_fees_by_invoice(invoice_ids: list[int]) -> dict[int, list[LateFee]]:
    """The fees of several invoices in one query (the API's lists)."""
    found: dict[int, list[LateFee]] = {invoice_id: [] for invoice_id in invoice_ids}
    if invoice_ids:
        for fee in db.session.scalars(
            select(LateFee)
            .where(LateFee.invoice_id.in_(invoice_ids))
            .order_by(LateFee.invoice_id, LateFee.period)
        ):
            found[fee.invoice_id].append(fee)
    return found


def itemised_late_fees(invoice: Invoice) -> list[LateFee]:
    """The fees to show one row each where they make up the invoice's late fees; [] otherwise
    (none, or an amount from before the fees were recorded one by one: one total row then)."""
    if not invoice.late_fee_cents:
        return []
    fees = late_fees_of(invoice)
    return fees if sum(fee.amount_cents for fee in fees) == invoice.late_fee_cents else []
