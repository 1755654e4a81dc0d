"""The customer portal: the vendor's branded site, on the tenant's own host, where payers pay."""

from flask import Blueprint

bp = Blueprint("portal", __name__, template_folder="templates")

from customer_portal import (  # noqa: E402, F401 - routes register on bp
    accounts,
    assistance,
    colleagues,
    home,
    invoices,
    profile,
)
from customer_portal.access import current_payer, may_pay, portal_account, portal_customer  # noqa: E402


@bp.context_processor
def portal_values() -> dict:
    return {
        "portal_customer": portal_customer,
        "portal_account": portal_account,
        "current_payer": current_payer,
        "may_pay": may_pay,
    }
