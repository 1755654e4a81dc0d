"""The "Need assistance?" form (a request to the vendor's support inbox) and the FAQ."""

from __future__ import annotations

from flask import g, render_template, request

from customer_portal import bp
from customer_portal.access import current_payer, portal_customer
from customer_portal.forms import AssistanceForm
from shared import support
from shared.actors import Actor
from shared.errors import InputError
from shared.extensions import limiter
from shared.faq import faq_for
from shared.i18n import current_language
from shared.web import show_input_error


@bp.route("/help", methods=["GET", "POST"])
@limiter.limit("5/hour;20/day", methods=["POST"])
def assistance():
    form = AssistanceForm()
    payer, customer = current_payer(), portal_customer()
    if request.method == "GET":
        if payer is not None:
            form.name.data, form.email.data = payer.name, payer.email
        elif customer is not None:
            form.name.data = customer.name
        form.invoice_number.data = (request.args.get("invoice") or "")[:20]
    if form.validate_on_submit():
        try:
            support.submit_request(
                g.tenant,
                Actor.payer(payer) if payer is not None else Actor.guest(),
                name=form.name.data,
                email=form.email.data,
                phone=form.phone.data,
                invoice_number=form.invoice_number.data,
                message=form.message.data,
                language=current_language(),
                customer_id=customer.id if customer else None,
            )
        except InputError as error:
            show_input_error(form, error)
        else:
            return render_template("portal/assistance_sent.html")
    status = 422 if form.errors else 200
    return render_template("portal/assistance.html", form=form), status


@bp.route("/faq")
def faq():
    items, _own = faq_for(g.tenant, current_language())
    return render_template("portal/faq.html", items=items)
