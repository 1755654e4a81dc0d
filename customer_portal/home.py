"""The portal's front page."""

from flask import render_template

from customer_portal import bp


@bp.route("/")
def home():
    return render_template("portal/home.html")
