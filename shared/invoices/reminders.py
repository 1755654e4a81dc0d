"""Payment reminders: before the due date, on it, and while overdue, as the vendor sets them in the
console; each sent once per invoice, kind and occurrence, however many job processes run.

Which reminder a run sends, by the vendor's today (its time zone):

- **before due**: once, on one of the `before_days` days before the due date (not when the
  invoice email itself went out in those days: it said when the invoice is due);
- **due**: on the due date;
- **overdue**: occurrence *k* once `k × overdue_every_days` days have passed since the due date,
  for k = 1 … `overdue_max` (every 7 days, at most 3 times: days 7, 14 and 21).

A run sends only the reminder that fits today: a job process that was down sends the latest one
once, never a stale "due in 3 days" after the due date nor a burst of the overdue ones it missed.

Nobody is reminded of an invoice that is draft, void or paid, or whose balance scheduled and
processing payments already cover (scheduled + processing ≥ what is owed: `is_payable` is false),
or that AutoPay will pay (`covered_by_autopay`, a hook the AutoPay module sets; by default
nothing is covered). A partly covered invoice is reminded of what remains.

Exactly once: the reminder row is inserted if absent (`ON CONFLICT DO NOTHING` on
`(tenant_id, invoice_id, kind, occurrence)`) and the emails are queued in the outbox in the same
transaction, only by the run whose insert made the row: a second process waits on the unique key
and then inserts nothing. A rolled-back run leaves neither the row nor the emails.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, Enum, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from shared.actors import SYSTEM, Actor, record
from shared.clock import UTCDateTime, business_today, utcnow
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.invoices import OPEN_STATUSES, is_payable
from shared.invoices.models import Invoice
from shared.mail import send_email
from shared.pay_links import link_expiry, pay_url
from shared.tenancy import TenantOwned, tenant_foreign_key
from tenants.branding import require_owner
from tenants.hosts import portal_host
from tenants.models import Tenant


class ReminderKind(enum.StrEnum):
    BEFORE_DUE = "before_due"
    DUE = "due"
    OVERDUE = "overdue"


DEFAULT_BEFORE_DAYS = 3
DEFAULT_OVERDUE_EVERY_DAYS = 7
DEFAULT_OVERDUE_MAX = 3
MAX_BEFORE_DAYS = 60
MAX_OVERDUE_EVERY_DAYS = 90
MAX_OVERDUE_COUNT = 12


class ReminderSettings(TenantOwned, db.Model):
    """The vendor's reminder choices; a tenant without a row has the defaults."""

    __tablename__ = "reminder_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint(
            f"before_days >= 1 AND before_days <= {MAX_BEFORE_DAYS}", name="before_days_range"
        ),
        CheckConstraint(
            f"overdue_every_days >= 1 AND overdue_every_days <= {MAX_OVERDUE_EVERY_DAYS}",
            name="overdue_every_days_range",
        ),
        CheckConstraint(
            f"overdue_max >= 1 AND overdue_max <= {MAX_OVERDUE_COUNT}", name="overdue_max_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    before_enabled: Mapped[bool] = mapped_column(default=True)
    before_days: Mapped[int] = mapped_column(
        default=DEFAULT_BEFORE_DAYS, comment="How many days before the due date."
    )
    due_enabled: Mapped[bool] = mapped_column(default=True, comment="On the due date.")
    overdue_enabled: Mapped[bool] = mapped_column(default=True)
    overdue_every_days: Mapped[int] = mapped_column(
        default=DEFAULT_OVERDUE_EVERY_DAYS, comment="Days between overdue reminders."
    )
    overdue_max: Mapped[int] = mapped_column(
        default=DEFAULT_OVERDUE_MAX, comment="Overdue reminders at most, per invoice."
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InvoiceReminder(TenantOwned, db.Model):
    """One reminder sent about one invoice: the unique key is what makes it once."""

    __tablename__ = "invoice_reminders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "invoice_id", "kind", "occurrence"),
        tenant_foreign_key("invoice_id", "invoices", ondelete="CASCADE"),
        CheckConstraint("occurrence >= 0", name="occurrence_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column()
    kind: Mapped[ReminderKind] = mapped_column(
        Enum(
            ReminderKind,
            name="reminder_kind",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    occurrence: Mapped[int] = mapped_column(
        comment="0 before and on the due date; 1, 2, … for the overdue ones."
    )
    sent_on: Mapped[date] = mapped_column(Date, comment="The vendor's day it was sent.")
    recipients: Mapped[int] = mapped_column(default=0, comment="Emails queued.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- the AutoPay hook -------------------------------------------------------------------------


def _not_covered(_tenant: Tenant, _invoice: Invoice) -> bool:
    return False


# Set by the AutoPay module at start-up (wsgi.py): True for an invoice AutoPay will pay, which then
# gets no reminder. Looked up at each call, so a test or the composition root may replace it.
covered_by_autopay: Callable[[Tenant, Invoice], bool] = _not_covered


# --- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    before_enabled: bool = True
    before_days: int = DEFAULT_BEFORE_DAYS
    due_enabled: bool = True
    overdue_enabled: bool = True
    overdue_every_days: int = DEFAULT_OVERDUE_EVERY_DAYS
    overdue_max: int = DEFAULT_OVERDUE_MAX

    @property
    def any_enabled(self) -> bool:
        return self.before_enabled or self.due_enabled or self.overdue_enabled


def _settings_row(tenant: Tenant) -> ReminderSettings | None:
    return db.session.scalars(
        select(ReminderSettings).where(ReminderSettings.tenant_id == tenant.id)
    ).one_or_none()


def schedule_of(tenant: Tenant) -> Schedule:
    """The tenant's reminder schedule (the tenant in scope): its choices, or the defaults."""
    row = _settings_row(tenant)
    if row is None:
        return Schedule()
    return Schedule(
        row.before_enabled,
        row.before_days,
        row.due_enabled,
        row.overdue_enabled,
        row.overdue_every_days,
        row.overdue_max,
    )


@dataclass(frozen=True)
class ReminderInput:
    """What the console's form sends: ticks, and numbers as typed."""

    before_enabled: bool
    before_days: str
    due_enabled: bool
    overdue_enabled: bool
    overdue_every_days: str
    overdue_max: str


def _whole(raw: str, field: str, low: int, high: int) -> int:
    value = (raw or "").strip()
    if not re.fullmatch(r"[0-9]{1,3}", value) or not low <= int(value) <= high:
        raise InputError(
            field, str(_l("Enter a whole number from %(min)d to %(max)d.", min=low, max=high))
        )
    return int(value)


def update_reminders(tenant: Tenant, actor: Actor, data: ReminderInput) -> Schedule:
    """Check every field, then save them. A number that belongs to a reminder switched off is
    checked only if given, and kept as it was when left empty (the form shows it again)."""
    require_owner(actor)
    current = schedule_of(tenant)

    def number(raw: str, field: str, high: int, enabled: bool, kept: int) -> int:
        if not enabled and not (raw or "").strip():
            return kept
        return _whole(raw, field, 1, high)

    before_days = number(
        data.before_days,
        "before_days",
        MAX_BEFORE_DAYS,
        data.before_enabled,
        current.before_days,
    )
    every = number(
        data.overdue_every_days,
        "overdue_every_days",
        MAX_OVERDUE_EVERY_DAYS,
        data.overdue_enabled,
        current.overdue_every_days,
    )
    most = number(
        data.overdue_max,
        "overdue_max",
        MAX_OVERDUE_COUNT,
        data.overdue_enabled,
        current.overdue_max,
    )
    row = _settings_row(tenant)
    if row is None:
        row = ReminderSettings(tenant_id=tenant.id)
        db.session.add(row)
    row.before_enabled = bool(data.before_enabled)
    row.before_days = before_days
    row.due_enabled = bool(data.due_enabled)
    row.overdue_enabled = bool(data.overdue_enabled)
    row.overdue_every_days = every
    row.overdue_max = most
    db.session.flush()
    record(tenant.id, actor, "tenant.reminders_changed")
    return schedule_of(tenant)


# --- which reminder, when ---------------------------------------------------------------------


def reminder_due(
    schedule: Schedule, due_date: date, today: date
) -> tuple[ReminderKind, int] | None:
    """The reminder (kind, occurrence) an invoice due on `due_date` should get on `today`."""
    if today < due_date:
        if schedule.before_enabled and due_date - timedelta(days=schedule.before_days) <= today:
            return ReminderKind.BEFORE_DUE, 0
        return None
    if today == due_date:
        return (ReminderKind.DUE, 0) if schedule.due_enabled else None
    if not schedule.overdue_enabled:
        return None
    occurrence = (today - due_date).days // schedule.overdue_every_days
    if 1 <= occurrence <= schedule.overdue_max:
        return ReminderKind.OVERDUE, occurrence
    return None


def _insert_if_absent(values: dict[str, object]) -> int | None:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(InvoiceReminder)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "invoice_id", "kind", "occurrence"])
        .returning(InvoiceReminder.id)
    )
    return db.session.scalar(statement)


def _candidates(schedule: Schedule, today: date):
    earliest_due = today - timedelta(days=schedule.overdue_every_days * schedule.overdue_max)
    latest_due = today + timedelta(days=schedule.before_days)
    return db.session.execute(
        select(Invoice, Customer)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(
            Invoice.status.in_(OPEN_STATUSES),
            Invoice.owed_cents > 0,
            Invoice.due_date >= earliest_due,
            Invoice.due_date <= latest_due,
        )
        .order_by(Invoice.id)
    ).all()


def _sent_within_window(tenant: Tenant, invoice: Invoice, schedule: Schedule) -> bool:
    if invoice.sent_at is None:
        return False
    window_opens = invoice.due_date - timedelta(days=schedule.before_days)
    return business_today(tenant, invoice.sent_at) >= window_opens


def send_reminders(tenant: Tenant, now: datetime, *, actor: Actor = SYSTEM) -> int:
    """Queue today's reminder of each of the tenant's invoices that should have one and has not;
    returns how many reminders (not emails) were sent. The tenant must be in scope; flushes,
    never commits: the rows and their emails go in the caller's one commit."""
    schedule = schedule_of(tenant)
    if not schedule.any_enabled:
        return 0
    today = business_today(tenant, now)
    host = portal_host(tenant, current_app.config["PORTAL_DOMAIN"])
    sent = 0
    for invoice, customer in _candidates(schedule, today):
        wanted = reminder_due(schedule, invoice.due_date, today)
        if wanted is None or not is_payable(invoice):
            continue
        if wanted[0] is ReminderKind.BEFORE_DUE and _sent_within_window(tenant, invoice, schedule):
            continue  # the invoice email itself went out days before the due date
        if covered_by_autopay(tenant, invoice):
            continue
        recipients = [address for address in customer.recipients if address]
        if not recipients:
            continue
        kind, occurrence = wanted
        reminder_id = _insert_if_absent(
            {
                "tenant_id": tenant.id,
                "invoice_id": invoice.id,
                "kind": kind,
                "occurrence": occurrence,
                "sent_on": today,
                "recipients": len(recipients),
                "created_at": now,
            }
        )
        if reminder_id is None:
            continue  # sent already, by an earlier run or another process
        link = pay_url(tenant, invoice, customer, link_expiry(invoice.due_date, today), host=host)
        for address in recipients:
            send_email(
                address,
                "invoice_reminder",
                customer.language,
                tenant=tenant,
                invoice=invoice,
                customer=customer,
                kind=kind.value,
                days_overdue=(today - invoice.due_date).days,
                pay_link=link,
            )
        sent += 1
        record(
            tenant.id,
            actor,
            "invoice.reminder_sent",
            invoice=invoice.id,
            kind=kind.value,
            occurrence=occurrence,
        )
    return sent


def reminders_of(invoice: Invoice) -> list[InvoiceReminder]:
    """The reminders sent about an invoice, oldest first (the console's invoice page)."""
    return list(
        db.session.scalars(
            select(InvoiceReminder)
            .where(InvoiceReminder.invoice_id == invoice.id)
            .order_by(InvoiceReminder.created_at, InvoiceReminder.id)
        )
    )
