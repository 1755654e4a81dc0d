"""The console's ACH pages: the originator settings (owner edits), the files built (list and
download), the return/NOC file upload, and the vendor's return rates against NACHA's ceilings."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from shared import ach
from shared.ach import imports, rates
from shared.ach.codes import reason
from shared.clock import business_today, utcnow
from shared.errors import InputError
from shared.forms import CleanForm, NameField
from shared.unit_of_work import discard
from shared.web import show_input_error
from vendor_console import bp
from vendor_console.context import actor

MAX_ROW_ID = 2**31 - 1  # larger ids exist nowhere (and overflow SQLite's integers)
_required = DataRequired(message=_l("This field is required."))


def _at_most(n: int) -> Length:
    return Length(max=n, message=_l("Use at most %(max)d characters."))


class AchSettingsForm(CleanForm):
    """Shape only; shared.ach.update_settings checks routing numbers and the rest."""

    immediate_destination = StringField(
        _l("Immediate destination (routing number)"), validators=[_required, _at_most(9)]
    )
    immediate_destination_name = NameField(
        _l("Immediate destination name"), validators=[_required, _at_most(23)]
    )
    immediate_origin = StringField(_l("Immediate origin"), validators=[_required, _at_most(10)])
    immediate_origin_name = NameField(
        _l("Immediate origin name"), validators=[_required, _at_most(23)]
    )
    odfi_routing = StringField(
        _l("Your bank's routing number (ODFI)"), validators=[_required, _at_most(9)]
    )
    company_identification = StringField(
        _l("Company identification"), validators=[_required, _at_most(10)]
    )
    company_name = NameField(_l("Company name"), validators=[_required, _at_most(16)])
    entry_description = StringField(_l("Entry description"), validators=[_required, _at_most(10)])
    cutoff = StringField(_l("Daily cut-off (HH:MM)"), validators=[_required, _at_most(5)])


class ReturnFileForm(CleanForm):
    file = FileField(_l("Return or NOC file"), validators=[_required])


FIELDS = [
    "immediate_destination",
    "immediate_destination_name",
    "immediate_origin",
    "immediate_origin_name",
    "odfi_routing",
    "company_identification",
    "company_name",
    "entry_description",
]


@bp.route("/settings/ach", methods=["GET", "POST"])
@login_required
def settings_ach():
    if request.method == "POST" and not current_user.is_owner:
        abort(403)
    current = ach.get_settings(g.tenant)
    data = None
    if request.method != "POST":
        data = {name: getattr(current, name) for name in FIELDS} if current else {}
        data["cutoff"] = ach.cutoff_text(current) if current else "14:00"
    form = AchSettingsForm(data=data)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data or "" for name in [*FIELDS, "cutoff"]}
        try:
            ach.update_settings(g.tenant, actor(), ach.AchSettingsData(**values))
        except InputError as error:
            discard()
            show_input_error(form, error)
        else:
            flash(_("ACH settings saved. The next file uses them."), "success")
            return redirect(url_for("console.settings_ach"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "console/settings_ach.html", form=form, can_edit=current_user.is_owner
    ), status


def _files_page(form: ReturnFileForm, status: int = 200):
    today = business_today(g.tenant, utcnow())
    return render_template(
        "console/ach_files.html",
        files=ach.list_files(g.tenant),
        imports=imports.list_imports(g.tenant),
        rates=rates.return_rates(g.tenant, today),
        window=rates.WINDOW_DAYS,
        has_settings=ach.get_settings(g.tenant) is not None,
        form=form,
        reason=reason,
    ), status


@bp.route("/ach-files")
@login_required
def ach_files():
    return _files_page(ReturnFileForm())


@bp.route("/ach-files/<int:file_id>/download")
@login_required
def ach_file_download(file_id: int):
    found = ach.get_file(g.tenant, file_id) if file_id <= MAX_ROW_ID else None
    if found is None:
        abort(404)
    return Response(
        ach.file_bytes(found),
        mimetype="text/plain",
        headers={
            "Content-Disposition": f'attachment; filename="{found.file_name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.route("/ach-returns", methods=["POST"])
@login_required
def ach_returns_upload():
    form = ReturnFileForm()
    if form.validate_on_submit():
        try:
            done = imports.import_ach_return_file(g.tenant, actor(), form.file.data.read())
        except InputError as error:
            discard()
            show_input_error(form, error)
        else:
            if done.newly_applied:
                flash(
                    _(
                        "File imported: %(returns)d returns, %(changes)d notifications of change, "
                        "%(unmatched)d not ours.",
                        returns=done.returns,
                        changes=done.changes,
                        unmatched=done.unmatched,
                    ),
                    "success",
                )
            else:
                flash(_("This file was imported before; nothing was applied again."), "info")
            return redirect(url_for("console.ach_files"))
    return _files_page(form, 422)
