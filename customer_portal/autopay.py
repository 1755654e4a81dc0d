"""Auto Pay in the portal, as the bank seed's steps: the gear menu's "Auto Pay is off" (or on) →
the Edit icon → "Automatically Pay Bills" → "Maximum Payment Amount" → the bank account (asked
only when there are several) → the business days before or after the due date → Save.

Signed-in people only (guests have no AutoPay). Admins (a personal account's owner is its admin)
change it and skip a coming payment; colleagues see it read-only (the edit pages answer 403, as
the colleagues pages do). A skip link from the notice email opens without signing in: it is a
signed capability for that one payment.
"""

from __future__ import annotations

import re

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectChoice, StringField
from wtforms.validators import Length

from customer_portal import bp
from customer_portal.access import current_payer, payer_required
from shared import autopay
from shared.actors import Actor
from shared.bank_accounts import shown_to, usable_bank_accounts
from shared.bank_accounts.models import BankAccount
from shared.clock import utcnow
from shared.errors import InputError
from shared.forms import CleanForm
from shared.invoices.models import Invoice
from shared.payments.models import Payment
from shared.tenancy import scoped_get
from shared.unit_of_work import discard
from shared.web import show_input_error

_ID = re.compile(r"[0-9]{1,12}")


class AutoPayForm(CleanForm):
    enabled = BooleanField(_l("Automatically Pay Bills"))
    max_amount = StringField(
        _l("Maximum Payment Amount"),
        validators=[Length(max=40, message=_l("Use at most %(max)d characters."))],
    )
    bank_account = StringField(
        _l("Bank Account"),
        validators=[Length(max=20, message=_l("Choose one of your bank accounts."))],
    )
    offset_days = StringField(
        _l("Number of business days"),
        validators=[Length(max=10, message=_l("Enter a whole number of business days, like 2."))],
    )
    direction = RadioField(
        _l("Before or after the due date"),
        choices=[
            SelectChoice("before", _l("Before the due date")),
            SelectChoice("after", _l("After the due date")),
        ],
        default="before",
        validate_choice=False,  # the domain says what is wrong, in the payer's language
    )


def _setting():
    """The signed-in customer's AutoPay, once a request (the gear menu reads it on every page)."""
    if "autopay_setting" not in g:
        payer = current_payer()
        g.autopay_setting = autopay.setting_for(payer.customer_id) if payer else None
    return g.autopay_setting


@bp.context_processor
def autopay_values() -> dict:
    return {"autopay_setting": _setting}


def _admin_only() -> None:
    if not g.payer.is_admin:
        abort(403)  # colleagues see AutoPay; its admins change it


def _account_of(setting) -> BankAccount | None:
    if setting is None or setting.bank_account_id is None:
        return None
    return scoped_get(BankAccount, setting.bank_account_id)


@bp.route("/autopay")
@payer_required
def autopay_page():
    setting = _setting()
    account = _account_of(setting)
    return render_template(
        "portal/autopay.html",
        setting=setting,
        account_text=shown_to(account, g.payer) if account else "",
        upcoming=autopay.upcoming(g.customer.id),
        may_change=g.payer.is_admin,
    )


def _edit_page(form: AutoPayForm, status: int = 200):
    accounts = usable_bank_accounts(g.customer.id, g.payer)
    return render_template(
        "portal/autopay_edit.html", form=form, accounts=accounts, shown_to=shown_to
    ), status


@bp.route("/autopay/edit")
@payer_required
def edit_autopay():
    _admin_only()
    setting = _setting()
    form = AutoPayForm(formdata=None)
    if setting is not None:
        form.enabled.data = setting.enabled
        cents = setting.max_amount_cents
        form.max_amount.data = f"{cents // 100}.{cents % 100:02d}"
        form.bank_account.data = str(setting.bank_account_id or "")
        form.offset_days.data = str(setting.offset_days)
        form.direction.data = setting.direction.value
    return _edit_page(form)


@bp.route("/autopay/edit", methods=["POST"])
@payer_required
def save_autopay():
    _admin_only()
    form = AutoPayForm()
    if not form.validate_on_submit():
        return _edit_page(form, 422)
    raw = (form.bank_account.data or "").strip()
    if raw and not _ID.fullmatch(raw):
        form.bank_account.errors = [_("Choose one of your bank accounts.")]
        return _edit_page(form, 422)
    try:
        setting = autopay.save_autopay(
            g.tenant,
            Actor.payer(g.payer),
            g.payer,
            g.customer,
            enabled=bool(form.enabled.data),
            max_amount=form.max_amount.data or "",
            bank_account_id=int(raw) if raw else None,
            offset_days=form.offset_days.data or "",
            direction=form.direction.data or "",
            now=utcnow(),
        )
    except autopay.UnknownBankAccount:
        discard()
        abort(404)  # another customer's, another tenant's or a colleague's private account
    except InputError as error:
        discard()
        show_input_error(form, error)
        return _edit_page(form, 422)
    if setting is not None and setting.enabled:
        flash(_("Auto Pay is on. We sent you a confirmation email."), "success")
    else:
        flash(_("Auto Pay is off."), "success")
    return redirect(url_for("portal.autopay_page"))


@bp.route("/autopay/items/<int:item_id>/skip", methods=["POST"])
@payer_required
def skip_autopay_payment(item_id: int):
    _admin_only()
    item = scoped_get(autopay.AutoPayItem, item_id)
    if item is None or item.customer_id != g.customer.id:
        abort(404)
    form = CleanForm()
    if not form.validate_on_submit():
        abort(400)
    return _skip(item, Actor.payer(g.payer), url_for("portal.autopay_page"))


def _skip(item, actor: Actor, back: str):
    try:
        autopay.skip_payment(g.tenant, actor, item)
    except InputError as error:
        discard()
        flash(error.message, "error")
        return redirect(back)
    flash(
        _("This Auto Pay payment is skipped. The invoice stays open: you can pay it by hand."),
        "success",
    )
    return redirect(back)


# --- the notice email's skip link (no sign-in: the link is the capability) ----------------------


def _skip_item(token: str):
    item = autopay.open_skip_link(g.tenant, token)
    if item is None:
        return None, None, None
    return item, scoped_get(Invoice, item.invoice_id), scoped_get(Payment, item.payment_id)


@bp.route("/autopay/skip/<token>")
def autopay_skip_link(token: str):
    item, invoice, payment = _skip_item(token)
    if item is None:
        return render_template("portal/autopay_skip.html", item=None, form=None), 404
    return render_template(
        "portal/autopay_skip.html", item=item, invoice=invoice, payment=payment, form=CleanForm()
    )


@bp.route("/autopay/skip/<token>", methods=["POST"])
def autopay_skip_by_link(token: str):
    item, invoice, payment = _skip_item(token)
    if item is None:
        return render_template("portal/autopay_skip.html", item=None, form=None), 404
    form = CleanForm()
    if not form.validate_on_submit():
        abort(400)
    payer = current_payer()
    actor = Actor.payer(payer) if payer else Actor.guest("Auto Pay notice link")
    back = url_for("portal.autopay_page") if payer else url_for("portal.home")
    return _skip(item, actor, back)
