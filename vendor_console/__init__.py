"""The vendor console: where vendor staff sign up, sign in and run their portal."""

from flask import Blueprint, g
from flask_login import current_user

from shared.extensions import db
from shared.tenancy import enter_tenant
from tenants.models import Tenant

bp = Blueprint("console", __name__, template_folder="templates")


@bp.before_request
def scope_to_signed_in_vendor() -> None:
    # The console host names no tenant; the signed-in staff user does.
    if current_user.is_authenticated:
        enter_tenant(current_user.tenant_id)
        g.tenant = db.session.get(Tenant, current_user.tenant_id)


from vendor_console import accounts, dashboard, team  # noqa: E402, F401 - routes register on bp
