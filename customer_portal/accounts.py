"""Portal accounts: sign-up from a link or lookup, sign-in, sign-out, password reset, email
confirmation."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from customer_portal import bp
from customer_portal.access import current_payer, payer_required, portal_customer, sign_in, sign_out
from customer_portal.forms import (
    ClaimForm,
    ForgotPasswordForm,
    JoinAsAdminForm,
    NewPasswordForm,
    SignInForm,
    SignUpForm,
)
from shared import portal_accounts
from shared.errors import InputError
from shared.extensions import limiter
from shared.i18n import current_language
from shared.portal_accounts import AccountExists
from shared.unit_of_work import discard
from shared.web import safe_next, show_input_error


def _email_key(prefix: str):
    def key() -> str:
        email = (request.form.get("email") or "").strip().lower()[:254]
        return f"{prefix}:{request.host}:{email}"

    return key


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"])
def sign_up():
    """Ask for the billing address to send the claim link to: the account is made when it is followed."""
    if current_payer() is not None:
        return redirect(url_for("portal.home"))
    customer = portal_customer()
    if customer is None:
        # Sign-up belongs to a customer: it starts from an invoice link or a lookup.
        return render_template("portal/sign_up_start.html")
    account = portal_accounts.account_of(customer.id)
    if account is not None and not account.is_business:
        return render_template("portal/sign_up_taken.html", customer=customer, account=account), 409
    form = JoinAsAdminForm() if account is not None else SignUpForm()
    if request.method == "GET" and account is None:
        form.kind.data = customer.kind.value
    if form.validate_on_submit():
        try:
            claim = portal_accounts.request_claim(
                g.tenant,
                customer,
                email=form.email.data,
                kind=form.kind.data if account is None else account.kind,
                language=current_language(),
            )
        except AccountExists:
            return render_template("portal/sign_up_taken.html", customer=customer), 409
        except InputError as error:
            show_input_error(form, error)
        else:
            return render_template(
                "portal/claim_sent.html",
                customer=customer,
                sent_to=claim.sent_to,
                days=portal_accounts.CLAIM_LINKS.max_age.days,
            )
    status = 422 if form.errors else 200
    return render_template(
        "portal/sign_up.html",
        form=form,
        customer=customer,
        account=account,
        addresses=[
            portal_accounts.mask_address(a) for a in portal_accounts.billing_addresses(customer)
        ],
    ), status


@bp.route("/claim/<token>", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def claim(token: str):
    """The link sent to a billing address: whoever opens it controls that address."""
    opened = portal_accounts.open_claim(g.tenant, token)
    if opened is None:
        return render_template(
            "portal/link_used.html",
            message=_("This link has expired or was already used."),
            retry=url_for("portal.sign_up"),
        ), 410
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            user = portal_accounts.complete_claim(
                g.tenant,
                token,
                name=form.name.data,
                password=form.password.data,
                language=current_language(),
            )
        except InputError as error:
            show_input_error(form, error, default_field="password")
        else:
            sign_out()
            sign_in(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("portal.home"))
    status = 422 if form.errors else 200
    return render_template("portal/claim.html", form=form, claim=opened), status


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
@limiter.limit("10/minute;60/hour", methods=["POST"])
@limiter.limit("5/minute;30/hour", methods=["POST"], key_func=_email_key("payer-sign-in"))
def sign_in_page():
    if current_payer() is not None:
        return redirect(url_for("portal.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = portal_accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            sign_in(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), url_for("portal.home")))
        # One answer for an unknown email and a wrong password: no account enumeration.
        form.password.errors.append(_("Email or password is incorrect."))
    status = 422 if form.errors else 200
    return render_template("portal/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"], endpoint="sign_out")
def sign_out_page():
    was_payer = current_payer() is not None
    sign_out()
    flash(_("You are signed out.") if was_payer else _("You have left your invoices."), "info")
    return redirect(url_for("portal.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("5/minute;20/hour", methods=["POST"])
@limiter.limit("3/hour", methods=["POST"], key_func=_email_key("payer-reset"))
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        portal_accounts.request_password_reset(g.tenant, form.email.data, current_language())
        # The same page whether or not the email has an account here.
        return render_template("portal/reset_sent.html")
    status = 422 if form.errors else 200
    return render_template("portal/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if portal_accounts.user_for_reset_token(g.tenant, token) is None:
        return render_template(
            "portal/link_used.html",
            message=_("This reset link has expired or was already used."),
            retry=url_for("portal.forgot_password"),
        ), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = portal_accounts.reset_password(g.tenant, token, form.password.data)
        except InputError as error:
            show_input_error(form, error, default_field="password")
        else:
            sign_in(user)
            flash(_("Your password is changed."), "success")
            return redirect(url_for("portal.home"))
    status = 422 if form.errors else 200
    return render_template("portal/reset_password.html", form=form), status


@bp.route("/confirm-email/<token>")
def confirm_email(token: str):
    try:
        user = portal_accounts.confirm_email(g.tenant, token)
    except InputError as error:
        discard()
        return render_template("portal/link_used.html", message=error.message), 410
    flash(_("Thank you: your email %(email)s is confirmed.", email=user.email), "success")
    payer = current_payer()
    if payer is not None and payer.id == user.id:
        return redirect(url_for("portal.home"))
    return redirect(url_for("portal.sign_in"))


@bp.route("/confirm-email", methods=["POST"])
@limiter.limit("3/hour", methods=["POST"])
@payer_required
def resend_confirmation():
    if not g.payer.email_verified:
        portal_accounts.send_email_confirmation(g.tenant, g.payer, g.payer.email)
        flash(_("We sent the link again to %(email)s.", email=g.payer.email), "success")
    return redirect(safe_next(request.form.get("next"), url_for("portal.home")))
