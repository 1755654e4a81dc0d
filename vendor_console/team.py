"""Staff of a vendor: who is on the team, invitations, and the development outbox."""

from flask import abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from shared.errors import InputError
from shared.extensions import db
from shared.mail.models import OutboxMessage
from shared.tenancy import scoped_get
from shared.web import show_input_error
from tenants import staff
from tenants.models import StaffRole
from vendor_console import bp
from vendor_console.forms import InviteStaffForm


@bp.route("/team", methods=["GET", "POST"])
@login_required
def team():
    form = InviteStaffForm()
    if form.validate_on_submit():
        try:
            staff.invite_staff(g.tenant, current_user, form.email.data, StaffRole(form.role.data))
        except InputError as error:
            show_input_error(form, error)
        else:
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("console.team"))
    users, pending = staff.team(g.tenant)
    status = 422 if form.errors else 200
    return render_template("console/team.html", form=form, users=users, pending=pending), status


@bp.post("/team/<int:user_id>/remove")
@login_required
def remove_member(user_id: int):
    member = staff.staff_member(user_id) or abort(404)
    if not current_user.is_owner:
        abort(403)
    email = member.email
    try:
        staff.remove_staff(current_user, member)
    except InputError as error:
        flash(error.message, "error")
        return redirect(url_for("console.team"))
    flash(_("%(email)s no longer has access to the console.", email=email), "success")
    return redirect(url_for("console.team"))


@bp.route("/outbox")
@login_required
def outbox():
    if not current_app.config["SHOW_OUTBOX"]:
        abort(404)
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)
    ).all()
    return render_template("console/outbox.html", messages=messages)


@bp.route("/outbox/<int:message_id>")
@login_required
def outbox_message(message_id: int):
    message = scoped_get(OutboxMessage, message_id)
    if message is None or not current_app.config["SHOW_OUTBOX"]:
        abort(404)
    return render_template("console/outbox_message.html", message=message)
