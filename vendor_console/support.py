"""The support inbox: "Need assistance?" requests from the portal; open, reply by email, close."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from shared import support
from shared.clock import utcnow
from shared.errors import InputError
from shared.forms import CleanForm
from shared.pagination import page_number
from shared.support.models import SupportStatus
from shared.web import show_input_error
from vendor_console import bp
from vendor_console.context import actor


class ReplyForm(CleanForm):
    body = TextAreaField(
        _l("Your reply"),
        validators=[
            DataRequired(message=_l("This field is required.")),
            Length(max=support.MAX_REPLY, message=_l("Use at most %(max)d characters.")),
        ],
    )
    close = BooleanField(_l("Close the request after replying"), default=True)


_FILTERS = {"open": SupportStatus.OPEN, "closed": SupportStatus.CLOSED, "all": None}


@bp.route("/support")
@login_required
def support_inbox():
    shown = request.args.get("status", "open")
    if shown not in _FILTERS:
        shown = "open"
    page = support.support_requests(_FILTERS[shown], page_number(request.args.get("page")))
    return render_template("console/support.html", requests=page, shown=shown)


def _request_or_404(request_id: int):
    found = support.get_request(request_id)
    if found is None:
        abort(404)
    return found


def _request_page(found, form: ReplyForm, status: int = 200):
    return render_template(
        "console/support_request.html",
        ask=found,
        replies=support.replies_to(found),
        form=form,
    ), status


@bp.route("/support/<int:request_id>", methods=["GET", "POST"])
@login_required
def support_request(request_id: int):
    found = _request_or_404(request_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            support.reply(
                g.tenant, found, actor(), form.body.data, close=form.close.data, now=utcnow()
            )
        except InputError as error:
            show_input_error(form, error, default_field="body")
        else:
            flash(_("Your reply was emailed to %(email)s.", email=found.email), "success")
            return redirect(url_for("console.support_request", request_id=found.id))
    return _request_page(found, form, 422 if form.errors else 200)


@bp.route("/support/<int:request_id>/close", methods=["POST"])
@login_required
def close_support_request(request_id: int):
    found = _request_or_404(request_id)
    if CleanForm().validate_on_submit():
        support.close_request(found, actor(), now=utcnow())
        flash(_("The request is closed."), "success")
    return redirect(url_for("console.support_request", request_id=found.id))


@bp.route("/support/<int:request_id>/reopen", methods=["POST"])
@login_required
def reopen_support_request(request_id: int):
    found = _request_or_404(request_id)
    if CleanForm().validate_on_submit():
        support.reopen_request(found, actor())
        flash(_("The request is open again."), "success")
    return redirect(url_for("console.support_request", request_id=found.id))
