"""The customer portal: the vendor's branded site, on the tenant's own host, where payers pay."""

from flask import Blueprint, request, session

from shared.i18n import SESSION_KEY as LANGUAGE_KEY
from shared.i18n import supported

bp = Blueprint("portal", __name__, template_folder="templates")

from customer_portal import (  # noqa: E402, F401 - routes register on bp
    accounts,
    assistance,
    autopay,
    bank_accounts,
    branding,
    colleagues,
    home,
    invoices,
    payments,
    profile,
)
from customer_portal.access import current_payer, may_pay, portal_account, portal_customer  # noqa: E402


@bp.before_request
def remember_language_parameter() -> None:
    """A link with `?lang=es` keeps the portal in Spanish for the forms that follow it."""
    chosen = supported(request.args.get("lang"))
    if chosen and session.get(LANGUAGE_KEY) != chosen:
        session[LANGUAGE_KEY] = chosen


@bp.context_processor
def portal_values() -> dict:
    return {
        "portal_customer": portal_customer,
        "portal_account": portal_account,
        "current_payer": current_payer,
        "may_pay": may_pay,
    }
