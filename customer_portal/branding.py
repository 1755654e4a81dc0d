"""The tenant's brand on its portal: a small stylesheet with its colours, and its logo.

Both are files rather than inline styles because the CSP forbids inline styles. The logo answers
only under the tenant's current logo name, so another tenant's logo name is a 404 here.
"""

from __future__ import annotations

import hashlib

from flask import Response, abort, g, request

from customer_portal import bp
from tenants.branding import brand_css as make_brand_css
from tenants.branding import logo_bytes, logo_content_type


@bp.get("/brand.css")
def brand_css():
    css = make_brand_css(g.tenant)
    response = Response(css, mimetype="text/css")
    response.set_etag(hashlib.sha256(css.encode()).hexdigest()[:32])
    # Pages link it with ?v=<colour>, so a changed colour is a new address; a day is safe.
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response.make_conditional(request)


@bp.get("/logo/<name>")
def logo(name: str):
    if not g.tenant.logo_name or name != g.tenant.logo_name:
        abort(404)
    if request.if_none_match.contains(name):
        return _cached(Response(status=304), name)  # the browser has it: storage is not asked
    data = logo_bytes(g.tenant)
    if data is None:
        abort(404)
    return _cached(Response(data, mimetype=logo_content_type(name)), name)


def _cached(response: Response, name: str) -> Response:
    response.set_etag(name)
    # The name changes with every upload: the file under a name never changes.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
