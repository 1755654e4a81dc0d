"""What a payment is paid from, checked by create_payment itself rather than trusted from its caller:
the bank account or saved card is the customer's, usable now and by this actor, and matches the
method; and the fee is the one the vendor's rules give for that card.

Who may use what: a payer their own accounts and cards and colleagues' non-private ones; a guest
only a single-use bank account (typed in the pay flow for this one payment) and a new card, never
the customer's saved ones; staff, API keys and the system (AutoPay) any of the customer's that is
not single use (they act for the customer, and AutoPay checks privacy when it is set up).
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shared.actors import Actor, ActorKind
from shared.bank_accounts.models import BankAccount
from shared.cards import Card
from shared.cards.models import SavedCard
from shared.errors import InputError
from shared.extensions import db
from shared.payments.fees import card_fee_cents
from shared.payments.models import Payment, PaymentMethod


def _refused(field: str, message) -> InputError:
    return InputError(field, str(message))


def _may_use(actor: Actor, owner_id: int | None, private: bool, single_use: bool) -> bool:
    if actor.kind is ActorKind.GUEST:
        return single_use
    if single_use:
        return False
    if actor.kind is ActorKind.PAYER:
        return owner_id == actor.id or not private
    return True


def _locked(model, row_id: int):
    """The row, locked for the rest of the transaction (a removal waits, or is seen)."""
    return db.session.scalar(
        select(model)
        .where(model.id == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def check_funding(
    actor: Actor,
    customer,
    method: PaymentMethod,
    pay_on: date,
    *,
    card: Card | None,
    bank_account_id: int | None,
    saved_card_id: int | None,
) -> Card | None:
    """InputError unless the funding source fits; the card whose funding decides the fee (a saved
    card's own facts, whatever the caller passed)."""
    if method is PaymentMethod.ACH:
        if card is not None or saved_card_id is not None:
            raise _refused("method", _l("A bank payment cannot be paid by card."))
        if bank_account_id is None:  # an ACH debit with nothing to debit
            raise _refused("bank_account", _l("Choose the bank account to pay from."))
        account = _locked(BankAccount, bank_account_id)
        usable = (
            account is not None
            and account.customer_id == customer.id
            and account.removed_at is None
            and account.disabled_at is None
            and _may_use(actor, account.portal_user_id, account.private, account.single_use)
        )
        if not usable:
            raise _refused("bank_account", _l("This bank account cannot be used."))
        return None
    if bank_account_id is not None:
        raise _refused("method", _l("A card payment cannot be paid from a bank account."))
    if saved_card_id is None:
        if card is None:  # a card payment with no card to charge
            raise _refused("card", _l("Enter your card details."))
        return card
    saved = _locked(SavedCard, saved_card_id)
    usable = (
        saved is not None
        and saved.customer_id == customer.id
        and saved.removed_at is None
        and (saved.exp_year, saved.exp_month) >= (pay_on.year, pay_on.month)
        and _may_use(actor, saved.portal_user_id, saved.private, False)
    )
    if not usable:
        raise _refused("saved_card", _l("This saved card cannot be used."))
    return saved.as_card()


def check_single_use(bank_account_id: int) -> None:
    """A single-use account pays one payment only (its row is locked by check_funding)."""
    single_use = db.session.scalar(
        select(BankAccount.single_use).where(BankAccount.id == bank_account_id)
    )
    if not single_use:
        return
    used = db.session.scalar(
        select(Payment.id).where(Payment.bank_account_id == bank_account_id).limit(1)
    )
    if used is not None:
        raise _refused(
            "bank_account",
            _l("This bank account was entered for another payment: enter it again."),
        )


def fee_for(tenant, method: PaymentMethod, card: Card | None, amount_cents: int) -> int:
    """The fee the rules give (shared.payments.fees): credit cards only; no card known, no fee."""
    if method is not PaymentMethod.CARD or card is None:
        return 0
    return card_fee_cents(
        amount_cents, card.funding, tenant.card_fee_bp, getattr(tenant, "business_state", None)
    )
