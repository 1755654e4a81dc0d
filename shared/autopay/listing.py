"""The vendor's list of AutoPay enrolments (the console): one row per customer who ever set
AutoPay, with its maximum, its bank account (last four digits only), when it withdraws, and
whether it is on, turned off, or stopped by itself and why. One query per page, whatever its
length."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from shared.autopay.models import AutoPaySetting
from shared.bank_accounts.models import BankAccount
from shared.customers.models import Customer
from shared.extensions import db


@dataclass(frozen=True)
class Enrolment:
    setting: AutoPaySetting
    customer_id: int
    customer_name: str
    bank_last4: str  # "" when no account is named (AutoPay off before one was chosen)

    @property
    def state(self) -> str:
        """ "on", "stopped" (by itself: its account went, or a return), or "off" (by the payer)."""
        if self.setting.enabled:
            return "on"
        return "stopped" if self.setting.stopped_reason else "off"


def enrolments(tenant, *, page: int = 1, page_size: int = 50) -> tuple[list[Enrolment], int]:
    """A page of the tenant's enrolments, by customer name, and how many there are in all."""
    total = db.session.scalar(select(func.count()).select_from(AutoPaySetting)) or 0
    rows = db.session.execute(
        select(AutoPaySetting, Customer.id, Customer.name, BankAccount.last4)
        .join(Customer, Customer.id == AutoPaySetting.customer_id)
        .outerjoin(BankAccount, BankAccount.id == AutoPaySetting.bank_account_id)
        .order_by(Customer.name, AutoPaySetting.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return [Enrolment(s, cid, name, last4 or "") for s, cid, name, last4 in rows], total
