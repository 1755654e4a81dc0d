"""The console's home page."""

from flask import current_app, g, render_template
from flask_login import login_required

from tenants.hosts import portal_host
from tenants.routing import portal_url
from vendor_console import bp


@bp.route("/")
@login_required
def home():
    link = portal_url(
        current_app, portal_host(g.tenant, current_app.config["PORTAL_DOMAIN"]), "portal.home"
    )
    return render_template("console/home.html", portal_link=link)
