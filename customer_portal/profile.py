"""A payer's profile: name and language, email (confirmed by a link to the new address), password."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, session, url_for
from flask_babel import gettext as _

from customer_portal import bp
from customer_portal.access import payer_required, sign_in
from customer_portal.forms import EmailChangeForm, PasswordChangeForm, ProfileForm
from shared import portal_accounts
from shared.errors import InputError
from shared.extensions import limiter
from shared.i18n import SESSION_KEY as LANGUAGE_KEY
from shared.web import show_input_error


def _page(status: int = 200, **forms):
    details = forms.get("details") or ProfileForm(
        formdata=None, name=g.payer.name, language=g.payer.language or "en"
    )
    return render_template(
        "portal/profile.html",
        details=details,
        email_form=forms.get("email_form") or EmailChangeForm(formdata=None),
        password_form=forms.get("password_form") or PasswordChangeForm(formdata=None),
    ), status


@bp.route("/profile")
@payer_required
def profile():
    return _page()


@bp.route("/profile", methods=["POST"])
@payer_required
def update_profile():
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            portal_accounts.update_profile(
                g.payer, name=form.name.data, language=form.language.data
            )
        except InputError as error:
            show_input_error(form, error)
        else:
            session[LANGUAGE_KEY] = g.payer.language
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("portal.profile"))
    return _page(422, details=form)


@bp.route("/profile/email", methods=["POST"])
@limiter.limit("5/hour", methods=["POST"])
@payer_required
def change_email():
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            email = portal_accounts.request_email_change(
                g.tenant, g.payer, form.new_email.data, form.current_password.data
            )
        except InputError as error:
            show_input_error(form, error)
        else:
            flash(
                _(
                    "We sent a link to %(email)s. Your email changes when you open it.",
                    email=email,
                ),
                "success",
            )
            return redirect(url_for("portal.profile"))
    return _page(422, email_form=form)


@bp.route("/profile/password", methods=["POST"])
@limiter.limit("10/hour", methods=["POST"])
@payer_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            portal_accounts.change_password(g.payer, form.current_password.data, form.password.data)
        except InputError as error:
            show_input_error(form, error)
        else:
            sign_in(g.payer)  # every session ended with the change; this browser starts a new one
            flash(_("Your password is changed. Other sessions are signed out."), "success")
            return redirect(url_for("portal.profile"))
    return _page(422, password_form=form)
