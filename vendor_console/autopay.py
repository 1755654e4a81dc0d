"""The console's AutoPay page: every customer's enrolment (a link on the Payments page), read only:
AutoPay is set by the payer in the portal."""

from __future__ import annotations

from flask import g, render_template, request
from flask_login import login_required

from shared.autopay.listing import enrolments
from shared.pagination import page_number
from vendor_console import bp

PAGE_SIZE = 50


@bp.route("/autopay")
@login_required
def autopay_enrolments():
    page = page_number(request.args.get("page"))
    rows, total = enrolments(g.tenant, page=page, page_size=PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("console/autopay.html", rows=rows, total=total, page=page, pages=pages)
