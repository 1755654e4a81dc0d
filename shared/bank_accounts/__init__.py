"""Bank accounts a signed-in payer adds for ACH debits (issue 8, point 3).

Only the last four digits are ever shown, logged or emailed (`BankAccount.masked`); the number is
kept encrypted (shared.encryption). A private account is the adder's alone: colleagues do not see
it, cannot use it, and its id answers like one that does not exist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import or_, select
from stdnum.exceptions import ValidationError
from stdnum.us import rtn

from shared import encryption
from shared.actors import Actor, record
from shared.bank_accounts.models import BankAccount, BankAccountKind
from shared.clock import utcnow
from shared.errors import InputError
from shared.extensions import db
from shared.invoices.models import Invoice
from shared.payments import lock_payments, move_locked
from shared.payments.models import Payment, PaymentAllocation, PaymentStatus
from shared.portal_accounts.models import PortalUser
from shared.tenancy import tenant_scope
from shared.unit_of_work import unit_of_work
from tenants.models import Tenant

__all__ = [
    "BankAccount",
    "BankAccountData",
    "BankAccountKind",
    "ScheduledUse",
    "add_bank_account",
    "add_single_use_bank_account",
    "default_terms",
    "get_listed",
    "get_single_use",
    "get_usable",
    "listed_bank_accounts",
    "may_remove",
    "reencrypt_all",
    "remove_bank_account",
    "scheduled_uses",
    "set_private",
    "shown_to",
    "terms_for",
    "terms_version",
    "usable_bank_accounts",
]

DEFAULT_TERMS = {
    "en": (
        "By adding this bank account you authorize {vendor} to debit it by ACH for the payments "
        "you make or schedule in this portal, in the amounts and on the dates you choose. You "
        "confirm that you may authorize debits from this account. You may cancel a scheduled "
        "payment before its date or remove this account at any time in the portal."
    ),
    "es": (
        "Al agregar esta cuenta bancaria, usted autoriza a {vendor} a debitarla por ACH para los "
        "pagos que haga o programe en este portal, por los montos y en las fechas que elija. Usted "
        "confirma que puede autorizar débitos de esta cuenta. Puede cancelar un pago programado "
        "antes de su fecha o quitar esta cuenta en cualquier momento en el portal."
    ),
}


# A guest's account is typed for one payment and kept for nothing else (single use): it is not
# saved, so there is no account to remove later; the payment is what the guest authorises.
GUEST_DEFAULT_TERMS = {
    "en": (
        "By entering this bank account you authorize {vendor} to debit it by ACH once, for this "
        "payment, in the amount and on the date shown before you confirm. You confirm that you "
        "may authorize debits from this account. The account is not saved for later payments. "
        "You may cancel the payment before its date on its receipt page, or by contacting "
        "{vendor}."
    ),
    "es": (
        "Al ingresar esta cuenta bancaria, usted autoriza a {vendor} a debitarla por ACH una sola "
        "vez, para este pago, por el monto y en la fecha que se muestran antes de confirmar. "
        "Usted confirma que puede autorizar débitos de esta cuenta. La cuenta no se guarda para "
        "pagos posteriores. Puede cancelar el pago antes de su fecha en su página de recibo, o "
        "comunicándose con {vendor}."
    ),
}


def default_terms(language: str, vendor: str, *, single_use: bool = False) -> str:
    """The default Terms of Service (ACH authorisation) in `language` (en or es); `single_use`:
    a guest's, for the one payment its account is typed for."""
    texts = GUEST_DEFAULT_TERMS if single_use else DEFAULT_TERMS
    return texts.get(language, texts["en"]).format(vendor=vendor)


def terms_for(tenant: Tenant, language: str, *, single_use: bool = False) -> str:
    """The Terms of Service a payer (a guest: `single_use`) reads in `language`: the vendor's own
    text from the console's settings, or the default when the vendor wrote none for that
    language."""
    own = tenant.ach_terms_es if language == "es" else tenant.ach_terms_en
    return (own or "").strip() or default_terms(language, tenant.name, single_use=single_use)


def terms_version(text: str) -> str:
    """What is stored with an acceptance: a hash that names exactly the text shown."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class BankAccountData:
    holder_name: str
    routing_number: str
    account_number: str
    account_number_again: str
    kind: str
    nickname: str = ""
    private: bool = False
    accepted_terms: bool = False
    terms_text: str = ""  # the text shown to the payer; its hash is stored
    ip: str = ""
    user_agent: str = ""


def _routing(raw: str) -> str:
    value = (raw or "").strip()
    if not value.isdigit() or not value.isascii():
        raise InputError("routing_number", _("A routing number has only digits."))
    if len(value) != 9:
        raise InputError("routing_number", _("A routing number has 9 digits."))
    if set(value) == {"0"}:
        raise InputError("routing_number", _("This is not a valid routing number."))
    try:
        rtn.validate(value)
    except ValidationError:
        raise InputError(
            "routing_number", _("This routing number's check digit is wrong: check it.")
        ) from None
    return value


def _account_number(raw: str, again: str) -> str:
    value = (raw or "").strip()
    if not value.isdigit() or not value.isascii():
        raise InputError("account_number", _("An account number has only digits."))
    if not 4 <= len(value) <= 17:
        raise InputError("account_number", _("An account number has 4 to 17 digits."))
    if (again or "").strip() != value:
        raise InputError("account_number_again", _("The two account numbers differ."))
    return value


def _checked(tenant_id: int, data: BankAccountData) -> BankAccount:
    """The row for `data`, every field checked (InputError on the first bad one); not added."""
    holder = (data.holder_name or "").strip()
    if not holder:
        raise InputError("holder_name", _("Enter the account holder's name."))
    if len(holder) > 120:
        raise InputError("holder_name", _("The holder's name is too long."))
    routing = _routing(data.routing_number)
    number = _account_number(data.account_number, data.account_number_again)
    try:
        kind = BankAccountKind(data.kind)
    except ValueError:
        raise InputError("kind", _("Choose checking or savings.")) from None
    nickname = (data.nickname or "").strip()
    if len(nickname) > 60:
        raise InputError("nickname", _("The nickname is too long."))
    if not data.accepted_terms or not data.terms_text:
        raise InputError("accept_terms", _("Accept the Terms of Service to add a bank account."))
    return BankAccount(
        tenant_id=tenant_id,
        holder_name=holder,
        routing_number=routing,
        account_number_encrypted=encryption.encrypt(number),
        last4=number[-4:],
        kind=kind,
        nickname=nickname,
        private=bool(data.private),
        terms_version=terms_version(data.terms_text),
        terms_accepted_at=utcnow(),
        terms_ip=(data.ip or "")[:45],
        terms_user_agent=(data.user_agent or "")[:300],
    )


def add_bank_account(
    tenant_id: int, actor: Actor, payer_user: PortalUser, data: BankAccountData
) -> BankAccount:
    """Check everything first, then add: bad input raises InputError and saves nothing."""
    account = _checked(tenant_id, data)
    account.customer_id = payer_user.customer_id
    account.portal_user_id = payer_user.id
    db.session.add(account)
    db.session.flush()
    record(tenant_id, actor, "bank_account.added", bank_account=account.id, last4=account.last4)
    return account


def add_single_use_bank_account(
    tenant_id: int, actor: Actor, customer_id: int, data: BankAccountData
) -> BankAccount:
    """A guest's bank account, typed in the pay flow for one payment: checked like any other, the
    Terms accepted recorded as that payment's ACH authorisation, then kept hidden: nobody's,
    private, single use (never listed, never offered, refused for any second payment). The row
    stays because the payment and its ACH entry name it."""
    account = _checked(tenant_id, data)
    account.customer_id = customer_id
    account.portal_user_id = None
    account.private = True
    account.single_use = True
    account.nickname = ""
    db.session.add(account)
    db.session.flush()
    record(
        tenant_id,
        actor,
        "bank_account.added_single_use",
        bank_account=account.id,
        last4=account.last4,
    )
    return account


def get_single_use(customer_id: int, account_id: int) -> BankAccount | None:
    """A guest's single-use account of this customer that no payment has used yet, else None."""
    return db.session.scalar(
        select(BankAccount).where(
            BankAccount.id == account_id,
            BankAccount.customer_id == customer_id,
            BankAccount.single_use.is_(True),
            BankAccount.removed_at.is_(None),
            BankAccount.disabled_at.is_(None),
            ~select(Payment.id).where(Payment.bank_account_id == BankAccount.id).exists(),
        )
    )


def _listed(customer_id: int, payer_user: PortalUser):
    return select(BankAccount).where(
        BankAccount.customer_id == customer_id,
        BankAccount.removed_at.is_(None),
        BankAccount.single_use.is_(False),
        or_(BankAccount.portal_user_id == payer_user.id, BankAccount.private.is_(False)),
    )


def _usable(customer_id: int, payer_user: PortalUser):
    # An account an ACH return disabled (shared.ach.imports) pays nothing more, AutoPay included.
    return _listed(customer_id, payer_user).where(BankAccount.disabled_at.is_(None))


def usable_bank_accounts(customer_id: int, payer_user: PortalUser) -> list[BankAccount]:
    """The payer's own accounts and colleagues' non-private ones, for this customer, that may
    pay: not disabled by an ACH return."""
    if payer_user.customer_id != customer_id:
        return []
    return list(db.session.scalars(_usable(customer_id, payer_user).order_by(BankAccount.id)))


def get_usable(customer_id: int, payer_user: PortalUser, account_id: int) -> BankAccount | None:
    """None for another customer's, another tenant's, a removed, a disabled or a colleague's
    private account."""
    if payer_user.customer_id != customer_id:
        return None
    return db.session.scalar(_usable(customer_id, payer_user).where(BankAccount.id == account_id))


def listed_bank_accounts(customer_id: int, payer_user: PortalUser) -> list[BankAccount]:
    """What the payer's bank accounts page lists: the usable ones and those an ACH return
    disabled (shown as such, so the payer knows why and may remove them)."""
    if payer_user.customer_id != customer_id:
        return []
    return list(db.session.scalars(_listed(customer_id, payer_user).order_by(BankAccount.id)))


def get_listed(customer_id: int, payer_user: PortalUser, account_id: int) -> BankAccount | None:
    """One of `listed_bank_accounts` (to remove it or change who sees it), else None."""
    if payer_user.customer_id != customer_id:
        return None
    return db.session.scalar(_listed(customer_id, payer_user).where(BankAccount.id == account_id))


def may_remove(account: BankAccount, payer_user: PortalUser) -> bool:
    """The person who added an account removes it, or an admin of the business account (an
    account whose adder has left is the admins' to remove)."""
    return account.portal_user_id == payer_user.id or payer_user.is_admin


def shown_to(account: BankAccount, viewer: PortalUser | None) -> str:
    """How a payment's bank account is named to `viewer`: a colleague's private account is only
    "a private account"; anyone else sees the masked number."""
    if account.private and (viewer is None or account.portal_user_id != viewer.id):
        return _("a private account")
    return account.masked


@dataclass(frozen=True)
class ScheduledUse:
    """A scheduled payment from a bank account, as the removal page names it."""

    payment: Payment
    invoice_numbers: tuple[str, ...]


def scheduled_uses(account: BankAccount) -> list[ScheduledUse]:
    """The payments from this account that have not run yet (status scheduled), by date."""
    payments = list(
        db.session.scalars(
            select(Payment)
            .where(
                Payment.bank_account_id == account.id,
                Payment.status == PaymentStatus.SCHEDULED,
            )
            .order_by(Payment.pay_on, Payment.id)
        )
    )
    numbers: dict[int, list[str]] = {p.id: [] for p in payments}
    if payments:
        rows = db.session.execute(
            select(PaymentAllocation.payment_id, Invoice.number)
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
            .where(PaymentAllocation.payment_id.in_(numbers))
            .order_by(PaymentAllocation.payment_id, Invoice.number)
        )
        for payment_id, number in rows:
            numbers[payment_id].append(number)
    return [ScheduledUse(p, tuple(numbers[p.id])) for p in payments]


def set_private(
    tenant_id: int, actor: Actor, account: BankAccount, payer_user: PortalUser, private: bool
) -> bool:
    """Make an account private (hidden from colleagues) or shared again; only the person who added
    it may. Returns whether it changed. (AutoPay paying from an account made private by someone
    else than the one who set AutoPay stops: shared.autopay.bank_account_made_private.)"""
    if account.portal_user_id != payer_user.id:
        raise InputError(
            "private", _("Only the person who added this account changes who sees it.")
        )
    db.session.refresh(account, with_for_update=True)
    if account.removed_at is not None:
        raise InputError("", _("This bank account is already removed."))
    if account.private == bool(private):
        return False
    account.private = bool(private)
    db.session.flush()
    record(
        tenant_id, actor, "bank_account.privacy", bank_account=account.id, private=account.private
    )
    return True


def remove_bank_account(
    tenant_id: int,
    actor: Actor,
    account: BankAccount,
    *,
    cancel_payment_ids: Collection[int] = (),
) -> list[Payment]:
    """Soft removal: the row stays so past payments still name it.

    Removing an account withdraws the ACH debit authorisation given for it, so its scheduled
    payments must not run: they are cancelled with it, but only when the payer was shown them and
    confirmed exactly those (`cancel_payment_ids`). When the account's scheduled payments are not
    exactly the confirmed ones (one was added, or ran, in the meantime), nothing changes and the
    InputError asks again. Payments already submitted (processing) are on their way and go on.
    Returns the payments cancelled. (An account AutoPay pays from is removed through
    shared.autopay.remove_bank_account, which takes AutoPay's locks first and stops it.)
    """
    # The account's row locked first: a payment scheduled from it meanwhile waits, then is seen.
    # Then its payments' invoices and the payments, each in id order (shared.autopay's order).
    db.session.refresh(account, with_for_update=True)
    if account.removed_at is not None:
        raise InputError("", _("This bank account is already removed."))
    uses = scheduled_uses(account)
    locked = lock_payments(use.payment.id for use in uses)
    if {use.payment.id for use in uses} != {int(i) for i in cancel_payment_ids} or any(
        payment.status is not PaymentStatus.SCHEDULED for payment in locked.payments.values()
    ):
        raise InputError(
            "confirm",
            _("The scheduled payments from this account changed: check them and confirm again."),
        )
    cancelled = [locked.payments[use.payment.id] for use in uses]
    if cancelled:
        tenant = db.session.scalars(select(Tenant).where(Tenant.id == tenant_id)).one()
        move_locked(
            tenant,
            actor,
            locked,
            cancelled,
            (PaymentStatus.SCHEDULED,),
            PaymentStatus.CANCELLED,
            "bank account removed",
        )
    account.removed_at = utcnow()
    db.session.flush()
    record(
        tenant_id,
        actor,
        "bank_account.removed",
        bank_account=account.id,
        last4=account.last4,
        cancelled_payments=",".join(str(p.id) for p in cancelled) or "-",
    )
    return cancelled


def reencrypt_all() -> int:
    """Every stored account number encrypted again with the first key, tenant by tenant (row-level
    security shows a session one tenant's rows at a time)."""
    count = 0
    tenant_ids = db.session.scalars(select(Tenant.id).order_by(Tenant.id)).all()
    for tenant_id in tenant_ids:
        with tenant_scope(tenant_id):
            for account in db.session.scalars(select(BankAccount)):
                account.account_number_encrypted = encryption.rotate(
                    account.account_number_encrypted
                )
                count += 1
            db.session.flush()
    return count


@click.group("encryption", help="Encryption at rest.")
def encryption_cli() -> None:
    pass


@encryption_cli.command("rotate")
@with_appcontext
def rotate_command() -> None:
    """Re-encrypt every stored bank account number with the first ENCRYPTION_KEY."""
    with unit_of_work():
        count = reencrypt_all()
    click.echo(f"re-encrypted {count} bank account number(s)")
