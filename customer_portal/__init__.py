"""The customer portal: the vendor's branded site, on the tenant's own host, where payers pay."""

from flask import Blueprint

bp = Blueprint("portal", __name__, template_folder="templates")

from customer_portal import branding, home, invoices  # noqa: E402, F401 - routes register on bp
