"""The pay flow (issue 8, point 5): one page for the invoices, the amount on each ("Make
Payments"), the method ("Pay Now", "Transaction Fees"), the "Pay On" date and the payment details;
then the review; then the receipt. From the invoice email a guest pays by card in four screens:
the portal home, this page, the review, the receipt.

The server checks everything again at each step (shared.payments.checkout). The review carries a
hidden idempotency key, made when the review is first shown for this exact payment and reused on a
reload or in a second tab, so a double click, a retry or a second tab make one payment.
"""

from __future__ import annotations

import uuid

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from wtforms import HiddenField, StringField

from customer_portal import bp
from customer_portal.access import customer_required, may_pay
from customer_portal.bank_accounts import add_from_form, prepare_form
from customer_portal.forms import BankAccountForm
from customer_portal.invoices import SELECTION_KEY
from shared.actors import Actor
from shared.bank_accounts import (
    get_single_use,
    get_usable,
    shown_to,
    usable_bank_accounts,
)
from shared.bank_accounts.models import BankAccount
from shared.cards import EXTENSION as CARD_GATEWAY
from shared.cards import Card, ChargeResult, GatewayRefused, GatewayUnavailable, gateway
from shared.cards.saved import get_usable_card, save_card, usable_cards
from shared.clock import business_today, utcnow
from shared.errors import InputError
from shared.extensions import db
from shared.forms import CleanForm
from shared.i18n import current_language
from shared.money import cents_to_decimal
from shared.payments import cancel_payment, checkout, create_payment, mark_failed, mark_succeeded
from shared.payments.checkout import Choice, NotFound
from shared.payments.due import to_reconcile
from shared.payments.models import Payment, PaymentMethod, PaymentStatus
from shared.payments.receipts import (
    allocation_lines,
    method_label,
    receipt_pdf,
    send_receipt,
    status_words,
)
from shared.tenancy import scoped_get
from shared.unit_of_work import discard, unit_of_work

DRAFT_KEY = "portal_pay_draft"  # the checked choice, to show again on "Change"
KEYS_KEY = "portal_pay_keys"  # digest of a choice → its idempotency key
MINE_KEY = "portal_payments"  # payments made in this browser (a guest's receipts)
GUEST_ACCOUNTS_KEY = "portal_pay_accounts"  # a guest's single-use bank accounts, typed here
NEW = "new"
CHARGE_ATTEMPTS = 2  # a timeout is asked again once, with the same key: the gateway tells

DECLINES = {
    "insufficient_funds": _l("Your card was declined for insufficient funds."),
    "expired_card": _l("Your card has expired."),
    "incorrect_cvc": _l("Your card's security code is incorrect."),
    "processing_error": _l("Your card could not be charged because of a processing error."),
}


class PayForm(CleanForm):
    """The scalar fields of the pay page and the review (amounts are per invoice, read apart).
    A new bank account's fields are the shared "Add Bank Account" form (BankAccountForm), read
    from the same post."""

    class Meta:
        csrf = True

    method = StringField()
    pay_on = StringField()
    bank_account = StringField()
    saved_card = StringField()
    card_token = HiddenField()
    receipt_email = StringField()
    idempotency_key = HiddenField()


def _guest() -> bool:
    return g.payer is None


def _actor() -> Actor:
    return Actor.guest(_receipt_email_typed()) if _guest() else Actor.payer(g.payer)


def _receipt_email_typed() -> str:
    return (request.form.get("receipt_email") or "").strip()[:254]


def _today():
    return business_today(g.tenant, utcnow())


def _cards_open() -> bool:
    return CARD_GATEWAY in current_app.extensions


def _tokens_url() -> str:
    """The processor's tokeniser the card fields post to (the sandbox's blueprint), if any."""
    if "card_sandbox.tokens" not in current_app.view_functions:
        return ""
    return url_for("card_sandbox.tokens")


def _gate() -> None:
    if not may_pay():
        abort(403)


def _check(data, *, allow_new_account: bool) -> Choice:
    """Everything the payer chose, from a post (the pay page) or the review's hidden fields."""
    today = _today()
    choice = Choice(checkout.payable_invoices(g.customer.id))
    amounts = {k: v for k, v in data.items() if k.startswith("amount-")}
    checkout.check_allocations(choice, g.customer.id, data.getlist("invoice"), amounts)
    checkout.check_method(choice, data.get("method"))
    checkout.check_pay_on(choice, data.get("pay_on"), today)
    if _guest():
        email = (data.get("receipt_email") or "").strip()
        if not email or "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
            choice.error("receipt_email", _l("Enter the email address for your receipt."))
        choice.receipt_email = email[:254]
    else:
        choice.receipt_email = g.payer.email
    if choice.method is PaymentMethod.ACH:
        _check_bank_account(choice, (data.get("bank_account") or "").strip(), allow_new_account)
    elif choice.method is PaymentMethod.CARD:
        saved_card = (data.get("saved_card") or "").strip()
        if not _cards_open():
            choice.error("method", _l("Card payments are not available at the moment."))
        elif saved_card not in ("", NEW):
            if _guest():
                raise NotFound  # guests pay with new details only
            _check_saved_card(choice, saved_card, today)
        else:
            token = (data.get("card_token") or "").strip()[:255]
            card = gateway().describe(token) if token else None
            checkout.check_card(choice, card, token, today)
    # A signed-in payer's card is saved for a later date (pay_next saves it); a guest's is not.
    checkout.finish(choice, g.tenant, today, saved_card=not _guest())
    return choice


def _check_saved_card(choice: Choice, raw: str, today) -> None:
    """A card saved for this payment's later date: the payer's own or a colleague's shared one."""
    ids = checkout.parse_ids([raw])
    saved = get_usable_card(g.customer.id, g.payer, ids[0]) if ids else None
    if saved is None:
        raise NotFound  # another customer's, another tenant's or a colleague's private card
    card = Card(saved.brand, saved.funding, saved.last4, saved.exp_month, saved.exp_year)
    checkout.check_card(choice, card, "", today)
    choice.saved_card_id = saved.id


def _save_card_for_later(choice: Choice) -> None:
    """A card payment on a later date is charged then with the saved card (the jobs issue)."""
    try:
        saved = save_card(g.tenant.id, _actor(), g.payer, choice.card_token)
    except InputError as error:
        choice.error("card_token", error.message)
    else:
        choice.saved_card_id, choice.card_token = saved.id, ""


def _guest_account_ids() -> list[int]:
    ids = session.get(GUEST_ACCOUNTS_KEY)
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def _guest_accounts() -> list[BankAccount]:
    """The single-use accounts a guest typed in this browser (one per payment at most)."""
    found = (get_single_use(g.customer.id, i) for i in _guest_account_ids())
    return [account for account in found if account is not None]


def _check_bank_account(choice: Choice, raw: str, allow_new: bool) -> None:
    if raw == NEW and allow_new:
        choice.bank_account_id = None  # added once everything else is right
        return
    ids = checkout.parse_ids([raw])
    if not raw or raw == NEW:
        choice.error("bank_account", _l("Choose the bank account to pay from, or add one."))
        return
    if not ids:
        raise NotFound
    if _guest():
        # Only an account this browser typed for a payment (create_payment refuses a second use).
        account = get_single_use(g.customer.id, ids[0]) if ids[0] in _guest_account_ids() else None
    else:
        account = get_usable(g.customer.id, g.payer, ids[0])
    if account is None:
        raise NotFound  # another customer's, another tenant's or a colleague's private account
    choice.bank_account_id = ids[0]


def _bank_form_refused(choice: Choice, bank_form: BankAccountForm) -> None:
    """The "Add Bank Account" fields' messages, in the page's error summary too."""
    for name, messages in bank_form.errors.items():
        if messages and name != "csrf_token":
            choice.error(name, messages[0])


def _add_new_bank_account(choice: Choice, bank_form: BankAccountForm) -> None:
    """The flow's "Add Bank Account" (the shared form and its checks): the Terms accepted are the
    ACH debit authorisation. A guest's account is single use: hidden, for this payment only."""
    if not bank_form.validate():
        _bank_form_refused(choice, bank_form)
        return
    account = add_from_form(bank_form, g.tenant, g.payer, _actor(), guest_customer_id=g.customer.id)
    if account is None:
        _bank_form_refused(choice, bank_form)
        return
    choice.bank_account_id = account.id
    if _guest():
        session[GUEST_ACCOUNTS_KEY] = [*_guest_account_ids()[-4:], account.id]


def _selected_ids(invoices) -> set[int]:
    chosen = session.get(SELECTION_KEY)
    open_ids = {invoice.id for invoice in invoices}
    if isinstance(chosen, list) and chosen:
        picked = {i for i in chosen if isinstance(i, int)} & open_ids
        if picked:
            return picked
    return open_ids  # "Pay Outstanding Bills": every open invoice, however many


def _draft_values(choice: Choice) -> dict:
    return {
        "invoice": [str(i) for i in choice.allocations],
        **{f"amount-{i}": str(cents_to_decimal(c)) for i, c in choice.allocations.items()},
        "method": str(choice.method) if choice.method else "",
        "pay_on": choice.pay_on.isoformat() if choice.pay_on else choice.pay_on_text,
        "bank_account": str(choice.bank_account_id or ""),
        "card_token": choice.card_token,
        "saved_card": str(choice.saved_card_id or ""),
        "receipt_email": choice.receipt_email,
    }


def _pay_page(
    choice: Choice | None = None,
    form: PayForm | None = None,
    status: int = 200,
    bank_form: BankAccountForm | None = None,
):
    today = _today()
    if choice is None:
        invoices = checkout.payable_invoices(g.customer.id)
        choice = Choice(invoices)
        draft = session.get(DRAFT_KEY) if request.args.get("change") else None
        if isinstance(draft, dict) and draft.get("customer_id") == g.customer.id:
            values = draft["values"]
            ticked = set(checkout.parse_ids(values.get("invoice", [])))
            for invoice in invoices:
                if invoice.id in ticked:
                    choice.amount_text[invoice.id] = values.get(f"amount-{invoice.id}", "")
            selected = ticked
            form = form or PayForm(
                data={
                    k: values.get(k, "")
                    for k in (
                        "method",
                        "pay_on",
                        "bank_account",
                        "saved_card",
                        "receipt_email",
                        "card_token",
                    )
                }
            )
        else:
            selected = _selected_ids(invoices)
            form = form or PayForm(formdata=None)
        choice.allocations = {}
    else:
        selected = set(choice.amount_text) | set(choice.allocations)
    form = form or PayForm(formdata=None)
    method = form.method.data or ""
    pay_on = form.pay_on.data or checkout.first_pay_on(method or None, today).isoformat()
    accounts = _guest_accounts() if _guest() else usable_bank_accounts(g.customer.id, g.payer)
    saved_cards = [] if _guest() or not _cards_open() else usable_cards(g.customer.id, g.payer)
    bank_form = bank_form or BankAccountForm(formdata=None)
    bank_form.account_number.data = bank_form.account_number_again.data = ""  # never echoed
    terms = prepare_form(bank_form, g.tenant, guest=_guest())
    # The token the processor's form came back with (no JavaScript), or the one chosen before.
    card_token = (request.args.get("card_token") or form.card_token.data or "").strip()[:255]
    card = gateway().describe(card_token) if card_token and _cards_open() else None
    if card is None:
        card_token = ""
    elif request.args.get("card_token"):
        method = "card"
    selected_cents = sum(
        invoice.balance_cents for invoice in choice.invoices if invoice.id in selected
    )
    return render_template(
        "portal/pay.html",
        choice=choice,
        form=form,
        selected=selected,
        selected_cents=selected_cents,
        credit_fee=checkout.credit_fee(g.tenant, selected_cents),
        fee_bp=checkout.fee_bp(g.tenant),
        method=method,
        pay_on=pay_on,
        today=today,
        last_day=checkout.last_pay_on(today),
        next_banking_day=checkout.first_pay_on(PaymentMethod.ACH, today),
        accounts=accounts,
        bank_choice=form.bank_account.data or (str(accounts[0].id) if accounts else NEW),
        bank_form=bank_form,
        saved_cards=saved_cards,
        card_choice=form.saved_card.data or (NEW if card_token or not saved_cards else ""),
        terms=terms,
        cards_open=_cards_open(),
        tokens_url=_tokens_url(),
        card_token=card_token,
        card=card,
        card_words=method_label(PaymentMethod.CARD, card_brand=card.brand, last4=card.last4)
        if card
        else "",
        guest=_guest(),
        plain=lambda cents: str(cents_to_decimal(cents)),
    ), status


@bp.route("/pay")
@customer_required
def pay():
    _gate()
    if request.args.get("all"):
        session.pop(SELECTION_KEY, None)
    return _pay_page()


@bp.route("/pay", methods=["POST"])
@customer_required
def pay_next():
    """The pay page's "Next": check the whole page, add a new bank account if asked, then show the review."""
    _gate()
    form = PayForm()
    if not form.validate_on_submit():
        return _refused(form)
    try:
        choice = _check(request.form, allow_new_account=True)
    except NotFound:
        abort(404)
    bank_form = BankAccountForm()
    new_account = choice.method is PaymentMethod.ACH and choice.bank_account_id is None
    if new_account:
        if choice.ok:
            _add_new_bank_account(choice, bank_form)
        elif not bank_form.validate():  # its messages too, in one round
            _bank_form_refused(choice, bank_form)
    later = choice.method is PaymentMethod.CARD and choice.pay_on and choice.pay_on > _today()
    if choice.ok and later and choice.saved_card_id is None:
        _save_card_for_later(choice)
    if not choice.ok:
        discard()
        return _pay_page(choice, form, 422, bank_form if new_account else None)
    session[DRAFT_KEY] = {"customer_id": g.customer.id, "values": _draft_values(choice)}
    return redirect(url_for("portal.pay_review"))


def _refused(form: PayForm):
    """Text the form refuses (control characters): nothing is done. (A post without a valid CSRF
    token never gets here: the app answers it with 400.)"""
    discard()
    message = next(iter(form.errors.values()))[0]
    flash(message, "error")
    return _pay_page(None, None, 422)


class _Values(dict):
    """A draft's values with the MultiDict methods `_check` uses."""

    def getlist(self, key: str) -> list[str]:
        value = self.get(key, [])
        return list(value) if isinstance(value, list) else [value]


def _draft_choice() -> tuple[Choice | None, dict]:
    draft = session.get(DRAFT_KEY)
    if not isinstance(draft, dict) or draft.get("customer_id") != g.customer.id:
        return None, {}
    values = draft.get("values") or {}
    try:
        return _check(_Values(values), allow_new_account=False), values
    except NotFound:
        return None, {}


def _key_for(choice: Choice) -> str:
    keys = session.get(KEYS_KEY)
    keys = dict(keys) if isinstance(keys, dict) else {}
    digest = choice.digest()
    if digest not in keys:
        keys = dict(list(keys.items())[-9:])  # a few drafts at most
        keys[digest] = uuid.uuid4().hex
        session[KEYS_KEY] = keys
    return keys[digest]


def _forget_key(choice: Choice) -> None:
    keys = session.get(KEYS_KEY)
    if isinstance(keys, dict) and choice.digest() in keys:
        keys = dict(keys)
        keys.pop(choice.digest())
        session[KEYS_KEY] = keys


def _review_page(choice: Choice, values: dict, key: str, status: int = 200, error: str = ""):
    return render_template(
        "portal/pay_review.html",
        choice=choice,
        values=values,
        key=key,
        lines=[
            (i, choice.allocations[i.id]) for i in choice.invoices if i.id in choice.allocations
        ],
        method=_method_words(choice),
        error=error,
        guest=_guest(),
    ), status


def _method_words(choice: Choice) -> str:
    if choice.method is PaymentMethod.CARD and choice.card is not None:
        return method_label(
            PaymentMethod.CARD, card_brand=choice.card.brand, last4=choice.card.last4
        )
    if choice.bank_account_id:
        account = scoped_get(BankAccount, choice.bank_account_id)
        return account.masked if account else ""
    return ""


@bp.route("/pay/review")
@customer_required
def pay_review():
    _gate()
    choice, values = _draft_choice()
    if choice is None:
        return redirect(url_for("portal.pay"))
    if not choice.ok:
        flash(next(iter(choice.errors.values())), "error")
        return redirect(url_for("portal.pay", change=1))
    return _review_page(choice, values, _key_for(choice))


@bp.route("/pay/confirm", methods=["POST"])
@customer_required
def pay_confirm():
    """The review's "Confirm": one payment for this key, then a card due today is charged at once."""
    _gate()
    form = PayForm()
    if not form.validate_on_submit():
        discard()
        flash(next(iter(form.errors.values()))[0], "error")
        return redirect(url_for("portal.pay_review")), 303
    try:
        choice = _check(request.form, allow_new_account=False)
    except NotFound:
        abort(404)
    key = (form.idempotency_key.data or "").strip()
    if not choice.ok or not key or len(key) > 255:
        discard()
        if not key:
            choice.error("idempotency_key", _l("This payment could not be identified."))
        return _review_page(choice, request.form, key, 422, next(iter(choice.errors.values())))
    created: list[Payment] = []

    def _created(_session, instance) -> None:
        if isinstance(instance, Payment):
            created.append(instance)

    session_now = db.session()
    event.listen(session_now, "transient_to_pending", _created)
    try:
        with unit_of_work():  # the payment and its key are stored before the card is charged
            payment = create_payment(
                g.tenant,
                _actor(),
                g.customer,
                allocations=choice.allocations,
                method=choice.method,
                pay_on=choice.pay_on,
                idempotency_key=key,
                fee_cents=choice.fee_cents,
                card=choice.card,
                bank_account_id=choice.bank_account_id,
                saved_card_id=choice.saved_card_id,
                receipt_email=choice.receipt_email,
            )
    except InputError as error:
        return _review_page(choice, request.form, key, 422, error.message)
    finally:
        event.remove(session_now, "transient_to_pending", _created)
    fresh = any(p is payment for p in created)  # not a retry that found the key's payment
    if fresh and payment.method is PaymentMethod.CARD and payment.pay_on <= _today():
        declined = _charge(payment, choice)
        if declined:
            _forget_key(choice)
            values = _draft_values(choice)
            values["card_token"] = ""
            session[DRAFT_KEY] = {"customer_id": g.customer.id, "values": values}
            flash(declined + " " + _("Try another card, or pay by bank account."), "error")
            return redirect(url_for("portal.pay", change=1)), 303
    elif fresh:
        with unit_of_work():
            send_receipt(g.tenant, payment, language=current_language())
    mine = session.get(MINE_KEY)
    mine = [i for i in mine if isinstance(i, int)] if isinstance(mine, list) else []
    if payment.id not in mine:
        session[MINE_KEY] = [*mine[-49:], payment.id]
    if payment.bank_account_id in _guest_account_ids():  # used: never offered again
        session[GUEST_ACCOUNTS_KEY] = [
            i for i in _guest_account_ids() if i != payment.bank_account_id
        ]
    _forget_key(choice)
    session.pop(DRAFT_KEY, None)
    session.pop(SELECTION_KEY, None)
    return redirect(url_for("portal.receipt", payment_id=payment.id)), 303


def _charge_source(choice: Choice) -> str:
    if choice.saved_card_id:
        saved = get_usable_card(g.customer.id, g.payer, choice.saved_card_id)
        return saved.gateway_reference if saved else ""
    return choice.card_token


def _charge(payment: Payment, choice: Choice) -> str:
    """Charge the card now, outside any transaction; record the outcome. The decline's message."""
    result = None
    source = _charge_source(choice)
    for _attempt in range(CHARGE_ATTEMPTS):
        try:
            result = gateway().charge(
                source,
                payment.total_cents,
                idempotency_key=payment.idempotency_key,
                description=f"{g.tenant.name} payment {payment.id}",
            )
            break
        except GatewayUnavailable:
            continue
        except GatewayRefused as refused:  # an unusable token: nothing was charged
            result = ChargeResult(False, "", refused.code)
            break
    if result is None:
        # Outcome unknown (charged, perhaps): not left scheduled, where nothing would ask the
        # gateway with this token. The reconciler asks again with the same source and key.
        try:
            with unit_of_work():
                to_reconcile(g.tenant, _actor(), payment, source)
        except InputError:
            pass  # a parallel confirm of the same key recorded the outcome first
        return ""
    try:
        with unit_of_work():
            if result.succeeded:
                mark_succeeded(g.tenant, _actor(), payment, result.reference, "charged")
                send_receipt(g.tenant, payment, language=current_language())
            else:
                mark_failed(g.tenant, _actor(), payment, result.decline_code or "declined")
    except InputError:
        return ""  # a parallel confirm of the same key recorded the outcome first
    if result.succeeded:
        return ""
    return str(DECLINES.get(result.decline_code, _l("Your card was declined.")))


# --- receipts and cancelling ------------------------------------------------------------------


def _visible_payment(payment_id: int) -> Payment:
    """The customer's payment; a guest sees only those made in this browser. Else 404."""
    payment = scoped_get(Payment, payment_id)
    if payment is None or payment.customer_id != g.customer.id:
        abort(404)
    if _guest():
        mine = session.get(MINE_KEY)
        if not isinstance(mine, list) or payment_id not in mine:
            abort(404)
    return payment


def _paid_with(payment: Payment) -> str:
    if payment.method is PaymentMethod.CARD:
        return method_label(payment.method, card_brand=payment.card_brand, last4=payment.card_last4)
    account = scoped_get(BankAccount, payment.bank_account_id) if payment.bank_account_id else None
    if account is None:
        return _("Bank account")
    if account.single_use and _guest():
        return account.masked  # typed by this browser's guest (_visible_payment checked it)
    return shown_to(account, g.payer)  # a colleague's private account: "a private account"


def _may_cancel(payment: Payment) -> bool:
    if payment.status is not PaymentStatus.SCHEDULED or not may_pay():
        return False
    if payment.method is PaymentMethod.CARD and payment.pay_on <= _today():
        return False  # being charged now
    if _guest():
        return True  # _visible_payment: made in this browser
    return payment.made_by_id == g.payer.id and payment.made_by_kind.value == "payer"


@bp.route("/payments/<int:payment_id>")
@customer_required
def receipt(payment_id: int):
    payment = _visible_payment(payment_id)
    return render_template(
        "portal/receipt.html",
        payment=payment,
        lines=allocation_lines(payment),
        paid_with=_paid_with(payment),
        status=status_words(payment),
        may_cancel=_may_cancel(payment),
        form=PayForm(formdata=None),
    )


@bp.route("/payments/<int:payment_id>/receipt.pdf")
@customer_required
def receipt_download(payment_id: int):
    payment = _visible_payment(payment_id)
    pdf = receipt_pdf(
        g.tenant,
        payment,
        g.customer,
        language=current_language(),
        paid_with=_paid_with(payment),
    )
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="receipt-{payment.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/payments/<int:payment_id>/cancel", methods=["POST"])
@customer_required
def cancel(payment_id: int):
    payment = _visible_payment(payment_id)
    form = PayForm()
    if not form.validate_on_submit():
        discard()
        flash(next(iter(form.errors.values()), [_("Nothing was changed.")])[0], "error")
        return redirect(url_for("portal.receipt", payment_id=payment.id)), 303
    if not _may_cancel(payment):
        discard()
        flash(_("This payment can no longer be cancelled."), "error")
        return redirect(url_for("portal.receipt", payment_id=payment.id)), 303
    try:
        cancel_payment(g.tenant, _actor(), payment, "cancelled by the payer")
    except InputError as error:
        discard()
        flash(error.message, "error")
    else:
        flash(_("The payment is cancelled: nothing will be taken."), "success")
    return redirect(url_for("portal.receipt", payment_id=payment.id)), 303
