"""AutoPay (issue 9, point 4): a customer's standing order to pay each open invoice by ACH, up to a
maximum per invoice, from one bank account, on the banking day N days before or after its due date.

Exactly once: the sweep records one `AutoPayItem` per invoice and due date (a unique key; insert if
absent, then lock it) and pays through `shared.payments.create_payment` with an idempotency key
that names the item and its attempt, so two sweeps at once, or one run twice, make one payment.
Per customer the sweep first locks the enrolment's bank account row: removing the account, making
it private and the sweep take that lock first, so they follow each other, never interleave.

One lock order, for job processes and web requests alike, so that none deadlocks another on
PostgreSQL: ACH entry → bank accounts → AutoPay setting → AutoPay items → invoices (id order) →
payments (id order). A path that takes several of these takes them in this order, and takes up
front what it will need later (locking a row again that it already holds never waits):
- the ACH returns importer (shared.ach.imports): the file's entries, their bank accounts, the
  AutoPay settings paying from them and their items (`lock_for_returns`), then the invoices and
  payments that the returns, re-presentments and stopped AutoPays will change;
- removing a bank account (`remove_bank_account`): the account, its AutoPay and items, then the
  invoices and the payments cancelled with it;
- saving AutoPay (`save_autopay`), stopping it (`stop_autopay_for_bank_account`) and the sweep:
  the bank accounts (old and new), the setting, the customer's items, its open invoices, the
  payments of its scheduled items (`_lock_customer`);
- skipping an item (`skip_payment`): the item, then its payment's invoices and the payment.
The ledger itself (shared.payments) takes invoices before payments, each in id order.

Who is told: the payer side is every admin of the customer's portal account (a personal
account's owner is its admin), else the customer's billing addresses; the vendor side is its
support address (shared.support.support_address). Emails are rendered in each reader's language.

Operations take the tenant and an actor, flush and never commit; the jobs call
`schedule_autopay` and `send_autopay_notices`, the ACH file builder `check_before_withdrawal`, the
returns importer `lock_for_returns` and `stop_autopay_for_bank_account`, and its re-presentment
`presented_again`; the portal's bank account page `remove_bank_account`.

A failed or returned AutoPay payment is never retried by the sweep: its item stays `scheduled`
with that payment, and the unique (invoice, due date) key keeps a second item from being made, so
the invoice stays open and payable by hand (the payer was told by the failure's or the return's
email). Only NACHA's re-presentment of an R01/R09 return (shared.ach.represent) presents it again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shared.actors import Actor, ActorKind, record
from shared.autopay.models import (
    MAX_AUTOPAY_CENTS,
    MAX_OFFSET_DAYS,
    AutoPayItem,
    AutoPaySetting,
    Direction,
    ItemStatus,
)
from shared.bank_accounts import get_usable, scheduled_uses, usable_bank_accounts
from shared.bank_accounts import remove_bank_account as remove_account
from shared.bank_accounts.models import BankAccount
from shared.banking_days import banking_days_after, is_banking_day
from shared.clock import business_today, utcnow
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.invoices import OPEN_STATUSES, is_payable
from shared.invoices.models import Invoice
from shared.mail import send_email
from shared.money import AmountError, parse_amount
from shared.payments import cancel_payment, create_payment, lock_payments, move_locked
from shared.payments.models import Payment, PaymentAllocation, PaymentMethod, PaymentStatus
from shared.portal_accounts.models import PortalRole, PortalUser
from shared.support import support_address
from shared.tenancy import scoped_get, tenant_scope
from tenants.hosts import portal_host
from tenants.models import Tenant
from tenants.routing import portal_url

__all__ = [
    "AUTOPAY",
    "MAX_AUTOPAY_CENTS",
    "MAX_OFFSET_DAYS",
    "NOTICE_BANKING_DAYS",
    "AutoPayItem",
    "AutoPaySetting",
    "Direction",
    "ItemStatus",
    "NotAllowed",
    "StopReason",
    "UnknownBankAccount",
    "bank_account_made_private",
    "check_before_withdrawal",
    "lock_for_returns",
    "open_skip_link",
    "presented_again",
    "remove_bank_account",
    "save_autopay",
    "schedule_autopay",
    "send_autopay_notices",
    "setting_for",
    "setting_paying_from",
    "skip_payment",
    "skip_token",
    "stop_autopay_for_bank_account",
    "upcoming",
    "withdrawal_day",
]

# The actor of every AutoPay payment: shared.payments records it as made by AutoPay.
AUTOPAY = Actor(ActorKind.SYSTEM, None, "AutoPay")
NOTICE_BANKING_DAYS = 3  # the payer is told this many banking days before each withdrawal
S = ItemStatus
# Statuses the sweep may (re)schedule from; the others are final or already scheduled.
_SCHEDULABLE = (S.PENDING, S.OVER_MAXIMUM, S.STOPPED)


class StopReason(enum.StrEnum):
    """Why AutoPay stopped by itself. The returns importer may pass its own text (e.g. "R02")."""

    REMOVED = "bank_account_removed"
    MADE_PRIVATE = "bank_account_made_private"
    DISABLED = "bank_account_disabled"
    UNAVAILABLE = "bank_account_unavailable"  # private, and whoever set AutoPay may not use it


class NotAllowed(PermissionError):
    """Only a business account's admins (or a personal account's owner) change AutoPay."""


class UnknownBankAccount(InputError):
    """An account id the payer may not use (another customer's, a colleague's private one,
    removed): answered like one that does not exist."""


# --- dates ------------------------------------------------------------------------------------


def withdrawal_day(due_date: date, offset_days: int, direction: Direction | str) -> date:
    """The banking day `offset_days` banking days before or after `due_date`. With 0 it is the due
    date itself, or the banking day before it when the due date is not one (paid on time)."""
    if offset_days == 0 or Direction(direction) is Direction.BEFORE:
        day = due_date
        while not is_banking_day(day):
            day -= timedelta(days=1)
        for _step in range(offset_days):
            day -= timedelta(days=1)
            while not is_banking_day(day):
                day -= timedelta(days=1)
        return day
    return banking_days_after(due_date, offset_days)


def _earliest(today: date) -> date:
    """Never in the past, and never today: the payer is told first, and today's ACH file may be
    gone. An overdue invoice goes on the next banking day after today."""
    return banking_days_after(today, 1)


def _pay_on(setting: AutoPaySetting, invoice: Invoice, today: date) -> date:
    return max(
        withdrawal_day(invoice.due_date, setting.offset_days, setting.direction), _earliest(today)
    )


# --- reading ----------------------------------------------------------------------------------


def setting_for(customer_id: int) -> AutoPaySetting | None:
    return db.session.scalars(
        select(AutoPaySetting).where(AutoPaySetting.customer_id == customer_id)
    ).one_or_none()


def setting_paying_from(account: BankAccount) -> AutoPaySetting | None:
    """The AutoPay that is on and pays from this account, if any."""
    return db.session.scalars(
        select(AutoPaySetting).where(
            AutoPaySetting.bank_account_id == account.id, AutoPaySetting.enabled.is_(True)
        )
    ).one_or_none()


def covers(tenant: Tenant, invoice: Invoice) -> bool:
    """Whether AutoPay will pay this invoice: it is on for the customer, the balance is within its
    maximum, and this due date was not skipped, refused or cancelled. The reminders ask this, so
    that nobody is reminded of an invoice that is about to be withdrawn."""
    setting = setting_for(invoice.customer_id)
    if setting is None or not setting.enabled or invoice.balance_cents > setting.max_amount_cents:
        return False
    item = db.session.scalars(
        select(AutoPayItem).where(
            AutoPayItem.invoice_id == invoice.id, AutoPayItem.due_date == invoice.due_date
        )
    ).one_or_none()
    return item is None or item.status not in (
        ItemStatus.OVER_MAXIMUM,
        ItemStatus.SKIPPED,
        ItemStatus.CANCELLED,
    )


@dataclass(frozen=True)
class Upcoming:
    item: AutoPayItem
    invoice: Invoice
    payment: Payment | None


def upcoming(customer_id: int) -> list[Upcoming]:
    """The customer's AutoPay items worth showing: payments still to come, invoices found above
    the maximum; by date."""
    rows = db.session.execute(
        select(AutoPayItem, Invoice, Payment)
        .join(Invoice, Invoice.id == AutoPayItem.invoice_id)
        .outerjoin(Payment, Payment.id == AutoPayItem.payment_id)
        .where(
            AutoPayItem.customer_id == customer_id,
            AutoPayItem.status.in_((S.SCHEDULED, S.OVER_MAXIMUM)),
            Invoice.status.in_(OPEN_STATUSES),
        )
        .order_by(AutoPayItem.pay_on, AutoPayItem.id)
    ).all()
    return [
        Upcoming(item, invoice, payment)
        for item, invoice, payment in rows
        if item.status is S.OVER_MAXIMUM
        or (payment is not None and payment.status is PaymentStatus.SCHEDULED)
    ]


# --- who is told ------------------------------------------------------------------------------


def _payer_side(customer: Customer) -> list[tuple[str, str]]:
    """(address, language) of the customer's portal admins, else of its billing addresses."""
    admins = db.session.scalars(
        select(PortalUser)
        .where(PortalUser.customer_id == customer.id, PortalUser.role == PortalRole.ADMIN)
        .order_by(PortalUser.id)
    ).all()
    if admins:
        return [(user.email, user.language or customer.language) for user in admins]
    return [(address, customer.language) for address in customer.recipients]


def _link(tenant: Tenant, endpoint: str, **values: object) -> str:
    host = portal_host(tenant, current_app.config["PORTAL_DOMAIN"])
    return portal_url(current_app, host, endpoint, **values)


def _account_text(account: BankAccount | None) -> str:
    return f"••••{account.last4}" if account is not None else "••••"


def _tell(tenant: Tenant, customer: Customer, template: str, **context: object) -> int:
    """Both sides: the payer side in its language, the vendor in its own (`to_vendor` set)."""
    sent = 0
    context = {"tenant": tenant, "customer": customer, **context}
    for address, language in _payer_side(customer):
        send_email(address, template, language, to_vendor=False, **context)
        sent += 1
    vendor = support_address(tenant)
    if vendor:
        send_email(vendor, template, tenant.default_language, to_vendor=True, **context)
        sent += 1
    return sent


def _tell_over_maximum(tenant, customer, setting, invoice, amount_cents: int) -> None:
    _tell(
        tenant,
        customer,
        "autopay_over_maximum",
        invoice=invoice,
        amount_cents=amount_cents,
        max_amount_cents=setting.max_amount_cents,
        portal_link=_link(tenant, "portal.invoices"),
    )


# --- the enrolment ----------------------------------------------------------------------------


def _max_amount(raw: str) -> int:
    text = (raw or "").strip()
    if not text:
        raise InputError("max_amount", _("Enter the Maximum Payment Amount."))
    if len(text) > 40:
        raise InputError("max_amount", _("Enter an amount in dollars and cents, like 5000.00."))
    try:
        cents = parse_amount(text)
    except AmountError as error:
        raise InputError(
            "max_amount", error.explained(_("Enter an amount in dollars and cents, like 5000.00."))
        ) from None
    if cents <= 0:
        raise InputError("max_amount", _("The Maximum Payment Amount must be more than 0."))
    if cents > MAX_AUTOPAY_CENTS:
        raise InputError("max_amount", _("The Maximum Payment Amount is too large."))
    return cents


def _offset(raw: str | int) -> int:
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise InputError("offset_days", _("Enter a number of business days (0 for the due date)."))
    if not text.isascii() or not text.isdigit() or len(text) > 3:
        raise InputError("offset_days", _("Enter a whole number of business days, like 2."))
    days = int(text)
    if days > MAX_OFFSET_DAYS:
        raise InputError("offset_days", _("Use at most %(n)d business days.", n=MAX_OFFSET_DAYS))
    return days


def _direction(raw: str) -> Direction:
    try:
        return Direction(raw)
    except ValueError:
        raise InputError("direction", _("Choose before or after the due date.")) from None


def _bank_account(customer: Customer, user: PortalUser, account_id: int | None) -> BankAccount:
    if account_id is not None:
        account = get_usable(customer.id, user, account_id)
        if account is None:
            raise UnknownBankAccount("bank_account", _("Choose one of your bank accounts."))
        return account
    usable = usable_bank_accounts(customer.id, user)
    if not usable:
        raise InputError("bank_account", _("Add a bank account first: Auto Pay pays from it."))
    if len(usable) > 1:
        raise InputError("bank_account", _("Choose the bank account to pay from."))
    return usable[0]


def save_autopay(
    tenant: Tenant,
    actor: Actor,
    user: PortalUser,
    customer: Customer,
    *,
    enabled: bool,
    max_amount: str = "",
    bank_account_id: int | None = None,
    offset_days: str | int = "",
    direction: str = "before",
    now: datetime,
) -> AutoPaySetting | None:
    """Turn AutoPay on (or change it) or off, as the seed's form does; everything is checked
    first (InputError, nothing written). Turning it off, or changing what it pays or from where,
    cancels the AutoPay payments still scheduled; the sweep then schedules the open invoices with
    the new settings at once. The person who saved gets a confirmation email."""
    if not user.is_admin or user.customer_id != customer.id:
        raise NotAllowed("only an admin of the account changes AutoPay")
    # Read first, unlocked, to know which bank accounts to lock before the setting (the order).
    current = setting_for(customer.id)
    old_account_id = current.bank_account_id if current is not None else None
    if not enabled:
        if current is None or not current.enabled:
            return current
        _lock_accounts([old_account_id])
        setting = _locked_setting(customer.id, old_account_id)
        if not setting.enabled:
            return setting
        _lock_customer(customer.id)
        setting.enabled = False
        setting.stopped_reason, setting.stopped_at = "", None
        _stamp(setting, user, now)
        _release(tenant, actor, setting, "AutoPay turned off")
        _confirm(tenant, customer, user, setting)
        record(tenant.id, actor, "autopay.off", customer=customer.id)
        return setting
    cents = _max_amount(max_amount)
    account = _bank_account(customer, user, bank_account_id)
    days = _offset(offset_days)
    way = _direction(direction) if days else Direction.BEFORE
    locked = _lock_accounts([account.id, old_account_id])
    if locked[account.id].removed_at is not None:  # removed while this form was checked
        raise UnknownBankAccount("bank_account", _("Choose one of your bank accounts."))
    setting = _locked_setting(customer.id, old_account_id)
    _lock_customer(customer.id)
    if setting is None:
        setting = AutoPaySetting(tenant_id=tenant.id, customer_id=customer.id)
        db.session.add(setting)
    elif setting.enabled and (
        setting.bank_account_id,
        setting.max_amount_cents,
        setting.offset_days,
        setting.direction,
    ) != (account.id, cents, days, way):
        _release(tenant, actor, setting, "AutoPay changed")
    setting.enabled = True
    setting.max_amount_cents, setting.bank_account_id = cents, account.id
    setting.offset_days, setting.direction = days, way
    setting.stopped_reason, setting.stopped_at = "", None
    _stamp(setting, user, now)
    db.session.flush()
    _sweep_customer(tenant, setting, business_today(tenant, now), now)
    _confirm(tenant, customer, user, setting, account)
    record(tenant.id, actor, "autopay.on", customer=customer.id, bank_account=account.id)
    return setting


def _stamp(setting: AutoPaySetting, user: PortalUser, now: datetime) -> None:
    setting.set_by_id, setting.set_by_label, setting.set_at = user.id, user.email, now


def _lock_accounts(account_ids) -> dict[int, BankAccount]:
    """Bank accounts locked in id order (None ids left out), read afresh."""
    ids = sorted({i for i in account_ids if i is not None})
    if not ids:
        return {}
    return {
        account.id: account
        for account in db.session.scalars(
            select(BankAccount)
            .where(BankAccount.id.in_(ids))
            .order_by(BankAccount.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }


def _lock_account(account_id: int | None) -> BankAccount | None:
    return _lock_accounts([account_id]).get(account_id)


def _locked_setting(customer_id: int, account_id: int | None) -> AutoPaySetting | None:
    """The customer's setting, locked after the bank account it pays from (`account_id`, read
    before without a lock). Changed to another account meanwhile: that account is not locked,
    and locking it now would break the order, so the payer is asked to save again."""
    setting = next(iter(_lock_settings(AutoPaySetting.customer_id == customer_id)), None)
    if setting is not None and setting.bank_account_id != account_id:
        raise InputError("", _("Auto Pay was changed meanwhile: check it and save again."))
    return setting


def _lock_customer(customer_id: int, payment_ids=()) -> list[AutoPayItem]:
    """After the bank accounts and the setting: the customer's items (id order), then its open
    invoices with those of its scheduled items' payments (and of `payment_ids`), then those
    payments, each in id order; what the sweep, a release or a removal may change."""
    items = db.session.scalars(
        select(AutoPayItem)
        .where(AutoPayItem.customer_id == customer_id)
        .order_by(AutoPayItem.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    invoice_ids = db.session.scalars(
        select(Invoice.id).where(
            Invoice.customer_id == customer_id, Invoice.status.in_(OPEN_STATUSES)
        )
    ).all()
    scheduled = {i.payment_id for i in items if i.status is S.SCHEDULED and i.payment_id}
    lock_payments(scheduled | set(payment_ids), invoice_ids=invoice_ids)
    return list(items)


def _confirm(tenant, customer, user, setting, account: BankAccount | None = None) -> None:
    send_email(
        user.email,
        "autopay_settings",
        user.language or customer.language,
        tenant=tenant,
        customer=customer,
        setting=setting,
        account_text=_account_text(account),
        portal_link=_link(tenant, "portal.autopay_page"),
    )


def _release(tenant, actor: Actor, setting: AutoPaySetting, cause: str) -> int:
    """AutoPay stops or changes: its payments still scheduled are cancelled, and their items are
    scheduled again if AutoPay is on (again). Items whose payment was just cancelled with its bank
    account (the removal cancels them first) are released too. Returns the items released."""
    released = 0
    items = db.session.scalars(
        select(AutoPayItem)
        .where(AutoPayItem.customer_id == setting.customer_id, AutoPayItem.status == S.SCHEDULED)
        .order_by(AutoPayItem.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    # Their payments cancelled together: invoices, then payments, in id order.
    locked = lock_payments(item.payment_id for item in items if item.payment_id)
    due = [p for p in locked.payments.values() if p.status is PaymentStatus.SCHEDULED]
    move_locked(
        tenant, actor, locked, due, (PaymentStatus.SCHEDULED,), PaymentStatus.CANCELLED, cause
    )
    for item in items:
        payment = locked.payments.get(item.payment_id)
        if payment is not None and payment.status is PaymentStatus.CANCELLED:
            item.status = S.STOPPED
            released += 1
    db.session.flush()
    return released


# --- stopping by itself -----------------------------------------------------------------------


def stop_autopay_for_bank_account(
    tenant: Tenant, bank_account: BankAccount, reason: str, actor: Actor = AUTOPAY
) -> AutoPaySetting | None:
    """The bank account AutoPay pays from can no longer be used (removed, made private by a
    colleague, disabled after a return): AutoPay stops, its scheduled payments are cancelled, and
    both sides are told. `reason` is a StopReason or the returns importer's own text (its code).
    Returns the setting stopped, or None when no AutoPay paid from it."""
    with tenant_scope(tenant.id):
        _lock_account(bank_account.id)
        setting = _locked_setting_paying_from(bank_account.id)
        if setting is None:
            return None
        _lock_customer(setting.customer_id)
        setting.enabled = False
        setting.stopped_reason = str(reason)[:60]
        setting.stopped_at = utcnow()
        released = _release(tenant, actor, setting, f"AutoPay stopped: {setting.stopped_reason}")
        customer = scoped_get(Customer, setting.customer_id)
        _tell(
            tenant,
            customer,
            "autopay_stopped",
            reason=setting.stopped_reason,
            account_text=_account_text(bank_account),
            cancelled=released,
            portal_link=_link(tenant, "portal.autopay_page"),
        )
        record(
            tenant.id,
            actor,
            "autopay.stopped",
            customer=setting.customer_id,
            bank_account=bank_account.id,
            reason=setting.stopped_reason,
        )
        db.session.flush()
        return setting


def _lock_settings(*where) -> list[AutoPaySetting]:
    """AutoPay settings locked in id order and read afresh (after their bank accounts)."""
    return list(
        db.session.scalars(
            select(AutoPaySetting)
            .where(*where)
            .order_by(AutoPaySetting.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _locked_setting_paying_from(account_id: int) -> AutoPaySetting | None:
    paying = _lock_settings(
        AutoPaySetting.bank_account_id == account_id, AutoPaySetting.enabled.is_(True)
    )
    return paying[0] if paying else None


def remove_bank_account(
    tenant: Tenant, actor: Actor, account: BankAccount, *, cancel_payment_ids=()
) -> list[Payment]:
    """shared.bank_accounts.remove_bank_account, with the AutoPay that pays from the account
    stopped in the same breath (both sides told; its scheduled payments are among those the
    payer confirmed). The locks in the one order: the account, its AutoPay setting and items,
    then the invoices and payments of the account's scheduled payments and the AutoPay's.
    Returns the payments cancelled."""
    with tenant_scope(tenant.id):
        _lock_account(account.id)
        setting = _locked_setting_paying_from(account.id)
        if setting is not None:
            _lock_customer(setting.customer_id, [use.payment.id for use in scheduled_uses(account)])
        cancelled = remove_account(tenant.id, actor, account, cancel_payment_ids=cancel_payment_ids)
        if setting is not None:
            stop_autopay_for_bank_account(tenant, account, StopReason.REMOVED)
        return cancelled


def lock_for_returns(account_ids, payment_ids) -> set[int]:
    """For the returns importer, after the ACH entries: their bank accounts (`account_ids`), the
    AutoPay settings paying from those accounts (a return may stop them) and the
    items of the returned payments (`payment_ids`: a re-presentment moves its item) and of those
    settings' customers, locked in that order. Returns the payments a stop would cancel, for the
    importer to lock with the returned ones (invoices, then payments)."""
    account_ids = sorted(set(account_ids))
    payment_ids = sorted(set(payment_ids))
    _lock_accounts(account_ids)
    settings = (
        _lock_settings(
            AutoPaySetting.bank_account_id.in_(account_ids), AutoPaySetting.enabled.is_(True)
        )
        if account_ids
        else []
    )
    customers = sorted({setting.customer_id for setting in settings})
    if not customers and not payment_ids:
        return set()
    items = db.session.scalars(
        select(AutoPayItem)
        .where(AutoPayItem.payment_id.in_(payment_ids) | AutoPayItem.customer_id.in_(customers))
        .order_by(AutoPayItem.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {
        item.payment_id
        for item in items
        if item.customer_id in customers and item.status is S.SCHEDULED and item.payment_id
    }


def bank_account_made_private(
    tenant: Tenant, actor: Actor, account: BankAccount, by: PortalUser
) -> AutoPaySetting | None:
    """After `account` was made private by `by`: AutoPay set by someone else can no longer use
    it, so it stops (the person who set AutoPay may keep paying from their own private account)."""
    setting = setting_paying_from(account)
    if setting is None or setting.set_by_id == by.id:
        return None
    return stop_autopay_for_bank_account(tenant, account, StopReason.MADE_PRIVATE, actor)


# --- the sweep --------------------------------------------------------------------------------


def schedule_autopay(tenant: Tenant, now: datetime) -> int:
    """The job: for each open invoice of each enrolled customer, schedule its AutoPay payment
    (once per invoice and due date), tell both sides once of an invoice above the maximum, and
    check the AutoPay payments already scheduled again. Returns the payments scheduled."""
    with tenant_scope(tenant.id):
        today = business_today(tenant, now)
        settings = db.session.scalars(
            select(AutoPaySetting)
            .where(AutoPaySetting.enabled.is_(True))
            .order_by(AutoPaySetting.customer_id)
        ).all()
        scheduled = sum(_sweep_customer(tenant, setting, today, now) for setting in settings)
        db.session.flush()  # in the tenant's scope (the caller's commit may come after it)
        return scheduled


def _sweep_customer(tenant: Tenant, setting: AutoPaySetting, today: date, now: datetime) -> int:
    account = _lock_account(setting.bank_account_id)
    [setting] = _lock_settings(AutoPaySetting.id == setting.id)  # now that its account is ours
    if not setting.enabled:
        return 0
    if account is None or account.removed_at is not None:
        stop_autopay_for_bank_account(tenant, account, StopReason.REMOVED)
        return 0
    if account.private and (
        account.portal_user_id is None or account.portal_user_id != setting.set_by_id
    ):
        # Someone's private account that the person who set AutoPay may not use (e.g. whoever
        # set it left the account, and their private account is nobody's now).
        stop_autopay_for_bank_account(tenant, account, StopReason.UNAVAILABLE)
        return 0
    customer = scoped_get(Customer, setting.customer_id)
    invoices = db.session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer.id, Invoice.status.in_(OPEN_STATUSES))
        .order_by(Invoice.id)
    ).all()
    known = set(
        db.session.execute(
            select(AutoPayItem.invoice_id, AutoPayItem.due_date).where(
                AutoPayItem.customer_id == customer.id
            )
        ).all()
    )
    for invoice in invoices:
        # Nothing to pay (paid or scheduled by hand): nothing to record.
        if (invoice.id, invoice.due_date) not in known and invoice.balance_cents > 0:
            _insert_if_absent(tenant, customer, invoice, now)
    # Then every item, invoice and payment this may change, in the order (module docstring).
    items = {(item.invoice_id, item.due_date): item for item in _lock_customer(customer.id)}
    scheduled = 0
    for invoice in invoices:
        item = items.get((invoice.id, invoice.due_date))
        if item is None:
            continue
        if item.status is S.SCHEDULED:
            payment = scoped_get(Payment, item.payment_id)
            if payment is not None and payment.status is PaymentStatus.SCHEDULED:
                check_before_withdrawal(tenant, payment)
            elif payment is not None and payment.status is PaymentStatus.CANCELLED:
                _settle_cancelled(item)
        elif item.status in _SCHEDULABLE:
            scheduled += _schedule(tenant, setting, account, customer, invoice, item, today, now)
    return scheduled


def _insert_if_absent(tenant, customer, invoice, now) -> AutoPayItem:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(AutoPayItem)
        .values(
            tenant_id=tenant.id,
            customer_id=customer.id,
            invoice_id=invoice.id,
            due_date=invoice.due_date,
            status=S.PENDING,
            attempts=0,
            amount_cents=0,
            skipped_by_label="",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "invoice_id", "due_date"])
    )
    return db.session.scalars(
        select(AutoPayItem)
        .where(AutoPayItem.invoice_id == invoice.id, AutoPayItem.due_date == invoice.due_date)
        .execution_options(populate_existing=True)
    ).one()


def _lock_item(item: AutoPayItem) -> AutoPayItem:
    db.session.refresh(item, with_for_update=True)
    return item


def _settle_cancelled(item: AutoPayItem) -> None:
    """Its payment was cancelled by someone else (staff in the console): left alone for good."""
    _lock_item(item)
    payment = scoped_get(Payment, item.payment_id)
    if item.status is S.SCHEDULED and payment.status is PaymentStatus.CANCELLED:
        item.status = S.CANCELLED


def _schedule(tenant, setting, account, customer, invoice, item, today, now) -> int:
    _lock_item(item)
    if item.status not in _SCHEDULABLE:
        return 0  # another sweep acted on it while this one waited for the lock
    invoice = db.session.scalars(
        select(Invoice)
        .where(Invoice.id == invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    balance = invoice.balance_cents if is_payable(invoice) else 0
    if balance <= 0:
        return 0
    if balance > setting.max_amount_cents:
        if item.status is not S.OVER_MAXIMUM:
            item.status, item.amount_cents, item.told_over_maximum_at = S.OVER_MAXIMUM, balance, now
            _tell_over_maximum(tenant, customer, setting, invoice, balance)
            record(tenant.id, AUTOPAY, "autopay.over_maximum", invoice=invoice.id)
        return 0
    pay_on = _pay_on(setting, invoice, today)
    item.attempts += 1
    payment = create_payment(
        tenant,
        AUTOPAY,
        customer,
        allocations={invoice.id: balance},
        method=PaymentMethod.ACH,
        pay_on=pay_on,
        idempotency_key=f"autopay-{item.id}-{item.attempts}",
        bank_account_id=account.id,
    )
    item.status, item.payment_id = S.SCHEDULED, payment.id
    item.amount_cents, item.pay_on, item.notice_sent_at = balance, pay_on, None
    db.session.flush()
    record(tenant.id, AUTOPAY, "autopay.scheduled", invoice=invoice.id, payment=payment.id)
    return 1


# --- before the withdrawal --------------------------------------------------------------------


def _locked_item_of(payment_id: int) -> AutoPayItem | None:
    """The AutoPay item a payment pays, locked and read afresh (None: not an AutoPay payment)."""
    return db.session.scalars(
        select(AutoPayItem)
        .where(AutoPayItem.payment_id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def check_before_withdrawal(tenant: Tenant, payment: Payment) -> bool:
    """For the ACH file builder, just before an AutoPay payment is withdrawn: True to go on. An
    invoice raised above the maximum since it was scheduled (or AutoPay turned off) cancels the
    payment, and for the maximum both sides are told; False then. Not an AutoPay payment: True."""
    with tenant_scope(tenant.id):
        item = _locked_item_of(payment.id)
        if item is None:
            return True
        db.session.refresh(payment)
        if payment.status is not PaymentStatus.SCHEDULED or item.status is not S.SCHEDULED:
            return False
        setting = setting_for(item.customer_id)
        if setting is None or not setting.enabled:
            cancel_payment(tenant, AUTOPAY, payment, cause="AutoPay is off")
            item.status = S.STOPPED
            db.session.flush()
            return False
        allocated = sum(
            db.session.scalars(
                select(PaymentAllocation.amount_cents).where(
                    PaymentAllocation.payment_id == payment.id,
                    PaymentAllocation.invoice_id == item.invoice_id,
                )
            )
        )
        invoice = scoped_get(Invoice, item.invoice_id)
        owed = allocated + max(invoice.balance_cents, 0)
        if owed <= setting.max_amount_cents:
            return True
        db.session.flush()
        cancel_payment(tenant, AUTOPAY, payment, cause="invoice above the AutoPay maximum")
        item.status, item.amount_cents, item.told_over_maximum_at = S.OVER_MAXIMUM, owed, utcnow()
        _tell_over_maximum(tenant, scoped_get(Customer, item.customer_id), setting, invoice, owed)
        record(tenant.id, AUTOPAY, "autopay.over_maximum", invoice=invoice.id, payment=payment.id)
        db.session.flush()
        return False


def presented_again(tenant: Tenant, returned: Payment, payment: Payment) -> None:
    """For shared.ach.represent: an AutoPay debit returned R01/R09 is presented again as
    `payment`. Its item follows the new payment, so turning AutoPay off, skipping and the maximum
    check apply to it, and the sweep (which acts only on items it may schedule) never makes
    another payment for that invoice and due date after a return or a failure. The return's email
    gave the new date and amount: that was its notice."""
    with tenant_scope(tenant.id):
        item = _locked_item_of(returned.id)
        if item is None:
            return
        item.payment_id, item.attempts = payment.id, item.attempts + 1
        item.amount_cents, item.pay_on, item.notice_sent_at = (
            payment.amount_cents,
            payment.pay_on,
            utcnow(),
        )
        db.session.flush()


# --- the notice before each withdrawal, and skipping one ----------------------------------------


def _skip_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="autopay-skip-v1")


def skip_token(item: AutoPayItem) -> str:
    """The notice's link: skips this item's current payment, nothing else, and dies with it."""
    return _skip_serializer().dumps([item.tenant_id, item.id, item.attempts])


def open_skip_link(tenant: Tenant, token: str) -> AutoPayItem | None:
    """The item a skip link names, while its payment can still be skipped; else None (a forged,
    another tenant's, an old attempt's link, or a payment that already ran or was cancelled)."""
    if not token or len(token) > 300:
        return None
    try:
        value = _skip_serializer().loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return None
    tenant_id, item_id, attempts = value
    if tenant_id != tenant.id:
        return None
    item = scoped_get(AutoPayItem, item_id)
    if item is None or item.attempts != attempts or not skippable(item):
        return None
    return item


def skippable(item: AutoPayItem) -> bool:
    payment = scoped_get(Payment, item.payment_id)
    return (
        item.status is S.SCHEDULED
        and payment is not None
        and payment.status is PaymentStatus.SCHEDULED
    )


def skip_payment(tenant: Tenant, actor: Actor, item: AutoPayItem) -> Payment:
    """Skip this one withdrawal: its payment is cancelled, the invoice stays open to pay by hand,
    and the sweep never schedules it again for this due date."""
    _lock_item(item)
    payment = scoped_get(Payment, item.payment_id)
    if not skippable(item):
        raise InputError("", _("This payment can no longer be skipped."))
    cancel_payment(tenant, actor, payment, cause="AutoPay payment skipped by the payer")
    item.status = S.SKIPPED
    item.skipped_by_label = (actor.label or str(actor))[:254]
    db.session.flush()
    record(tenant.id, actor, "autopay.skipped", invoice=item.invoice_id, payment=payment.id)
    return payment


def send_autopay_notices(tenant: Tenant, now: datetime) -> int:
    """The job: each AutoPay payment due within NOTICE_BANKING_DAYS banking days is announced to
    the payer once (amount, date, a link to skip it). The claim is an UPDATE guarded by
    `notice_sent_at IS NULL`: of two runs at once, one sends. Returns the notices sent."""
    with tenant_scope(tenant.id):
        horizon = banking_days_after(business_today(tenant, now), NOTICE_BANKING_DAYS)
        rows = db.session.execute(
            select(AutoPayItem.id, AutoPayItem.attempts)
            .join(Payment, Payment.id == AutoPayItem.payment_id)
            .where(
                AutoPayItem.status == S.SCHEDULED,
                AutoPayItem.notice_sent_at.is_(None),
                Payment.status == PaymentStatus.SCHEDULED,
                Payment.pay_on <= horizon,
            )
            .order_by(AutoPayItem.id)
        ).all()
        sent = 0
        for item_id, attempts in rows:
            claimed = db.session.execute(
                update(AutoPayItem)
                .where(
                    AutoPayItem.id == item_id,
                    AutoPayItem.attempts == attempts,
                    AutoPayItem.status == S.SCHEDULED,
                    AutoPayItem.notice_sent_at.is_(None),
                )
                .values(notice_sent_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                continue  # another run told the payer, or the item changed meanwhile
            item = db.session.scalars(
                select(AutoPayItem)
                .where(AutoPayItem.id == item_id)
                .execution_options(populate_existing=True)
            ).one()
            _send_notice(tenant, item)
            sent += 1
        db.session.flush()
        return sent


def _send_notice(tenant: Tenant, item: AutoPayItem) -> None:
    customer = scoped_get(Customer, item.customer_id)
    invoice = scoped_get(Invoice, item.invoice_id)
    payment = scoped_get(Payment, item.payment_id)
    account = scoped_get(BankAccount, payment.bank_account_id)
    skip_link = _link(tenant, "portal.autopay_skip_link", token=skip_token(item))
    for address, language in _payer_side(customer):
        send_email(
            address,
            "autopay_notice",
            language,
            tenant=tenant,
            customer=customer,
            invoice=invoice,
            payment=payment,
            account_text=_account_text(account),
            skip_link=skip_link,
            portal_link=_link(tenant, "portal.autopay_page"),
        )
