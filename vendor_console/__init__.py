"""The vendor console: where vendor staff sign up, sign in and run their portal.

The tenant in scope is the signed-in staff user's, set before any view (see `wsgi.register_tenancy`).
"""

from flask import Blueprint

bp = Blueprint("console", __name__, template_folder="templates")

from vendor_console import (  # noqa: E402, F401 - routes register on bp
    accounts,
    ach,
    api_keys,
    autopay,
    customers,
    dashboard,
    faq,
    invoices,
    payments,
    settings,
    support,
    team,
)
