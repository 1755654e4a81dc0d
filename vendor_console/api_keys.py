"""API keys in the console: make one (shown once), see when each was last used, revoke one.

Only owners make and revoke keys: a key acts for the whole business through the API.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shared.web import show_input_error
from tenants import api_keys
from vendor_console import bp
from vendor_console.forms import ApiKeyForm, RevokeApiKeyForm


def _page(form: ApiKeyForm, status: int = 200, new_key: str | None = None):
    return render_template(
        "console/api_keys.html",
        form=form,
        revoke_form=RevokeApiKeyForm(),
        rows=api_keys.api_keys(),
        new_key=new_key,
        openapi_url=url_for("api.openapi", _external=True),
    ), status


@bp.route("/api-keys", methods=["GET", "POST"])
@login_required
def api_keys_page():
    form = ApiKeyForm()
    if form.is_submitted() and not current_user.is_owner:
        abort(403)
    if form.validate_on_submit():
        try:
            made = api_keys.create_api_key(form.name.data, current_user)
        except api_keys.InputError as error:
            show_input_error(form, error)
        else:
            token = made.token
            # Shown on this answer only, never stored or put in a cookie: no redirect to a page
            # that could show it again.
            return _page(ApiKeyForm(formdata=None), new_key=token)
    return _page(form, 422 if form.errors else 200)


@bp.post("/api-keys/<int:key_id>/revoke")
@login_required
def revoke_api_key(key_id: int):
    if not current_user.is_owner:
        abort(403)
    form = RevokeApiKeyForm()
    key = api_keys.get_api_key(key_id)
    if key is None:
        abort(404)
    if form.validate_on_submit():
        api_keys.revoke_api_key(key)
        flash(_("The key %(name)s no longer works.", name=key.name), "success")
    return redirect(url_for("console.api_keys_page"))
