"""Sign-up, sign-in, sign-out, password reset and invitation acceptance for vendor staff."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from shared.clock import utcnow
from shared.errors import InputError
from shared.extensions import limiter
from shared.i18n import current_language
from shared.web import safe_next, show_input_error
from tenants import staff
from vendor_console import bp
from vendor_console.forms import (
    AcceptInvitationForm,
    ForgotPasswordForm,
    NewPasswordForm,
    SignInForm,
    SignUpForm,
)


def _sign_in(user, remember: bool = False) -> None:
    # A fresh session at sign-in: nothing planted before it (fixation) survives.
    session.clear()
    staff.start_session(user, now=utcnow(), user_agent=request.user_agent.string)
    login_user(user, remember=remember)


def _sign_out() -> None:
    """End the session on the server too: a copy of the cookie is dead from here on."""
    if current_user.is_authenticated:
        staff.end_session(current_user.get_id())
    logout_user()
    session.clear()


def _email_key() -> str:
    return "signin:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"])
def sign_up():
    if current_user.is_authenticated:
        return redirect(url_for("console.home"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            tenant, owner = staff.sign_up_vendor(
                business_name=form.business_name.data,
                slug=form.slug.data,
                owner_email=form.owner_email.data,
                owner_password=form.owner_password.data,
                language=current_language(),
                time_zone=form.time_zone.data,
            )
        except InputError as error:
            show_input_error(form, error)
        else:
            _sign_in(owner)
            flash(_("Welcome! Your portal is ready."), "success")
            return redirect(url_for("console.home"))
    status = 422 if form.errors else 200
    return render_template("console/sign_up.html", form=form), status


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
@limiter.limit("5/minute", methods=["POST"], key_func=_email_key)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("console.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = staff.authenticate_staff(form.email.data, form.password.data)
        if user is not None:
            _sign_in(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), url_for("console.home")))
        # One answer for an unknown email and a wrong password: no account enumeration.
        form.password.errors.append(_("Email or password is incorrect."))
    status = 422 if form.errors else 200
    return render_template("console/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    _sign_out()
    flash(_("You are signed out."), "info")
    return redirect(url_for("console.sign_in"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("5/minute;20/hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        staff.request_password_reset(form.email.data, current_language())
        return render_template("console/reset_sent.html")
    status = 422 if form.errors else 200
    return render_template("console/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if staff.user_for_reset_token(token) is None:
        return render_template("console/link_expired.html"), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = staff.reset_password(token, form.password.data)
        except InputError as error:
            show_input_error(form, error, default_field="password")
        else:
            _sign_in(user)
            flash(_("Your password is changed."), "success")
            return redirect(url_for("console.home"))
    status = 422 if form.errors else 200
    return render_template("console/reset_password.html", form=form), status


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = staff.open_invitation(token)
    if invitation is None:
        return render_template("console/link_expired.html"), 410
    if current_user.is_authenticated:
        _sign_out()
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = staff.accept_invitation(
                token, form.name.data, form.password.data, current_language()
            )
        except InputError as error:
            show_input_error(form, error, default_field="password")
        else:
            _sign_in(user)
            flash(_("Welcome to the team!"), "success")
            return redirect(url_for("console.home"))
    status = 422 if form.errors else 200
    return render_template(
        "console/accept_invitation.html", form=form, invitation=invitation
    ), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            staff.change_password(current_user, form.password.data)
        except InputError as error:
            show_input_error(form, error, default_field="password")
        else:
            _sign_in(current_user._get_current_object())
            flash(_("Your password is changed. Other sessions are signed out."), "success")
            return redirect(url_for("console.home"))
    status = 422 if form.errors else 200
    return render_template("console/change_password.html", form=form), status
