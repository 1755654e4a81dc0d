"""The payer's bank accounts: the list, "Add Bank Account" and removal (issue 8, point 3).

Signed-in payers only (guests pay with new details and keep nothing; viewers do not pay). What the
pay flow reuses to add an account inside its own step: `BankAccountForm` (customer_portal.forms),
the fields macro in portal/_bank_account_fields.html, and here `prepare_form` (before rendering)
and `add_from_form` (on a valid post).
"""

from __future__ import annotations

import re

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from customer_portal import bp
from customer_portal.access import payer_required
from customer_portal.forms import BankAccountForm, RemoveBankAccountForm
from shared import autopay, bank_accounts
from shared.ach import codes as ach_codes
from shared.actors import Actor
from shared.bank_accounts.models import BankAccount
from shared.client_address import client_address
from shared.errors import InputError
from shared.extensions import limiter
from shared.forms import CleanForm
from shared.i18n import current_language
from shared.portal_accounts.models import PortalUser
from shared.unit_of_work import discard
from shared.web import show_input_error
from tenants.models import Tenant

_IDS = re.compile(r"[0-9]{1,12}(,[0-9]{1,12})*")


# --- what the pay flow reuses -----------------------------------------------------------------


def terms_text(tenant: Tenant, *, guest: bool = False) -> str:
    """The vendor's Terms of Service (the ACH debit authorisation) in this request's language; a
    guest's default speaks of the one payment its account is typed for."""
    return bank_accounts.terms_for(tenant, current_language(), single_use=guest)


def prepare_form(form: BankAccountForm, tenant: Tenant, *, guest: bool = False) -> str:
    """Just before rendering (never before `add_from_form`: it would vouch for a version the payer
    did not see): the form carries the version of the Terms it shows; returns their text, for the
    fields macro."""
    text = terms_text(tenant, guest=guest)
    form.terms_version.data = bank_accounts.terms_version(text)
    return text


def add_from_form(
    form: BankAccountForm,
    tenant: Tenant,
    payer: PortalUser | None,
    actor: Actor | None = None,
    *,
    guest_customer_id: int | None = None,
) -> BankAccount | None:
    """A validated form, as the payer typed it, to a saved bank account: the Terms accepted are
    recorded with their version, the time, this request's address and user agent. On a refusal
    the message goes on its field, nothing is written, and None comes back (render the form
    again, after `prepare_form`). A post made while the vendor changed the Terms is refused too:
    the payer accepted a text that is no longer the one that would be recorded.

    A guest (`payer` None, `guest_customer_id` and `actor` given) gets a single-use account:
    hidden, nobody's, for the one payment it is typed for (shared.bank_accounts)."""
    text = terms_text(tenant, guest=payer is None)
    if form.terms_version.data != bank_accounts.terms_version(text):
        form.accept_terms.errors = [
            _(
                "The Terms of Service changed since this page was opened: read them and accept again."
            )
        ]
        form.accept_terms.data = False
        return None
    data = bank_accounts.BankAccountData(
        holder_name=form.holder_name.data or "",
        routing_number=form.routing_number.data or "",
        account_number=form.account_number.data or "",
        account_number_again=form.account_number_again.data or "",
        kind=form.kind.data or "",
        nickname=form.nickname.data or "",
        private=bool(form.private.data),
        accepted_terms=bool(form.accept_terms.data),
        terms_text=text,
        ip=client_address(),
        user_agent=request.user_agent.string or "",
    )
    try:
        if payer is None:
            if guest_customer_id is None or actor is None:
                raise ValueError("a guest's account needs its customer and actor")
            return bank_accounts.add_single_use_bank_account(
                tenant.id, actor, guest_customer_id, data
            )
        return bank_accounts.add_bank_account(tenant.id, actor or Actor.payer(payer), payer, data)
    except InputError as error:  # raised before anything is written
        show_input_error(form, error)
        return None


# --- the pages --------------------------------------------------------------------------------


def _paying_payer() -> None:
    if not g.payer.may_pay:
        abort(403)  # a viewer sees invoices only


def _account(account_id: int) -> BankAccount:
    """One the payer's page lists (a disabled one too: it may be removed); another customer's or
    tenant's, a removed one, or a colleague's private one is 404, as if it did not exist."""
    account = bank_accounts.get_listed(g.customer.id, g.payer, account_id)
    if account is None:
        abort(404)
    return account


def _new_page(form: BankAccountForm, status: int = 200):
    text = prepare_form(form, g.tenant)
    return render_template("portal/bank_account_new.html", form=form, terms_text=text), status


@bp.route("/bank-accounts")
@payer_required
def bank_account_list():
    _paying_payer()
    return render_template(
        "portal/bank_accounts.html",
        accounts=bank_accounts.listed_bank_accounts(g.customer.id, g.payer),
        may_remove=bank_accounts.may_remove,
        disabled_words=disabled_words,
    )


def disabled_words(account: BankAccount) -> str:
    """Why an account an ACH return disabled no longer pays: the return code's meaning."""
    meaning = ach_codes.REASONS.get(account.disabled_reason or "")
    if meaning is None:
        return _("The bank returned a debit from this account: it can no longer be used to pay.")
    return _(
        "The bank returned a debit from this account (%(code)s: %(reason)s): it can no longer "
        "be used to pay.",
        code=account.disabled_reason,
        reason=meaning,
    )


@bp.route("/bank-accounts/new")
@payer_required
def new_bank_account():
    _paying_payer()
    return _new_page(BankAccountForm(formdata=None))


@bp.route("/bank-accounts/new", methods=["POST"])
@limiter.limit("30/hour", methods=["POST"])
@payer_required
def add_bank_account():
    _paying_payer()
    form = BankAccountForm()
    if form.validate_on_submit():
        account = add_from_form(form, g.tenant, g.payer)
        if account is not None:
            flash(_("Bank account %(account)s added.", account=account.masked), "success")
            return redirect(url_for("portal.bank_account_list"))
    form.account_number.data = form.account_number_again.data = ""  # never echoed back
    return _new_page(form, 422)


def _remove_page(account: BankAccount, form: RemoveBankAccountForm, status: int = 200):
    uses = bank_accounts.scheduled_uses(account)
    autopay_setting = autopay.setting_paying_from(account)
    form.payment_ids.data = ",".join(str(use.payment.id) for use in uses)
    return render_template(
        "portal/bank_account_remove.html",
        account=account,
        uses=uses,
        autopay=autopay_setting,
        form=form,
        shown_to=bank_accounts.shown_to,
    ), status


def _removable(account_id: int) -> BankAccount:
    _paying_payer()
    account = _account(account_id)
    if not bank_accounts.may_remove(account, g.payer):
        abort(403)  # a colleague's shared account: its adder or an admin removes it
    return account


@bp.route("/bank-accounts/<int:account_id>/remove")
@payer_required
def confirm_bank_account_removal(account_id: int):
    account = _removable(account_id)
    return _remove_page(account, RemoveBankAccountForm(formdata=None))


@bp.route("/bank-accounts/<int:account_id>/remove", methods=["POST"])
@payer_required
def remove_bank_account(account_id: int):
    account = _removable(account_id)
    form = RemoveBankAccountForm()
    if form.validate_on_submit():
        raw = (form.payment_ids.data or "").strip()
        if raw and not _IDS.fullmatch(raw):
            form.form_errors.append(_("This confirmation is not valid: check and confirm again."))
            return _remove_page(account, form, 422)
        ids = [int(part) for part in raw.split(",")] if raw else []
        if ids and not form.confirm.data:
            form.confirm.errors = [
                _("Tick the box to cancel the scheduled payments, or keep the account.")
            ]
            return _remove_page(account, form, 422)
        masked = account.masked
        try:
            # Its AutoPay stops too (its own scheduled payments are among those cancelled).
            cancelled = autopay.remove_bank_account(
                g.tenant, Actor.payer(g.payer), account, cancel_payment_ids=ids
            )
        except InputError as error:
            discard()
            form.form_errors.append(error.message)
            form.confirm.data = False
            return _remove_page(_account(account_id), form, 422)
        if cancelled:
            flash(
                ngettext(
                    "Bank account %(account)s removed, and its scheduled payment cancelled.",
                    "Bank account %(account)s removed, and its %(num)d scheduled payments "
                    "cancelled.",
                    len(cancelled),
                    account=masked,
                ),
                "success",
            )
        else:
            flash(_("Bank account %(account)s removed.", account=masked), "success")
        return redirect(url_for("portal.bank_account_list"))
    return _remove_page(account, form, 422)


@bp.route("/bank-accounts/<int:account_id>/privacy", methods=["POST"])
@payer_required
def change_bank_account_privacy(account_id: int):
    """ "Private" ticked or unticked after adding: only the person who added the account."""
    _paying_payer()
    account = _account(account_id)
    if account.portal_user_id != g.payer.id:
        abort(403)  # a colleague's shared account: its adder decides who sees it
    form = CleanForm()
    if not form.validate_on_submit():
        abort(400)
    choice = request.form.get("private", "")
    if choice not in ("y", "n"):
        abort(400)
    actor = Actor.payer(g.payer)
    try:
        changed = bank_accounts.set_private(g.tenant.id, actor, account, g.payer, choice == "y")
    except InputError as error:
        discard()
        flash(error.message, "error")
        return redirect(url_for("portal.bank_account_list"))
    if changed and account.private:
        stopped = autopay.bank_account_made_private(g.tenant, actor, account, g.payer)
        flash(
            _("Bank account %(account)s is now private: only you see it.", account=account.masked),
            "success",
        )
        if stopped is not None:
            flash(
                _("Auto Pay paid from it for everyone on this account, so it stopped."), "success"
            )
    elif changed:
        flash(
            _(
                "Bank account %(account)s is now shared with everyone on this account.",
                account=account.masked,
            ),
            "success",
        )
    return redirect(url_for("portal.bank_account_list"))
