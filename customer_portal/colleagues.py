"""Colleagues of a business account: who shares it, invitations, roles, removal; accepting an
invitation."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from customer_portal import bp
from customer_portal.access import payer_required, portal_account, sign_in, sign_out
from customer_portal.forms import AcceptInvitationForm, InviteForm, RoleForm
from shared import portal_accounts
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import limiter
from shared.i18n import current_language
from shared.tenancy import scoped_get
from shared.web import show_input_error


def _business_account():
    account = portal_account()
    if account is None or not account.is_business:
        abort(404)  # a personal account has no colleagues
    return account


def _colleagues_page(form: InviteForm, status: int = 200):
    people = portal_accounts.colleagues(g.customer.id)
    return render_template(
        "portal/colleagues.html",
        form=form,
        people=people,
        role_form=RoleForm(),
    ), status


@bp.route("/colleagues")
@payer_required
def colleagues():
    _business_account()
    return _colleagues_page(InviteForm())


@bp.route("/colleagues", methods=["POST"])
@limiter.limit("20/hour", methods=["POST"])
@payer_required
def invite():
    _business_account()
    if not g.payer.is_admin:
        abort(403)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            portal_accounts.invite_colleague(g.tenant, g.payer, form.email.data, form.role.data)
        except InputError as error:
            show_input_error(form, error)
        else:
            flash(_("Invitation sent to %(email)s.", email=form.email.data.strip()), "success")
            return redirect(url_for("portal.colleagues"))
    return _colleagues_page(form, 422)


def _colleague(user_id: int):
    _business_account()
    if not g.payer.is_admin:
        abort(403)
    user = portal_accounts.colleague_of(g.payer, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/colleagues/<int:user_id>/role", methods=["POST"])
@payer_required
def change_role(user_id: int):
    user = _colleague(user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            portal_accounts.change_role(g.tenant, g.payer, user, form.role.data)
        except InputError as error:
            flash(error.message, "error")
            return _colleagues_page(InviteForm(formdata=None), 422)
        flash(_("%(email)s's role is changed.", email=user.email), "success")
        return redirect(url_for("portal.colleagues"))
    flash(_("Choose admin, payer or viewer."), "error")
    return _colleagues_page(InviteForm(formdata=None), 422)


@bp.route("/colleagues/<int:user_id>/remove", methods=["POST"])
@payer_required
def remove_colleague(user_id: int):
    user = _colleague(user_id)
    email = user.email
    try:
        portal_accounts.remove_colleague(g.payer, user)
    except InputError as error:
        flash(error.message, "error")
        return _colleagues_page(InviteForm(formdata=None), 422)
    flash(_("%(email)s no longer has access to this account.", email=email), "success")
    return redirect(url_for("portal.colleagues"))


@bp.route("/colleagues/invitations/<int:invitation_id>/cancel", methods=["POST"])
@payer_required
def cancel_invitation(invitation_id: int):
    _business_account()
    if not g.payer.is_admin:
        abort(403)
    if not portal_accounts.cancel_invitation(g.payer, invitation_id):
        abort(404)
    flash(_("The invitation is cancelled."), "success")
    return redirect(url_for("portal.colleagues"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def accept_invitation(token: str):
    invitation = portal_accounts.find_invitation(token)
    if not portal_accounts.invitation_usable(invitation):
        used = invitation is not None and invitation.accepted_at is not None
        message = (
            _("This invitation was already used. Sign in with the account it created.")
            if used
            else _("This invitation has expired or is not valid. Ask your colleague for a new one.")
        )
        return render_template("portal/link_used.html", message=message), 410
    customer = scoped_get(Customer, invitation.customer_id)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = portal_accounts.accept_invitation(
                g.tenant,
                token,
                name=form.name.data,
                password=form.password.data,
                language=current_language(),
            )
        except InputError as error:
            show_input_error(form, error)
        else:
            sign_out()
            sign_in(user)
            flash(_("Welcome! You now share %(name)s's account.", name=customer.name), "success")
            return redirect(url_for("portal.home"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "portal/accept_invitation.html", form=form, invitation=invitation, customer=customer
    ), status
