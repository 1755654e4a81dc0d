"""First-use validation of a bank account for WEB debits, by prenote (NACHA, since 2022-03-19).

Chosen over micro-deposits: no payer step, and it rides in the files we build anyway. When a
personal customer's bank account first has a scheduled ACH payment, the next file carries a
zero-dollar prenote for it; live WEB debits from that account wait until three banking days after
the prenote's effective date, and go only if no return came back for it (a returned prenote
disables the account, shared.ach.returns). CCD (business) debits need no such validation. A
correction the bank sends by NOC (C01–C07) comes from the receiving bank itself, so it keeps the
validation; a payer who changes the number adds a new account, which is validated again.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select

from shared.bank_accounts.models import BankAccount
from shared.banking_days import banking_days_after
from shared.customers.models import Customer, CustomerKind
from shared.extensions import db
from shared.payments.models import Payment, PaymentMethod, PaymentStatus

WAIT_BANKING_DAYS = 3


def live_from(account: BankAccount) -> date | None:
    """The first effective date a live WEB debit may have, or None before any prenote."""
    if account.prenote_on is None:
        return None
    return banking_days_after(account.prenote_on, WAIT_BANKING_DAYS)


def may_debit(account: BankAccount, effective: date) -> bool:
    first = live_from(account)
    return first is not None and effective >= first and account.disabled_at is None


def claim_waiting(effective: date) -> list[BankAccount]:
    """Personal customers' usable accounts with a scheduled ACH payment and no prenote yet; their
    prenote date is set to `effective` (the caller puts a prenote for each in its file)."""
    chosen = list(
        db.session.scalars(
            select(BankAccount)
            .join(Customer, Customer.id == BankAccount.customer_id)
            .where(
                BankAccount.prenote_on.is_(None),
                BankAccount.disabled_at.is_(None),
                BankAccount.removed_at.is_(None),
                Customer.kind == CustomerKind.PERSONAL,
                exists().where(
                    Payment.bank_account_id == BankAccount.id,
                    Payment.method == PaymentMethod.ACH,
                    Payment.status == PaymentStatus.SCHEDULED,
                ),
            )
            .order_by(BankAccount.id)
            .with_for_update(of=BankAccount, skip_locked=True)
        )
    )
    for account in chosen:
        account.prenote_on = effective
    return chosen
